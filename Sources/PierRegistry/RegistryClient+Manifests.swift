import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PierHTTP
import PierModel

extension RegistryClient {
    private static var acceptHeader: HTTPHeaders { ["Accept": MediaType.manifestAccept.joined(separator: ", ")] }

    /// `GET /v2/<name>/manifests/<reference>`: the exact bytes, checked against the digest asked for and against
    /// `Docker-Content-Digest` when the registry sends one.
    public func manifest(repository: String, reference: String) async throws(PierError) -> ManifestBlob {
        let operation = "get manifest \(reference)"
        let response = try await send(
            Request(
                method: .GET, target: "/v2/\(repository)/manifests/\(reference)", headers: Self.acceptHeader,
                scopes: [Self.pullScope(repository)], operation: operation, repository: repository,
                reference: reference,
                accept: [200]))
        if let length = response.headers.first(name: "Content-Length").flatMap(Int.init),
            length > ManifestBlob.maximumSize
        {
            throw PierError(
                .invalidInput, operation: operation, message: "manifest is \(length) bytes, over the 4 MiB limit",
                registry: registry, repository: repository, reference: reference)
        }
        let body: ByteBuffer
        do { body = try await buffered(response, upTo: ManifestBlob.maximumSize) } catch {
            throw bodyError(
                error, what: "manifest", limit: ManifestBlob.maximumSize, operation: operation, repository: repository,
                reference: reference)
        }
        let requested = try? Digest(reference)
        let blob: ManifestBlob
        do {
            blob = try ManifestBlob(
                bytes: Array(buffer: body), mediaType: response.headers.first(name: "Content-Type"),
                expected: requested,
                source: registry)
        } catch {
            throw error.located(repository: repository, reference: reference)
        }
        if requested == nil, let header = response.headers.first(name: "Docker-Content-Digest"),
            let answered = try? Digest(header), answered != blob.digest
        {
            throw PierError(
                .verification, operation: operation,
                message: "Docker-Content-Digest says \(answered) but the bytes hash to \(blob.digest)",
                registry: registry,
                repository: repository, reference: reference)
        }
        return blob
    }

    /// What `HEAD /v2/<name>/manifests/<reference>` tells: digest, media type, size.
    public struct ManifestHead: Sendable, Equatable {
        public var digest: Digest
        public var mediaType: String
        public var size: Int64
    }

    /// `HEAD` a manifest: nil when absent. HEAD does not count against Docker Hub's pull limit. When the registry
    /// leaves out `Docker-Content-Digest`, pier GETs the bytes and hashes them.
    public func manifestHead(repository: String, reference: String) async throws(PierError) -> ManifestHead? {
        let response = try await send(
            Request(
                method: .HEAD, target: "/v2/\(repository)/manifests/\(reference)", headers: Self.acceptHeader,
                scopes: [Self.pullScope(repository)], operation: "check manifest \(reference)", repository: repository,
                reference: reference, accept: [200, 404]))
        guard response.status.code == 200 else { return nil }
        if let header = response.headers.first(name: "Docker-Content-Digest"), let digest = try? Digest(header) {
            return ManifestHead(
                digest: digest, mediaType: response.headers.first(name: "Content-Type") ?? "",
                size: response.headers.first(name: "Content-Length").flatMap { Int64($0) } ?? -1)
        }
        let blob = try await manifest(repository: repository, reference: reference)
        return ManifestHead(digest: blob.digest, mediaType: blob.mediaType, size: Int64(blob.bytes.count))
    }

    /// `PUT /v2/<name>/manifests/<reference>` with the exact bytes and their media type as `Content-Type`.
    public func putManifest(repository: String, reference: String, manifest: ManifestBlob) async throws(PierError) {
        _ = try await sendManifest(repository: repository, reference: reference, manifest: manifest)
    }

    /// The PUT of `putManifest`, its answer's digest checked; returns the answer's headers.
    func sendManifest(repository: String, reference: String, manifest: ManifestBlob) async throws(PierError)
        -> HTTPHeaders
    {
        let operation = "put manifest \(reference)"
        let bytes = manifest.bytes
        let response = try await send(
            Request(
                method: .PUT, target: "/v2/\(repository)/manifests/\(reference)",
                headers: ["Content-Type": manifest.mediaType, "Content-Length": "\(bytes.count)"],
                body: { .bytes(ByteBuffer(bytes: bytes)) }, scopes: [Self.pushScope(repository)], operation: operation,
                repository: repository, reference: reference, accept: [201]))
        try await checkDigestHeader(response, expected: manifest.digest, repository: repository, operation: operation)
        return response.headers
    }

    /// `DELETE /v2/<name>/manifests/<reference>`.
    public func deleteManifest(repository: String, reference: String) async throws(PierError) {
        let response = try await send(
            Request(
                method: .DELETE, target: "/v2/\(repository)/manifests/\(reference)",
                scopes: [
                    "repository:\(repository):delete", Self.pushScope(repository),
                ], operation: "delete manifest \(reference)", repository: repository, reference: reference,
                accept: [202, 200]))
        await drain(response)
    }

    /// Tags per page asked for: ECR refuses `n` over 1,000 (go-containerregistry `defaultPageSize`).
    static let tagPageSize = 1_000
    /// Pages followed before pier calls the listing broken: a million tags at 1,000 a page.
    static let maximumTagPages = 1_000
    /// Bytes of one tag list page: 1,000 tags of up to 128 characters, quoted, with room to spare (a registry that
    /// ignores `n` may send more in one page).
    static let tagPageLimit = 16 << 20
    /// Tags in one listing, all pages together: the page limit alone would let a listing grow to gigabytes.
    static let maximumTags = 1_000_000

    /// `GET /v2/<name>/tags/list?n=1000`, following `Link: <…>; rel="next"` (spec §Listing Tags). A listing that
    /// links to a page it already read, or goes past `maximumTagPages`, is an error, never a silent partial list
    /// (prune and tag planning decide from it).
    public func tags(repository: String) async throws(PierError) -> [String] {
        struct Page: Decodable { var tags: [String]? }
        var target = "/v2/\(repository)/tags/list?n=\(Self.tagPageSize)"
        var all: [String] = []
        var seen: Set<String> = []
        for _ in 0..<Self.maximumTagPages {
            seen.insert(target)
            let response = try await send(
                Request(
                    method: .GET, target: target, scopes: [Self.pullScope(repository)], operation: "list tags",
                    repository: repository, accept: [200]))
            let body: ByteBuffer
            do { body = try await buffered(response, upTo: Self.tagPageLimit) } catch {
                throw bodyError(
                    error, what: "tag list page", limit: Self.tagPageLimit, operation: "list tags",
                    repository: repository)
            }
            guard let page = try? JSONDecoder().decode(Page.self, from: Data(buffer: body)) else {
                throw PierError(
                    .invalidInput, operation: "list tags",
                    message: #"the tag list is not the distribution spec's JSON ({"name": …, "tags": [names]})"#,
                    registry: registry,
                    repository: repository)
            }
            let tags = page.tags ?? []
            // Every tag goes into request paths and decides what prune keeps: one that is not a tag name (a
            // query, a path with `..`) is a broken or hostile listing, refused whole rather than skipped.
            if let bad = tags.first(where: { !ImageReference.isListableTag($0) }) {
                throw PierError(
                    .invalidInput, operation: "list tags",
                    message: "the registry listed \"\(bad.prefix(140))\", which is not a tag name", registry: registry,
                    repository: repository,
                    hint:
                        "a tag is [A-Za-z0-9_][A-Za-z0-9._-]*, at most \(ImageReference.longestListedTag) long; pier will not act on this list"
                )
            }
            guard all.count + tags.count <= Self.maximumTags else {
                throw PierError(
                    .invalidInput, operation: "list tags",
                    message: "the tag list holds more than \(Self.maximumTags) tags", registry: registry,
                    repository: repository, hint: "pier will not act on a partial list")
            }
            all += tags
            guard !tags.isEmpty,
                let next = try await nextListingPage(
                    response, after: target, seen: seen, operation: "list tags", repository: repository,
                    what: "the registry's tag list", count: "\(all.count) tags")
            else { return all }
            target = next
        }
        throw PierError(
            .invalidInput, operation: "list tags",
            message: "the tag list did not end after \(Self.maximumTagPages) pages (\(all.count) tags)",
            registry: registry,
            repository: repository, hint: "the registry's pagination does not end; pier will not act on a partial list")
    }

    /// The next page of a listing that must be whole (`Link: <…>; rel="next"`), nil at the end. A next page on
    /// another origin (its answer would not be this registry's) or one already read is an error: prune and discovery
    /// decide from these lists, and pier will not act on a partial one.
    func nextListingPage(
        _ response: HTTPClientResponse, after target: String, seen: Set<String>, operation: String,
        repository: String?, what: String, count: String
    ) async throws(PierError) -> String? {
        guard let link = response.headers.first(name: "Link"), let next = LinkHeader.next(in: link) else { return nil }
        func broken(_ message: String) -> PierError {
            PierError(
                .invalidInput, operation: operation, message: "\(what) \(message), after \(count)", registry: registry,
                repository: repository, hint: "the registry's pagination is broken; pier will not act on a partial list"
            )
        }
        let base = try await endpoint().baseURL
        let current = target.hasPrefix("/") ? base + target : target
        let resolved = next.hasPrefix("/") ? next : URLText.resolve(next, against: current)
        if !resolved.hasPrefix("/"), URLText.origin(of: resolved) != URLText.origin(of: base) {
            throw broken("links to a next page on another origin")
        }
        guard !seen.contains(resolved) else { throw broken("links back to a page already read") }
        return resolved
    }

    /// Checks that credentials work for the registry: pings, and when the registry wants auth, obtains a token
    /// (Bearer) or sends one authenticated request (Basic). Used by `pier login`.
    public func checkLogin() async throws(PierError) {
        let response = try await send(
            Request(
                method: .GET, target: "/v2/", scopes: [], operation: "log in", accept: [200]))
        await drain(response)
    }
}
