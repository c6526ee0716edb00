import PierModel

/// What one organisation-wide run did, repository by repository, and in total: the run's closing summary (text and
/// `--json`).
public struct OrganisationSummary: Sendable, Codable {
    /// One repository's outcome; encodes as its JSON string.
    public enum Outcome: String, Sendable, Codable, CaseIterable {
        /// Nothing to do: everything was already as it should be.
        case ok
        /// Tags copied, or tags removed.
        case changed
        /// A dry run (sync --dry-run, prune without --apply): tags would be copied or removed; nothing was written.
        case planned
        /// status: tags missing or diverged on a backup.
        case drift
        /// Nothing to do by configuration (no retention rules).
        case skipped
        /// sync --verify-key: some image had no valid signature by the key and was not copied.
        case unsigned
        case failed
    }
    public struct Result: Sendable, Codable {
        public var name: String
        public var primary: String
        public var backups: [String]
        public var outcome: Outcome = .ok
        /// Tag × backup pairs already in sync (sync), or tags the same everywhere (status).
        public var inSync = 0
        public var copied = 0
        public var drifted = 0
        /// Tags removed (prune --apply) or planned for removal.
        public var removed = 0
        public var failed = 0
        /// sync --verify-key: tag × backup pairs not copied for want of a valid signature.
        public var unsigned = 0
        public var message: String?
        /// What kind of failure a failed repository had, when one kind says it (not encoded): the run's exit code
        /// when every repository failed the same way.
        public var failureKind: PierError.Kind?

        enum CodingKeys: String, CodingKey {
            case name, primary, backups, outcome, inSync, copied, drifted, removed, failed, unsigned, message
        }

        init(repository: OrganisationSettings.Repository) {
            name = repository.name
            primary = repository.primary.repositoryName
            backups = repository.backups.map(\.repositoryName)
        }
    }
    public var command: OrganisationOperation.Command
    /// `I/N`, 1-based.
    public var shard: String
    /// Repositories in pier.yml (all shards).
    public var configured: Int
    /// This shard's repositories, in pier.yml's order.
    public var results: [Result]
    public var seconds: Double
    /// Nothing was written (sync --dry-run, prune without --apply): `copied` and `removed` are plans.
    public var dryRun = false

    /// How many repositories ended each way.
    public var counts: [String: Int] {
        Dictionary(grouping: results, by: \.outcome.rawValue).mapValues(\.count)
    }

    enum CodingKeys: String, CodingKey {
        case command, shard, dryRun, configured, results, seconds, counts
    }

    public init(
        command: OrganisationOperation.Command, shard: String, configured: Int, results: [Result], seconds: Double
    ) {
        (self.command, self.shard, self.configured, self.results, self.seconds) = (
            command, shard, configured, results, seconds
        )
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        command = try container.decode(OrganisationOperation.Command.self, forKey: .command)
        shard = try container.decode(String.self, forKey: .shard)
        dryRun = try container.decodeIfPresent(Bool.self, forKey: .dryRun) ?? false
        configured = try container.decode(Int.self, forKey: .configured)
        results = try container.decode([Result].self, forKey: .results)
        seconds = try container.decode(Double.self, forKey: .seconds)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(command, forKey: .command)
        try container.encode(shard, forKey: .shard)
        try container.encode(dryRun, forKey: .dryRun)
        try container.encode(configured, forKey: .configured)
        try container.encode(results, forKey: .results)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(counts, forKey: .counts)
    }

    /// The error the run exits with: partial (75) when some repository failed, or that failure's own kind (69 for a
    /// registry that cannot be reached, 77 for refused credentials, …) when every repository failed the same way;
    /// else verification (70) when some repository had unsigned images (sync --verify-key); nil otherwise.
    public var failure: PierError? {
        let failed = results.filter { $0.outcome == .failed }
        let unsigned = results.filter { $0.outcome == .unsigned }
        if failed.isEmpty, !unsigned.isEmpty {
            return PierError(
                .verification, operation: command.rawValue,
                message: "\(unsigned.count) of \(results.count) repositories have unsigned images, not copied: "
                    + unsigned.prefix(5).map(\.name).joined(separator: ", ") + (unsigned.count > 5 ? ", …" : ""),
                hint: unsigned.first?.message)
        }
        guard !failed.isEmpty else { return nil }
        let kinds = Set(failed.map(\.failureKind))
        var kind = PierError.Kind.partial
        if failed.count == results.count, kinds.count == 1, let only = kinds.first ?? nil { kind = only }
        return PierError(
            kind, operation: command.rawValue,
            message: "\(failed.count) of \(results.count) repositories failed: "
                + failed.prefix(5).map(\.name).joined(separator: ", ") + (failed.count > 5 ? ", …" : ""),
            hint: failed.first?.message)
    }
}
