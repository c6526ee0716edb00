import Foundation
import NIOCore
import NIOFoundationCompat
import PierHTTP
import PierModel

extension RegistryClient {
    /// Repositories per catalog page asked for (the same bound as tag lists: ECR and others refuse more than 1,000).
    public static let catalogPageSize = 1_000
    /// Pages followed before pier calls the catalog broken: a million repositories at 1,000 a page.
    static let maximumCatalogPages = 1_000
    /// Bytes of one catalog page: 1,000 names of up to 255 characters, quoted, with room to spare.
    static let catalogPageLimit = 16 << 20
    /// Repositories in one catalog, all pages together (what `maximumCatalogPages` pages of 1,000 hold).
    static let maximumRepositories = 1_000_000

    /// `GET /v2/_catalog?n=N`, following `Link: <…>; rel="next"` (distribution's catalog API; not in the OCI
    /// distribution-spec, and hosted registries often refuse it). Needs the `registry:catalog:*` scope. A listing
    /// that links back to a page already read, or goes on past `maximumCatalogPages`, is an error, never a partial
    /// list. Names are returned as listed: the caller checks each (discovery skips a bad one with a warning).
    public func catalog(pageSize: Int = catalogPageSize) async throws(PierError) -> [String] {
        struct Page: Decodable { var repositories: [String]? }
        let size = min(max(1, pageSize), Self.catalogPageSize)
        var target = "/v2/_catalog?n=\(size)"
        var all: [String] = []
        var seen: Set<String> = []
        for _ in 0..<Self.maximumCatalogPages {
            seen.insert(target)
            let response = try await send(
                Request(
                    method: .GET, target: target, scopes: ["registry:catalog:*"], operation: "list repositories",
                    accept: [200]))
            let body: ByteBuffer
            do { body = try await buffered(response, upTo: Self.catalogPageLimit) } catch {
                throw bodyError(
                    error, what: "catalog page", limit: Self.catalogPageLimit, operation: "list repositories",
                    repository: nil)
            }
            guard let page = try? JSONDecoder().decode(Page.self, from: Data(buffer: body)) else {
                throw PierError(
                    .invalidInput, operation: "list repositories",
                    message: #"the catalog is not the distribution spec's JSON ({"repositories": [names]})"#,
                    registry: registry)
            }
            let names = page.repositories ?? []
            guard all.count + names.count <= Self.maximumRepositories else {
                throw PierError(
                    .invalidInput, operation: "list repositories",
                    message: "the catalog holds more than \(Self.maximumRepositories) repositories", registry: registry,
                    hint: "pier will not act on a partial list")
            }
            all += names
            guard !names.isEmpty,
                let next = try await nextListingPage(
                    response, after: target, seen: seen, operation: "list repositories", repository: nil,
                    what: "the catalog", count: "\(all.count) repositories")
            else { return all }
            target = next
        }
        throw PierError(
            .invalidInput, operation: "list repositories",
            message: "the catalog did not end after \(Self.maximumCatalogPages) pages (\(all.count) repositories)",
            registry: registry, hint: "the registry's pagination does not end; pier will not act on a partial list")
    }
}
