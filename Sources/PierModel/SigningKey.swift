import Crypto
import Foundation

/// An ECDSA P-256 private key that signs payloads as cosign does (SIGNATURE_SPEC.md §Signature Schemes:
/// ECDSA-P256 over SHA-256, the signature DER-encoded, then base64).
///
/// Read from PEM: PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`). No error or description ever contains the key.
public struct SigningKey: Sendable, CustomStringConvertible {
    let key: P256.Signing.PrivateKey

    /// Parses the first private key block of `pem`. `origin` names where it came from (a file, `env://NAME`), for
    /// errors.
    public init(pem: String, origin: String) throws(PierError) {
        let blocks = PEMBlock.blocks(in: pem)
        func refuse(_ message: String, hint: String) -> PierError {
            PierError(.usage, operation: "read signing key", message: "\(origin) \(message)", hint: hint)
        }
        let generate = "make one with: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem"
        if blocks.contains(where: { $0.type.hasPrefix("ENCRYPTED") }) {
            throw refuse(
                "holds an encrypted private key, which pier does not decrypt",
                hint:
                    "give an unencrypted PKCS#8 or SEC1 key through a file readable only by you or env://NAME; \(generate)"
            )
        }
        guard let block = blocks.first(where: { $0.type == "PRIVATE KEY" || $0.type == "EC PRIVATE KEY" }) else {
            throw refuse(
                blocks.contains { $0.type == "PUBLIC KEY" }
                    ? "holds a public key; signing needs the private key" : "holds no PEM private key",
                hint: generate)
        }
        do {
            key = try P256.Signing.PrivateKey(derRepresentation: block.der)
        } catch {
            throw refuse("is not an ECDSA P-256 private key", hint: generate)
        }
    }

    /// The public half, which verifies what this key signs.
    public var verificationKey: VerificationKey { VerificationKey(key: key.publicKey) }

    /// The DER-encoded ECDSA signature over SHA-256 of `bytes`.
    public func signature(for bytes: [UInt8]) throws(PierError) -> [UInt8] {
        do { return Array(try key.signature(for: bytes).derRepresentation) } catch {
            throw PierError(.other, operation: "sign", message: "ECDSA signing failed")
        }
    }

    /// Never the key: its public key's fingerprint.
    public var description: String { "signing key \(verificationKey.fingerprint)" }
}

/// An ECDSA P-256 public key (`PUBLIC KEY`, PKIX SubjectPublicKeyInfo in PEM, as cosign writes `cosign.pub`).
public struct VerificationKey: Sendable, Equatable, CustomStringConvertible {
    let key: P256.Signing.PublicKey

    init(key: P256.Signing.PublicKey) { self.key = key }

    public init(pem: String, origin: String) throws(PierError) {
        let blocks = PEMBlock.blocks(in: pem)
        guard let block = blocks.first(where: { $0.type == "PUBLIC KEY" }) else {
            let isPrivate = blocks.contains { $0.type.contains("PRIVATE KEY") }
            throw PierError(
                .usage, operation: "read verification key",
                message:
                    "\(origin) \(isPrivate ? "holds a private key; verifying needs only the public key" : "holds no PEM public key")",
                hint: "give the public key: openssl pkey -in key.pem -pubout -out pub.pem")
        }
        do { key = try P256.Signing.PublicKey(derRepresentation: block.der) } catch {
            throw PierError(
                .usage, operation: "read verification key", message: "\(origin) is not an ECDSA P-256 public key")
        }
    }

    /// True when `signature` (DER) is a valid ECDSA-SHA256 signature of `bytes` under this key.
    public func isValid(signature: [UInt8], for bytes: [UInt8]) -> Bool {
        guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
        return key.isValidSignature(parsed, for: bytes)
    }

    /// `sha256:` of the DER public key, first 12 hex digits: names a key in output without showing it.
    public var fingerprint: String { Digest.sha256(of: key.derRepresentation).short }

    /// The PEM text, for tests and for writing the public half of a key.
    public var pem: String { key.pemRepresentation }

    public var description: String { "verification key \(fingerprint)" }

    public static func == (lhs: VerificationKey, rhs: VerificationKey) -> Bool {
        lhs.key.derRepresentation == rhs.key.derRepresentation
    }
}
