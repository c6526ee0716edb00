import ArgumentParser
import PierEngine
import PierModel

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Check credentials against a registry and store them in docker's config.json (mode 0600).",
        discussion:
            "The file is docker's own ($DOCKER_CONFIG/config.json or ~/.docker/config.json), so docker, skopeo and pier share logins. With a credsStore configured, the helper stores the secret."
    )

    @Argument(help: "Registry host, e.g. ghcr.io or 127.0.0.1:5000.") var host: String
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        var flags = settingsFlags(targeting: [])
        flags.targetHosts = [host]
        try await global.run(flags, prepare: { _ in try LoginOperation(host: host) }) { operation, session in
            try await operation.run(session: session)
            Terminal.shared.print("Login Succeeded")
        }
    }
}
