import ArgumentParser
import PierEngine

/// `--org`, `--shard` and `--shards`: run sync, prune or status over pier.yml's `repositories:`.
struct OrganisationOptions: ParsableArguments {
    @Flag(
        name: .customLong("org"),
        help: "Run over pier.yml's repositories: list (implied by --shard, and by naming no repository).")
    var organisation = false
    @Option(
        help:
            "This job's share I/N of the repositories (1-based; by SHA-256 of the name). Default: CI_NODE_INDEX/CI_NODE_TOTAL (GitLab parallel), else JOB_COMPLETION_INDEX (0-based) of --shards."
    )
    var shard: String?
    @Option(
        help: "The number of shards when only JOB_COMPLETION_INDEX gives this job's index (or organisation.shards).")
    var shards: Int?

    var requested: Bool { organisation || shard != nil || shards != nil }

    func apply(to flags: inout SettingsFlags) {
        flags.shard = shard
        flags.shards = shards
    }
}
