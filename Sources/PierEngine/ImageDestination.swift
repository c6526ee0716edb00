import Foundation
import PierLayout
import PierModel
import PierRegistry

/// Where images are written. Callers write blobs, then child manifests by digest, then the root, then tags:
/// a tag is only ever written when everything it references is present.
public protocol ImageDestination: Sendable {
    var name: String { get }
    /// The tag named by the destination, if any.
    var tag: String? { get }
    var registryRepository: (registry: String, repository: String)? { get }
    func hasBlob(_ descriptor: Descriptor) async throws(PierError) -> Bool
    /// Tries a cross-repository mount; false when the registry did not mount it.
    func mountBlob(_ descriptor: Descriptor, from repository: String) async throws(PierError) -> Bool
    func putBlob(_ descriptor: Descriptor, file: BlobFile, progress: (@Sendable (Int) -> Void)?) async throws(PierError)
    func hasManifest(_ digest: Digest) async throws(PierError) -> Bool
    /// Stores a manifest by digest (no tag).
    func putManifest(_ manifest: ManifestBlob) async throws(PierError)
    /// Points `tag` at a manifest that is already stored.
    func tag(_ tag: String, to manifest: ManifestBlob) async throws(PierError)
    /// Completes the write (packs an archive); nothing is visible under the final name before this.
    func commit() async throws(PierError)
}

/// A registry repository.
public final class RegistryImageDestination: ImageDestination {
    public let reference: ImageReference
    let client: RegistryClient
    /// Upload sessions a 202 mount answer opened; used for the upload that follows.
    let sessions = SessionBox()

    public init(reference: ImageReference, client: RegistryClient) {
        self.reference = reference
        self.client = client
    }

    public var name: String { reference.repositoryName }
    public var tag: String? { reference.tag }
    public var registryRepository: (registry: String, repository: String)? {
        (reference.registry, reference.repository)
    }

    public func hasBlob(_ descriptor: Descriptor) async throws(PierError) -> Bool {
        try await client.blobSize(repository: reference.repository, digest: descriptor.digest) != nil
    }

    public func mountBlob(_ descriptor: Descriptor, from repository: String) async throws(PierError) -> Bool {
        switch try await client.mountBlob(repository: reference.repository, digest: descriptor.digest, from: repository)
        {
        case .mounted: return true
        case .uploadSession(let location):
            await sessions.set(descriptor.digest, location)
            return false
        }
    }

    public func putBlob(_ descriptor: Descriptor, file: BlobFile, progress: (@Sendable (Int) -> Void)?)
        async throws(PierError)
    {
        let session = await sessions.take(descriptor.digest)
        try await client.uploadBlob(
            repository: reference.repository, digest: descriptor.digest, size: file.size, file: file.path,
            session: session,
            sharing: file.sharing, progress: progress)
    }

    /// Pipes a blob from a registry source straight into this repository.
    public func copyBlob(_ descriptor: Descriptor, from source: RegistryImageSource) async throws(PierError) {
        let session = await sessions.take(descriptor.digest)
        try await client.copyBlob(
            from: source.client, sourceRepository: source.reference.repository, to: reference.repository,
            digest: descriptor.digest,
            size: descriptor.size, session: session)
    }

    public func hasManifest(_ digest: Digest) async throws(PierError) -> Bool {
        try await client.manifestHead(repository: reference.repository, reference: digest.description) != nil
    }

    public func putManifest(_ manifest: ManifestBlob) async throws(PierError) {
        try await client.putManifest(
            repository: reference.repository, reference: manifest.digest.description, manifest: manifest)
    }

    public func tag(_ tag: String, to manifest: ManifestBlob) async throws(PierError) {
        try await client.putManifest(repository: reference.repository, reference: tag, manifest: manifest)
    }

    public func commit() async throws(PierError) {}

    actor SessionBox {
        var locations: [Digest: String] = [:]
        func set(_ digest: Digest, _ location: String) { locations[digest] = location }
        func take(_ digest: Digest) -> String? { locations.removeValue(forKey: digest) }
    }
}

/// An OCI layout directory, or an OCI archive built from a scratch layout on commit.
public final class LayoutImageDestination: ImageDestination {
    let layout: OCILayout
    public let name: String
    public let tag: String?
    /// For `oci:`, the output directory: staged beside it until commit when it is new (see `OutputLayout`).
    let output: OutputLayout?
    /// For `oci-archive:`, the archive written on commit (through a temporary file and rename).
    let archive: String?
    let scratch: ScratchDirectory?

    public init(directory: String, tag: String?, name: String) throws(PierError) {
        let output = try OutputLayout(directory: directory)
        self.output = output
        self.layout = output.layout
        self.tag = tag
        self.name = name
        self.archive = nil
        self.scratch = nil
    }

    public init(archive: String, tag: String?, name: String) throws(PierError) {
        let scratch = try ScratchDirectory(prefix: "pier-archive")
        // Adding to an existing archive keeps its other images.
        if FileManager.default.fileExists(atPath: archive) {
            do { try TarArchive.extract(archive, into: scratch.path) } catch {
                scratch.remove()
                throw error
            }
        }
        self.layout = OCILayout(root: scratch.path)
        self.tag = tag
        self.name = name
        self.output = nil
        self.archive = archive
        self.scratch = scratch
        try layout.create()
    }

    /// A destination dropped before its commit (a failed copy) leaves nothing new behind.
    deinit {
        scratch?.remove()
        output?.discard()
    }

    public var registryRepository: (registry: String, repository: String)? { nil }
    public func hasBlob(_ descriptor: Descriptor) async throws(PierError) -> Bool { layout.hasBlob(descriptor) }
    public func mountBlob(_ descriptor: Descriptor, from repository: String) async throws(PierError) -> Bool { false }
    public func putBlob(_ descriptor: Descriptor, file: BlobFile, progress: (@Sendable (Int) -> Void)?)
        async throws(PierError)
    {
        try layout.putBlob(descriptor, from: file.path)
        progress?(Int(file.size))
    }

    /// Downloads a blob from a registry straight into the layout: one write and one hash of the bytes (the
    /// download checks size and digest), then a rename into place, instead of a spool file copied in again.
    public func downloadBlob(
        _ descriptor: Descriptor, from source: RegistryImageSource, progress: (@Sendable (Int) -> Void)?
    ) async throws(PierError) {
        let temporary = try layout.temporaryBlobPath(descriptor.digest)
        try await source.client.downloadBlob(
            repository: source.reference.repository, digest: descriptor.digest, size: descriptor.size, to: temporary,
            progress: progress)
        try layout.moveVerifiedBlob(from: temporary, digest: descriptor.digest)
    }
    public func hasManifest(_ digest: Digest) async throws(PierError) -> Bool {
        FileManager.default.fileExists(atPath: layout.blobPath(digest))
    }
    public func putManifest(_ manifest: ManifestBlob) async throws(PierError) { try layout.putManifest(manifest) }
    public func tag(_ tag: String, to manifest: ManifestBlob) async throws(PierError) {
        try layout.setTag(tag, to: manifest.descriptor)
    }
    public func commit() async throws(PierError) {
        try output?.commit()
        guard let archive else { return }
        let temporary = archive + ".pier-tmp"
        try TarArchive.create(temporary, from: layout.root)
        guard rename(temporary, archive) == 0 else {
            unlink(temporary)
            throw PierError(.other, operation: "write OCI archive", message: "cannot write \(archive)")
        }
    }
}
