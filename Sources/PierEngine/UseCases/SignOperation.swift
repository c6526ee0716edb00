import Foundation
import PierModel
import PierRegistry

/// `pier sign`: signs an image in a registry the way cosign does, with an ECDSA P-256 key: a simple-signing
/// payload naming the image's digest, its signature appended to the image's `sha256-<hex>.sig` manifest (or pushed
/// as an OCI 1.1 referrer with `--referrer`), then read back and verified.
public struct SignOperation: Sendable {
    public struct Request: Sendable {
        /// A registry reference, by tag or digest.
        public var image: String
        /// `--key`: a PEM file or env://NAME; nil means pier.yml's `signing.key`.
        public var key: String?
        /// `-a KEY=VALUE`: claims in the payload's `optional` section.
        public var annotationPairs: [String] = []
        /// Store the signature as an OCI 1.1 referrer instead of under the `.sig` tag.
        public var referrer = false

        public init(image: String) { self.image = image }
    }

    /// What was signed and where the signature is.
    public struct Report: Sendable, Encodable {
        public var image: String
        public var digest: Digest
        /// The digest of the signed payload (the signature's layer).
        public var payload: Digest
        public var outcome: SignatureStore.Outcome
        /// `repository:sha256-<hex>.sig`, or `repository@<digest>` of the referrer.
        public var location: String
        /// The fingerprint of the public key that verifies it.
        public var signer: String
    }

    public let request: Request
    let reference: ImageReference
    let key: SigningKey
    let annotations: [String: String]

    /// Reads the key and checks the image reference and annotations, before any network I/O.
    public init(_ request: Request, settings: Settings) throws(PierError) {
        self.request = request
        guard case .registry(let reference) = try ImageLocation(parsing: request.image) else {
            throw PierError(
                .usage, operation: "sign", message: "\(request.image) is not a registry image",
                hint: "signatures are stored in the image's registry repository")
        }
        self.reference = reference
        guard let key = try settings.signingKey(request.key, flag: "--key") else {
            throw PierError(
                .usage, operation: "sign", message: "no signing key",
                hint:
                    "pass --key FILE or --key env://NAME (a PEM ECDSA P-256 private key), or set signing.key in pier.yml"
            )
        }
        self.key = key
        annotations = try Self.pairs(request.annotationPairs, flag: "--annotation")
    }

    public func run(session: Session) async throws(PierError) -> Report {
        let client = await session.store.client(for: reference.registry)
        let head = try await client.existingManifestHead(reference, operation: "sign")
        let image = try await client.manifest(repository: reference.repository, reference: head.digest.description)
        let payload = SimpleSigningPayload(
            dockerReference: reference.repositoryName, manifestDigest: image.digest, annotations: annotations)
        let signature = try ImageSignature(signing: payload, with: key)
        let store = SignatureStore(client: client, repository: reference.repository)
        var report = Report(
            image: reference.with(tag: nil, digest: image.digest).description, digest: image.digest,
            payload: signature.layer.digest, outcome: .added,
            location: "\(reference.repositoryName):\(CosignConvention.signatureTag(for: image.digest))",
            signer: key.verificationKey.fingerprint)
        if request.referrer {
            let pushed = try await store.pushReferrer(signature, subject: image.descriptor)
            report.outcome = .referrer
            report.location = "\(reference.repositoryName)@\(pushed.digest)"
        } else {
            report.outcome = try await store.append(signature, for: image.digest, signer: key.verificationKey)
        }
        try await store.requireValidSignature(
            for: image.digest, key: key.verificationKey, payload: signature.layer.digest, operation: "verify signature")
        return report
    }

    /// `KEY=VALUE` pairs; a pair without `=` or with an empty key is a usage error.
    static func pairs(_ pairs: [String], flag: String) throws(PierError) -> [String: String] {
        var result: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw PierError(.usage, operation: "sign", message: "\(flag) \(pair) is not KEY=VALUE")
            }
            result[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return result
    }
}
