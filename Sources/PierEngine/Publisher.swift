import Foundation
import Logging
import PierModel
import PierRegistry

/// What to do when a full version tag already exists with a different digest.
public enum ConflictPolicy: String, Sendable, Codable, CaseIterable {
    case fail, overwrite, backup
}

/// `pier publish`: one image to a primary and backup registries, tagged from the build's context, verified by
/// digest on every registry.
public struct Publisher: Sendable {
    public struct Options: Sendable {
        public var rules = TagRules()
        public var context: TagContext
        public var onConflict: ConflictPolicy = .fail
        public var failFast = false
        public var dryRun = false
        public var pushOnPullRequest = false
        public var concurrency = 4
        /// Annotations added to the root manifest or index (changes its digest; off unless asked).
        public var annotations: [String: String] = [:]
        /// Which referrers of a registry source go to every registry.
        public var referrers = ReferrerSelection()
        /// Signs the root once and appends the signature on every registry after its tags are verified.
        public var signingKey: SigningKey?
        public init(context: TagContext) { self.context = context }
    }

    public let store: ImageStore
    public let options: Options
    public var logger: Logger
    public var progress: TransferProgress?

    public init(
        store: ImageStore, options: Options, logger: Logger = Logger(label: "pier"), progress: TransferProgress? = nil
    ) {
        self.store = store
        self.options = options
        self.logger = logger
        self.progress = progress
    }

    /// Publishes `source` to `targets` (the first is the primary). Never throws for a registry's failure: that
    /// is in the report; throws only when nothing could start (unreadable source, invalid plan).
    public func publish(_ source: any ImageSource, to targets: [ImageReference]) async throws(PierError)
        -> PublishReport
    {
        let started = ContinuousClock.now
        guard !targets.isEmpty else {
            throw PierError(
                .usage, operation: "publish", message: "no registries to publish to",
                hint: "pass --to REPO (repeatable) or list registries in pier.yml")
        }
        // Tags are validated before any network I/O.
        _ = try TagPlanner.plan(context: options.context, rules: options.rules)
        let original = try await source.root()
        var loaded = try await ImageGraph.load(root: original, from: source)
        loaded.root = try ImageAnnotator.annotate(original, with: options.annotations)
        let graph = loaded
        let root = graph.root
        let referrers = try await discoverReferrers(of: graph, original: original, source: source)
        // One payload for the digest, signed once; its docker-reference names the primary (cosign ignores it).
        let signature = try options.signingKey.map { (key) throws(PierError) in
            try ImageSignature(
                signing: SimpleSigningPayload(dockerReference: targets[0].repositoryName, manifestDigest: root.digest),
                with: key)
        }
        let platforms = graph.children.compactMap { child in
            root.document.manifests?.first { $0.digest == child.digest }?.platform?.description
        }

        // One plan for all registries, from the tags any of them already has, so every registry ends up alike.
        let listings = await withTaskGroup(of: (Int, Result<[String], PierError>).self) { group in
            for (index, target) in targets.enumerated() {
                group.addTask { (index, await self.existingTags(target)) }
            }
            var results: [Int: Result<[String], PierError>] = [:]
            for await (index, result) in group { results[index] = result }
            return results
        }
        let existing = listings.values.flatMap { (try? $0.get()) ?? [] }
        let plan = try TagPlanner.plan(context: options.context, rules: options.rules, existingTags: existing)
        let writes = !options.dryRun && (options.context.event != .pullRequest || options.pushOnPullRequest)
        if !options.dryRun, !writes {
            logger.notice(
                "a pull-request build: showing the plan and pushing nothing (--push-on-pr or pier.yml push_on_pr: true pushes)"
            )
        }

        // Every registry uploads the same blobs at about the same time: one read of each serves them all.
        let sharedReads = targets.count > 1 ? SharedBlobReads(participants: targets.count) : nil
        var reports: [RegistryReport] = []
        do {
            reports = try await withThrowingTaskGroup(of: (Int, RegistryReport).self) { group in
                for (index, target) in targets.enumerated() {
                    group.addTask {
                        var report = RegistryReport(
                            repository: target.repositoryName, role: index == 0 ? .primary : .backup)
                        let clock = ContinuousClock.now
                        do throws(PierError) {
                            if case .failure(let error) = listings[index] { throw error }
                            try await self.publish(
                                graph, from: source, to: target, plan: plan, writes: writes, referrers: referrers,
                                sharedReads: sharedReads.map { ($0, index) }, signature: signature,
                                report: &report)
                        } catch {
                            report.error = RegistryReport.Failure(kind: error.kind, message: error.description)
                            report.pierError = error
                            self.logger.debug("\(target.repositoryName): \(error.description)")
                        }
                        sharedReads?.finish(participant: index)
                        report.seconds = (ContinuousClock.now - clock).seconds
                        report.rateLimit = await self.store.client(for: target.registry).rateLimit()
                        if self.options.failFast, let error = report.pierError { throw error }
                        return (index, report)
                    }
                }
                var collected: [(Int, RegistryReport)] = []
                for try await item in group { collected.append(item) }
                return collected.sorted { $0.0 < $1.0 }.map(\.1)
            }
        } catch {
            // --fail-fast: the first failure cancelled the rest.
            throw (error as? PierError) ?? PierError(.other, operation: "publish", message: "\(error)")
        }
        if let summary = sharedReads?.summary {
            logger.debug(
                "shared reads: \(summary.blocksRead) blocks read once for every registry, \(summary.leftBehind) uploads left to read alone"
            )
        }
        return PublishReport(
            source: source.name, digest: root.digest, mediaType: root.mediaType, platforms: platforms,
            context: options.context,
            tags: plan, dryRun: !writes, registries: reports, seconds: (ContinuousClock.now - started).seconds)
    }

    /// The referrers of a registry source's manifests, found once for every registry. Annotations give the root a
    /// new digest, which its referrers do not name: then only the children's referrers go.
    func discoverReferrers(of graph: ImageGraph, original: ManifestBlob, source: any ImageSource)
        async throws(PierError) -> [ReferrerDiscovery.Found]
    {
        guard options.referrers.carry, let registry = source as? RegistryImageSource else { return [] }
        var subjects = graph.children.map(\.digest)
        if graph.root.digest == original.digest {
            subjects.append(original.digest)
        } else {
            logger.info("the root's referrers stay behind: annotations give it a new digest they do not name")
        }
        let carrier = ReferrerCarrier(selection: options.referrers, copier: Copier(logger: logger), logger: logger)
        return try await carrier.discover(subjects: subjects, on: registry)
    }

    /// A repository's tags; a repository that does not exist yet has none.
    func existingTags(_ target: ImageReference) async -> Result<[String], PierError> {
        do {
            return .success(try await store.client(for: target.registry).tags(repository: target.repository))
        } catch {
            if error.kind == .notFound { return .success([]) }
            return .failure(error)
        }
    }

    /// One registry: conflicts checked, blobs, child manifests, root, then tags; then every tag verified.
    func publish(
        _ graph: ImageGraph, from source: any ImageSource, to target: ImageReference, plan: [PlannedTag], writes: Bool,
        referrers: [ReferrerDiscovery.Found] = [],
        sharedReads: (reads: SharedBlobReads, participant: Int)? = nil, signature: ImageSignature? = nil,
        report: inout RegistryReport
    ) async throws(PierError) {
        let client = await store.client(for: target.registry)
        let destination = RegistryImageDestination(reference: target.with(tag: nil), client: client)
        let root = graph.root

        // Where each tag points now.
        var before: [String: Digest] = [:]
        for tag in plan {
            if let head = try await client.manifestHead(repository: target.repository, reference: tag.name) {
                before[tag.name] = head.digest
            }
        }
        var backups: [String: String] = [:]
        for tag in plan where tag.kind == .version {
            guard let old = before[tag.name], old != root.digest else { continue }
            switch options.onConflict {
            case .fail:
                report.tags = plan.map {
                    .init(
                        tag: $0.name, kind: $0.kind, before: before[$0.name],
                        action: $0.name == tag.name ? .conflict : .skipped)
                }
                throw PierError(
                    .conflict, operation: "publish tag \(tag.name)",
                    message: "\(tag.name) already points at \(old.short), not \(root.digest.short)",
                    registry: target.registry,
                    repository: target.repository, reference: tag.name,
                    hint: "a released version is immutable; use a new version, or --on-conflict backup|overwrite")
            case .overwrite:
                logger.warning(
                    "\(target.repositoryName):\(tag.name) moves from \(old.short) to \(root.digest.short) (--on-conflict overwrite)"
                )
            case .backup:
                let name = ConflictPolicy.backupTag(for: tag.name, at: options.context.timestamp)
                if writes {
                    let old = try await client.manifest(repository: target.repository, reference: old.description)
                    try await client.putManifest(repository: target.repository, reference: name, manifest: old)
                }
                backups[tag.name] = name
            }
        }

        guard writes else {
            // Dry run: what would move, without writing anything.
            for blob in graph.blobs where try await !destination.hasBlob(blob) {
                report.wouldUpload.append(blob.digest)
            }
            report.tags = plan.map {
                .init(
                    tag: $0.name, kind: $0.kind, before: before[$0.name],
                    action: before[$0.name] == root.digest ? .unchanged : .wouldWrite, backup: backups[$0.name])
            }
            return
        }

        var copier = Copier(concurrency: options.concurrency, logger: logger, progress: progress)
        // Several registries share one source: read it once (spooled), rather than one GET per registry.
        copier.streamBetweenRegistries = false
        copier.sharedReads = sharedReads
        let stats = try await copier.copyBlobs(graph.blobs, from: source, to: destination)
        report.blobsUploaded = stats.uploaded
        report.blobsMounted = stats.mounted
        report.blobsSkipped = stats.skipped
        report.bytesUploaded = stats.bytes
        for manifest in graph.manifests where try await !destination.hasManifest(manifest.digest) {
            try await destination.putManifest(manifest)
            report.manifestsPushed += 1
        }
        if let registry = source as? RegistryImageSource, !referrers.isEmpty {
            var carrier = ReferrerCarrier(selection: options.referrers, copier: copier, logger: logger)
            // Referrer blobs are not among the shared reads of the image's blobs.
            (carrier.copier.progress, carrier.copier.sharedReads) = (nil, nil)
            report.referrers = try await carrier.carry(referrers, from: registry, to: destination)
        }
        // Tags last: everything they reference is in place.
        for tag in plan {
            if before[tag.name] == root.digest {
                report.tags.append(.init(tag: tag.name, kind: tag.kind, before: before[tag.name], action: .unchanged))
                continue
            }
            try await client.putManifest(repository: target.repository, reference: tag.name, manifest: root)
            report.tags.append(
                .init(
                    tag: tag.name, kind: tag.kind, before: before[tag.name], action: .written, backup: backups[tag.name]
                ))
        }
        try await verify(graph, tags: plan.map(\.name), on: target, client: client)
        try await ReferrerCarrier.verify(&report.referrers, on: client, repository: target.repository)
        if let signature, let key = options.signingKey?.verificationKey {
            let signatures = SignatureStore(client: client, repository: target.repository)
            report.signature = try await signatures.append(signature, for: root.digest, signer: key)
            try await signatures.requireValidSignature(
                for: root.digest, key: key, payload: signature.layer.digest, operation: "verify signature")
        }
        report.verified = true
    }

    /// HEADs every tag (it must be the root digest) and every child manifest (it must exist).
    func verify(_ graph: ImageGraph, tags: [String], on target: ImageReference, client: RegistryClient)
        async throws(PierError)
    {
        for tag in tags {
            let head = try await client.manifestHead(repository: target.repository, reference: tag)
            guard let head, head.digest == graph.root.digest else {
                throw PierError(
                    .verification, operation: "verify tag \(tag)",
                    message: head.map { "points at \($0.digest.short), expected \(graph.root.digest.short)" }
                        ?? "is missing after the push",
                    registry: target.registry, repository: target.repository, reference: tag)
            }
        }
        for child in graph.children {
            guard
                try await client.manifestHead(repository: target.repository, reference: child.digest.description) != nil
            else {
                throw PierError(
                    .verification, operation: "verify manifest \(child.digest.short)",
                    message: "is missing after the push",
                    registry: target.registry, repository: target.repository)
            }
        }
    }

}

extension ConflictPolicy {
    /// The tag `--on-conflict backup` keeps the old image under: `bkup-<tag>-<yyyyMMddHHmmss>` in UTC, the time of
    /// the run (every backup of one publish or sync carries the same one).
    public static func backupTag(for tag: String, at date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        return "bkup-\(tag)-\(formatter.string(from: date))"
    }
}
