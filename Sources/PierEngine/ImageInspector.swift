import Foundation
import PierModel
import PierRegistry

/// What `pier inspect` shows about an image.
public struct ImageDetails: Sendable, Codable {
    public struct PlatformEntry: Sendable, Codable {
        public var platform: String
        public var digest: Digest
        public var mediaType: String
        public var size: Int64
    }
    public struct Layer: Sendable, Codable {
        public var digest: Digest
        public var mediaType: String
        public var size: Int64
    }
    public struct Config: Sendable, Codable {
        public var digest: Digest
        public var created: String?
        public var platform: String?
        public var entrypoint: [String]?
        public var cmd: [String]?
        public var env: [String]?
        public var workingDir: String?
        public var user: String?
        public var exposedPorts: [String]?
        public var labels: [String: String]?
    }
    public var name: String
    public var digest: Digest
    public var mediaType: String
    public var size: Int64
    /// For an index: its platforms.
    public var platforms: [PlatformEntry]?
    /// For an image manifest: its layers and config.
    public var layers: [Layer]?
    public var layersSize: Int64?
    public var config: Config?
    public var annotations: [String: String]?
}

/// Reads an image's manifest, and for a single image its config, into `ImageDetails`.
public enum ImageInspector {
    /// Opens `location` in `store`, inspects it and closes it.
    public static func inspect(
        _ location: ImageLocation, platform: Platform?, store: ImageStore
    ) async throws(PierError) -> ImageDetails {
        try await store.withSource(location) { (source) throws(PierError) in
            try await inspect(source, platform: platform)
        }
    }

    /// The exact bytes of the root manifest or index of `location` (or of one platform's manifest).
    public static func rootBytes(
        _ location: ImageLocation, platform: Platform?, store: ImageStore
    ) async throws(PierError) -> [UInt8] {
        try await store.withSource(location) { (source) throws(PierError) in
            var root = try await source.root()
            if let platform { root = try await ImageGraph.select(platform, in: root, from: source) }
            return root.bytes
        }
    }

    /// The digest of `location`'s root: for a registry, from one HEAD request (it does not count as a Docker Hub
    /// pull); for a local image, from its index.
    public static func digest(_ location: ImageLocation, store: ImageStore) async throws(PierError) -> Digest {
        if case .registry(let reference) = location {
            let client = await store.client(for: reference.registry)
            guard
                let head = try await client.manifestHead(
                    repository: reference.repository, reference: reference.manifestReference)
            else {
                throw PierError(
                    .notFound, operation: "get digest", message: "no manifest \(reference.manifestReference)",
                    registry: reference.registry, repository: reference.repository)
            }
            return head.digest
        }
        return try await store.withSource(location) { (source) throws(PierError) in try await source.root().digest }
    }

    public static func inspect(_ source: any ImageSource, platform: Platform? = nil) async throws(PierError)
        -> ImageDetails
    {
        var root = try await source.root()
        if let platform { root = try await ImageGraph.select(platform, in: root, from: source) }
        var details = ImageDetails(
            name: source.name, digest: root.digest, mediaType: root.mediaType, size: Int64(root.bytes.count),
            annotations: root.document.annotations)
        if root.isIndex {
            details.platforms = (root.document.manifests ?? []).map {
                ImageDetails.PlatformEntry(
                    platform: $0.platform?.description ?? "unknown", digest: $0.digest, mediaType: $0.mediaType,
                    size: $0.size)
            }
            return details
        }
        let layers = root.document.layers ?? []
        details.layers = layers.map { ImageDetails.Layer(digest: $0.digest, mediaType: $0.mediaType, size: $0.size) }
        details.layersSize = try Descriptor.totalSize(of: layers, what: "layer", source: source.name)
        if let descriptor = root.document.config, descriptor.size <= ImageConfigSummary.maximumSize {
            let file = try await source.blob(descriptor, progress: nil)
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file.path))) ?? Data()
            if let summary = try? JSONDecoder().decode(ImageConfigSummary.self, from: bytes) {
                let platform = summary.os.map { os in
                    [os, summary.architecture ?? "unknown", summary.variant].compactMap { $0 }.joined(separator: "/")
                }
                details.config = ImageDetails.Config(
                    digest: descriptor.digest, created: summary.created, platform: platform,
                    entrypoint: summary.config?.Entrypoint, cmd: summary.config?.Cmd, env: summary.config?.Env,
                    workingDir: summary.config?.WorkingDir, user: summary.config?.User,
                    exposedPorts: summary.config?.ExposedPorts.map { $0.keys.sorted() }, labels: summary.config?.Labels)
            } else {
                details.config = ImageDetails.Config(digest: descriptor.digest)
            }
        }
        return details
    }
}
