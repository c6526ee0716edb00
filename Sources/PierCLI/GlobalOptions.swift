import ArgumentParser
import Foundation
import Logging
import PierEngine
import PierModel

/// Options every registry-touching command takes, and the one way a command runs: settings resolved (usage
/// errors first, before any network I/O), then a session, then errors rendered as one line and an exit code.
struct GlobalOptions: ParsableArguments {
    @Flag(name: [.short, .long], help: "Log every registry request to stderr (secrets redacted).")
    var verbose = false

    @Option(
        name: .customLong("insecure-registry"),
        help:
            "Allow plain HTTP and unverified TLS for this host (repeatable; also PIER_INSECURE_REGISTRIES, comma-separated). Loopback hosts may always use HTTP."
    )
    var insecureRegistries: [String] = []

    @Option(name: .customLong("ca-file"), help: "PEM file of extra CA certificates to trust (also PIER_CA_FILE).")
    var caFile: String?

    @Option(help: "Requests in flight per registry (default 4, or pier.yml concurrency).")
    var concurrency: Int?

    @Option(
        help:
            "Requests in flight across all registries and APIs together (1 to 256; default 4 × --concurrency; also PIER_MAX_REQUESTS, pier.yml max_requests)."
    )
    var maxRequests: Int?

    @Option(
        help:
            "Seconds to wait for the next byte from a registry before a request fails and is retried (default 120; also PIER_TIMEOUT). Answers pier reads into memory (manifests, tokens, tag lists) must also arrive whole within 3 × this."
    )
    var timeout: Double?

    @Option(
        name: [.short, .long],
        help:
            "Username for the command's one target registry (the destination of copy/publish, the image of inspect/digest/tags; never a source such as build's base: use --creds HOST=USER), or for PIER_REGISTRY when set; also PIER_USERNAME. Password from --password-stdin or PIER_PASSWORD."
    )
    var username: String?

    @Option(
        name: .customLong("creds"),
        help: "HOST=USER: credentials for that registry only. Password from --password-stdin or PIER_PASSWORD.")
    var creds: String?

    @Option(
        help:
            "Transfer progress: auto (live lines on a terminal, else a line per registry every 10 s or 10 %), tty, plain or none."
    )
    var progress: ProgressMode = .auto

    @Flag(name: [.short, .long], help: "Print results and errors only: no progress, no log lines.")
    var quiet = false

    /// How progress is shown: `--progress`, none with `--quiet`.
    var progressDisplay: ProgressDisplay { ProgressDisplay(mode: quiet ? .none : progress) }

    @Flag(
        name: .customLong("password-stdin"),
        help: "Read the password or token of the one username given from standard input.")
    var passwordStdin = false

    /// These options in `flags`.
    func apply(to flags: inout SettingsFlags) {
        flags.insecureRegistries = insecureRegistries
        flags.caFile = caFile
        flags.concurrency = concurrency
        flags.maxRequests = maxRequests
        flags.timeout = timeout
        flags.username = username
        flags.hostCredentials = creds
        flags.passwordFromStdin = passwordStdin
    }

    /// Resolves the settings from `flags` and these options, checks the command's request with `prepare`
    /// (still before any network I/O), then runs `body` in a session.
    func run<Prepared: Sendable>(
        _ flags: SettingsFlags, prepare: (Settings) throws -> Prepared, _ body: (Prepared, Session) async throws -> Void
    ) async throws {
        var flags = flags
        apply(to: &flags)
        let logger = StderrLogHandler.bootstrap(level: verbose ? .debug : quiet ? .warning : .info)
        do {
            let settings = try Settings.resolve(
                flags, environment: ProcessInfo.processInfo.environment, readPassword: StandardInput.password)
            let prepared = try prepare(settings)
            try await Session.run(settings, logger: logger, userAgent: "pier/\(BuildInfo.version)") { session in
                try await body(prepared, session)
            }
        } catch let error as PierError {
            throw ErrorRendering.exit(for: error)
        }
    }

    /// `run` for a command with nothing to check beyond the settings.
    func run(_ flags: SettingsFlags, _ body: (Session) async throws -> Void) async throws {
        try await run(flags, prepare: { _ in true }) { _, session in try await body(session) }
    }
}
