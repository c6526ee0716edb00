import PierModel

/// A compressed layer blob as written: its digest and size, the diff ID, and its media type.
public struct CompressedLayer: Sendable, Equatable {
    /// Digest and size of the compressed bytes (the blob).
    public var digest: Digest
    public var size: Int64
    /// Digest of the uncompressed tar (the layer's diff ID).
    public var uncompressedDigest: Digest
    public var mediaType: String

    public init(digest: Digest, size: Int64, uncompressedDigest: Digest, mediaType: String) {
        self.digest = digest
        self.size = size
        self.uncompressedDigest = uncompressedDigest
        self.mediaType = mediaType
    }
}
