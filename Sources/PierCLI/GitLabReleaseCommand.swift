import ArgumentParser
import PierEngine

struct GitLabReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gitlab",
        abstract: "Create or update a GitLab release (CI_JOB_TOKEN or GITLAB_TOKEN; CI_API_V4_URL; CI_PROJECT_ID).")

    @Option(help: "Project id or path (default: CI_PROJECT_ID).") var project: String?
    @Option(name: .customLong("api-url"), help: "GitLab API root (default: CI_API_V4_URL).") var apiURL: String?
    @Option(help: "The image (default: from --report).") var source: String?
    @OptionGroup var release: ReleaseOptions
    @OptionGroup var notesOptions: NotesOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await ReleaseCommand.run(
            .gitlab(project: project, apiURL: apiURL), source: source, release: release, notes: notesOptions,
            global: global)
    }
}
