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
        try await ReleaseCommand.run(
            .github(repository: repo, assets: assets), source: source, release: release, notes: notesOptions,
            global: global)
    }
}
