import ArgumentParser
import PierEngine

struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Create or update the GitHub or GitLab release for a tag, with pier's notes.",
        subcommands: [GitHubReleaseCommand.self, GitLabReleaseCommand.self])
}

extension ReleaseCommand {
    /// Runs the release use case for `forge` and prints what it did.
    static func run(
        _ forge: ReleaseOperation.Forge, source: String?, release: ReleaseOptions, notes: NotesOptions,
        global: GlobalOptions
    ) async throws {
        try await global.run(
            release.settingsFlags(targeting: source.map { [$0] } ?? []),
            prepare: { settings in try ReleaseOperation(forge, notes: notes.request(source: source), settings: settings)
            }
        ) { operation, session in
            let outcome = try await operation.run(session: session)
            let url = outcome.result.url.map { ": \($0)" } ?? ""
            Terminal.shared.print("\(outcome.result.action) \(outcome.forge) release \(outcome.tag)\(url)")
            for asset in outcome.result.assets { Terminal.shared.print("uploaded \(asset)") }
        }
    }
}
