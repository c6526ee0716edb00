import Logging
import PierModel
import PierRegistry

/// Finds the referrers of manifests in one repository, recursively (a signature on an SBOM is found too).
///
/// For each subject, in this order (distribution-spec §Listing Referrers, §Referrers Tag Schema; cosign
/// SIGNATURE_SPEC.md): the referrers API `GET /v2/<name>/referrers/<digest>`; when the registry has none (404),
/// the fallback index tag `sha256-<hex>`; and always cosign's tags `sha256-<hex>.sig`, `.att`, `.sbom`.
public struct ReferrerDiscovery: Sendable {
    /// How deep referrers of referrers are followed: image → SBOM → signature on the SBOM → and one more.
    public static let maximumDepth = 3
    /// The most referrers one image may carry before pier calls the repository hostile.
    public static let maximumCount = 1_000

    /// One referrer and its manifest bytes.
    public struct Found: Sendable {
        public var referrer: Referrer
        public var manifest: ManifestBlob
    }

    public let client: RegistryClient
    public let repository: String
    public var selection: ReferrerSelection
    public var logger: Logger

    public init(
        client: RegistryClient, repository: String, selection: ReferrerSelection = ReferrerSelection(),
        logger: Logger = Logger(label: "pier")
    ) {
        self.client = client
        self.repository = repository
        self.selection = selection
        self.logger = logger
    }

    /// The referrers of `subjects` (an image's root and children) and of those referrers, subjects before the
    /// manifests that refer to them. `tags` is the repository's tag list when the caller has it.
    public func discover(subjects: [Digest], tags known: [String]? = nil) async throws(PierError) -> [Found] {
        let tags: Set<String>
        if let known {
            tags = Set(known)
        } else {
            do { tags = Set(try await client.tags(repository: repository)) } catch  where error.kind == .notFound {
                tags = []
            }
        }
        var seen = Set(subjects)
        var found: [Found] = []
        var queue = subjects.map { ($0, 1) }
        var next = 0
        while next < queue.count {
            let (subject, depth) = queue[next]
            next += 1
            for item in try await direct(subject, depth: depth, tags: tags)
            where seen.insert(item.manifest.digest).inserted {
                found.append(item)
                guard found.count <= Self.maximumCount else { throw tooMany("one image") }
                if depth < Self.maximumDepth { queue.append((item.manifest.digest, depth + 1)) }
            }
        }
        return found
    }

    /// More referrers than pier carries hang off `what`.
    func tooMany(_ what: String) -> PierError {
        PierError(
            .invalidInput, operation: "find referrers",
            message: "more than \(Self.maximumCount) referrers hang off \(what)",
            registry: client.registry, repository: repository,
            hint: "pass --referrers-type TYPE to carry only some, or --no-referrers")
    }

    /// The referrers of one subject.
    func direct(_ subject: Digest, depth: Int, tags: Set<String>) async throws(PierError) -> [Found] {
        var found: [Found] = []
        let filter = depth == 1 && selection.artifactTypes.count == 1 ? selection.artifactTypes.first : nil
        var listed: [(Descriptor, ReferrerRoute)] = []
        switch try await client.referrers(repository: repository, digest: subject, artifactType: filter) {
        case .listed(let descriptors, _):
            listed = descriptors.map { ($0, .api) }
        case .unsupported:
            let fallback = ArtifactTag(subject: subject).tag
            if tags.contains(fallback) {
                let index = try await client.manifest(repository: repository, reference: fallback)
                if index.isIndex {
                    listed = (index.document.manifests ?? []).map { ($0, .fallbackTag) }
                } else {
                    logger.warning("\(repository):\(fallback) is not an index; its referrers are not read")
                }
            }
        }
        // Checked before any is read: a hostile listing does not get a GET per entry first.
        guard listed.count <= Self.maximumCount else { throw tooMany(subject.short) }
        for (descriptor, route) in listed {
            guard MediaType.isManifest(descriptor.mediaType) else {
                logger.warning("referrer \(descriptor.digest.short) has media type \(descriptor.mediaType); skipped")
                continue
            }
            let manifest = try await client.manifest(repository: repository, reference: descriptor.digest.description)
            // A listing is not trusted: a referrer belongs to the subject its own manifest names (image-spec
            // manifest.md §subject), else it would be carried into the wrong subject's listing.
            guard manifest.document.subject?.digest == subject else {
                logger.warning(
                    "referrer \(descriptor.digest.short) is listed for \(subject.short) but is about \(manifest.document.subject?.digest.short ?? "nothing"); skipped"
                )
                continue
            }
            if depth == 1, !selection.selects(manifest, descriptor: descriptor) { continue }
            found.append(
                .init(
                    referrer: Referrer(manifest: manifest, subject: subject, foundBy: route, depth: depth),
                    manifest: manifest))
        }
        for suffix in ArtifactTag.cosignSuffixes {
            let tag = ArtifactTag(subject: subject, suffix: suffix).tag
            guard tags.contains(tag) else { continue }
            let manifest = try await client.manifest(repository: repository, reference: tag)
            if depth == 1, !selection.selects(manifest) { continue }
            found.append(
                .init(
                    referrer: Referrer(
                        manifest: manifest, subject: subject, foundBy: .cosignTag, tag: tag, depth: depth),
                    manifest: manifest))
        }
        return found
    }
}
