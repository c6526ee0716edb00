import Foundation
import PierModel

/// Opens local image files as OCI layouts: a layout directory as is, an OCI archive extracted to a scratch
/// directory, a docker-archive converted into a scratch layout.
public enum LocalImage {
    /// Extracts an `oci-archive:` file into `scratch` and returns the layout.
    public static func openOCIArchive(_ archive: String, scratch: String) throws(PierError) -> OCILayout {
        try TarArchive.extract(archive, into: scratch)
        return OCILayout(root: scratch)
    }

    /// The `manifest.json` entry of a `docker save` archive.
    struct DockerArchiveEntry: Decodable {
        var Config: String
        var RepoTags: [String]?
        var Layers: [String]
    }

    /// Converts a `docker save` archive into an OCI layout under `scratch`, tagged `tag`.
    ///
    /// The config is kept byte for byte (its digest, the image ID, is unchanged). Uncompressed layers are
    /// gzip-compressed deterministically, so their digests, and the manifest digest, are new; layers that are
    /// already gzip are kept. The manifest is Docker v2 schema 2, as skopeo writes for this transport.
    public static func openDockerArchive(
        _ archive: String, reference: String?, scratch: String
    ) throws(PierError) -> (layout: OCILayout, tag: String) {
        let extracted = scratch + "/archive"
        try TarArchive.extract(archive, into: extracted)
        let manifestBytes = try FileSystem.readSmall(
            extracted + "/manifest.json", limit: 16 << 20, operation: "read docker-archive")
        guard let entries = try? JSONDecoder().decode([DockerArchiveEntry].self, from: Data(manifestBytes)),
            !entries.isEmpty
        else {
            throw PierError(
                .invalidInput, operation: "read docker-archive", message: "\(archive) has no usable manifest.json",
                registry: archive, hint: "make the archive with 'docker save'")
        }
        for name in entries.flatMap({ $0.RepoTags ?? [] }) { try checkRepoTag(name, archive: archive) }
        let entry: DockerArchiveEntry
        var chosenName: String?
        if let reference {
            func matches(_ name: String) -> Bool {
                name == reference || name.hasSuffix("/\(reference)") || name == "docker.io/\(reference)"
            }
            guard let match = entries.first(where: { ($0.RepoTags ?? []).contains(where: matches) }) else {
                let tags = entries.flatMap { $0.RepoTags ?? [] }
                throw PierError(
                    .notFound, operation: "read docker-archive", message: "no image \"\(reference)\" in \(archive)",
                    registry: archive, hint: tags.isEmpty ? nil : "images here: \(tags.joined(separator: ", "))")
            }
            entry = match
            chosenName = match.RepoTags?.first(where: matches)
        } else {
            guard entries.count == 1 else {
                throw PierError(
                    .usage, operation: "read docker-archive",
                    message: "\(archive) holds \(entries.count) images; name one",
                    registry: archive,
                    hint: "use docker-archive:FILE:REF with one of: "
                        + entries.flatMap { $0.RepoTags ?? [] }.joined(separator: ", "))
            }
            entry = entries[0]
            chosenName = entry.RepoTags?.first
        }
        let layout = OCILayout(root: scratch + "/layout")
        try layout.create()
        let configPath = try inside(extracted, entry.Config, archive: archive)
        let configBytes = try FileSystem.readSmall(
            configPath, limit: Int(ImageConfigSummary.maximumSize), operation: "read docker-archive")
        let configDigest = Digest.sha256(of: configBytes)
        try FileSystem.writeAtomically(configBytes, to: layout.blobPath(configDigest))
        var layers: [Descriptor] = []
        for (index, layer) in entry.Layers.enumerated() {
            let path = try inside(extracted, layer, archive: archive)
            guard FileSystem.regularFileSize(path) != nil else {
                throw PierError(
                    .invalidInput, operation: "read docker-archive", message: "layer \(layer) is missing",
                    registry: archive)
            }
            let spool = layout.root + "/layer-\(index).tmp"
            let descriptor: Descriptor
            if Gzip.isCompressed(path) {
                let (digest, size) = try FileSystem.hash(path)
                try FileSystem.rename(path, to: spool)
                descriptor = Descriptor(mediaType: MediaType.dockerLayerGzip, digest: digest, size: size)
            } else {
                let result = try Gzip.compress(path, to: spool)
                unlink(path)
                descriptor = Descriptor(mediaType: MediaType.dockerLayerGzip, digest: result.digest, size: result.size)
            }
            try FileSystem.rename(spool, to: layout.blobPath(descriptor.digest))
            layers.append(descriptor)
        }
        let manifest = ManifestDocument(
            mediaType: MediaType.dockerManifest,
            config: Descriptor(mediaType: MediaType.dockerConfig, digest: configDigest, size: Int64(configBytes.count)),
            layers: layers)
        let blob = try ManifestBlob(
            bytes: manifest.canonicalBytes(), mediaType: MediaType.dockerManifest, source: archive)
        try layout.putManifest(blob)
        let tag = chosenName.flatMap { try? ImageReference(parsing: $0).tag } ?? ImageReference.defaultTag
        try layout.setTag(tag, to: blob.descriptor)
        try? FileManager.default.removeItem(atPath: extracted)
        return (layout, tag)
    }

    /// A `RepoTags` name, checked as a reference on the command line is: it becomes the destination tag of a copy,
    /// and so part of a registry URL.
    static func checkRepoTag(_ name: String, archive: String) throws(PierError) {
        do { _ = try ImageReference(parsing: name) } catch {
            throw PierError(
                .invalidInput, operation: "read docker-archive",
                message: "RepoTags names \"\(name)\", which is not an image reference",
                registry: archive, hint: "name images name:tag when saving them", cause: error.message)
        }
    }

    /// A path named inside an archive's manifest, refused when it would leave the archive.
    static func inside(_ root: String, _ relative: String, archive: String) throws(PierError) -> String {
        let components = relative.split(separator: "/")
        guard !relative.hasPrefix("/"), !components.contains("..") else {
            throw PierError(
                .invalidInput, operation: "read docker-archive", message: "path \"\(relative)\" escapes the archive",
                registry: archive)
        }
        return root + "/" + components.joined(separator: "/")
    }
}
