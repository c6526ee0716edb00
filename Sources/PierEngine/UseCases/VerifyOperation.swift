import Foundation
import PierModel
import PierRegistry

/// `pier verify`: whether an image in a registry has a valid cosign signature by a key: its `sha256-<hex>.sig`
/// manifest read, and every signature layer checked (payload bytes against the layer's digest, ECDSA over those
/// bytes, the payload's digest and type).
public struct VerifyOperation: Sendable {
    /// What was checked, signature by signature.
    public struct Report: Sendable, Encodable {
        public var image: String
        public var digest: Digest
        /// The fingerprint of the public key checked with.
        public var key: String
        /// Signature layers found.
        public var found: Int
        public var valid: Int
        public var verified: Bool
        public var signatures: [SignatureCheck]

        /// The checks for display: one line per payload and outcome, with every location it was found at (a
        /// payload signed under the `.sig` tag and as a referrer is one line).
        public var lines: [(summary: String, locations: [String])] {
            var lines: [(summary: String, locations: [String])] = []
            for check in signatures {
                let summary = "\(check.payload.short): \(check.problem?.description ?? "valid")"
                if let index = lines.firstIndex(where: { $0.summary == summary }) {
                    lines[index].locations.append(check.location)
                } else {
                    lines.append((summary, [check.location]))
                }
            }
            return lines
        }
    }

    let reference: ImageReference
    let key: VerificationKey

    /// Reads the public key and checks the reference, before any network I/O.
    public init(image: String, key reference: String?, settings: Settings) throws(PierError) {
        guard case .registry(let parsed) = try ImageLocation(parsing: image) else {
            throw PierError(
                .usage, operation: "verify", message: "\(image) is not a registry image",
                hint: "signatures are stored in the image's registry repository")
        }
        self.reference = parsed
        guard let key = try settings.verificationKey(reference, flag: "--key") else {
            throw PierError(
                .usage, operation: "verify", message: "no verification key",
                hint: "pass --key FILE or --key env://NAME (a PEM public key), or set signing.verify_key in pier.yml")
        }
        self.key = key
    }

    /// Checks every signature; never throws for an unsigned image (the report says so, and `failure` gives the
    /// error to exit with).
    public func run(session: Session) async throws(PierError) -> Report {
        let client = await session.store.client(for: reference.registry)
        let head = try await client.existingManifestHead(reference, operation: "verify")
        if let asked = reference.digest, asked != head.digest {
            throw PierError(
                .verification, operation: "verify", message: "the registry answered \(head.digest) for \(asked)",
                registry: reference.registry, repository: reference.repository)
        }
        let checks = try await SignatureStore(client: client, repository: reference.repository).check(
            head.digest, key: key)
        let valid = checks.filter(\.isValid).count
        return Report(
            image: reference.with(tag: nil, digest: head.digest).description, digest: head.digest,
            key: key.fingerprint, found: checks.count, valid: valid, verified: valid > 0, signatures: checks)
    }

    /// The error to exit with (70) when the report found no valid signature.
    public func failure(_ report: Report) -> PierError? {
        guard !report.verified else { return nil }
        return SignatureStore.unverified(report.digest, checks: report.signatures, key: key, operation: "verify")
            .located(registry: reference.registry, repository: reference.repository)
    }
}
