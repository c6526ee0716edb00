import Foundation

/// A manifest holding cosign signatures, with the config blob it references: the bytes pier pushes.
public struct SignatureManifest: Sendable {
    public let manifest: ManifestBlob
    /// The config blob's bytes; `manifest` references them.
    public let config: [UInt8]
    /// The blobs the manifest references besides the config (the payloads), by digest.
    public var layers: [Descriptor] { manifest.document.layers ?? [] }

    /// The most signature layers pier writes or reads in one manifest: far above any real signer count, and it
    /// bounds the payload reads of a hostile manifest.
    public static let maximumLayers = 256

    /// The layers of `incoming` that `held` lacks: a signature is held when a layer has its digest (the payload) and
    /// its annotations (the signature itself, certificate, bundle).
    public static func missing(_ incoming: [Descriptor], from held: [Descriptor]) -> [Descriptor] {
        incoming.filter { layer in !held.contains { $0.digest == layer.digest && $0.annotations == layer.annotations } }
    }

    /// The manifest at `sha256-<hex>.sig` (SIGNATURE_SPEC.md §OCI Image Manifest V1): an OCI image manifest whose
    /// layers are the signatures, one per signer, and whose config is the one cosign writes (go-containerregistry's
    /// `mutate.Append` over `empty.Image`: a history entry and a diff_id per layer; nothing reads it).
    public static func tagged(layers: [Descriptor], source: String) throws(PierError) -> SignatureManifest {
        let config = Array(configJSON(diffIDs: layers.map(\.digest)).utf8)
        let document = ManifestDocument(
            mediaType: MediaType.ociManifest,
            config: Descriptor(
                mediaType: MediaType.ociConfig, digest: Digest.sha256(of: config), size: Int64(config.count)),
            layers: layers)
        let manifest = try ManifestBlob(
            bytes: document.canonicalBytes(), mediaType: MediaType.ociManifest, source: source)
        return SignatureManifest(manifest: manifest, config: config)
    }

    /// An OCI 1.1 referrer of `subject` holding one signature (image-spec manifest.md §Guidelines for Artifact
    /// Usage): `artifactType` cosign's signature type, the empty config `{}`, `subject` the signed image.
    public static func referrer(layer: Descriptor, subject: Descriptor, source: String) throws(PierError)
        -> SignatureManifest
    {
        let config = Array("{}".utf8)
        var document = ManifestDocument(
            mediaType: MediaType.ociManifest,
            config: Descriptor(
                mediaType: MediaType.ociEmpty, digest: Digest.sha256(of: config), size: Int64(config.count)),
            layers: [layer])
        document.artifactType = CosignConvention.signatureArtifactType
        document.subject = Descriptor(mediaType: subject.mediaType, digest: subject.digest, size: subject.size)
        let manifest = try ManifestBlob(
            bytes: document.canonicalBytes(), mediaType: MediaType.ociManifest, source: source)
        return SignatureManifest(manifest: manifest, config: config)
    }

    /// go-containerregistry's config of an image appended to `empty.Image` (ConfigFile's field order; zero times).
    static func configJSON(diffIDs: [Digest]) -> String {
        let zero = "0001-01-01T00:00:00Z"
        let history = diffIDs.map { _ in #"{"created":"\#(zero)"}"# }.joined(separator: ",")
        let ids = diffIDs.map { "\"\($0)\"" }.joined(separator: ",")
        return
            #"{"architecture":"","created":"\#(zero)","history":[\#(history)],"os":"","rootfs":{"type":"layers","diff_ids":[\#(ids)]},"config":{}}"#
    }
}
