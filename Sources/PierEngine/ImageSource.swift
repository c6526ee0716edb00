import Foundation
import PierLayout
import PierModel
import PierRegistry

/// A blob available as a local file, for streaming to destinations.
public struct BlobFile: Sendable {
    public var path: String
    public var size: Int64
    /// A place in a read of the file shared with concurrent uploads of it (publish to several registries).
    public var sharing: SharedFileRead.Member?

    public init(path: String, size: Int64, sharing: SharedFileRead.Member? = nil) {
        self.path = path
        self.size = size
        self.sharing = sharing
    }
}

/// Where images are read from. Everything is addressed by descriptor, and everything comes back verified
/// (manifests by digest; registry blobs by digest while they are spooled).
public protocol ImageSource: Sendable {
    /// For messages: `oci:/tmp/app:1.0`, `ghcr.io/org/app:1.2.3`.
    var name: String { get }
    /// The tag the source was opened with, used as the destination tag when the destination names none.
    var tag: String? { get }
    /// The registry and repository, when the source is a registry (enables mounts and manifest-only copies).
    var registryRepository: (registry: String, repository: String)? { get }
    /// The manifest or index the source names.
    func root() async throws(PierError) -> ManifestBlob
    /// A child manifest by descriptor.
    func manifest(_ descriptor: Descriptor) async throws(PierError) -> ManifestBlob
    /// The blob as a file. Registry sources download it once into their scratch directory.
    func blob(_ descriptor: Descriptor, progress: (@Sendable (Int) -> Void)?) async throws(PierError) -> BlobFile
    /// Releases scratch space.
    func close() async
}

/// An OCI layout on disk (also what OCI archives and docker archives are opened into).
public struct LayoutImageSource: ImageSource {
    public let layout: OCILayout
    public let name: String
    public let tag: String?
    let scratch: ScratchDirectory?

    public init(layout: OCILayout, name: String, tag: String?, scratch: ScratchDirectory? = nil) {
        self.layout = layout
        self.name = name
        self.tag = tag
        self.scratch = scratch
    }

    public var registryRepository: (registry: String, repository: String)? { nil }
    public func root() async throws(PierError) -> ManifestBlob { try layout.root(tag: tag) }
    public func manifest(_ descriptor: Descriptor) async throws(PierError) -> ManifestBlob {
        try layout.manifest(descriptor)
    }
    public func blob(_ descriptor: Descriptor, progress: (@Sendable (Int) -> Void)?) async throws(PierError) -> BlobFile
    {
        BlobFile(path: try layout.blobFile(descriptor), size: descriptor.size)
    }
    public func close() async { scratch?.remove() }
}

/// An image in a registry. Blobs are downloaded once into a scratch directory (checked against their digest)
/// and streamed from there to every destination.
public final class RegistryImageSource: ImageSource {
    public let reference: ImageReference
    let client: RegistryClient
    let scratch: ScratchDirectory
    let downloads = InFlight<Digest, BlobFile>()

    public init(reference: ImageReference, client: RegistryClient) throws(PierError) {
        self.reference = reference
        self.client = client
        self.scratch = try ScratchDirectory(prefix: "pier-blobs")
    }

    public var name: String { reference.description }
    public var tag: String? { reference.tag }
    public var registryRepository: (registry: String, repository: String)? {
        (reference.registry, reference.repository)
    }

    public func root() async throws(PierError) -> ManifestBlob {
        try await client.manifest(repository: reference.repository, reference: reference.manifestReference)
    }

    /// The manifest by the descriptor's digest (its bytes checked against it), and of the descriptor's size: an
    /// index whose entry misstates a child's size is refused, as a layout refuses it, before anything is written.
    public func manifest(_ descriptor: Descriptor) async throws(PierError) -> ManifestBlob {
        let manifest = try await client.manifest(
            repository: reference.repository, reference: descriptor.digest.description)
        guard Int64(manifest.bytes.count) == descriptor.size else {
            throw PierError(
                .verification, operation: "pull manifest \(descriptor.digest.short)",
                message: "it is \(manifest.bytes.count) bytes, the index says \(descriptor.size)",
                registry: reference.registry, repository: reference.repository)
        }
        return manifest
    }

    public func blob(_ descriptor: Descriptor, progress: (@Sendable (Int) -> Void)?) async throws(PierError) -> BlobFile
    {
        let path = "\(scratch.path)/\(descriptor.digest.encoded)"
        do {
            return try await downloads.run(descriptor.digest) { [client, reference] in
                try await client.downloadBlob(
                    repository: reference.repository, digest: descriptor.digest, size: descriptor.size, to: path,
                    progress: progress)
                return BlobFile(path: path, size: descriptor.size)
            }
        } catch let error as PierError {
            throw error
        } catch {
            throw PierError(.other, operation: "pull blob", message: "\(error)")
        }
    }

    public func close() async { scratch.remove() }
}
