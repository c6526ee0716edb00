import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PierHTTP
import PierModel

extension RegistryClient {
    /// What `GET /v2/<name>/referrers/<digest>` answered (distribution-spec §Listing Referrers).
    public enum ReferrersListing: Sendable, Equatable {
        /// The registry has the referrers API: the descriptors of the manifests whose `subject` is the digest.
        /// `filtered` when the registry applied the artifactType filter (`OCI-Filters-Applied: artifactType`);
        /// otherwise the caller filters.
        case listed([Descriptor], filtered: Bool)
        /// 404 (or 405): "a registry that supports the referrers API MUST NOT return 404 Not Found", so 404 means
        /// the registry has no referrers API and clients fall back to the referrers tag schema.
        case unsupported
    }

    /// Pages of one referrers listing followed before pier calls it broken.
    static let maximumReferrerPages = 100
    /// Referrers of one digest read before pier calls the listing hostile: far above the signatures, SBOMs and
    /// attestations a release carries, far below the millions 100 pages of 4 MiB could hold.
    public static let maximumListedReferrers = 10_000

    /// Lists the referrers of `digest` in `repository`, following `Link: <…>; rel="next"`, with the optional
    /// `artifactType` filter. Each page is an image index of at most `ManifestBlob.maximumSize` bytes.
    public func referrers(repository: String, digest: Digest, artifactType: String? = nil) async throws(PierError)
        -> ReferrersListing
    {
        struct Page: Decodable { var manifests: [Descriptor]? }
        let operation = "list referrers of \(digest.short)"
        var target = "/v2/\(repository)/referrers/\(digest)"
        if let artifactType {
            let escaped =
                artifactType.addingPercentEncoding(
                    withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~")))
                ?? artifactType
            target += "?artifactType=\(escaped)"
        }
        if await referrersRoute.isMissing { return .unsupported }
        var all: [Descriptor] = []
        var filtered = artifactType != nil
        var seen: Set<String> = []
        for _ in 0..<Self.maximumReferrerPages {
            seen.insert(target)
            let response = try await send(
                Request(
                    method: .GET, target: target,
                    headers: ["Accept": MediaType.ociIndex],
                    scopes: [Self.pullScope(repository)], operation: operation, repository: repository,
                    reference: digest.description, accept: [200, 404, 405]))
            guard response.status.code == 200 else {
                let body = (try? await buffered(response, upTo: Self.statusBodyLimit)).map { Array(buffer: $0) } ?? []
                if Self.registryErrors(in: body).isEmpty { await referrersRoute.markMissing() }
                return .unsupported
            }
            let body: ByteBuffer
            do { body = try await buffered(response, upTo: ManifestBlob.maximumSize) } catch {
                throw bodyError(
                    error, what: "referrers list", limit: ManifestBlob.maximumSize, operation: operation,
                    repository: repository, reference: digest.description)
            }
            let page: Page
            do { page = try JSONDecoder().decode(Page.self, from: Data(buffer: body)) } catch {
                // A first answer that is no index (a proxy's page for an unknown path) is no referrers API; a later
                // page that is none breaks a listing that was under way.
                guard all.isEmpty, seen.count == 1 else {
                    throw PierError(
                        .invalidInput, operation: operation, message: "the referrers list is not an image index",
                        registry: registry, repository: repository, reference: digest.description,
                        cause: ManifestDocument.describe(error))
                }
                logger.warning(
                    "\(registry): the referrers API answered with something that is not an image index; using the fallback tag"
                )
                return .unsupported
            }
            if artifactType != nil {
                let applied = response.headers.first(name: "OCI-Filters-Applied") ?? ""
                filtered =
                    filtered
                    && applied.split(separator: ",").contains {
                        $0.trimmingCharacters(in: .whitespaces) == "artifactType"
                    }
            }
            all += page.manifests ?? []
            guard all.count <= Self.maximumListedReferrers else {
                throw PierError(
                    .invalidInput, operation: operation,
                    message: "the registry lists more than \(Self.maximumListedReferrers) referrers",
                    registry: registry, repository: repository, reference: digest.description)
            }
            guard let link = response.headers.first(name: "Link"), let next = LinkHeader.next(in: link) else {
                return .listed(all, filtered: filtered)
            }
            let current = target.hasPrefix("/") ? try await endpoint().baseURL + target : target
            let nextTarget = next.hasPrefix("/") ? next : URLText.resolve(next, against: current)
            guard !seen.contains(nextTarget) else {
                throw PierError(
                    .invalidInput, operation: operation,
                    message: "the referrers list links back to a page already read",
                    registry: registry, repository: repository, reference: digest.description)
            }
            target = nextTarget
        }
        throw PierError(
            .invalidInput, operation: operation,
            message: "the referrers list did not end after \(Self.maximumReferrerPages) pages", registry: registry,
            repository: repository, reference: digest.description)
    }

    /// `PUT /v2/<name>/manifests/<digest>` of a manifest that has a `subject`; returns the `OCI-Subject` header's
    /// digest, which a registry with the referrers API sends to say it indexed the manifest (distribution-spec
    /// §Pushing Manifests with Subject). nil means the client must maintain the referrers tag schema itself.
    public func putManifestWithSubject(repository: String, manifest: ManifestBlob) async throws(PierError) -> Digest? {
        let headers = try await sendManifest(
            repository: repository, reference: manifest.digest.description, manifest: manifest)
        return headers.first(name: "OCI-Subject").flatMap { try? Digest($0) }
    }
}
