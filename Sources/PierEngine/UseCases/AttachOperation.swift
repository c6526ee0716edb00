import Foundation
import PierLayout
import PierModel
import PierRegistry

/// `pier attach IMAGE --file F --artifact-type T`: pushes an OCI artifact about an image (an SBOM, a scan report):
/// an image manifest with `artifactType`, the empty config (`application/vnd.oci.empty.v1+json`, image-spec
/// manifest.md §Guidelines for Artifact Usage), the file as its one layer, and `subject` naming the image. It is
/// stored with `ReferrerPusher`: the registry's referrers API, else the fallback index tag.
public struct AttachOperation: Sendable {
    /// The result, for the CLI.
    public struct Outcome: Sendable, Codable {
        /// What the run did.
        public enum Action: String, Sendable, Codable {
            /// The artifact was pushed.
            case attached
            /// A referrer of the same artifact type holding the same file hangs off the image already: nothing written.
            case present
        }
        public var action: Action
        public var subject: Digest
        public var digest: Digest
        public var artifactType: String
        public var storedAs: ReferrerRoute
    }

    /// The largest file attached (SBOMs of large images reach tens of MiB); it is hashed in memory.
    public static let maximumFileSize: Int64 = 512 << 20
    /// The empty JSON object, the config of an artifact without one.
    static let emptyConfig = Array("{}".utf8)

    public let image: ImageReference
    public let file: String
    public let artifactType: String
    let size: Int64

    /// Checks the image reference, the file and the artifact type before any network I/O.
    public init(image: String, file: String, artifactType: String) throws(PierError) {
        self.image = try ImageReference(parsing: image)
        guard MediaType.isMediaType(artifactType) else {
            throw PierError(
                .usage, operation: "attach", message: "--artifact-type \"\(artifactType)\" is not a media type",
                hint: MediaType.artifactTypeExamples)
        }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file),
            attributes[.type] as? FileAttributeType == .typeRegular, let size = attributes[.size] as? NSNumber
        else {
            throw PierError(.usage, operation: "attach", message: "cannot read \(file)", hint: "name a regular file")
        }
        guard size.int64Value <= Self.maximumFileSize else {
            throw PierError(
                .usage, operation: "attach",
                message: "\(file) is \(size.int64Value) bytes, over the \(Self.maximumFileSize >> 20) MiB limit")
        }
        self.file = file
        self.artifactType = artifactType
        self.size = size.int64Value
    }

    public func run(session: Session) async throws(PierError) -> Outcome {
        let client = await session.store.client(for: image.registry)
        let repository = image.repository
        let head = try await client.existingManifestHead(image, operation: "attach")
        guard let bytes = FileManager.default.contents(atPath: file), Int64(bytes.count) == size else {
            throw PierError(.usage, operation: "attach", message: "cannot read \(file)")
        }
        let layer = Descriptor(
            mediaType: artifactType, digest: Digest.sha256(of: bytes), size: size,
            annotations: ["org.opencontainers.image.title": (file as NSString).lastPathComponent])
        let config = Descriptor(
            mediaType: MediaType.ociEmpty, digest: Digest.sha256(of: Self.emptyConfig),
            size: Int64(Self.emptyConfig.count))
        if let present = try await existing(subject: head.digest, layer: layer.digest, client: client) {
            return Outcome(
                action: .present, subject: head.digest, digest: present.digest, artifactType: artifactType,
                storedAs: present.route)
        }
        let scratch = try ScratchDirectory(prefix: "pier-attach")
        defer { scratch.remove() }
        let configFile = scratch.path + "/config"
        guard FileManager.default.createFile(atPath: configFile, contents: Data(Self.emptyConfig)) else {
            throw PierError(.other, operation: "attach", message: "cannot write \(configFile)")
        }
        for (descriptor, path) in [(config, configFile), (layer, file)]
        where try await client.blobSize(repository: repository, digest: descriptor.digest) == nil {
            try await client.uploadBlob(
                repository: repository, digest: descriptor.digest, size: descriptor.size, file: path)
        }
        var document = ManifestDocument(
            mediaType: MediaType.ociManifest, config: config, layers: [layer],
            annotations: ["org.opencontainers.image.created": ImageDate.rfc3339(session.settings.startedAt)])
        document.artifactType = artifactType
        document.subject = Descriptor(mediaType: head.mediaType, digest: head.digest, size: head.size)
        let manifest = try ManifestBlob(
            bytes: document.canonicalBytes(), mediaType: MediaType.ociManifest, source: image.registry)
        let route = try await ReferrerPusher(client: client, repository: repository, logger: session.logger).push(
            manifest)
        return Outcome(
            action: .attached, subject: head.digest, digest: manifest.digest, artifactType: artifactType,
            storedAs: route)
    }

    /// A referrer of `subject` with this artifact type whose layers hold `layer`, where the registry lists it (its
    /// referrers API, else the fallback index tag), so that attaching the same file twice writes one referrer.
    func existing(subject: Digest, layer: Digest, client: RegistryClient) async throws(PierError)
        -> (digest: Digest, route: ReferrerRoute)?
    {
        let repository = image.repository
        var route = ReferrerRoute.api
        var listed: [Descriptor]
        if case .listed(let descriptors, _) = try await client.referrers(repository: repository, digest: subject) {
            listed = descriptors
        } else {
            route = .fallbackTag
            let tag = ArtifactTag(subject: subject).tag
            guard try await client.manifestHead(repository: repository, reference: tag) != nil else { return nil }
            listed = try await client.manifest(repository: repository, reference: tag).document.manifests ?? []
        }
        for descriptor in listed where descriptor.artifactType == artifactType {
            let manifest = try await client.manifest(repository: repository, reference: descriptor.digest.description)
            if manifest.document.layers?.contains(where: { $0.digest == layer }) == true {
                return (descriptor.digest, route)
            }
        }
        return nil
    }
}
