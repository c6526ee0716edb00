import ArgumentParser
import Foundation
import Logging
import PierEngine
import PierModel
import PierRegistry

/// Options every registry-touching command takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: [.short, .long], help: "Log every registry request to stderr (secrets redacted).")
    var verbose = false

    @Option(
        name: .customLong("insecure-registry"),
        help: "Allow plain HTTP and unverified TLS for this host (repeatable; also PIER_INSECURE_REGISTRIES, comma-separated). Loopback hosts may always use HTTP.")
    var insecureRegistries: [String] = []

    @Option(name: .customLong("ca-file"), help: "PEM file of extra CA certificates to trust (also PIER_CA_FILE).")
    var caFile: String?

    @Option(help: "Requests in flight per registry.")
    var concurrency: Int = 4

    @Option(help: "Seconds to wait for the next byte from a registry before a request fails and is retried (default 120; also PIER_TIMEOUT). Answers pier reads into memory (manifests, tokens, tag lists) must also arrive whole within 3 × this.")
    var timeout: Double?

    @Option(
        name: [.short, .long],
        help: "Username for the command's one target registry (the destination of copy/publish/build, the image of inspect/digest/tags; also PIER_USERNAME), or for PIER_REGISTRY when set. Password from --password-stdin or PIER_PASSWORD.")
    var username: String?

    @Option(
        name: .customLong("creds"),
        help: "HOST=USER: credentials for that registry only. Password from --password-stdin or PIER_PASSWORD.")
    var creds: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password or token of the one username given from standard input.")
    var passwordStdin = false

    /// Sets up logging: plain lines on stderr; `-v` adds request logs.
    func bootstrapLogging() -> Logger {
        let level: Logger.Level = verbose ? .debug : .info
        LoggingSystem.bootstrap { label in
            var handler = StderrLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "pier")
    }

    /// The usernames given by flags and environment, each with the registry it is for. `--creds` wins over
    /// `-u`/`PIER_USERNAME` (it names its host); `PIER_REGISTRY` names the host of `-u`/`PIER_USERNAME`.
    func givenCredentials(environment: [String: String]) throws(PierError) -> [ExplicitCredentials.Given] {
        if let creds {
            guard username == nil else {
                throw PierError(.usage, operation: "read credentials", message: "give either --creds HOST=USER or -u USER, not both")
            }
            let parts = creds.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw PierError(.usage, operation: "read credentials", message: "--creds takes HOST=USER, not \(creds)")
            }
            return [.init(scope: .host(parts[0]), username: parts[1], secretVariable: "PIER_PASSWORD", flag: "--creds")]
        }
        guard let user = username ?? environment["PIER_USERNAME"].flatMap({ $0.isEmpty ? nil : $0 }) else { return [] }
        let scope: ExplicitCredentials.Given.Scope = environment["PIER_REGISTRY"].flatMap { $0.isEmpty ? nil : .host($0) } ?? .target
        return [.init(scope: scope, username: user, secretVariable: "PIER_PASSWORD", flag: username == nil ? "PIER_USERNAME" : "-u")]
    }

    /// The registry hosts of image locations (local layouts have none).
    static func registryHosts(of locations: [String]) -> [String] {
        locations.compactMap { text -> String? in
            if case .registry(let reference)? = try? ImageLocation(parsing: text) { return reference.registry }
            return nil
        }
    }

    /// Explicit credentials by host. `hosts` are the registries the command targets; `extra` are credentials the
    /// command scopes itself (`--src-creds`, `--dest-creds`).
    func explicitCredentials(
        environment: [String: String], targetHosts hosts: [String], extra: [ExplicitCredentials.Given] = []
    ) throws(PierError) -> [String: Credential] {
        let given = try givenCredentials(environment: environment) + extra
        let stdin: (() -> String)? = passwordStdin ? { readPasswordFromStdin() } : nil
        return try ExplicitCredentials.resolve(given, stdinSecret: stdin, environment: environment, targets: hosts)
    }

    /// Builds the registry options: flags > environment > pier.yml > defaults.
    func registryOptions(
        logger: Logger, config: PierConfig = PierConfig(), targets: [String], extra: [ExplicitCredentials.Given] = []
    ) throws(PierError) -> RegistryOptions {
        let environment = ProcessInfo.processInfo.environment
        let explicit = try explicitCredentials(environment: environment, targetHosts: Self.registryHosts(of: targets), extra: extra)
        var options = try registryOptions(logger: logger, explicitByHost: [:])
        // pier.yml: extra insecure hosts and CA (flags and env still win), and per-registry credentials named by
        // environment variables.
        options.insecureHosts.formUnion(config.insecureRegistries)
        options.caFile = options.caFile ?? config.caFile
        for registry in config.registries {
            guard let reference = try? ImageReference(parsing: registry.repository) else { continue }
            if registry.insecure { options.insecureHosts.insert(reference.registry) }
            if let userVar = registry.usernameEnv, let passVar = registry.passwordEnv,
                let user = environment[userVar], let password = environment[passVar], !user.isEmpty, !password.isEmpty
            {
                options.credentials.explicitByHost[DockerConfig.normalizedHost(reference.registry)] =
                    .basic(username: user, password: password)
            }
        }
        for (host, credential) in explicit { options.credentials.explicitByHost[host] = credential }
        return options
    }

    /// Registry options with the explicit credentials already bound (stdin can be read only once).
    func registryOptions(logger: Logger, explicitByHost: [String: Credential]) throws(PierError) -> RegistryOptions {
        let environment = ProcessInfo.processInfo.environment
        var insecure = Set(insecureRegistries)
        for host in (environment["PIER_INSECURE_REGISTRIES"] ?? "").split(separator: ",") {
            insecure.insert(host.trimmingCharacters(in: .whitespaces))
        }
        let chain = CredentialChain(
            explicitByHost: explicitByHost, dockerConfig: .standard(environment: environment), environment: environment)
        let seconds = timeout ?? environment["PIER_TIMEOUT"].flatMap(Double.init) ?? 120
        guard seconds > 0, seconds <= 86_400 else {
            throw PierError(.usage, operation: "read options", message: "--timeout \(seconds) is not between 0 and 86400 seconds")
        }
        return RegistryOptions(
            insecureHosts: insecure, caFile: caFile ?? environment["PIER_CA_FILE"],
            concurrency: try RegistryOptions.checkedConcurrency(concurrency, from: "--concurrency"),
            readTimeout: .milliseconds(Int64(seconds * 1000)), credentials: chain, userAgent: "pier/\(Pier.configuration.version)", logger: logger)
    }

    /// Runs `body` with an image store, shutting the HTTP clients down afterwards, and turns a `PierError` into
    /// one line on stderr and its exit code. `targets` are the image locations the command targets: `-u` and
    /// `PIER_USERNAME` credentials go to their registry when it is one (see README, Credentials).
    func withStore(
        config: PierConfig = PierConfig(), targets: @autoclosure () throws -> [String],
        extraCredentials: [ExplicitCredentials.Given] = [], _ body: (ImageStore, Logger) async throws -> Void
    ) async throws {
        let logger = bootstrapLogging()
        do {
            let targets = (try? targets()) ?? []
            let pool = try RegistryPool(
                options: try registryOptions(logger: logger, config: config, targets: targets, extra: extraCredentials))
            do {
                try await body(ImageStore(pool: pool), logger)
            } catch {
                await pool.shutdown()
                throw error
            }
            await pool.shutdown()
        } catch let error as PierError {
            throw ErrorRendering.exit(for: error)
        }
    }
}

func readPasswordFromStdin() -> String {
    let data = FileHandle.standardInput.readDataToEndOfFile()
    var text = String(decoding: data, as: UTF8.self)
    while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
    return text
}

/// `pier: message` lines on stderr; metadata appended as key=value.
struct StderrLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = "pier: \(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if !merged.isEmpty { line += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
        Terminal.shared.log(line)
    }
}
