import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PierHTTP
import PierModel

extension RegistryClient {
    /// Whether the registry serves the OCI 1.1 referrers API for `digest` (distribution-spec §Listing Referrers:
    /// a registry that supports it answers 200 with an index, even an empty one, and never 404 for a valid digest;
    /// one without it answers 404).
    public func servesReferrersAPI(repository: String, digest: Digest) async throws(PierError) -> Bool {
        let response = try await send(
            Request(
                method: .GET, target: "/v2/\(repository)/referrers/\(digest)",
                headers: ["Accept": MediaType.ociIndex], scopes: [Self.pullScope(repository)],
                operation: "list referrers of \(digest.short)", repository: repository, reference: digest.description,
                accept: [200, 404]))
        await drain(response)
        return response.status.code == 200
    }

    /// `PUT` a manifest that has a `subject`, by digest. True when the registry answered `OCI-Subject` (spec
    /// §Pushing Manifests with Subject: the registry processed the subject and lists the manifest as a referrer);
    /// false means the client has to maintain the referrers fallback tag itself.
    public func putReferrer(repository: String, manifest: ManifestBlob) async throws(PierError) -> Bool {
        let operation = "put manifest \(manifest.digest.short)"
        let bytes = manifest.bytes
        let response = try await send(
            Request(
                method: .PUT, target: "/v2/\(repository)/manifests/\(manifest.digest)",
                headers: ["Content-Type": manifest.mediaType, "Content-Length": "\(bytes.count)"],
                body: { .bytes(ByteBuffer(bytes: bytes)) }, scopes: [Self.pushScope(repository)], operation: operation,
                repository: repository, reference: manifest.digest.description, accept: [201]))
        let subject = response.headers.first(name: "OCI-Subject")
        try await checkDigestHeader(response, expected: manifest.digest, repository: repository, operation: operation)
        return subject != nil
    }
}
