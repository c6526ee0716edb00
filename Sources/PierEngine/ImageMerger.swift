import Foundation
import PierModel

/// Combines per-architecture builds (single-platform manifests or indexes, each from its own runner) into one OCI
/// index, as `docker buildx imagetools create` does, but refusing duplicates and giving the same digest for the
/// same inputs.
///
/// Rules:
/// - Each source contributes its platform images: a single manifest (its platform read from its config), or the
///   entries of an index (their `platform`, else their config's).
/// - buildx attestation entries (`vnd.docker.reference.type: attestation-manifest`, platform `unknown/unknown`)
///   stay with the image they reference (`vnd.docker.reference.digest`), which must come from the same source.
/// - Two images for one platform are refused (`linux/arm64` and `linux/arm64/v8` are one platform).
/// - Entries are ordered by platform, then digest; attestations follow the images, in the images' order; any other
///   entry (an artifact) comes last, by digest. The index has no annotations, so its bytes depend only on the
///   children. Children keep their raw bytes (and so their digests).
public enum ImageMerger {
    /// buildx's annotations on an attestation entry (docker/buildx docs, "Attestation storage").
    public static let referenceTypeAnnotation = "vnd.docker.reference.type"
    public static let referenceDigestAnnotation = "vnd.docker.reference.digest"
    public static let attestationType = "attestation-manifest"

    /// The most sources one merge takes: more is a mistake, not a build matrix.
    public static let maximumSources = 64

    /// One index entry and the source it came from.
    struct Entry {
        var descriptor: Descriptor
        var source: Int
    }

    /// Reads every source whole and returns the merged image. The sources stay open: the result reads blobs from
    /// them.
    public static func merge(_ sources: [any ImageSource]) async throws(PierError) -> MergedImageSource {
        guard sources.count >= 2, sources.count <= maximumSources else {
            throw PierError(
                .usage, operation: "merge",
                message: "merge takes 2 to \(maximumSources) sources, not \(sources.count)",
                hint: "give --source once per architecture build")
        }
        var images: [Entry] = []
        var attestations: [Entry] = []
        var others: [Entry] = []
        var manifests: [Digest: ManifestBlob] = [:]
        var blobOwners: [Digest: Int] = [:]
        for (index, source) in sources.enumerated() {
            let root = try await source.root()
            let graph = try await ImageGraph.load(root: root, from: source)
            for manifest in graph.manifests where manifests[manifest.digest] == nil {
                manifests[manifest.digest] = manifest
            }
            for blob in graph.blobs where blobOwners[blob.digest] == nil { blobOwners[blob.digest] = index }
            guard root.isIndex else {
                var descriptor = root.descriptor
                descriptor.platform = try await platform(of: root, from: source)
                images.append(Entry(descriptor: descriptor, source: index))
                continue
            }
            // The index itself is not kept: its entries are.
            manifests[root.digest] = nil
            for var entry in root.document.manifests ?? [] {
                if isAttestation(entry) {
                    attestations.append(Entry(descriptor: entry, source: index))
                } else if MediaType.isImageManifest(entry.mediaType) {
                    if entry.platform == nil || entry.platform?.isUnknown == true,
                        let child = manifests[entry.digest]
                    {
                        entry.platform = try await platform(of: child, from: source)
                    }
                    images.append(Entry(descriptor: entry, source: index))
                } else {
                    others.append(Entry(descriptor: entry, source: index))
                }
            }
        }
        let ordered = try order(images: images, attestations: attestations, others: others, sources: sources)
        let document = ManifestDocument(mediaType: MediaType.ociIndex, manifests: ordered)
        let root = try ManifestBlob(
            bytes: document.canonicalBytes(), mediaType: MediaType.ociIndex, source: "merge")
        return MergedImageSource(
            root: root, sources: sources, manifests: manifests, blobOwners: blobOwners,
            platforms: ordered.filter { !isAttestation($0) && MediaType.isImageManifest($0.mediaType) }
                .compactMap { $0.platform?.description })
    }

    /// The entries in the index's order, after the duplicate and attestation checks.
    static func order(images: [Entry], attestations: [Entry], others: [Entry], sources: [any ImageSource])
        throws(PierError) -> [Descriptor]
    {
        var byPlatform: [String: Entry] = [:]
        for image in images {
            guard let platform = image.descriptor.platform, !platform.isUnknown else {
                throw PierError(
                    .invalidInput, operation: "merge",
                    message:
                        "image \(image.descriptor.digest.short) in \(sources[image.source].name) names no platform",
                    registry: sources[image.source].name,
                    hint: "its config has no os and architecture; build it with a platform")
            }
            let key = platformKey(platform)
            if let other = byPlatform[key] {
                let (first, second) = (sources[other.source].name, sources[image.source].name)
                throw PierError(
                    other.source == image.source ? .invalidInput : .usage, operation: "merge",
                    message: "two images for \(platform): \(other.descriptor.digest.short) from \(first) and "
                        + "\(image.descriptor.digest.short) from \(second)",
                    hint: "give each platform once; build the others for another platform")
            }
            byPlatform[key] = image
        }
        let sortedImages = images.sorted {
            let (a, b) = (platformKey($0.descriptor.platform!), platformKey($1.descriptor.platform!))
            return a != b ? a < b : $0.descriptor.digest.description < $1.descriptor.digest.description
        }
        var position: [Digest: Int] = [:]
        for (offset, image) in sortedImages.enumerated() where position[image.descriptor.digest] == nil {
            position[image.descriptor.digest] = offset
        }
        var placed: [(Int, Entry)] = []
        for attestation in attestations {
            let target = attestation.descriptor.annotations?[referenceDigestAnnotation]
            guard let target, let digest = try? Digest(target), let at = position[digest],
                sortedImages[at].source == attestation.source
            else {
                throw PierError(
                    .invalidInput, operation: "merge",
                    message:
                        "attestation \(attestation.descriptor.digest.short) in \(sources[attestation.source].name) "
                        + "refers to \(target ?? "no image"), which that source does not hold",
                    registry: sources[attestation.source].name,
                    hint: "the index is incomplete; rebuild it, or merge the images without their attestations")
            }
            placed.append((at, attestation))
        }
        placed.sort {
            $0.0 != $1.0 ? $0.0 < $1.0 : $0.1.descriptor.digest.description < $1.1.descriptor.digest.description
        }
        let rest = others.sorted { $0.descriptor.digest.description < $1.descriptor.digest.description }
        var seen: Set<Digest> = []
        return (sortedImages + placed.map(\.1) + rest).map(\.descriptor).filter { seen.insert($0.digest).inserted }
    }

    /// A platform as one string for comparing and sorting: `arm64` means `arm64/v8` (containerd's normalisation),
    /// and `os.version` counts (Windows images differ by it).
    static func platformKey(_ platform: Platform) -> String {
        var variant = platform.variant ?? ""
        if platform.architecture == "arm64", variant.isEmpty { variant = "v8" }
        return [platform.os, platform.architecture, variant, platform.osVersion ?? ""].joined(separator: "/")
    }

    public static func isAttestation(_ descriptor: Descriptor) -> Bool {
        descriptor.annotations?[referenceTypeAnnotation] == attestationType
    }

    /// An image manifest's platform, from its config's `os`, `architecture` and `variant` (image-spec config.md).
    static func platform(of manifest: ManifestBlob, from source: any ImageSource) async throws(PierError) -> Platform {
        guard let config = manifest.document.config, config.size <= ImageConfigSummary.maximumSize else {
            throw PierError(
                .invalidInput, operation: "merge", message: "\(manifest.digest.short) in \(source.name) has no config",
                registry: source.name)
        }
        let file = try await source.blob(config, progress: nil)
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file.path))) ?? Data()
        guard let summary = try? JSONDecoder().decode(ImageConfigSummary.self, from: bytes), let os = summary.os,
            let architecture = summary.architecture, !os.isEmpty, !architecture.isEmpty
        else {
            throw PierError(
                .invalidInput, operation: "merge",
                message: "the config of \(manifest.digest.short) in \(source.name) names no os and architecture",
                registry: source.name)
        }
        return Platform(os: os, architecture: architecture, variant: summary.variant)
    }
}
