import ArgumentParser
import Foundation
import PierEngine
import PierModel

extension TagContext.Event: ExpressibleByArgument {}
extension ConflictPolicy: ExpressibleByArgument {}
extension TagRules.Latest: ExpressibleByArgument {}

extension PierConfig {
    /// The config a command reads: `path` (from `--config`) or `PIER_CONFIG`, which must exist, else `pier.yml` when
    /// present.
    static func forCommandLine(_ path: String?) throws(PierError) -> PierConfig {
        if let path = path ?? ProcessInfo.processInfo.environment["PIER_CONFIG"] { return try load(path: path, required: true) }
        return try load(path: "pier.yml", required: false)
    }

    /// `forCommandLine`, with an error already turned into its line on stderr and exit code.
    static func forCommand(_ path: String?) throws -> PierConfig {
        do { return try forCommandLine(path) } catch { throw ErrorRendering.exit(for: error) }
    }
}

/// Build context and tag-rule flags shared by `publish` and `tags plan`. Precedence: flags > env > pier.yml > defaults.
struct ReleaseOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "Config file (default pier.yml when present; also PIER_CONFIG).")
    var configPath: String?

    @Option(name: .customLong("version"), help: "The version being released (a git tag such as v1.2.3).")
    var releaseVersion: String?
    @Option(name: .customLong("git-sha"), help: "The commit being built.") var gitSHA: String?
    @Option(help: "The branch being built.") var branch: String?
    @Option(name: .customLong("build-number"), help: "The CI run number.") var buildNumber: String?
    @Option(help: "push, tag, pull_request or schedule.") var event: TagContext.Event?

    @Option(name: .customLong("tag"), help: "An extra tag, as is (repeatable).") var rawTags: [String] = []
    @Option(help: "When latest moves: auto (highest stable release), default-branch, never.") var latest: TagRules.Latest?
    @Option(name: .customLong("tag-prefix"), help: "Prefix for every tag.") var tagPrefix: String?
    @Option(name: .customLong("tag-suffix"), help: "Suffix for every tag.") var tagSuffix: String?
    @Flag(name: .customLong("no-sha-tag"), help: "No sha-<short> tag.") var noSHATag = false

    @Option(name: .customLong("to"), help: "Target repository (repeatable): the first is the primary, the rest are backups.")
    var targets: [String] = []

    /// The config file: `--config`, `PIER_CONFIG`, or `pier.yml` when present.
    func config() throws(PierError) -> PierConfig { try PierConfig.forCommandLine(configPath) }

    func context() -> TagContext {
        TagContext.detect(overrides: .init(
            version: releaseVersion, gitSHA: gitSHA, branch: branch, buildNumber: buildNumber, event: event))
    }

    func rules(_ config: PierConfig) -> TagRules {
        var rules = config.rules
        rules.raw += rawTags
        if let latest { rules.latest = latest }
        if let tagPrefix { rules.prefix = tagPrefix }
        if let tagSuffix { rules.suffix = tagSuffix }
        if noSHATag { rules.sha = false }
        return rules
    }

    /// Target repositories: `--to`, else `PIER_TO` (comma-separated), else pier.yml. Tags in them are ignored.
    func targetReferences(_ config: PierConfig) throws(PierError) -> [ImageReference] {
        var texts = targets
        if texts.isEmpty, let env = ProcessInfo.processInfo.environment["PIER_TO"] {
            texts = env.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if texts.isEmpty { texts = config.registries.map(\.repository) }
        return try texts.map { (text) throws(PierError) in
            var reference = try ImageReference(parsing: text)
            reference.tag = nil
            reference.digest = nil
            return reference
        }
    }
}
