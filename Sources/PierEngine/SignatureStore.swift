import Foundation
import PierModel
import PierRegistry

/// The cosign signatures of images in one registry repository: read, appended, pushed as referrers, verified.
public struct SignatureStore: Sendable {
    public let client: RegistryClient
    public let repository: String

    public init(client: RegistryClient, repository: String) {
        self.client = client
        self.repository = repository
    }

    /// What signing did on one registry.
    public enum Outcome: String, Sendable, Codable, CustomStringConvertible {
        /// The signature was appended to the image's signature manifest (created when there was none).
        case added
        /// A signature by the same key over the same payload was already there; nothing was written.
        case present
        /// Stored as an OCI 1.1 referrer (a manifest whose `subject` is the image).
        case referrer

        public var description: String { rawValue }
    }

    /// Times pier re-reads the signature manifest when another signer changed it between pier's read and write.
    static let maximumAppendAttempts = 3

    /// Adds `signature` to the signature manifest of `digest` (`sha256-<hex>.sig`), keeping every layer already
    /// there: another signer's signature is never replaced, and the same key's signature over the same payload is
    /// not added twice. Blobs first, the tag last. The registry has no compare-and-swap on tags: pier re-reads the
    /// tag just before writing it and starts over when it moved.
    public func append(_ signature: ImageSignature, for digest: Digest, signer: VerificationKey) async throws(PierError)
        -> Outcome
    {
        let tag = CosignConvention.signatureTag(for: digest)
        for _ in 0..<Self.maximumAppendAttempts {
            let existing = try await signatureManifest(tag: tag)
            var layers = existing?.document.layers ?? []
            if layers.contains(where: { sameSigner($0, signature, signer) }) { return .present }
            guard layers.count < SignatureManifest.maximumLayers else {
                throw PierError(
                    .invalidInput, operation: "sign", message: "\(tag) already holds \(layers.count) signatures",
                    registry: client.registry, repository: repository, reference: tag)
            }
            layers.append(signature.layer)
            try await putBlob(signature.payload, digest: signature.layer.digest)
            guard try await write(layers, to: tag, replacing: existing?.digest) != nil else { continue }
            return .added
        }
        throw PierError(
            .conflict, operation: "sign", message: "\(tag) kept changing while pier appended to it",
            registry: client.registry, repository: repository, reference: tag, hint: "another signer is writing; retry")
    }

    /// What the signature tag holds after `merge`.
    public struct Merged: Sendable {
        /// The signature manifest now at the tag.
        public var manifest: ManifestBlob
        /// Whether pier wrote the tag (false: every incoming signature was already there).
        public var wrote: Bool
    }

    /// Adds the signatures of `incoming` (a signature manifest from another registry) to the signature manifest at
    /// `tag` here, keeping every layer already there, so a signature only this registry holds survives a copy.
    /// A layer counts as present when one here has the same digest and annotations (the signature). Nil when the
    /// tag does not exist here (the caller copies `incoming` byte for byte). The blobs of `incoming`'s layers must
    /// already be here. Same race rule as `append`: the tag is re-read just before the write.
    public func merge(_ incoming: ManifestBlob, into tag: String) async throws(PierError) -> Merged? {
        for _ in 0..<Self.maximumAppendAttempts {
            guard let existing = try await signatureManifest(tag: tag) else { return nil }
            guard MediaType.isImageManifest(incoming.mediaType) else {
                throw PierError(
                    .invalidInput, operation: "copy signatures",
                    message: "\(tag) on the source is a \(incoming.mediaType), not a signature manifest",
                    repository: repository, reference: tag)
            }
            var layers = existing.document.layers ?? []
            let missing = SignatureManifest.missing(incoming.document.layers ?? [], from: layers)
            if missing.isEmpty { return Merged(manifest: existing, wrote: false) }
            layers += missing
            guard layers.count <= SignatureManifest.maximumLayers else {
                throw PierError(
                    .invalidInput, operation: "copy signatures",
                    message: "\(tag) would hold \(layers.count) signatures", registry: client.registry,
                    repository: repository, reference: tag,
                    hint: "pier keeps at most \(SignatureManifest.maximumLayers) signatures per image")
            }
            guard let written = try await write(layers, to: tag, replacing: existing.digest) else { continue }
            return Merged(manifest: written, wrote: true)
        }
        throw PierError(
            .conflict, operation: "copy signatures", message: "\(tag) kept changing while pier merged into it",
            registry: client.registry, repository: repository, reference: tag, hint: "another signer is writing; retry")
    }

    /// Writes a signature manifest of `layers` (their blobs already here) at `tag`, unless the tag no longer points
    /// at `previous` (nil: absent): the registry has no compare-and-swap on tags, so pier re-reads it just before the
    /// write. Returns the manifest written, nil when another writer moved the tag (the caller starts over).
    func write(_ layers: [Descriptor], to tag: String, replacing previous: Digest?) async throws(PierError)
        -> ManifestBlob?
    {
        let built = try SignatureManifest.tagged(layers: layers, source: client.registry)
        try await putBlob(built.config, digest: built.manifest.document.config!.digest)
        guard try await client.manifestHead(repository: repository, reference: tag)?.digest == previous else {
            return nil
        }
        try await client.putManifest(repository: repository, reference: tag, manifest: built.manifest)
        return built.manifest
    }

    /// Pushes `signature` as an OCI 1.1 referrer of `subject` (by digest, never tagged), listed by the registry's
    /// referrers API or, on a registry without one, in the `sha256-<hex>` fallback index (`ReferrerPusher`).
    public func pushReferrer(_ signature: ImageSignature, subject: Descriptor) async throws(PierError) -> (
        digest: Digest, route: ReferrerRoute
    ) {
        let built = try SignatureManifest.referrer(layer: signature.layer, subject: subject, source: client.registry)
        try await putBlob(signature.payload, digest: signature.layer.digest)
        try await putBlob(built.config, digest: built.manifest.document.config!.digest)
        let route = try await ReferrerPusher(client: client, repository: repository).push(
            built.manifest, subject: subject.digest)
        return (built.manifest.digest, route)
    }

    /// Every signature layer found for `digest`, under its `.sig` tag and, where the registry serves the referrers
    /// API, in referrers of cosign's signature type whose subject is `digest`; each with why it does not verify with
    /// `key` (nil when it does).
    public func check(_ digest: Digest, key: VerificationKey) async throws(PierError) -> [SignatureCheck] {
        var found: [(location: String, layers: [Descriptor])] = []
        let tag = CosignConvention.signatureTag(for: digest)
        if let manifest = try await signatureManifest(tag: tag) {
            found.append(("\(client.registry)/\(repository):\(tag)", manifest.document.layers ?? []))
        }
        for referrer in try await signatureReferrers(of: digest).prefix(SignatureManifest.maximumLayers) {
            let manifest: ManifestBlob
            do {
                manifest = try await client.manifest(repository: repository, reference: referrer.digest.description)
            } catch {
                if error.kind == .network || error.kind == .auth { throw error }
                continue
            }
            // A referrer listed for another subject signs nothing here.
            guard manifest.document.subject?.digest == digest else { continue }
            found.append(("\(client.registry)/\(repository)@\(referrer.digest)", manifest.document.layers ?? []))
        }
        let total = found.reduce(0) { $0 + $1.layers.count }
        guard total <= SignatureManifest.maximumLayers else {
            throw PierError(
                .invalidInput, operation: "verify", message: "\(digest.short) has \(total) signature layers",
                registry: client.registry, repository: repository, reference: tag,
                hint: "pier reads at most \(SignatureManifest.maximumLayers) signatures")
        }
        var checks: [SignatureCheck] = []
        for (location, layers) in found {
            for layer in layers {
                let problem = ImageSignature.problem(
                    layer: layer, payload: try await payload(of: layer), digest: digest, key: key)
                // One check per (location, payload): a second signature over the same payload in the same manifest
                // only counts if it verifies where the first did not.
                if let index = checks.firstIndex(where: { $0.location == location && $0.payload == layer.digest }) {
                    if problem == nil { checks[index].problem = nil }
                    continue
                }
                checks.append(SignatureCheck(location: location, payload: layer.digest, problem: problem))
            }
        }
        return checks
    }

    /// The referrers of cosign's signature type listed for `digest`, by the referrers API or, on a registry without
    /// it, in the `sha256-<hex>` fallback index; none when the answer is unusable (the `.sig` tag still counts).
    /// Network and auth failures fail the run.
    func signatureReferrers(of digest: Digest) async throws(PierError) -> [Descriptor] {
        let type = CosignConvention.signatureArtifactType
        do {
            switch try await client.referrers(repository: repository, digest: digest, artifactType: type) {
            case .listed(let descriptors, _):
                return descriptors.filter { $0.artifactType == type }
            case .unsupported:
                let index = try await ReferrerPusher(client: client, repository: repository).readIndex(
                    ArtifactTag(subject: digest).tag)
                return (index?.document.manifests ?? []).filter { $0.artifactType == type }
            }
        } catch {
            if error.kind == .network || error.kind == .auth { throw error }
            return []
        }
    }

    /// A signature layer's payload bytes; nil when they are not a simple-signing payload, too large, missing or not
    /// matching their digest (the signature then fails). A registry that cannot be reached or refuses the
    /// credentials fails the run with its own exit code.
    func payload(of layer: Descriptor) async throws(PierError) -> [UInt8]? {
        guard layer.mediaType == CosignConvention.payloadMediaType, layer.size <= SimpleSigningPayload.maximumSize
        else { return nil }
        do {
            return try await client.blobBytes(
                repository: repository, digest: layer.digest, limit: SimpleSigningPayload.maximumSize)
        } catch {
            if error.kind == .network || error.kind == .auth { throw error }
            return nil
        }
    }

    /// Throws a verification error (exit 70) unless a signature by `key` for `digest` is stored here; the error
    /// says how many signatures were found and why each failed. With `payload`, that signature must be among them.
    public func requireValidSignature(
        for digest: Digest, key: VerificationKey, payload: Digest? = nil, operation: String
    ) async throws(PierError) {
        let checks = try await check(digest, key: key)
        if checks.contains(where: { $0.isValid && (payload == nil || $0.payload == payload) }) { return }
        throw Self.unverified(digest, checks: checks, key: key, operation: operation).located(
            registry: client.registry, repository: repository)
    }

    /// The error for an image without a valid signature: what was found and why each signature failed.
    public static func unverified(_ digest: Digest, checks: [SignatureCheck], key: VerificationKey, operation: String)
        -> PierError
    {
        let tag = CosignConvention.signatureTag(for: digest)
        let reasons = checks.compactMap { check in check.problem.map { "\(check.payload.short): \($0)" } }
        let found = checks.isEmpty ? "no signatures (no \(tag) tag)" : "\(checks.count) signature(s), none valid"
        return PierError(
            .verification, operation: operation,
            message: "\(digest.short) has no valid signature by \(key.fingerprint): \(found)"
                + (reasons.isEmpty ? "" : " (" + reasons.joined(separator: "; ") + ")"),
            reference: digest.description, hint: "sign it with pier sign --key, or name a signed image")
    }

    /// Whether the signature manifest at `tag` already holds every signature of `incoming`: `merge` would write
    /// nothing (a dry run's question).
    public func holdsEverySignature(of incoming: ManifestBlob, at tag: String) async throws(PierError) -> Bool {
        guard let held = try await signatureManifest(tag: tag) else { return false }
        return SignatureManifest.missing(incoming.document.layers ?? [], from: held.document.layers ?? []).isEmpty
    }

    /// The image manifest at a signature tag, or nil when the tag does not exist. Anything else there is refused:
    /// pier does not overwrite what it does not understand.
    func signatureManifest(tag: String) async throws(PierError) -> ManifestBlob? {
        guard try await client.manifestHead(repository: repository, reference: tag) != nil else { return nil }
        let manifest = try await client.manifest(repository: repository, reference: tag)
        guard MediaType.isImageManifest(manifest.mediaType) else {
            throw PierError(
                .invalidInput, operation: "read signatures",
                message: "\(tag) is a \(manifest.mediaType), not a signature manifest", registry: client.registry,
                repository: repository, reference: tag)
        }
        return manifest
    }

    /// A layer by the same key over the same payload bytes (ECDSA signatures differ on every signing, so "the
    /// same signature" is the same payload verified by the same key).
    func sameSigner(_ layer: Descriptor, _ signature: ImageSignature, _ signer: VerificationKey) -> Bool {
        guard layer.digest == signature.layer.digest,
            let encoded = layer.annotations?[CosignConvention.signatureAnnotation],
            let der = Data(base64Encoded: encoded)
        else { return false }
        return signer.isValid(signature: Array(der), for: signature.payload)
    }

    /// Uploads a small blob held in memory, unless the repository has it.
    func putBlob(_ bytes: [UInt8], digest: Digest) async throws(PierError) {
        guard try await client.blobSize(repository: repository, digest: digest) == nil else { return }
        let file = NSTemporaryDirectory() + "pier-signature-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else {
            throw PierError(
                .other, operation: "sign", message: "cannot write a temporary file in \(NSTemporaryDirectory())")
        }
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await client.uploadBlob(repository: repository, digest: digest, size: Int64(bytes.count), file: file)
    }
}
