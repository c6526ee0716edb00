import Foundation
import Logging
import PierModel
import PierRegistry

/// `pier prune`: resolves every tag to its digest and age, decides with a retention policy, and (with apply)
/// deletes safely: never a digest that a kept tag or a kept index still needs.
public struct Pruner: Sendable {
    public let store: ImageStore
    public var logger: Logger
    public var allowUntagFallback = false
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
        public var decisions: [RetentionDecision]
        public var applied: Bool
        /// Tags removed (untagged or deleted with their digest).
        public var removed: [String] = []
        public var failures: [Failure] = []
        public var failureErrors: [PierError] = []

        enum CodingKeys: String, CodingKey { case repository, decisions, applied, removed, failures }
    }

    /// Every tag with its digest and creation time; indexes are dated by their first platform's config.
    public func inventory(_ repository: ImageReference) async throws(PierError) -> (tags: [TagInfo], manifests: [Digest: ManifestBlob]) {
        let client = await store.client(for: repository.registry)
        let names = try await client.tags(repository: repository.repository)
        let manifests = ManifestCache(client: client, repository: repository.repository)
        do {
            let infos = try await forEachConcurrently(Array(names.enumerated()), limit: concurrency) { (item) async throws -> TagInfo? in
                let (order, tag) = item
                guard let head = try await client.manifestHead(repository: repository.repository, reference: tag) else { return nil }
                let created = try await manifests.created(head.digest)
                return TagInfo(tag: tag, digest: head.digest, created: created, order: order)
            }
            return (infos.compactMap { $0 }, await manifests.all())
        } catch let error as PierError {
            throw error
        } catch {
            throw PierError(.other, operation: "read tags", message: "\(error)")
        }
    }

    /// Plans, and with `apply` deletes, for one repository.
    public func prune(_ repository: ImageReference, policy: RetentionPolicy, apply: Bool, now: Date = Date()) async throws(PierError) -> Result {
        let (tags, manifests) = try await inventory(repository)
        let decisions = try policy.decide(tags, now: now) { kept in Self.children(of: kept, in: manifests) }
        var result = Result(repository: repository.repositoryName, decisions: decisions, applied: apply)
        guard apply else { return result }
        let client = await store.client(for: repository.registry)
        let deleter: any TagDeleting
        switch api {
        case .distribution:
            deleter = DistributionTagDeleter(client: client, repository: repository.repository, allowUntagFallback: allowUntagFallback)
        case .native(let native):
            deleter = NativeTagDeleter(api: native, repository: repository.repository)
        }
        // Untag first: those digests stay. Then delete digests whose every tag goes, then their unneeded children.
        for decision in decisions where decision.action == .untag {
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
                try await deleter.deleteDigest(decision.digest, tags: decisions.filter { $0.digest == decision.digest }.map(\.tag))
                deleted.insert(decision.digest)
                result.removed.append(decision.tag)
                for child in Self.children(of: [decision.digest], in: manifests) where !needed.contains(child) && !deleted.contains(child) {
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
        return result
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
        var created: [Digest: Date?] = [:]

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
            for child in blob.document.manifests ?? [] where MediaType.isManifest(child.mediaType) && manifests[child.digest] == nil {
                _ = try? await manifest(child.digest)
            }
            return blob
        }

        func created(_ digest: Digest) async throws(PierError) -> Date? {
            if let known = created[digest] { return known }
            let blob = try await manifest(digest)
            var date = blob.document.annotations?["org.opencontainers.image.created"].flatMap(Self.parseDate)
            if date == nil {
                var image = blob
                if image.isIndex, let first = image.document.manifests?.first(where: { !($0.platform?.isUnknown ?? false) }) {
                    image = try await manifest(first.digest)
                }
                if let config = image.document.config, config.size <= 4 << 20,
                    let bytes = try? await client.blobBytes(repository: repository, digest: config.digest),
                    let summary = try? JSONDecoder().decode(ImageConfigSummary.self, from: Data(bytes))
                {
                    date = summary.created.flatMap(Self.parseDate)
                }
            }
            created[digest] = date
            return date
        }

        static func parseDate(_ text: String) -> Date? {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            if let date = formatter.date(from: text) { return date }
            formatter.formatOptions = [.withInternetDateTime]
            if let date = formatter.date(from: text) { return date }
            // Go writes up to nine fractional digits; ISO8601DateFormatter takes three.
            if let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
                let trimmed = String(text[..<dot]) + String(text[zone...])
                return formatter.date(from: trimmed)
            }
            return nil
        }
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
    func untag(_ tag: String, digest: Digest) async throws(PierError) { try await api.untag(repository: repository, tag: tag, digest: digest) }
    func deleteDigest(_ digest: Digest, tags: [String]) async throws(PierError) {
        // Children of an index have no tags: only APIs that delete by digest can remove them.
        if tags.isEmpty, api is DockerHubAPI || api is GitLabRegistryAPI { return }
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
                    .unsupported, operation: "untag \(tag)", message: "the registry cannot delete a tag without deleting \(digest.short), which kept tags use",
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
        let config = Array(#"{"architecture":"amd64","os":"linux","config":{"Labels":{"delete-tag":"\#(tag)","delete-date":"\#(stamp)","delete-nonce":"\#(UUID().uuidString)"}},"rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
        let configDigest = Digest.sha256(of: config)
        let file = NSTemporaryDirectory() + "pier-dummy-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: file, contents: Data(config))
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await client.uploadBlob(repository: repository, digest: configDigest, size: Int64(config.count), file: file)
        let manifest = ManifestDocument(
            mediaType: MediaType.ociManifest,
            config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(config.count)), layers: [])
        let blob = try ManifestBlob(bytes: manifest.canonicalBytes(), mediaType: MediaType.ociManifest, source: client.registry)
        try await client.putManifest(repository: repository, reference: tag, manifest: blob)
        return blob
    }
}
