import Foundation
import Logging
import PierHostedAPIs
import PierModel
import PierRegistry

/// `pier prune`: resolves every tag to its digest and age, decides with a retention policy, and (with apply)
/// deletes safely: never a digest that a kept tag or a kept index still needs.
public struct Pruner: Sendable {
    public let store: ImageStore
    public var logger: Logger
    public var allowUntagFallback = false
    /// Whether a plan may send the DELETE that probes for distribution's untag route. Off for read-only callers
    /// (the status page's retention preview): their plans leave that route unknown.
    public var probesUntagRoute = true
    public var concurrency = 4
    /// Which API deletes: the distribution API, or a registry's own management API.
    public var api: RegistryAPIChoice = .distribution

    public init(store: ImageStore, logger: Logger = Logger(label: "pier")) {
        self.store = store
        self.logger = logger
    }

    /// The plan and what applying it did, for one repository.
    public struct Result: Sendable, Codable {
        public struct Failure: Sendable, Codable {
            public var tag: String
            public var message: String
        }
        public var repository: String
        /// Newest first; undated images last.
        public var decisions: [RetentionDecision]
        public var applied: Bool
        /// Tags removed (untagged or deleted with their digest).
        public var removed: [String] = []
        public var failures: [Failure] = []
        /// Untagged manifests the registry's API listed, when the policy considers them (`--untagged`, ECR rules).
        public var untagged: [UntaggedDecision] = []
        /// Referrers the registry's referrers API lists for images being deleted, deleted with them, by subject.
        public var referrers: [String: [Digest]] = [:]
        /// Patterns that matched no tag, push times that could not be listed, tags that must stay.
        public var warnings: [String] = []
        public var failureErrors: [PierError] = []
        /// The repository and the manifests read, for `apply`.
        var reference: ImageReference?
        var manifests: [Digest: ManifestBlob] = [:]

        /// Tags that only the untag fallback can remove here (`--apply` needs `--allow-untag-fallback`).
        public var needingUntagFallback: [String] { decisions.filter { $0.untagRoute == .fallback }.map(\.tag) }
        /// Release tags kept because nothing dates them; artifact tags follow their subjects and are never counted.
        public var undatedCount: Int {
            decisions.filter { $0.dateSource == .undated && !ArtifactTag.isArtifactTag($0.tag) }.count
        }

        enum CodingKeys: String, CodingKey {
            case repository, decisions, untagged, referrers, applied, removed, failures, warnings
        }
    }

    /// Every tag with its digest and date, and every manifest the tags reach.
    public struct Inventory: Sendable {
        public var tags: [TagInfo]
        public var manifests: [Digest: ManifestBlob]
        /// Untagged manifests the management API listed (empty where it lists none), dated by push time.
        public var untagged: [Digest: ImageDate] = [:]
        public var warnings: [String] = []
    }

    /// Every tag with its digest and date: the push time where the management API keeps one, else the
    /// `org.opencontainers.image.created` annotation, else config `created` (an index's from its first platform);
    /// an implausible date counts as none (`ImageDate.best`). Every manifest a tag reaches is read, so the safety
    /// pass knows what kept indexes need.
    public func inventory(_ repository: ImageReference, now: Date = Date()) async throws(PierError) -> Inventory {
        let client = await store.client(for: repository.registry)
        let names = try await client.tags(repository: repository.repository)
        var warnings: [String] = []
        var pushTimes: PushTimes?
        var listed: [ListedImage] = []
        if case .native(let native) = api, let lister = native as? any ImageListingAPI {
            do {
                listed = try await lister.listImages(repository: repository.repository)
                pushTimes = PushTimes(listed, source: lister.pushTimeSource)
            } catch {
                warnings.append(
                    "could not list push times through the \(native.name) (\(error.message)); ages come from the images"
                )
            }
        }
        let manifests = ManifestCache(client: client, repository: repository.repository)
        let pushTimesListed = pushTimes
        do {
            let infos = try await forEachConcurrently(Array(names.enumerated()), limit: concurrency) {
                (item) async throws -> TagInfo? in
                let (order, tag) = item
                guard let head = try await client.manifestHead(repository: repository.repository, reference: tag) else {
                    return nil
                }
                _ = try await manifests.manifest(head.digest)
                var candidates: [(source: DateSource, date: Date?)] = []
                if let pushTimes = pushTimesListed {
                    candidates.append((pushTimes.source, pushTimes.date(digest: head.digest)))
                }
                var date = ImageDate.best(candidates, now: now)
                if date.date == nil {
                    let own = try await manifests.dates(head.digest)
                    date = ImageDate.best(
                        candidates + [(.annotation, own.annotation), (.config, own.config)], now: now)
                    if pushTimesListed == nil {
                        date.looked.insert("push time: the distribution API keeps none", at: 0)
                    }
                }
                return TagInfo(tag: tag, digest: head.digest, date: date, order: order)
            }
            let tags = infos.compactMap { $0 }
            var untagged: [Digest: ImageDate] = [:]
            let tagged = Set(tags.map(\.digest))
            for image in listed where image.tags.isEmpty && !tagged.contains(image.digest) {
                untagged[image.digest] = ImageDate.best([(pushTimes?.source ?? .undated, image.pushed)], now: now)
            }
            return Inventory(tags: tags, manifests: await manifests.all(), untagged: untagged, warnings: warnings)
        } catch let error as PierError {
            throw error
        } catch {
            throw PierError(.other, operation: "read tags", message: "\(error)")
        }
    }

    /// Push times from a management API listing, by digest: the date belongs to what a deletion would remove. Where
    /// several entries share a digest (Docker Hub dates each tag) the youngest counts, so an image is never older than
    /// its latest push.
    struct PushTimes: Sendable {
        var byDigest: [Digest: Date] = [:]
        var source: DateSource
        init(_ images: [ListedImage], source: DateSource) {
            self.source = source
            for image in images {
                guard let pushed = image.pushed else { continue }
                byDigest[image.digest] = max(byDigest[image.digest] ?? pushed, pushed)
            }
        }
        func date(digest: Digest) -> Date? { byDigest[digest] }
    }

    /// Reads and decides one repository; nothing is changed. Untag decisions say how this registry can carry them
    /// out (natively, only through the fallback, or not at all).
    public func plan(_ repository: ImageReference, policy: RetentionPolicy, now: Date = Date()) async throws(PierError)
        -> Result
    {
        let inventory = try await inventory(repository, now: now)
        var members: [Digest: Set<Digest>] = [:]
        for info in inventory.tags where ArtifactTag.isArtifactTag(info.tag) {
            members[info.digest] = Self.children(of: [info.digest], in: inventory.manifests)
        }
        var decisions = try policy.decide(inventory.tags, now: now, artifactMembers: members) { kept in
            Self.children(of: kept, in: inventory.manifests)
        }
        var result = Result(
            repository: repository.repositoryName, decisions: [], applied: false, warnings: inventory.warnings)
        if case .rules(let rules) = policy { result.warnings += rules.unmatchedPatterns(in: inventory.tags.map(\.tag)) }
        if decisions.contains(where: { $0.action == .untag }) {
            let route = try await untagRoute(repository)
            for index in decisions.indices where decisions[index].action == .untag {
                decisions[index].untagRoute = route
            }
            let stuck = decisions.filter { $0.untagRoute == .impossible }.map(\.tag)
            if !stuck.isEmpty {
                result.warnings.append(
                    "\(stuck.count) tag(s) stay: this registry cannot remove one tag of an image that kept tags use (\(stuck.joined(separator: ", ")))"
                )
            }
        }
        result.decisions = decisions
        result.reference = repository
        result.manifests = inventory.manifests
        let going = Set(decisions.filter { $0.action == .delete }.map(\.digest))
        if case .distribution = api {
            let client = await store.client(for: repository.registry)
            for digest in going.sorted() {
                let subjects = [digest] + Self.children(of: [digest], in: inventory.manifests)
                guard
                    let found = try await apiReferrers(of: subjects, client: client, repository: repository.repository)
                else { break }
                if !found.isEmpty { result.referrers[digest.description] = found }
            }
        }
        Self.addFallbackIndexEntries(to: &result.referrers, going: going, decisions: decisions, in: inventory.manifests)
        if policy.considersUntagged, !inventory.untagged.isEmpty {
            let (untagged, read) = try await untaggedDecisions(
                repository, inventory: inventory, decisions: decisions, policy: policy, now: now)
            result.untagged = untagged
            result.manifests = read
        } else if case .rules(let rules) = policy, rules.untagged, case .distribution = api {
            result.warnings.append(
                "--untagged: the distribution API cannot list untagged manifests (registry garbage-collect can)")
        }
        return result
    }

    /// Untagged manifests: each is read (with its children), so that what a staying tag or a staying untagged index
    /// reaches is known; nothing it reaches is deleted. If any cannot be read, none is deleted.
    func untaggedDecisions(
        _ repository: ImageReference, inventory: Inventory, decisions: [RetentionDecision], policy: RetentionPolicy,
        now: Date
    ) async throws(PierError) -> (decisions: [UntaggedDecision], manifests: [Digest: ManifestBlob]) {
        let client = await store.client(for: repository.registry)
        var manifests = inventory.manifests
        for digest in inventory.untagged.keys where manifests[digest] == nil {
            do {
                let blob = try await client.manifest(repository: repository.repository, reference: digest.description)
                manifests[digest] = blob
                for child in blob.document.manifests ?? [] where manifests[child.digest] == nil {
                    manifests[child.digest] = try await client.manifest(
                        repository: repository.repository, reference: child.digest.description)
                }
            } catch {
                let kept = inventory.untagged.map { digest, date in
                    UntaggedDecision(
                        digest: digest, date: date.date, dateSource: date.source, action: .keep,
                        rule:
                            "kept: an untagged manifest could not be read (\(error.message)), so what it reaches is unknown"
                    )
                }
                return (kept, inventory.manifests)
            }
        }
        let staying = Set(decisions.filter { $0.action != .delete }.map(\.digest))
        let reached = Self.withReferrers(staying.union(Self.children(of: staying, in: manifests)), in: manifests)
        var result = policy.decideUntagged(inventory.untagged, tags: inventory.tags, reached: reached, now: now)
        // A kept untagged index keeps its children.
        let keptUntagged = Set(result.filter { $0.action == .keep }.map(\.digest))
        let reachedByKept = Self.children(of: keptUntagged, in: manifests)
        for index in result.indices
        where result[index].action == .delete && reachedByKept.contains(result[index].digest) {
            result[index].action = .keep
            result[index].rule = "reached by a kept untagged index"
        }
        return (result, manifests)
    }

    /// How untags are carried out here: a management API that removes one tag, distribution's DELETE by tag
    /// (v3; probed with a DELETE of a tag that does not exist: 404 means the route exists, v2.8 answers 400
    /// DIGEST_INVALID), else the fallback.
    func untagRoute(_ repository: ImageReference) async throws(PierError) -> RetentionDecision.UntagRoute? {
        switch api {
        case .native(let native): return native.canUntag ? .native : .impossible
        case .distribution:
            guard probesUntagRoute else { return nil }
            let client = await store.client(for: repository.registry)
            do {
                try await client.deleteManifest(
                    repository: repository.repository, reference: "pier-probe-\(UUID().uuidString.lowercased())")
                return .native
            } catch {
                return error.status == 404 ? .native : .fallback
            }
        }
    }

    /// Refuses, before anything is deleted, a run that would need the untag fallback without `--allow-untag-fallback`.
    public static func requireUntagFallbackAllowed(_ plans: [Result], allowed: Bool) throws(PierError) {
        guard !allowed else { return }
        let needing = plans.flatMap { plan in plan.needingUntagFallback.map { "\(plan.repository):\($0)" } }
        guard !needing.isEmpty else { return }
        let shown = needing.prefix(10).joined(separator: ", ") + (needing.count > 10 ? ", …" : "")
        throw PierError(
            .usage, operation: "prune",
            message:
                "nothing deleted: \(needing.count) tag(s) can only be removed through the untag fallback (\(shown))",
            hint: "rerun with --allow-untag-fallback, or keep those tags (--keep REGEX)")
    }

    /// Plans and, with `apply`, deletes, for one repository (refusing up front when the untag fallback is needed but
    /// not allowed).
    public func prune(_ repository: ImageReference, policy: RetentionPolicy, apply: Bool, now: Date = Date())
        async throws(PierError) -> Result
    {
        let plan = try await plan(repository, policy: policy, now: now)
        guard apply else { return plan }
        try Self.requireUntagFallbackAllowed([plan], allowed: allowUntagFallback)
        return try await self.apply(plan)
    }

    /// Carries out a plan: untags first (those digests stay), then deletes digests whose every tag goes, then their
    /// children that nothing kept needs.
    public func apply(_ plan: Result) async throws(PierError) -> Result {
        var result = plan
        result.applied = true
        guard let repository = plan.reference else { return result }
        let decisions = plan.decisions
        let manifests = plan.manifests
        let client = await store.client(for: repository.registry)
        let deleter: any TagDeleting
        switch api {
        case .distribution:
            deleter = DistributionTagDeleter(
                client: client, repository: repository.repository, allowUntagFallback: allowUntagFallback)
        case .native(let native):
            deleter = NativeTagDeleter(api: native, repository: repository.repository)
        }
        for decision in decisions where decision.action == .untag && decision.untagRoute != .impossible {
            do {
                try await deleter.untag(decision.tag, digest: decision.digest)
                result.removed.append(decision.tag)
            } catch {
                result.failures.append(.init(tag: decision.tag, message: error.description))
                result.failureErrors.append(error)
            }
        }
        let kept = Set(decisions.filter { $0.action != .delete }.map(\.digest))
        let needed = kept.union(Self.children(of: kept, in: manifests))
        var deleted: Set<Digest> = []
        for decision in decisions where decision.action == .delete {
            if deleted.contains(decision.digest) {
                result.removed.append(decision.tag)
                continue
            }
            do {
                // Referrers the registry indexes (no tag names them) go with their subject; listed first, while the
                // subject is there to list them by.
                let referrers = plan.referrers[decision.digest.description] ?? []
                try await deleter.deleteDigest(
                    decision.digest, tags: decisions.filter { $0.digest == decision.digest }.map(\.tag))
                deleted.insert(decision.digest)
                result.removed.append(decision.tag)
                for referrer in referrers where !needed.contains(referrer) && !deleted.contains(referrer) {
                    do {
                        try await deleter.deleteDigest(referrer, tags: [])
                        deleted.insert(referrer)
                        result.removed.append(referrer.description)
                    } catch { logger.warning("could not delete referrer \(referrer.short): \(error.description)") }
                }
                for child in Self.children(of: [decision.digest], in: manifests)
                where !needed.contains(child) && !deleted.contains(child) {
                    // A leftover child is harmless; failing to delete it is only logged.
                    do {
                        try await deleter.deleteDigest(child, tags: [])
                        deleted.insert(child)
                    } catch { logger.warning("could not delete child manifest \(child.short): \(error.description)") }
                }
            } catch {
                result.failures.append(.init(tag: decision.tag, message: error.description))
                result.failureErrors.append(error)
            }
        }
        // Untagged manifests last, indexes before their children.
        let going = plan.untagged.filter {
            $0.action == .delete && !deleted.contains($0.digest) && !needed.contains($0.digest)
        }
        for decision in going.sorted(by: {
            (manifests[$0.digest]?.isIndex ?? false) && !(manifests[$1.digest]?.isIndex ?? false)
        }) {
            do {
                try await deleter.deleteDigest(decision.digest, tags: [])
                deleted.insert(decision.digest)
                result.removed.append(decision.digest.description)
            } catch {
                result.failures.append(.init(tag: decision.digest.description, message: error.description))
                result.failureErrors.append(error)
            }
        }
        return result
    }

    /// `reached` and every manifest read whose `subject` is reached (referrers of staying images, recursively),
    /// with their children.
    static func withReferrers(_ reached: Set<Digest>, in manifests: [Digest: ManifestBlob]) -> Set<Digest> {
        var result = reached
        var grew = true
        while grew {
            grew = false
            for (digest, manifest) in manifests where !result.contains(digest) {
                guard let subject = manifest.document.subject?.digest, result.contains(subject) else { continue }
                result.insert(digest)
                result.formUnion(children(of: [digest], in: manifests))
                grew = true
            }
        }
        return result
    }

    /// The entries of each deleted fallback index (`sha256-<hex>`, distribution-spec §Referrers tag schema), listed
    /// with the deleted image they are about, as the referrers API's would be: they go with the index as its children.
    static func addFallbackIndexEntries(
        to referrers: inout [String: [Digest]], going: Set<Digest>, decisions: [RetentionDecision],
        in manifests: [Digest: ManifestBlob]
    ) {
        let indexes = decisions.filter { decision in
            decision.action == .delete && ArtifactTag(decision.tag).map { $0.suffix == nil } == true
        }
        for digest in going.sorted() {
            let subjects = Set([digest] + children(of: [digest], in: manifests))
            for index in indexes where ArtifactTag(index.tag).map({ subjects.contains($0.subject) }) == true {
                for entry in manifests[index.digest]?.document.manifests ?? []
                where !(referrers[digest.description] ?? []).contains(entry.digest) {
                    referrers[digest.description, default: []].append(entry.digest)
                }
            }
        }
    }

    /// Referrers the registry's referrers API lists for `digests`, recursively (`ReferrerDiscovery.maximumDepth`),
    /// for deletion with their subject. Each listed manifest is read and counts only when its own `subject` is the
    /// digest it was listed under: a registry's listing is not trusted to say what goes with an image (a referrer of
    /// a kept image listed under a deleted one stays). Empty where the registry has no referrers API (its fallback
    /// index and cosign tags are artifact tags, decided with their subjects); nil when it has none.
    func apiReferrers(of digests: [Digest], client: RegistryClient, repository: String) async throws(PierError)
        -> [Digest]?
    {
        var found: [Digest] = []
        var seen: Set<Digest> = []
        var level = digests
        for _ in 0..<ReferrerDiscovery.maximumDepth where !level.isEmpty {
            var next: [Digest] = []
            for digest in level {
                guard
                    case .listed(let descriptors, _) = try await client.referrers(
                        repository: repository, digest: digest)
                else { return found.isEmpty ? nil : found }
                guard seen.count + descriptors.count <= ReferrerDiscovery.maximumCount else {
                    throw PierError(
                        .invalidInput, operation: "prune",
                        message: "more than \(ReferrerDiscovery.maximumCount) referrers hang off \(digest.short)",
                        registry: client.registry, repository: repository,
                        hint: "nothing deleted; clean up its referrers first or keep the image (--keep)")
                }
                for descriptor in descriptors where seen.insert(descriptor.digest).inserted {
                    let manifest = try await client.manifest(
                        repository: repository, reference: descriptor.digest.description)
                    guard manifest.document.subject?.digest == digest else {
                        logger.warning(
                            "\(repository): the referrers API lists \(descriptor.digest.short) under \(digest.short), but its subject is another image; not deleted with it"
                        )
                        continue
                    }
                    found.append(descriptor.digest)
                    next.append(descriptor.digest)
                }
            }
            level = next
        }
        return found
    }

    /// Every manifest reachable below the given digests (children of indexes, recursively).
    static func children(of digests: Set<Digest>, in manifests: [Digest: ManifestBlob]) -> Set<Digest> {
        var found: Set<Digest> = []
        var queue = Array(digests)
        while let next = queue.popLast() {
            for entry in manifests[next]?.document.manifests ?? [] where found.insert(entry.digest).inserted {
                queue.append(entry.digest)
            }
        }
        return found
    }

    /// Manifests and creation times by digest, each fetched once.
    actor ManifestCache {
        let client: RegistryClient
        let repository: String
        var manifests: [Digest: ManifestBlob] = [:]
        var dated: [Digest: (annotation: Date?, config: Date?)] = [:]

        init(client: RegistryClient, repository: String) {
            self.client = client
            self.repository = repository
        }

        func all() -> [Digest: ManifestBlob] { manifests }

        func manifest(_ digest: Digest) async throws(PierError) -> ManifestBlob {
            if let cached = manifests[digest] { return cached }
            let blob = try await client.manifest(repository: repository, reference: digest.description)
            manifests[digest] = blob
            // Children are fetched too, so the safety pass knows what a kept index needs.
            for child in blob.document.manifests ?? []
            where MediaType.isManifest(child.mediaType) && manifests[child.digest] == nil {
                _ = try? await manifest(child.digest)
            }
            return blob
        }

        /// The image's own dates: the index or manifest annotation, and config `created` (an index's from its first
        /// platform's config). Read once per digest.
        func dates(_ digest: Digest) async throws(PierError) -> (annotation: Date?, config: Date?) {
            if let known = dated[digest] { return known }
            let blob = try await manifest(digest)
            let annotation = blob.document.annotations?["org.opencontainers.image.created"].flatMap(ImageDate.parse)
            var image = blob
            if image.isIndex, let first = image.document.manifests?.first(where: { !($0.platform?.isUnknown ?? false) })
            {
                image = try await manifest(first.digest)
            }
            var config: Date?
            if let descriptor = image.document.config, descriptor.size <= Self.configSizeLimit,
                let bytes = try? await client.blobBytes(repository: repository, digest: descriptor.digest),
                let summary = try? JSONDecoder().decode(ImageConfigSummary.self, from: Data(bytes))
            {
                config = summary.created.flatMap(ImageDate.parse)
            }
            dated[digest] = (annotation, config)
            return (annotation, config)
        }

        /// Configs larger than this are not read for their date (blobBytes' own default limit).
        static let configSizeLimit = ImageConfigSummary.maximumSize
    }
}

/// Which API a prune deletes through.
public enum RegistryAPIChoice: Sendable {
    case distribution
    case native(any TagDeletionAPI)
}

/// The two deletions a prune needs.
protocol TagDeleting: Sendable {
    func untag(_ tag: String, digest: Digest) async throws(PierError)
    /// Deletes an image; `tags` are all the tags on it (every one of them is being removed).
    func deleteDigest(_ digest: Digest, tags: [String]) async throws(PierError)
}

/// Through a registry's management API (Docker Hub, GHCR, ECR, GitLab, Harbor).
struct NativeTagDeleter: TagDeleting {
    let api: any TagDeletionAPI
    let repository: String
    func untag(_ tag: String, digest: Digest) async throws(PierError) {
        try await api.untag(repository: repository, tag: tag, digest: digest)
    }
    func deleteDigest(_ digest: Digest, tags: [String]) async throws(PierError) {
        // Children of an index have no tags: only APIs that delete by digest can remove them.
        if tags.isEmpty, !api.deletesByDigest { return }
        try await api.deleteImage(repository: repository, digest: digest, tags: tags)
    }
}

/// Deletes through the distribution API: DELETE by digest (removes every tag on it), DELETE by tag where the
/// registry supports it (distribution v3), else, only when allowed, the untag trick (regclient `TagDelete`):
/// point the tag at a unique dummy manifest and delete the dummy by digest. If that delete fails the tag is put
/// back, so a tag never stays on a dummy.
struct DistributionTagDeleter: TagDeleting {
    let client: RegistryClient
    let repository: String
    let allowUntagFallback: Bool

    func deleteDigest(_ digest: Digest, tags: [String]) async throws(PierError) {
        do { try await client.deleteManifest(repository: repository, reference: digest.description) } catch {
            if error.kind == .unsupported || error.registryErrors.contains(where: { $0.code == "UNSUPPORTED" }) {
                var error = error
                error.hint = "the registry refuses DELETE; for docker-registry set storage.delete.enabled: true"
                throw error
            }
            throw error
        }
    }

    func untag(_ tag: String, digest: Digest) async throws(PierError) {
        do {
            try await client.deleteManifest(repository: repository, reference: tag)
            return
        } catch {
            guard allowUntagFallback else {
                throw PierError(
                    .unsupported, operation: "untag \(tag)",
                    message: "the registry cannot delete a tag without deleting \(digest.short), which kept tags use",
                    registry: client.registry, repository: repository, reference: tag, status: error.status,
                    hint: "rerun with --allow-untag-fallback to untag through a dummy manifest")
            }
        }
        let original = try await client.manifest(repository: repository, reference: digest.description)
        let dummy = try await pushDummy(for: tag)
        do {
            try await client.deleteManifest(repository: repository, reference: dummy.digest.description)
        } catch {
            // Never leave the tag on the dummy.
            try? await client.putManifest(repository: repository, reference: tag, manifest: original)
            throw error
        }
    }

    /// A tiny unique image (config labels name the tag and time), tagged `tag`.
    func pushDummy(for tag: String) async throws(PierError) -> ManifestBlob {
        let stamp = ISO8601DateFormatter().string(from: Date())
        let config = Array(
            #"{"architecture":"amd64","os":"linux","config":{"Labels":{"delete-tag":"\#(tag)","delete-date":"\#(stamp)","delete-nonce":"\#(UUID().uuidString)"}},"rootfs":{"type":"layers","diff_ids":[]}}"#
                .utf8)
        let configDigest = Digest.sha256(of: config)
        let file = NSTemporaryDirectory() + "pier-dummy-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: file, contents: Data(config))
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await client.uploadBlob(repository: repository, digest: configDigest, size: Int64(config.count), file: file)
        let manifest = ManifestDocument(
            mediaType: MediaType.ociManifest,
            config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(config.count)),
            layers: [])
        let blob = try ManifestBlob(
            bytes: manifest.canonicalBytes(), mediaType: MediaType.ociManifest, source: client.registry)
        try await client.putManifest(repository: repository, reference: tag, manifest: blob)
        return blob
    }
}
