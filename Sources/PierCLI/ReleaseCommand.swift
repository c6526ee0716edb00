import ArgumentParser

struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Create or update the GitHub or GitLab release for a tag, with pier's notes.",
        subcommands: [GitHubReleaseCommand.self, GitLabReleaseCommand.self])
}
