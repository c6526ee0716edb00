import Foundation
import PierModel
import PierRegistry

/// `pier sync|prune|status --org`: one command over this job's share of pier.yml's repositories, at most
/// `organisation.concurrency` repositories at once (and, inside each, the per-registry request limit). A
/// repository's failure is recorded and the others go on; a rerun repeats only what is unfinished, because every
/// step HEADs before it writes (sync copies only tags whose digest differs). One summary closes the run.
public struct OrganisationOperation: Sendable {
    public enum Command: String, Sendable, Codable {
        case sync, prune, status
    }
    public struct Options: Sendable {
        public var dryRun = false
        public var onConflict: ConflictPolicy = .fail
        /// prune: delete (else only plan).
        public var apply = false
        public var allowUntagFallback = false
        /// status: read dates and retention previews for the HTML page.
        public var details = false
        public init() {}
    }

    public let command: Command
    public let options: Options
    public let organisation: OrganisationSettings

    /// Needs pier.yml's `repositories:` list.
    public init(_ command: Command, options: Options, settings: Settings) throws(PierError) {
        guard let organisation = settings.organisation else {
            throw PierError(
                .usage, operation: command.rawValue, message: "pier.yml lists no repositories",
                hint:
                    "add organisation: and repositories: to pier.yml (see README, Organisations), or name repositories")
        }
        self.command = command
        self.options = options
        self.organisation = organisation
    }

    /// Runs every assigned repository; never throws for one repository's failure.
    public func run(session: Session) async throws(PierError) -> (
        summary: OrganisationSummary, sections: [StatusPage.Section]
    ) {
        let clock = ContinuousClock.now
        let organisation = try await OrganisationDiscovery.discover(self.organisation, session: session)
        let assigned = organisation.assigned
        // Built once, from the same settings as a single-repository sync (the key is read before any copy).
        let sync =
            command == .sync ? try Sync(session: session, onConflict: options.onConflict, dryRun: options.dryRun) : nil
        let work = {
            @Sendable (repository: OrganisationSettings.Repository) async -> (
                OrganisationSummary.Result, StatusPage.Section?
            ) in
            do throws(PierError) {
                return try await self.run(repository, sync: sync, session: session)
            } catch {
                var result = OrganisationSummary.Result(repository: repository)
                result.outcome = .failed
                result.message = error.description
                result.failureKind = error.kind
                let empty = RegistryStatus(repositories: [repository.primary.repositoryName], rows: [])
                return (result, StatusPage.Section(status: empty, failure: error.description))
            }
        }
        let results =
            (try? await forEachConcurrently(assigned, limit: organisation.concurrency) { repository in
                await work(repository)
            }) ?? []
        var summary = OrganisationSummary(
            command: command, shard: organisation.shard.description, configured: organisation.repositories.count,
            results: results.map { $0.0 }, seconds: (ContinuousClock.now - clock).seconds)
        summary.dryRun = command == .sync ? options.dryRun : command == .prune ? !options.apply : false
        return (summary, results.compactMap { $0.1 })
    }

    func run(_ repository: OrganisationSettings.Repository, sync: Sync?, session: Session) async throws(PierError) -> (
        OrganisationSummary.Result, StatusPage.Section?
    ) {
        var result = OrganisationSummary.Result(repository: repository)
        switch command {
        case .sync:
            let configured: Sync
            if let sync {
                configured = sync
            } else {
                configured = try Sync(session: session, onConflict: options.onConflict, dryRun: options.dryRun)
            }
            let actions = try await configured.sync(
                from: repository.primary, to: repository.backups, tags: repository.tags, semver: nil, session: session)
            result.inSync = actions.filter { $0.action == .inSync }.count
            result.copied = actions.filter { $0.action == .copied || $0.action == .wouldCopy }.count
            result.failed = actions.filter { $0.action == .conflict || $0.action == .failed }.count
            result.unsigned = actions.filter { $0.action == .unsigned }.count
            let failure = Sync.failure(of: actions)
            result.message = failure?.hint
            result.failureKind = failure?.kind
            result.outcome =
                result.failed > 0
                ? .failed
                : result.unsigned > 0 ? .unsigned : result.copied > 0 ? (options.dryRun ? .planned : .changed) : .ok
            return (result, nil)
        case .prune:
            guard let rules = repository.prune else {
                result.outcome = .skipped
                result.message = "no retention rules (prune:) for this repository"
                return (result, nil)
            }
            var plans: [(Pruner, Pruner.Result)] = []
            for target in [repository.primary] + repository.backups {
                var pruner = Pruner(store: session.store, logger: session.logger)
                pruner.allowUntagFallback = options.allowUntagFallback
                pruner.api = try RegistryAPISelection.choose(for: target.registry, operation: "prune", session: session)
                plans.append(
                    (pruner, try await pruner.plan(target, policy: .rules(rules), now: session.settings.startedAt)))
            }
            if options.apply {
                try Pruner.requireUntagFallbackAllowed(plans.map(\.1), allowed: options.allowUntagFallback)
            }
            for (pruner, plan) in plans {
                let done = options.apply ? try await pruner.apply(plan) : plan
                result.removed +=
                    options.apply ? done.removed.count : done.decisions.filter { $0.action != .keep }.count
                result.failed += done.failures.count
            }
            result.outcome =
                result.failed > 0 ? .failed : result.removed > 0 ? (options.apply ? .changed : .planned) : .ok
            return (result, nil)
        case .status:
            let section = try await StatusOperation.section(
                [repository.primary] + repository.backups, tags: repository.tags, details: options.details,
                retention: repository.prune, session: session)
            result.inSync = section.status.rows.filter { $0.state == .ok }.count
            result.drifted = section.status.rows.filter(\.state.isDrift).count
            result.outcome = result.drifted > 0 ? .drift : .ok
            return (result, section)
        }
    }
}
