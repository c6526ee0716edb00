import PierModel

/// The organisation's repositories as this job runs them: every reference resolved and checked, and this job's
/// shard (`--shard I/N`, GitLab's CI_NODE_INDEX/CI_NODE_TOTAL, or a Kubernetes indexed Job's JOB_COMPLETION_INDEX).
public struct OrganisationSettings: Sendable {
    public struct Repository: Sendable {
        public var name: String
        public var primary: ImageReference
        public var backups: [ImageReference]
        public var tags: String?
        /// This repository's retention rules, else pier.yml's top-level `prune:`.
        public var prune: RetentionPolicy.Rules?
    }
    /// Every repository of pier.yml, in its order.
    public var repositories: [Repository]
    /// Repositories in flight at once.
    public var concurrency: Int
    public var shard: Shard
    /// `organisation.discover`, and what a discovered repository is made of.
    public var discover: String?
    /// `organisation.discover_from`: where discovery lists repositories; nil chooses from the primary's registry.
    public var discoverFrom: RepositoryDiscoverySource?
    public var primaryPrefix: String?
    public var backupPrefixes: [String] = []
    public var defaultPrune: RetentionPolicy.Rules?

    /// Repositories worked on at once unless pier.yml says otherwise.
    public static let defaultConcurrency = 4

    /// This job's share, in pier.yml's order.
    public var assigned: [Repository] { repositories.filter { shard.contains($0.name) } }

    /// A repository under the organisation's prefixes.
    func repository(named name: String) throws(PierError) -> Repository {
        func reference(_ text: String) throws(PierError) -> ImageReference {
            try ImageReference(parsing: text).with(tag: nil)
        }
        return Repository(
            name: name, primary: try reference("\(primaryPrefix ?? "")/\(name)"),
            backups: try backupPrefixes.map { (prefix) throws(PierError) in try reference("\(prefix)/\(name)") },
            tags: nil, prune: defaultPrune)
    }

    /// Adds the repositories of `paths` (full paths on the primary's registry, from outside: a catalog or a hosted
    /// API) that lie under the primary prefix and whose name matches `discover`, in name order, each once; listed
    /// repositories keep their own settings. A path that is not a repository reference on the primary's registry,
    /// or whose backups would not be, is skipped and returned, never used.
    public func adding(discovered paths: [String]) throws(PierError) -> (
        settings: OrganisationSettings, skipped: [String]
    ) {
        guard let discover, let registry = discoveryRegistry else { return (self, []) }
        let pattern = try RetentionPolicy.regex(discover, "organisation.discover")
        let base = discoveryNamespace
        var listed = Set(repositories.map(\.name))
        var copy = self
        var skipped: [String] = []
        for path in Set(paths).sorted() {
            guard ImageReference.isValidRepository(path), (try? ImageReference(parsing: "\(registry)/\(path)")) != nil
            else {
                skipped.append(path)
                continue
            }
            let name = base.isEmpty ? path : path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : nil
            guard let name, !listed.contains(name), RetentionPolicy.matches(pattern, name) else { continue }
            guard let repository = try? repository(named: name) else {
                skipped.append(path)
                continue
            }
            listed.insert(name)
            copy.repositories.append(repository)
        }
        return (copy, skipped)
    }

    /// The registry path of the primary prefix (`org` of `registry.example.com/org`; empty for a bare host): the
    /// namespace discovery lists.
    public var discoveryNamespace: String {
        guard let primaryPrefix, let reference = try? ImageReference(parsing: primaryPrefix + "/x") else { return "" }
        return String(reference.repository.dropLast(2))
    }

    /// The registry host discovery lists (the primary prefix's).
    public var discoveryRegistry: String? {
        primaryPrefix.flatMap { try? ImageReference(parsing: $0 + "/x").registry }
    }
}

extension Settings {
    /// The organisation of pier.yml, with this job's shard: `--shard I/N` (1-based), else CI_NODE_INDEX and
    /// CI_NODE_TOTAL (GitLab `parallel:`, 1-based), else JOB_COMPLETION_INDEX (0-based) with `--shards N` or
    /// `organisation.shards`; else the whole. Nil without a `repositories:` list.
    static func resolveOrganisation(
        _ flags: SettingsFlags, config: PierConfig, environment: [String: String]
    ) throws(PierError) -> OrganisationSettings? {
        guard let organisation = config.organisation else {
            if flags.shard != nil || flags.shards != nil {
                throw PierError(
                    .usage, operation: "read options", message: "--shard needs a repositories: list in pier.yml",
                    hint: "list the organisation's repositories in pier.yml (see README, Organisations)")
            }
            return nil
        }
        func variable(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func count(_ name: String) throws(PierError) -> Int? {
            guard let text = variable(name) else { return nil }
            guard let value = Shard.number(Substring(text)) else {
                throw PierError(.usage, operation: "read options", message: "\(name) \(text) is not a whole number")
            }
            return value
        }
        var shard = Shard.all
        if let text = flags.shard {
            shard = try Shard(parsing: text)
        } else if let index = try count("CI_NODE_INDEX") {
            guard let total = try count("CI_NODE_TOTAL") else {
                throw PierError(
                    .usage, operation: "read options", message: "CI_NODE_INDEX is set without CI_NODE_TOTAL")
            }
            shard = try Shard(index: index - 1, of: total, from: "CI_NODE_INDEX \(index) / CI_NODE_TOTAL \(total)")
        } else if let index = try count("JOB_COMPLETION_INDEX") {
            guard let total = flags.shards ?? organisation.shards else {
                throw PierError(
                    .usage, operation: "read options",
                    message: "JOB_COMPLETION_INDEX is set, but not the number of shards",
                    hint: "pass --shards N (the Job's completions) or set organisation.shards in pier.yml")
            }
            shard = try Shard(index: index, of: total, from: "JOB_COMPLETION_INDEX \(index) of \(total)")
        } else if let total = flags.shards {
            // Without this job's index every job would run every repository as the whole.
            throw PierError(
                .usage, operation: "read options",
                message: "--shards \(total) needs JOB_COMPLETION_INDEX (this job's 0-based index), which is not set",
                hint: "run it in a Kubernetes indexed Job, or name the share: --shard I/\(total)")
        }
        func reference(_ text: String, line: Int) throws(PierError) -> ImageReference {
            do { return try ImageReference(parsing: text).with(tag: nil) } catch {
                throw PierError(
                    .invalidInput, operation: "read config",
                    message: "pier.yml:\(line): \(text) is not a repository reference (\(error.message))")
            }
        }
        var repositories: [OrganisationSettings.Repository] = []
        for entry in organisation.repositories {
            let primary = try reference(
                entry.primary ?? "\(organisation.primary ?? "")/\(entry.name)", line: entry.line)
            var backups: [ImageReference] = []
            for text in entry.backups ?? organisation.backups.map({ "\($0)/\(entry.name)" }) {
                backups.append(try reference(text, line: entry.line))
            }
            repositories.append(
                .init(
                    name: entry.name, primary: primary, backups: backups, tags: entry.tags,
                    prune: entry.prune ?? config.prune))
        }
        var resolved = OrganisationSettings(
            repositories: repositories,
            concurrency: organisation.concurrency ?? OrganisationSettings.defaultConcurrency, shard: shard)
        (resolved.discover, resolved.primaryPrefix, resolved.backupPrefixes, resolved.defaultPrune) = (
            organisation.discover, organisation.primary, organisation.backups, config.prune
        )
        resolved.discoverFrom = organisation.discoverFrom
        if let prefix = organisation.primary { _ = try reference(prefix + "/x", line: 0) }
        return resolved
    }
}
