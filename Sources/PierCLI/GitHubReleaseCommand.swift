import ArgumentParser
import PierEngine

struct GitHubReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "github",
        abstract: "Create or update a GitHub release (GITHUB_TOKEN; GITHUB_API_URL for Enterprise; GITHUB_REPOSITORY).")

    @Option(help: "owner/repo (default: GITHUB_REPOSITORY).") var repo: String?
    @Option(help: "The image (default: from --report).") var source: String?
    @Option(
        name: .customLong("asset"),
        help: "A file to attach to the release (repeatable); a same-named asset is replaced.")
    var assets: [String] = []
    @OptionGroup var release: ReleaseOptions
    @OptionGroup var notesOptions: NotesOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.run(
            release.settingsFlags(targeting: source.map { [$0] } ?? []),
            prepare: { settings in
                try ReleaseOperation(
                    .github(repository: repo, assets: assets), notes: notesOptions.request(source: source),
                    settings: settings)
            }
        ) { operation, session in
            ReleaseSummary.print(try await operation.run(session: session))
        }
    }
}

/// What `release github|gitlab` prints.
enum ReleaseSummary {
    static func print(_ outcome: ReleaseOperation.Outcome) {
        Terminal.shared.print(
            "\(outcome.result.action) \(outcome.forge) release \(outcome.tag)"
                + (outcome.result.url.map { ": \($0)" } ?? ""))
        for asset in outcome.result.assets { Terminal.shared.print("uploaded \(asset)") }
    }
}
