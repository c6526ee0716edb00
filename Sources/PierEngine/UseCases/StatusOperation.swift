import Foundation
import PierModel

/// `pier status`: tags × registries by HEAD; with `details` (the HTML page) also each image's date and, where
/// pier.yml has retention rules, the primary's retention plan (both read manifests and configs with GET).
public struct StatusOperation: Sendable {
    public struct Request: Sendable {
        /// The primary first, then its backups.
        public var repositories: [String] = []
        /// Only tags matching this regex.
        public var tags: String?
        /// Dates and the retention preview, for `--html`.
        public var details = false

        public init() {}
    }

    public let request: Request
    public let targets: [ImageReference]
    let retention: RetentionPolicy.Rules?

    /// Checks the repositories and the tag filter before any network I/O.
    public init(_ request: Request, settings: Settings) throws(PierError) {
        self.request = request
        guard !request.repositories.isEmpty else {
            throw PierError(
                .usage, operation: "status", message: "no repository to show",
                hint: "name the primary and its backups: pier status PRIMARY BACKUP…")
        }
        targets = try request.repositories.map { (text) throws(PierError) in
            try ImageReference(parsing: text).with(tag: nil)
        }
        if let pattern = request.tags { _ = try RetentionPolicy.regex(pattern, "--tags") }
        retention = settings.config.prune
    }

    public func run(session: Session) async throws(PierError) -> StatusPage.Section {
        try await Self.section(
            targets, tags: request.tags, details: request.details, retention: retention, session: session)
    }

    /// One primary and its backups: the status, and with `details` the dates and retention preview.
    static func section(
        _ targets: [ImageReference], tags: String?, details: Bool, retention: RetentionPolicy.Rules?, session: Session
    ) async throws(PierError) -> StatusPage.Section {
        var status = try await RegistryStatus.collect(targets, store: session.store, only: tags)
        status.scans = await ECRScanGate.statusScans(status, targets: targets, session: session)
        guard details else { return StatusPage.Section(status: status) }
        var section = StatusPage.Section(status: status)
        let now = session.settings.startedAt
        for (index, target) in targets.enumerated() {
            var pruner = Pruner(store: session.store, logger: session.logger)
            pruner.api = try RegistryAPISelection.choose(for: target.registry, operation: "status", session: session)
            pruner.concurrency = session.settings.network.concurrency
            pruner.probesUntagRoute = false
            var dates: [(String, Date?)]
            do {
                if index == 0, let rules = retention {
                    let plan = try await pruner.plan(target, policy: .rules(rules), now: now)
                    section.retention = plan.decisions
                    dates = plan.decisions.map { ($0.tag, $0.date) }
                } else {
                    dates = try await pruner.inventory(target, now: now).tags.map { ($0.tag, $0.date.date) }
                }
            } catch {
                if error.kind == .notFound { continue }
                throw error
            }
            section.dates[target.repositoryName] = Dictionary(
                dates.compactMap { tag, date in date.map { (tag, $0) } }, uniquingKeysWith: { a, _ in a })
        }
        return section
    }
}
