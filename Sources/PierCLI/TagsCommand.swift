import ArgumentParser

struct TagsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tags", abstract: "List a repository's tags, or plan the tags of a build.",
        subcommands: [TagsListCommand.self, TagsPlanCommand.self], defaultSubcommand: TagsListCommand.self)
}
