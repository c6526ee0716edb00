import PierHostedAPIs
import PierModel
import PierRegistry

/// `pier status`: tags × registries by HEAD only (HEAD does not count against Docker Hub's pull limit). The first
/// repository is the primary: drift is what `pier sync` from it would repair.
public struct RegistryStatus: Sendable, Codable {
    /// A tag's state across the repositories; encodes as its JSON string.
    public enum State: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
        /// Present everywhere with one digest.
        case ok
        /// On the primary, absent from some backup.
        case missing
        /// Present everywhere, with different digests.
        case diverged
        /// Absent from the primary, present on a backup: not drift, since sync copies from the primary only.
        case extra

        /// Whether `pier sync` from the primary changes this tag.
        public var isDrift: Bool { self == .missing || self == .diverged }

        public var description: String { rawValue }
    }
    public struct Row: Sendable, Codable, Equatable {
        public var tag: String
        /// Digest per repository, nil where the tag is missing.
        public var digests: [String: Digest?]
        public var state: State

        public init(tag: String, digests: [String: Digest?], state: State) {
            self.tag = tag
            self.digests = digests
            self.state = state
        }
    }
    public var repositories: [String]
    public var rows: [Row]
    /// ECR's scans of the digests shown, by repository then digest, for ECR repositories (`ECRScanGate.statusScans`).
    public var scans: [String: [String: ECRScanFindings]]?

    public init(repositories: [String], rows: [Row]) {
        self.repositories = repositories
        self.rows = rows
    }
    public var drift: Bool { rows.contains { $0.state.isDrift } }

    /// The error `pier status --check` exits with, nil when nothing drifted.
    public func checkFailure() -> PierError? {
        let drifted = rows.filter(\.state.isDrift)
        guard let primary = repositories.first, !drifted.isEmpty else { return nil }
        let shown = drifted.prefix(Self.tagsNamedInCheckFailure).map { "\($0.tag) (\($0.state))" }.joined(
            separator: ", ")
        return PierError(
            .verification, operation: "status",
            message: "\(drifted.count) tag(s) of \(primary) missing or diverged on a backup: \(shown)"
                + (drifted.count > shown.count ? ", …" : ""),
            hint:
                "'pier sync \(repositories.joined(separator: " "))' copies them from the primary (a diverged version tag"
                + " needs --on-conflict backup or overwrite); tags only a backup has are extra and stay")
    }

    /// Enough tag names to act on in one stderr line.
    static let tagsNamedInCheckFailure = 5

    public static func collect(_ targets: [ImageReference], store: ImageStore, only: String? = nil)
        async throws(PierError) -> RegistryStatus
    {
        let filter = try only.map { (pattern) throws(PierError) in try RetentionPolicy.regex(pattern, "--tags") }
        var tagsByRepo: [String: Set<String>] = [:]
        for (index, target) in targets.enumerated() {
            let client = await store.client(for: target.registry)
            do { tagsByRepo[target.repositoryName] = Set(try await client.tags(repository: target.repository)) } catch {
                if error.kind != .notFound { throw error }
                // A backup that does not exist yet lacks every tag (drift sync repairs); a primary that does not
                // exist is a wrong name, as `pier sync` from it fails.
                guard index > 0 else {
                    var failure = error
                    failure.operation = "status"
                    failure.message = "the primary repository \(target.repositoryName) does not exist"
                    failure.hint = "check the name: the first repository is the primary, the one sync copies from"
                    throw failure
                }
                tagsByRepo[target.repositoryName] = []
            }
        }
        let allTags = tagsByRepo.values.reduce(into: Set<String>()) { $0.formUnion($1) }
            .filter { tag in filter.map { RetentionPolicy.matches($0, tag) } ?? true }.sorted()
        var rows: [Row] = []
        for tag in allTags {
            var digests: [String: Digest?] = [:]
            for target in targets {
                if tagsByRepo[target.repositoryName]?.contains(tag) == true {
                    let client = await store.client(for: target.registry)
                    digests[target.repositoryName] = try await client.manifestHead(
                        repository: target.repository, reference: tag)?.digest
                } else {
                    digests[target.repositoryName] = .some(nil)
                }
            }
            let present = digests.values.compactMap { $0 }
            let onPrimary = targets.first.map { (digests[$0.repositoryName] ?? nil) != nil } ?? false
            var state: State =
                !onPrimary
                ? .extra : present.count < targets.count ? .missing : Set(present).count > 1 ? .diverged : .ok
            if state == .diverged, try await holdsEverySignature(tag, targets: targets, store: store) { state = .ok }
            rows.append(Row(tag: tag, digests: digests, state: state))
        }
        return RegistryStatus(repositories: targets.map(\.repositoryName), rows: rows)
    }

    /// Whether `tag` is a cosign `.sig` tag and every backup's signature manifest holds every signature of the
    /// primary's: sync adds the primary's signatures to a backup's own (`SignatureStore.merge`), so the digests differ
    /// and the tag is still in sync.
    static func holdsEverySignature(_ tag: String, targets: [ImageReference], store: ImageStore)
        async throws(PierError) -> Bool
    {
        guard ArtifactTag(tag)?.suffix == "sig", let primary = targets.first else { return false }
        func layers(_ target: ImageReference) async throws(PierError) -> [Descriptor] {
            let client = await store.client(for: target.registry)
            return try await client.manifest(repository: target.repository, reference: tag).document.layers ?? []
        }
        let wanted = try await layers(primary)
        for backup in targets.dropFirst()
        where !SignatureManifest.missing(wanted, from: try await layers(backup)).isEmpty {
            return false
        }
        return true
    }
}
