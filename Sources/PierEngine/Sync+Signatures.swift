import PierModel
import PierRegistry

extension Sync {
    /// With a verification key, sync copies a tag only when the primary holds a valid signature by the key for the
    /// tag's image; otherwise the tag is left as it is (`unsigned`). Returns why not, or nil when it is signed.
    /// `checked` remembers each digest's answer (an empty string: signed) for the run.
    func unsignedReason(
        _ digest: Digest, in source: ImageReference, client: RegistryClient, checked: inout [Digest: String]
    ) async throws(PierError) -> String? {
        guard let key = verificationKey else { return nil }
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
