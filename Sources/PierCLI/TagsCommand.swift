import ArgumentParser
import PierEngine
import PierModel

struct TagsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tags", abstract: "List a repository's tags, or plan the tags of a build.",
        subcommands: [TagsListCommand.self, TagsPlanCommand.self], defaultSubcommand: TagsListCommand.self)
}

struct TagsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List every tag of a repository.")

    @Argument(help: "Repository (a tag, if given, is ignored), or oci:DIR.") var repository: String
    @Flag(help: "Print the tags as a JSON array.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.withStore(targets: [repository]) { store, _ in
            let tags: [String]
            switch try ImageLocation(parsing: repository) {
            case .registry(let reference):
                tags = try await store.client(for: reference.registry).tags(repository: reference.repository)
            case .ociLayout(let path, _):
                tags = try OCILayoutTags.tags(path)
            default:
                throw PierError(.usage, operation: "list tags", message: "tags lists a registry repository or an oci: layout")
            }
            if json { return try Terminal.shared.printJSON(tags) }
            for tag in tags { Terminal.shared.print(tag) }
        }
    }
}

struct TagsPlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the tags publish would write, from flags, GitHub Actions, GitLab CI or git.",
        discussion: "With --to, the repositories' existing tags decide whether latest, 1 and 1.2 move; without, none are assumed.")

    @OptionGroup var release: ReleaseOptions
    @Flag(help: "Print the plan as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    struct Plan: Encodable {
        var context: TagContext
        var tags: [PlannedTag]
    }

    func run() async throws {
        let config = try PierConfig.forCommand(release.configPath)
        try await global.withStore(config: config, targets: try release.targetReferences(config).map(\.description)) { store, _ in
            let context = release.context()
            var existing: [String] = []
            for target in try release.targetReferences(config) {
                do { existing += try await store.client(for: target.registry).tags(repository: target.repository) } catch
                    let error as PierError where error.kind == .notFound {}
            }
            let tags = try TagPlanner.plan(context: context, rules: release.rules(config), existingTags: existing)
            if json { return try Terminal.shared.printJSON(Plan(context: context, tags: tags)) }
            for tag in tags { Terminal.shared.print("\(tag.name)\t\(tag.kind.rawValue)\t\(tag.rule)") }
        }
    }
}
