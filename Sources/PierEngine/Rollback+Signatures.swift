import PierModel
import PierRegistry

extension Rollback {
    /// With a verification key, rollback moves tags only to a signed image: on every registry it moves tags on, a
    /// valid signature by `key` for `digest` must be stored there (or, where the image will be copied from the
    /// trusted registry, there). Checked while planning, so a refusal changes nothing.
    func requireSignature(_ digest: Digest, targets: [ImageReference], trust: ImageReference?, key: VerificationKey)
        async throws(PierError)
    {
        for target in targets {
            var holder = target
            let client = await store.client(for: target.registry)
            if let trust,
                try await client.manifestHead(repository: target.repository, reference: digest.description) == nil
            {
                holder = trust
            }
            try await SignatureStore(client: await store.client(for: holder.registry), repository: holder.repository)
                .requireValidSignature(for: digest, key: key, operation: "rollback")
        }
    }
}
