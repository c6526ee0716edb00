import ArgumentParser
import PierEngine
import PierModel

struct TagsPlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the tags publish would write, from flags, GitHub Actions, GitLab CI or git.",
        discussion:
            "With --to, the repositories' existing tags decide whether latest, 1 and 1.2 move; without, none are assumed."
    )

    @OptionGroup var release: ReleaseOptions
    @Flag(help: "Print the plan as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    /// `tags plan --json`.
    struct Plan: Encodable {
        var context: TagContext
        var tags: [PlannedTag]
    }

    func run() async throws {
        try await global.run(
            release.settingsFlags(),
            prepare: { settings in
                try TagPlanner.plan(context: settings.release.context, rules: settings.release.rules)
            }
        ) { _, session in
            let tags = try await TagListing.plan(session: session)
            if json {
                return try Terminal.shared.printJSON(Plan(context: session.settings.release.context, tags: tags))
            }
            for tag in tags { Terminal.shared.print("\(tag.name)\t\(tag.kind.rawValue)\t\(tag.rule)") }
        }
    }
}
