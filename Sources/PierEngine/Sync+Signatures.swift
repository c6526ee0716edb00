import PierModel
import PierRegistry

extension Sync {
    /// With a verification key, sync copies a tag only when the primary holds a valid signature by the key for the
    /// tag's image; otherwise the tag is left as it is (`unsigned`). Returns why not, or nil when it is signed.
    /// Cosign's own tags (`sha256-<hex>.sig`, `.att`, `.sbom`) hold signatures and attestations, not images: they
    /// are not checked. `checked` remembers each digest's answer (an empty string: signed) for the run.
    func unsignedReason(
        _ digest: Digest, tag: String, in source: ImageReference, client: RegistryClient,
        checked: inout [Digest: String]
    ) async throws(PierError) -> String? {
        guard let key = verificationKey, !CosignConvention.isArtifactTag(tag) else { return nil }
        if let known = checked[digest] { return known.isEmpty ? nil : known }
        var reason = ""
        do {
            try await SignatureStore(client: client, repository: source.repository).requireValidSignature(
                for: digest, key: key, operation: "sync")
        } catch {
            guard error.kind == .verification else { throw error }
            reason = error.message
        }
        checked[digest] = reason
        return reason.isEmpty ? nil : reason
    }
}
