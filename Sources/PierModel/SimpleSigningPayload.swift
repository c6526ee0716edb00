import Foundation

/// The document a cosign signature signs: a containers/image "simple signing" payload
/// (containers-signature.5.md §JSON data format) with cosign's semantics (cosign SIGNATURE_SPEC.md §Simple Signing):
///
///     {"critical":{"identity":{"docker-reference":"REPO"},"image":{"docker-manifest-digest":"sha256:…"},
///      "type":"cosign container image signature"},"optional":{…} or null}
///
/// The signature covers the payload's exact bytes, and a verifier reads the digest back from them, so the bytes pier
/// writes are the ones cosign writes for the same image and annotations (Go's `encoding/json` of sigstore's
/// `payload.Cosign`: fields in that order, map keys sorted, `<`, `>` and `&` escaped, `"optional":null` when there
/// are no annotations).
public struct SimpleSigningPayload: Sendable, Equatable {
    /// `critical.identity.docker-reference`: the repository signed in (`registry/repository`). cosign ignores it
    /// when verifying (a signature copied to another registry keeps it).
    public var dockerReference: String
    /// `critical.image.docker-manifest-digest`: the image this signature is for.
    public var manifestDigest: Digest
    /// `optional`: the signer's claims (`pier sign -a key=value`).
    public var annotations: [String: String]

    /// The largest payload pier reads: a payload is a few hundred bytes plus its annotations.
    public static let maximumSize = 1 << 20

    public init(dockerReference: String, manifestDigest: Digest, annotations: [String: String] = [:]) {
        self.dockerReference = dockerReference
        self.manifestDigest = manifestDigest
        self.annotations = annotations
    }

    /// The payload's bytes, as cosign writes them.
    public func bytes() -> [UInt8] {
        var text = #"{"critical":{"identity":{"docker-reference":"#
        text += Self.goString(dockerReference)
        text += #"},"image":{"docker-manifest-digest":"#
        text += Self.goString(manifestDigest.description)
        text += #"},"type":"#
        text += Self.goString(CosignConvention.signatureType)
        text += #"},"optional":"#
        if annotations.isEmpty {
            text += "null"
        } else {
            // Go sorts map keys by their bytes.
            let keys = annotations.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            text += "{" + keys.map { Self.goString($0) + ":" + Self.goString(annotations[$0]!) }.joined(separator: ",")
            text += "}"
        }
        return Array((text + "}").utf8)
    }

    /// A JSON string as Go's `encoding/json` writes it: `"` and `\` escaped, `\n`, `\r`, `\t` by name, other
    /// control characters and `<`, `>`, `&`, U+2028, U+2029 as `\u00XX`.
    static func goString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += "\\u" + String(format: "%04x", scalar.value)
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + String(format: "%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// What a verifier reads from a payload someone else may have written: `critical.type` and
    /// `critical.image.docker-manifest-digest`. Keys match without regard to case, as Go's `encoding/json` (and
    /// so cosign) reads them: cosign's own spec example writes `Docker-manifest-digest`.
    public struct Claims: Sendable, Equatable {
        public var type: String?
        public var manifestDigest: String?
        public var dockerReference: String?

        /// Nil when the bytes are not a JSON object.
        public init?(parsing bytes: [UInt8]) {
            guard bytes.count <= SimpleSigningPayload.maximumSize,
                let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
            else { return nil }
            func member(_ object: [String: Any]?, _ name: String) -> Any? {
                guard let object else { return nil }
                if let exact = object[name] { return exact }
                return object.first { $0.key.lowercased() == name }?.value
            }
            let critical = member(root, "critical") as? [String: Any]
            type = member(critical, "type") as? String
            manifestDigest = member(member(critical, "image") as? [String: Any], "docker-manifest-digest") as? String
            dockerReference = member(member(critical, "identity") as? [String: Any], "docker-reference") as? String
        }
    }
}
