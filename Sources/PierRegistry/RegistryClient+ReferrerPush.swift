import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PierHTTP
import PierModel

extension RegistryClient {
    /// Answers to a referrers listing: 200 with the index; the others mean the registry has no referrers API.
    static let referrersAnswers: Set<Int> = [200, 400, 404, 405, 406]

    /// Whether the registry serves the OCI 1.1 referrers API for `digest`.
    public func servesReferrersAPI(repository: String, digest: Digest) async throws(PierError) -> Bool {
        try await referrerDescriptors(repository: repository, digest: digest) != nil
    }

    /// `GET /v2/<name>/referrers/<digest>[?artifactType=…]`: the descriptors of the manifests whose subject is
    /// `digest`, of `artifactType` when given (filtered here too: a registry may ignore the filter); nil when the
    /// registry has no referrers API (distribution-spec §Listing Referrers: a registry that supports it answers 200
    /// with an index, even an empty one, never 404 for a valid digest; registries without it answer 404, and some
    /// 400, 405 or 406). The first page only.
    public func referrerDescriptors(repository: String, digest: Digest, artifactType: String? = nil)
        async throws(PierError) -> [Descriptor]?
    {
        struct Index: Decodable { var manifests: [Descriptor]? }
        let operation = "list referrers of \(digest.short)"
        let query =
            artifactType.map {
                "?artifactType=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)
            } ?? ""
        let response = try await send(
            Request(
                method: .GET, target: "/v2/\(repository)/referrers/\(digest)\(query)",
                headers: ["Accept": MediaType.ociIndex], scopes: [Self.pullScope(repository)],
                operation: operation, repository: repository, reference: digest.description,
                accept: Self.referrersAnswers))
        guard response.status.code == 200 else {
            await drain(response)
            return nil
        }
        let body: ByteBuffer
        do { body = try await buffered(response, upTo: ManifestBlob.maximumSize) } catch {
            throw bodyError(
                error, what: "referrers index", limit: ManifestBlob.maximumSize, operation: operation,
                repository: repository, reference: digest.description)
        }
        guard let index = try? JSONDecoder().decode(Index.self, from: Data(buffer: body)) else {
            throw PierError(
                .invalidInput, operation: operation, message: "the referrers answer is not an image index",
                registry: registry, repository: repository)
        }
        return (index.manifests ?? []).filter { artifactType == nil || $0.artifactType == artifactType }
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
