import ArgumentParser
import PierEngine
import PierModel

extension TagContext.Event: ExpressibleByArgument {}
extension ConflictPolicy: ExpressibleByArgument {}
extension TagRules.Latest: ExpressibleByArgument {}
extension RegistryAPISelection.Kind: ExpressibleByArgument {}
extension BuilderChoice: ExpressibleByArgument {}

/// Build context and tag-rule flags shared by `publish`, `tags plan`, `notes` and `release`.
struct ReleaseOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "Config file (default pier.yml when present; also PIER_CONFIG).")
    var configPath: String?

    @Option(
        name: .customLong("version"),
        help: "The version being released: semver with an optional v (v1.2.3). Other tags: --tag.")
    var releaseVersion: String?
    @Option(name: .customLong("git-sha"), help: "The commit being built.") var gitSHA: String?
    @Option(help: "The branch being built.") var branch: String?
    @Option(name: .customLong("build-number"), help: "The CI run number.") var buildNumber: String?
    @Option(help: "push, tag, pull_request or schedule.") var event: TagContext.Event?

    @Option(name: .customLong("tag"), help: "An extra tag, as is (repeatable).") var rawTags: [String] = []
    @Option(help: "When latest moves: auto (highest stable release), default-branch, never.") var latest:
        TagRules.Latest?
    @Option(name: .customLong("tag-prefix"), help: "Prefix for every tag.") var tagPrefix: String?
    // A suffix usually starts with a dash (-slim): the next argument is its value whatever it looks like.
    @Option(name: .customLong("tag-suffix"), parsing: .unconditional, help: "Suffix for every tag (-slim, -alpine).")
    var tagSuffix: String?
    @Flag(name: .customLong("no-sha-tag"), help: "No sha-<short> tag.") var noSHATag = false

    @Option(
        name: .customLong("to"),
        help:
            "Target repository (repeatable; also PIER_TO, comma-separated): the first is the primary, the rest are backups."
    )
    var targets: [String] = []

    /// Settings flags for a release command, its targets the release targets unless `locations` are given.
    func settingsFlags(targeting locations: [String]? = nil) -> SettingsFlags {
        var flags = SettingsFlags()
        flags.targetLocations = locations
        flags.configPath = configPath
        flags.detectsTagContext = true
        flags.version = releaseVersion
        flags.gitSHA = gitSHA
        flags.branch = branch
        flags.buildNumber = buildNumber
        flags.event = event
        flags.rawTags = rawTags
        flags.latest = latest
        flags.tagPrefix = tagPrefix
        flags.tagSuffix = tagSuffix
        flags.noSHATag = noSHATag
        flags.targets = targets
        return flags
    }
}
