import PierModel
import Yams

/// pier.yml's `organisation:` and `repositories:` sections: many repositories, each mirrored from a primary to
/// backups and pruned, run by one `pier sync`, `pier prune` or `pier status`.
///
/// ```yaml
/// organisation:
///   primary: registry.example.com/org      # registry host and path prefix; a repository's name is appended
///   backups: [mirror.example.com/org]
///   concurrency: 4                          # repositories worked on at once
///   shards: 4                               # jobs of a Kubernetes indexed Job (JOB_COMPLETION_INDEX)
///   discover: "team-.*"                     # also these names from the primary registry's listing
///   discover_from: github                   # catalog|github|gitlab|ecr (default: from the primary's registry)
/// repositories:
///   - app
///   - name: api
///     tags: "v?[0-9].*"                     # only these tags (matches the whole tag)
///     prune: {keep_last: 10}                # instead of the top-level prune:
///     backups: [other.example.com/api]      # full references, instead of the prefixes
/// ```
public struct OrganisationConfig: Sendable, Equatable {
    public struct Repository: Sendable, Equatable {
        /// The repository's name under the prefixes, and the key its shard is chosen by.
        public var name: String
        /// Full references replacing the organisation's prefixes for this repository.
        public var primary: String?
        public var backups: [String]?
        public var tags: String?
        public var prune: RetentionPolicy.Rules?
        public var line = 0

        public init(name: String, line: Int = 0) {
            self.name = name
            self.line = line
        }
    }
    public var primary: String?
    public var backups: [String] = []
    /// Repositories in flight at once (each still limited per registry by `concurrency`).
    public var concurrency: Int?
    /// The number of jobs when only a 0-based index is given (JOB_COMPLETION_INDEX).
    public var shards: Int?
    public var repositories: [Repository] = []
    /// Also every repository under `primary` in the registry's catalog whose name (the path after the prefix)
    /// matches this regex (whole name).
    public var discover: String?
    /// Where discovery lists repositories; nil chooses from the primary's registry.
    public var discoverFrom: RepositoryDiscoverySource?

    public init() {}
}

extension PierConfig {
    /// `organisation:` (a mapping) and `repositories:` (a list of names or mappings).
    static func parseOrganisation(_ node: Node?, repositories list: Node?, reader: Reader)
        throws(PierError) -> OrganisationConfig?
    {
        guard node != nil || list != nil else { return nil }
        var organisation = OrganisationConfig()
        if let node {
            let o = try reader.mapping(
                node, "organisation",
                allowed: ["primary", "backups", "concurrency", "shards", "discover", "discover_from"])
            organisation.primary = try o["primary"].map { (n) throws(PierError) in
                try reader.string(n, "organisation.primary")
            }
            if let value = o["backups"] {
                organisation.backups = try reader.sequence(value, "organisation.backups").map { (n) throws(PierError) in
                    try reader.string(n, "organisation.backups")
                }
            }
            organisation.concurrency = try o["concurrency"].map { (n) throws(PierError) in
                try reader.concurrency(n, "organisation.concurrency")
            }
            if let value = o["discover"] {
                let pattern = try reader.string(value, "organisation.discover")
                guard (try? RetentionPolicy.regex(pattern, "discover")) != nil else {
                    throw reader.fail(value, "organisation.discover \"\(pattern)\" is not a valid regular expression")
                }
                guard organisation.primary != nil else {
                    throw reader.fail(value, "organisation.discover needs organisation.primary (where to look)")
                }
                organisation.discover = pattern
            }
            if let value = o["discover_from"] {
                let text = try reader.string(value, "organisation.discover_from")
                guard let source = RepositoryDiscoverySource(rawValue: text) else {
                    let known = RepositoryDiscoverySource.allCases.map(\.rawValue).joined(separator: ", ")
                    let guess = RepositoryDiscoverySource.suggestion(for: text).map {
                        "did you mean \"\($0.rawValue)\"? "
                    }
                    throw reader.fail(
                        value, "organisation.discover_from \"\(text)\" is not a source (\(guess ?? "")known: \(known))")
                }
                guard o["discover"] != nil else {
                    throw reader.fail(value, "organisation.discover_from needs organisation.discover (the pattern)")
                }
                organisation.discoverFrom = source
            }
            if let value = o["shards"] {
                let total = try reader.int(value, "organisation.shards")
                guard (1...Shard.maximumTotal).contains(total) else {
                    throw reader.fail(value, "organisation.shards must be 1 to \(Shard.maximumTotal)")
                }
                organisation.shards = total
            }
        }
        if list == nil, organisation.discover != nil { return organisation }
        guard let list else { throw reader.fail(node!, "organisation needs a repositories: list or discover:") }
        var names: Set<String> = []
        for (index, item) in try reader.sequence(list, "repositories").enumerated() {
            let key = "repositories[\(index)]"
            var repository: OrganisationConfig.Repository
            if case .scalar = item {
                repository = .init(name: try reader.string(item, key), line: reader.line(item))
            } else {
                let entry = try reader.mapping(item, key, allowed: ["name", "primary", "backups", "tags", "prune"])
                guard let name = entry["name"] else { throw reader.fail(item, "\(key) needs a name") }
                repository = .init(name: try reader.string(name, "\(key).name"), line: reader.line(item))
                repository.primary = try entry["primary"].map { (n) throws(PierError) in
                    try reader.string(n, "\(key).primary")
                }
                repository.backups = try entry["backups"].map { (n) throws(PierError) in
                    try reader.sequence(n, "\(key).backups").map { (b) throws(PierError) in
                        try reader.string(b, "\(key).backups")
                    }
                }
                repository.tags = try entry["tags"].map { (n) throws(PierError) in
                    let pattern = try reader.string(n, "\(key).tags")
                    guard (try? RetentionPolicy.regex(pattern, "tags")) != nil else {
                        throw reader.fail(n, "\(key).tags \"\(pattern)\" is not a valid regular expression")
                    }
                    return pattern
                }
                repository.prune = try entry["prune"].map { (n) throws(PierError) in try parsePrune(n, reader: reader) }
            }
            guard ImageReference.isValidRepository(repository.name) else {
                throw reader.fail(
                    item, "\(key): \"\(repository.name)\" is not a repository name (lowercase path, as org/app)")
            }
            guard names.insert(repository.name).inserted else {
                throw reader.fail(item, "\(key): \(repository.name) is listed twice")
            }
            if repository.primary == nil, organisation.primary == nil {
                throw reader.fail(item, "\(key) has no primary: set organisation.primary or its own primary")
            }
            organisation.repositories.append(repository)
        }
        guard !organisation.repositories.isEmpty else { throw reader.fail(list, "repositories is empty") }
        return organisation
    }
}
