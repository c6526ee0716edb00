import Foundation

/// One cosign signature: the payload bytes and the base64 DER signature over them, stored as one layer of a
/// signature manifest (SIGNATURE_SPEC.md §OCI Image Manifest V1: the payload is a blob, referenced by a layer
/// descriptor of type `application/vnd.dev.cosign.simplesigning.v1+json` whose annotation
/// `dev.cosignproject.cosign/signature` holds the signature).
public struct ImageSignature: Sendable, Equatable {
    public let payload: [UInt8]
    /// Base64 of the DER ECDSA signature over `payload`.
    public let signature: String

    /// Signs `payload` with `key`.
    public init(signing payload: SimpleSigningPayload, with key: SigningKey) throws(PierError) {
        self.payload = payload.bytes()
        self.signature = Data(try key.signature(for: self.payload)).base64EncodedString()
    }

    /// The layer descriptor of this signature in a signature manifest.
    public var layer: Descriptor {
        Descriptor(
            mediaType: CosignConvention.payloadMediaType, digest: Digest.sha256(of: payload),
            size: Int64(payload.count), annotations: [CosignConvention.signatureAnnotation: signature])
    }

    /// Why a signature layer does not prove that `key` signed the image `digest`, or nil when it does. Checks, in
    /// order: the layer is a simple-signing payload with a signature annotation; `payload` (the layer's blob, nil
    /// when it could not be read) has the layer's size and digest; the signature verifies over the payload bytes;
    /// the payload names this image's digest and cosign's signature type.
    public static func problem(
        layer: Descriptor, payload: [UInt8]?, digest: Digest, key: VerificationKey
    ) -> SignatureProblem? {
        guard layer.mediaType == CosignConvention.payloadMediaType else { return .notASignature(layer.mediaType) }
        guard let encoded = layer.annotations?[CosignConvention.signatureAnnotation] else { return .noSignature }
        guard let payload else { return .payloadUnreadable }
        guard Int64(payload.count) == layer.size, Digest.sha256(of: payload) == layer.digest else {
            return .payloadMismatch
        }
        guard let der = Data(base64Encoded: encoded) else { return .signatureNotBase64 }
        guard key.isValid(signature: Array(der), for: payload) else { return .signatureInvalid }
        guard let claims = SimpleSigningPayload.Claims(parsing: payload) else { return .payloadNotJSON }
        guard claims.manifestDigest == digest.description else {
            return .otherImage(claims.manifestDigest ?? "none")
        }
        guard claims.type == CosignConvention.signatureType else { return .wrongType(claims.type ?? "none") }
        return nil
    }
}
