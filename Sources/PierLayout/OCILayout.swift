import Foundation
import PierModel

/// An OCI image layout directory (image-spec image-layout.md): `oci-layout`, `index.json`, `blobs/<alg>/<hex>`.
/// Written by `docker buildx --output type=oci`, skopeo, umoci and podman; read and written by pier.
public struct OCILayout: Sendable {
    public let root: String
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"

    public init(root: String) { self.root = root }

    public func blobPath(_ digest: Digest) -> String { "\(root)/blobs/\(digest.algorithm)/\(digest.encoded)" }
    var indexPath: String { "\(root)/index.json" }

    /// The raw `index.json`.
    public func index() throws(PierError) -> ManifestBlob {
        guard FileSystem.exists("\(root)/oci-layout") || FileSystem.exists(indexPath) else {
            throw PierError(
                .notFound, operation: "read OCI layout",
                message: "\(root) is not an OCI layout (no oci-layout or index.json)",
                registry: root)
        }
        let bytes = try FileSystem.readSmall(indexPath, limit: ManifestBlob.maximumSize, operation: "read OCI layout")
        do { return try ManifestBlob(bytes: bytes, mediaType: MediaType.ociIndex, source: root) } catch {
            throw error.located(registry: root)
        }
    }

    /// The tags (`org.opencontainers.image.ref.name`) in `index.json`.
    public func tags() throws(PierError) -> [String] {
        var names: [String] = []
        for entry in try index().document.manifests ?? [] {
            if let name = try refName(of: entry) { names.append(name) }
        }
        return names
    }

    /// An entry's `ref.name`, checked as a tag or reference on the command line is: someone else wrote the file,
    /// and the name may become a tag in a registry URL or a line on the terminal.
    func refName(of entry: Descriptor) throws(PierError) -> String? {
        guard let name = entry.annotations?[Self.refNameAnnotation] else { return nil }
        guard ImageReference.isValidTag(name) || (try? ImageReference(parsing: name)) != nil else {
            throw PierError(
                .invalidInput, operation: "read OCI layout",
                message: "index.json names an image \"\(name)\", which is neither a tag nor an image reference",
                registry: root,
                hint: "the layout is corrupt or was not written by an image tool")
        }
        return name
    }

    /// The root manifest for `tag`. With no tag: the single entry, or `index.json` itself when its entries are
    /// untagged platform manifests (a multi-platform image written straight into index.json).
    public func root(tag: String?) throws(PierError) -> ManifestBlob {
        let index = try index()
        let entries = index.document.manifests ?? []
        var named: [(name: String, entry: Descriptor)] = []
        for entry in entries { if let name = try refName(of: entry) { named.append((name, entry)) } }
        let chosen: Descriptor
        if let tag {
            // A ref.name may be a full reference ("example.com/app:1.0") per some writers; match the tag part too.
            guard let match = named.first(where: { $0.name == tag || $0.name.hasSuffix(":\(tag)") })?.entry else {
                let available = named.map(\.name)
                throw PierError(
                    .notFound, operation: "read OCI layout", message: "no image tagged \"\(tag)\" in \(root)",
                    registry: root, reference: tag,
                    hint: available.isEmpty
                        ? "the layout has no tagged images" : "tags here: \(available.joined(separator: ", "))")
            }
            chosen = match
        } else if entries.count == 1 {
            chosen = entries[0]
        } else if named.isEmpty, !entries.isEmpty, entries.allSatisfy({ $0.platform != nil }) {
            return index
        } else {
            throw PierError(
                .usage, operation: "read OCI layout",
                message: entries.isEmpty
                    ? "\(root) holds no images" : "\(root) holds \(entries.count) images; name one",
                registry: root,
                hint: named.isEmpty
                    ? nil : "use oci:\(root):TAG with one of: " + named.map(\.name).joined(separator: ", "))
        }
        return try manifest(chosen)
    }

    /// A manifest or index blob, checked against its descriptor's digest and size.
    public func manifest(_ descriptor: Descriptor) throws(PierError) -> ManifestBlob {
        guard MediaType.isManifest(descriptor.mediaType) || descriptor.mediaType.isEmpty else {
            throw PierError(
                .invalidInput, operation: "read OCI layout",
                message: "\(descriptor.digest.short) has media type \(descriptor.mediaType), not a manifest",
                registry: root)
        }
        guard descriptor.size >= 0, descriptor.size <= Int64(ManifestBlob.maximumSize) else {
            throw PierError(
                .invalidInput, operation: "read OCI layout",
                message:
                    "manifest \(descriptor.digest.short) claims \(descriptor.size) bytes, over the 4 MiB manifest limit",
                registry: root)
        }
        let path = blobPath(descriptor.digest)
        let bytes = try FileSystem.readSmall(path, limit: ManifestBlob.maximumSize, operation: "read OCI layout")
        guard Int64(bytes.count) == descriptor.size else {
            throw PierError(
                .verification, operation: "read OCI layout",
                message: "\(path) is \(bytes.count) bytes, the descriptor says \(descriptor.size)", registry: root)
        }
        do {
            return try ManifestBlob(
                bytes: bytes, mediaType: descriptor.mediaType, expected: descriptor.digest, source: root)
        } catch {
            throw error.located(registry: root)
        }
    }

    /// The path of a blob, after checking that it is a regular file of the descriptor's size.
    public func blobFile(_ descriptor: Descriptor) throws(PierError) -> String {
        let path = blobPath(descriptor.digest)
        guard let size = FileSystem.regularFileSize(path) else {
            // The image is named but incomplete: a corrupt layout, not a missing image.
            throw PierError(
                .invalidInput, operation: "read OCI layout",
                message: FileSystem.exists(path)
                    ? "blob \(descriptor.digest.short) is not a regular file"
                    : "blob \(descriptor.digest.short) is missing",
                registry: root, reference: descriptor.digest.description, hint: "the layout is incomplete or corrupt")
        }
        guard size == descriptor.size else {
            throw PierError(
                .verification, operation: "read OCI layout",
                message: "blob \(descriptor.digest.short) is \(size) bytes, the manifest says \(descriptor.size)",
                registry: root,
                reference: descriptor.digest.description, hint: "the layout is corrupt")
        }
        return path
    }

    // MARK: Writing

    /// Creates the layout's skeleton if it is not there.
    public func create() throws(PierError) {
        try FileSystem.makeDirectories("\(root)/blobs/sha256")
        if !FileSystem.exists("\(root)/oci-layout") {
            try FileSystem.writeAtomically(Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: "\(root)/oci-layout")
        }
        if !FileSystem.exists(indexPath) {
            try FileSystem.writeAtomically(
                Array(
                    #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#.utf8),
                to: indexPath)
        }
    }

    public func hasBlob(_ descriptor: Descriptor) -> Bool {
        FileSystem.regularFileSize(blobPath(descriptor.digest)) == descriptor.size
    }

    /// Copies a blob in from a file, checking its digest on the way.
    public func putBlob(_ descriptor: Descriptor, from source: String) throws(PierError) {
        try FileSystem.makeDirectories("\(root)/blobs/\(descriptor.digest.algorithm)")
        let destination = blobPath(descriptor.digest)
        let temporary = destination + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let (digest, size) = try FileSystem.copyHashing(from: source, to: temporary)
        guard digest == descriptor.digest, size == descriptor.size else {
            unlink(temporary)
            throw PierError(
                .verification, operation: "write OCI layout",
                message:
                    "blob bytes hash to \(digest) (\(size) bytes), expected \(descriptor.digest) (\(descriptor.size) bytes)",
                registry: root)
        }
        try FileSystem.rename(temporary, to: destination)
    }

    /// A fresh temporary path beside where `digest`'s blob goes (same directory, so a rename moves it in).
    public func temporaryBlobPath(_ digest: Digest) throws(PierError) -> String {
        try FileSystem.makeDirectories("\(root)/blobs/\(digest.algorithm)")
        return blobPath(digest) + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Moves a file whose bytes were already checked against `digest` (a verified download) into place.
    public func moveVerifiedBlob(from temporary: String, digest: Digest) throws(PierError) {
        try FileSystem.rename(temporary, to: blobPath(digest))
    }

    /// Stores a small blob pier authored (a config) under its digest.
    public func putBlob(bytes: [UInt8], descriptor: Descriptor) throws(PierError) {
        try FileSystem.makeDirectories("\(root)/blobs/\(descriptor.digest.algorithm)")
        try FileSystem.writeAtomically(bytes, to: blobPath(descriptor.digest))
    }

    /// Stores a manifest's exact bytes.
    public func putManifest(_ manifest: ManifestBlob) throws(PierError) {
        try FileSystem.makeDirectories("\(root)/blobs/\(manifest.digest.algorithm)")
        try FileSystem.writeAtomically(manifest.bytes, to: blobPath(manifest.digest))
    }

    /// Points `tag` at `descriptor` in `index.json`, replacing an entry with the same tag.
    public func setTag(_ tag: String, to descriptor: Descriptor) throws(PierError) {
        var document = try index().document
        var entries = (document.manifests ?? []).filter { $0.annotations?[Self.refNameAnnotation] != tag }
        var entry = descriptor
        entry.annotations = (entry.annotations ?? [:]).merging([Self.refNameAnnotation: tag]) { $1 }
        entries.append(entry)
        document.manifests = entries
        document.schemaVersion = 2
        document.mediaType = MediaType.ociIndex
        try FileSystem.writeAtomically(document.canonicalBytes(), to: indexPath)
    }
}
