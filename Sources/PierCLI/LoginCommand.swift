import ArgumentParser
import Foundation
import PierEngine
import PierModel
import PierRegistry

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Check credentials against a registry and store them in docker's config.json (mode 0600).",
        discussion: "The file is docker's own ($DOCKER_CONFIG/config.json or ~/.docker/config.json), so docker, skopeo and pier share logins. With a credsStore configured, the helper stores the secret.")

    @Argument(help: "Registry host, e.g. ghcr.io or 127.0.0.1:5000.") var host: String
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let registry = DockerConfig.normalizedHost(host)
        let logger = global.bootstrapLogging()
        do {
            try ImageReference.checkRegistryHost(registry)
            let explicit = try global.explicitCredentials(environment: environment, targetHosts: [registry])
            guard case .basic(let user, let password)? = explicit[DockerConfig.normalizedHost(registry)] else {
                throw PierError(
                    .usage, operation: "log in", message: "no credentials given for \(registry)",
                    hint: "pier login \(host) -u USER --password-stdin (or set PIER_USERNAME and PIER_PASSWORD)")
            }
            let options = try global.registryOptions(logger: logger, explicitByHost: explicit)
            let pool = try RegistryPool(options: options)
            do {
                try await pool.client(for: registry == "docker.io" ? ImageReference.dockerHub : registry).checkLogin()
            } catch {
                await pool.shutdown()
                throw error
            }
            await pool.shutdown()
            try DockerConfig.standard(environment: environment).store(host: registry, username: user, password: password)
            Terminal.shared.print("Login Succeeded")
        } catch let error as PierError {
            throw ErrorRendering.exit(for: error)
        }
    }
}

struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout", abstract: "Remove stored credentials for a registry from docker's config.json.")

    @Argument(help: "Registry host.") var host: String

    func run() async throws {
        do {
            let removed = try DockerConfig.standard().erase(host: host)
            Terminal.shared.print(removed ? "Removed login credentials for \(host)" : "Not logged in to \(host)")
        } catch {
            throw ErrorRendering.exit(for: error)
        }
    }
}
