import Foundation

/// A manifest or index exactly as stored: the raw bytes, their media type, and their digest.
///
/// Digests are over bytes (distribution-spec §Pulling manifests): pier keeps these bytes and pushes them as they
/// are, so a copy has the same digest as its source. The parsed view is for reading only.
public struct ManifestBlob: Sendable, Equatable {
    public let bytes: [UInt8]
    public let mediaType: String
    public let digest: Digest

    /// The most a manifest may weigh. distribution's default limit is 4 MiB; anything larger is hostile or broken.
    public static let maximumSize = 4 * 1024 * 1024

    /// Wraps bytes, working out the media type from the document when the transport gave none, and checking the
    /// bytes against `expected` when a digest was asked for.
    public init(bytes: [UInt8], mediaType declared: String?, expected: Digest? = nil, source: String) throws(PierError)
    {
        guard bytes.count <= Self.maximumSize else {
            throw PierError(
                .invalidInput, operation: "read manifest",
                message: "manifest is \(bytes.count) bytes, over the 4 MiB limit",
                registry: source)
        }
        let digest = Digest.sha256(of: bytes)
        if let expected, expected != digest {
            throw PierError(
                .verification, operation: "read manifest",
                message: "manifest bytes hash to \(digest), not the requested \(expected)", registry: source,
                reference: expected.description)
        }
        let probe = try ManifestDocument.decode(bytes, source: source)
        var type = probe.mediaType ?? ""
        if let declared, MediaType.isManifest(declared) { type = declared }
        if type.isEmpty { type = probe.manifests != nil ? MediaType.ociIndex : MediaType.ociManifest }
        if type == MediaType.dockerSchema1 || type == MediaType.dockerSchema1Signed || probe.schemaVersion == 1 {
            throw PierError(
                .invalidInput, operation: "read manifest", message: "Docker schema 1 manifests are not supported",
                registry: source, hint: "convert the image with a current builder")
        }
        guard MediaType.isManifest(type) else {
            throw PierError(
                .invalidInput, operation: "read manifest", message: "unsupported manifest media type \"\(type)\"",
                registry: source)
        }
        self.bytes = bytes
        self.mediaType = type
        self.digest = digest
        self.document = probe
    }

    /// The parsed view of the bytes.
    public let document: ManifestDocument

    public var isIndex: Bool { MediaType.isIndex(mediaType) }
    public var descriptor: Descriptor { Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count)) }

    public static func == (lhs: ManifestBlob, rhs: ManifestBlob) -> Bool {
        lhs.digest == rhs.digest && lhs.mediaType == rhs.mediaType
    }
}

/// The fields of an image manifest or index that pier reads (image-spec manifest.md, image-index.md).
public struct ManifestDocument: Sendable, Codable {
    public var schemaVersion: Int?
    public var mediaType: String?
    public var artifactType: String?
    public var config: Descriptor?
    public var layers: [Descriptor]?
    public var manifests: [Descriptor]?
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(
        schemaVersion: Int = 2, mediaType: String, config: Descriptor? = nil, layers: [Descriptor]? = nil,
        manifests: [Descriptor]? = nil, annotations: [String: String]? = nil
    ) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.manifests = manifests
        self.annotations = annotations
    }

    static func decode(_ bytes: [UInt8], source: String) throws(PierError) -> ManifestDocument {
        do {
            return try JSONDecoder().decode(ManifestDocument.self, from: Data(bytes))
        } catch {
            throw PierError(
                .invalidInput, operation: "read manifest", message: "malformed manifest JSON", registry: source,
                cause: Self.describe(error))
        }
    }

    /// Short text for a decoding error: the coding path and what was wrong, without dumping the document.
    public static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        case .keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
        default: return "\(error)"
        }
    }

    /// Blobs an image manifest references: config first, then layers. Empty for an index.
    public var blobs: [Descriptor] { (config.map { [$0] } ?? []) + (layers ?? []) }

    /// Encodes a document pier authors itself (docker-archive conversion, builds), as `CanonicalJSON`.
    public func canonicalBytes() -> [UInt8] { CanonicalJSON.bytes(self) }
}

/// The few image config fields pier shows (image-spec config.md). The raw config bytes are what get copied.
public struct ImageConfigSummary: Sendable, Codable {
    /// The largest image config pier reads into memory (inspect, notes, prune dating, docker-archive): configs with
    /// long build histories reach a few MiB; this bounds memory against a hostile descriptor.
    public static let maximumSize: Int64 = 16 << 20

    public struct Inner: Sendable, Codable {
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var Env: [String]?
        public var WorkingDir: String?
        public var User: String?
        public var Labels: [String: String]?
        public var ExposedPorts: [String: EmptyObject]?
    }
    public struct EmptyObject: Sendable, Codable {}
    public var created: String?
    public var architecture: String?
    public var os: String?
    public var variant: String?
    public var config: Inner?
}
