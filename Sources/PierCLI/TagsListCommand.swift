import ArgumentParser
import PierEngine
import PierModel

struct TagsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List every tag of a repository.")

    @Argument(help: "Repository (a tag, if given, is ignored), or oci:DIR.") var repository: String
    @Flag(help: "Print the tags as a JSON array.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.run(
            settingsFlags(targeting: [repository]),
            prepare: { _ in
                try ImageLocation(parsing: repository)
            }
        ) { location, session in
            let tags = try await TagListing.tags(of: location, store: session.store)
            if json { return try Terminal.shared.printJSON(tags) }
            for tag in tags { Terminal.shared.print(tag) }
        }
    }
}
