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

    @Option(help: "Seconds to wait for the next byte from a registry before a request fails and is retried (default 120; also PIER_TIMEOUT).")
    var timeout: Double?

    @Option(name: [.short, .long], help: "Username for the registries (also PIER_USERNAME); the password comes from --password-stdin or PIER_PASSWORD.")
    var username: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password or token from standard input.")
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

    /// Explicit credentials from flags and environment.
    func explicitCredential(environment: [String: String]) throws(PierError) -> Credential? {
        let user = username ?? environment["PIER_USERNAME"]
        var password = environment["PIER_PASSWORD"]
        if passwordStdin { password = readPasswordFromStdin() }
        guard let user, !user.isEmpty else {
            if passwordStdin {
                throw PierError(.usage, operation: "read credentials", message: "--password-stdin needs --username")
            }
            return nil
        }
        guard let password, !password.isEmpty else {
            throw PierError(
                .usage, operation: "read credentials", message: "a username was given without a password",
                hint: "pipe the password into --password-stdin or set PIER_PASSWORD")
        }
        return .basic(username: user, password: password)
    }

    /// Builds the registry options: flags > environment > defaults.
    func registryOptions(logger: Logger, config: PierConfig = PierConfig()) throws(PierError) -> RegistryOptions {
        let environment = ProcessInfo.processInfo.environment
        var options = try registryOptions(logger: logger, explicit: explicitCredential(environment: environment))
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
        return options
    }

    /// Registry options with the explicit credential already read (stdin can be read only once).
    func registryOptions(logger: Logger, explicit: Credential?) throws(PierError) -> RegistryOptions {
        let environment = ProcessInfo.processInfo.environment
        var insecure = Set(insecureRegistries)
        for host in (environment["PIER_INSECURE_REGISTRIES"] ?? "").split(separator: ",") {
            insecure.insert(host.trimmingCharacters(in: .whitespaces))
        }
        let chain = CredentialChain(
            explicit: explicit, dockerConfig: .standard(environment: environment),
            environment: environment)
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
    /// one line on stderr and its exit code.
    func withStore(config: PierConfig = PierConfig(), _ body: (ImageStore, Logger) async throws -> Void) async throws {
        let logger = bootstrapLogging()
        do {
            let pool = try RegistryPool(options: try registryOptions(logger: logger, config: config))
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
