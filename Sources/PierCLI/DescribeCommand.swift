import ArgumentParser
import PierEngine

struct DescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract:
            "Set a Docker Hub repository's short and full description (username + access token, exchanged for a JWT).",
        discussion:
            "Credentials: DOCKERHUB_USERNAME and DOCKERHUB_TOKEN, else the docker.io login. Limits are checked before sending: short at most 100 characters, full at most 25,000 bytes."
    )

    @Argument(help: "Docker Hub repository, e.g. org/app.") var repository: String
    @Option(help: "Short description (at most 100 characters).") var short: String?
    @Option(help: "File with the full description (Markdown, at most 25,000 bytes).") var readme: String?
    @Option(name: .customLong("api-url"), help: "Hub API base (default https://hub.docker.com).") var apiURL: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        var flags = settingsFlags(targeting: [repository])
        flags.registryAPI = .dockerhub
        flags.apiURL = apiURL
        try await global.run(
            flags,
            prepare: { _ in
                try DescribeOperation(repository: repository, short: short, readmePath: readme)
            }
        ) { operation, session in
            try await operation.run(session: session)
            Terminal.shared.print("updated the description of \(operation.repository.repository)")
        }
    }
}
