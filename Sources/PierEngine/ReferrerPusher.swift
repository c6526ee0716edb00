import Foundation
import Logging
import PierModel
import PierRegistry

/// Stores one referrer manifest (a manifest with `subject`) in a repository so that clients find it, on registries
/// with and without the OCI 1.1 referrers API. Its blobs (config, layers) and, for an index, its child manifests
/// must already be in the repository; the subject should be (a referrer is written after its subject).
///
/// The manifest is `PUT` by digest. When the answer carries `OCI-Subject`, the registry indexed it and that is all.
/// Otherwise pier maintains the referrers tag schema (distribution-spec §Pushing Manifests with Subject): the index
/// tagged `sha256-<hex>` of the subject is read, the new descriptor added, and the index written back. Entries
/// others wrote are kept as they are (the index is edited as JSON, unknown fields included). Without conditional
/// writes on the distribution API, a race is detected by reading the tag again just before and just after the
/// write; a lost race starts over, at most `maximumAttempts` times.
public struct ReferrerPusher: Sendable {
    /// Read-merge-write rounds before pier gives up on a fallback index that keeps changing.
    public static let maximumAttempts = 5
    /// Pause between rounds, times the attempt number: long enough for a concurrent writer to finish.
    static let retryPause = Duration.milliseconds(200)

    public let client: RegistryClient
    public let repository: String
    public var logger: Logger

    public init(client: RegistryClient, repository: String, logger: Logger = Logger(label: "pier")) {
        self.client = client
        self.repository = repository
        self.logger = logger
    }

    /// Pushes `manifest` by digest and makes it findable as a referrer of `subject` (default: its own `subject`).
    /// Returns how the registry lists it: `.api` (OCI-Subject answered) or `.fallbackTag`.
    @discardableResult
    public func push(_ manifest: ManifestBlob, subject: Digest? = nil) async throws(PierError) -> ReferrerRoute {
        guard let subject = subject ?? manifest.document.subject?.digest else {
            throw PierError(
                .usage, operation: "push referrer \(manifest.digest.short)", message: "the manifest has no subject",
                registry: client.registry, repository: repository)
        }
        let answered = try await client.putManifestWithSubject(repository: repository, manifest: manifest)
        if answered == subject, manifest.document.subject?.digest == subject { return .api }
        try await addToFallbackIndex(manifest, subject: subject)
        return .fallbackTag
    }

    /// The descriptor of `manifest` as a referrers index entry: media type, digest, size, artifactType and the
    /// manifest's annotations (distribution-spec §Listing Referrers).
    public static func indexEntry(for manifest: ManifestBlob) -> Descriptor {
        var entry = Descriptor(
            mediaType: manifest.mediaType, digest: manifest.digest, size: Int64(manifest.bytes.count),
            annotations: manifest.document.annotations)
        entry.artifactType = Referrer.artifactType(of: manifest)
        return entry
    }

    /// Read, merge, write, and check, until the index tag lists `manifest` or the attempts run out.
    func addToFallbackIndex(_ manifest: ManifestBlob, subject: Digest) async throws(PierError) {
        let tag = ArtifactTag(subject: subject).tag
        let operation = "update referrers index \(tag)"
        for attempt in 1...Self.maximumAttempts {
            let current = try await readIndex(tag)
            if let current, Self.entries(of: current).contains(manifest.digest) { return }
            let merged = try Self.merge(manifest, into: current, source: client.registry)
            // Just before the write: unchanged since the read, or start over.
            let head = try await client.manifestHead(repository: repository, reference: tag)
            if head?.digest == current?.digest {
                try await client.putManifest(repository: repository, reference: tag, manifest: merged)
                // Just after: another writer may have replaced ours with an index that lacks this entry.
                if let after = try await readIndex(tag), Self.entries(of: after).contains(manifest.digest) { return }
            }
            logger.info("\(repository):\(tag) changed while pier updated it (attempt \(attempt)); reading it again")
            try? await Task.sleep(for: Self.retryPause * attempt)
        }
        throw PierError(
            .conflict, operation: operation,
            message: "the index kept changing under concurrent writers (\(Self.maximumAttempts) attempts)",
            registry: client.registry, repository: repository, reference: tag,
            hint: "run again when the other writers are done")
    }

    func readIndex(_ tag: String) async throws(PierError) -> ManifestBlob? {
        guard try await client.manifestHead(repository: repository, reference: tag) != nil else { return nil }
        let blob = try await client.manifest(repository: repository, reference: tag)
        guard blob.isIndex else {
            throw PierError(
                .conflict, operation: "update referrers index \(tag)",
                message: "the tag holds a \(blob.mediaType), not an index; pier will not replace it",
                registry: client.registry, repository: repository, reference: tag)
        }
        return blob
    }

    static func entries(of index: ManifestBlob) -> Set<Digest> { Set((index.document.manifests ?? []).map(\.digest)) }

    /// `index` with `manifest`'s entry appended, every other field and entry kept; a new index when there is none.
    static func merge(_ manifest: ManifestBlob, into index: ManifestBlob?, source: String) throws(PierError)
        -> ManifestBlob
    {
        var object: [String: JSONValue] = ["schemaVersion": .integer(2), "mediaType": .string(MediaType.ociIndex)]
        if let index, case .object(let existing)? = try? JSONDecoder().decode(JSONValue.self, from: Data(index.bytes)) {
            object = existing
        }
        var entries: [JSONValue] = []
        if case .array(let existing)? = object["manifests"] { entries = existing }
        guard
            let entry = try? JSONDecoder().decode(
                JSONValue.self, from: Data(CanonicalJSON.bytes(indexEntry(for: manifest))))
        else {
            throw PierError(.other, operation: "update referrers index", message: "cannot encode the index entry")
        }
        entries.append(entry)
        object["manifests"] = .array(entries)
        return try ManifestBlob(
            bytes: CanonicalJSON.bytes(JSONValue.object(object)),
            mediaType: index?.mediaType ?? MediaType.ociIndex, source: source)
    }
}
