/// Why one signature layer does not verify.
public enum SignatureProblem: Sendable, Equatable, CustomStringConvertible {
    case notASignature(String)
    case noSignature
    case payloadUnreadable
    case payloadMismatch
    case signatureNotBase64
    case signatureInvalid
    case payloadNotJSON
    case otherImage(String)
    case wrongType(String)

    public var description: String {
        switch self {
        case .notASignature(let type): return "layer of type \(Self.clipped(type)) is not a simple-signing payload"
        case .noSignature: return "the layer has no \(CosignConvention.signatureAnnotation) annotation"
        case .payloadUnreadable: return "the payload blob could not be read"
        case .payloadMismatch: return "the payload bytes do not match the layer's digest and size"
        case .signatureNotBase64: return "the signature annotation is not base64"
        case .signatureInvalid: return "the signature does not verify with this key over the payload"
        case .payloadNotJSON: return "the payload is not JSON"
        case .otherImage(let other): return "the payload signs \(Self.clipped(other)), not this image"
        case .wrongType(let type):
            return "critical.type is \"\(Self.clipped(type))\", not \"\(CosignConvention.signatureType)\""
        }
    }

    /// The most characters of a string from someone else's signature shown in a message.
    static let maximumQuoted = 100

    /// `text` cut to `maximumQuoted` characters: a signature's fields are written by whoever pushed it.
    static func clipped(_ text: String) -> String {
        text.count <= maximumQuoted ? text : String(text.prefix(maximumQuoted)) + "…"
    }
}
