import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An in-memory registry for quirks that docker-registry does not show: relative upload `Location`, missing
/// `Docker-Content-Digest`, 429 with `Retry-After`, 500 then success, `OCI-Chunk-Min-Length` with a refused
/// monolithic PUT, and a mount answered with 202. It follows distribution-spec for everything else.
public final class FakeRegistry: Sendable {
    public struct Quirks: Sendable {
        public var relativeLocation = false
        public var omitDigestHeader = false
        /// Answer this many requests with 429 and `Retry-After: 1` first.
        public var rateLimitFirst = 0
        /// Answer this many requests with 500 first.
        public var failFirst = 0
        /// Refuse a PUT that carries the whole blob (413) and advertise this minimum chunk length.
        public var chunkMinLength: Int?
        /// Answer mount requests with 202 and an upload session.
        public var mountAnswers202 = false
        /// Answer this many manifest GETs with a wrong `Docker-Content-Digest`.
        public var wrongManifestDigest = false
        /// Errors as HTML, not JSON (a proxy in front of the registry).
        public var htmlErrors = false
        /// Upload sessions on another host (this URL prefix), as blob stores behind some registries do.
        public var foreignUploadHost: String?
        /// Tag lists that always link to one more page.
        public var endlessPagination = false
        /// The OCI 1.1 referrers API: `GET /v2/<name>/referrers/<digest>` (with the artifactType filter), and
        /// `OCI-Subject` on the answer to a manifest PUT with `subject`. Off, the route 404s like docker-registry 2.8
        /// (plain text, no distribution error).
        public var referrersAPI = false
        /// A broken (or hostile) referrers API that lists every referrer of the repository under every subject.
        public var referrersListedUnderEverySubject = false
        /// Another client wins a race on the referrers fallback index: right after the first PUT of a `sha256-<hex>`
        /// tag, the tag is replaced by this index (it read the old index before that PUT and wrote after it).
        public var racingReferrersIndex: [UInt8]?
        /// Answer every request after this pause, so that requests sent together overlap on the server.
        public var answerDelay: Duration?
        public init() {}
    }

    actor Store {
        var blobs: [String: [UInt8]] = [:]
        /// Which repository holds which blob, as "name@digest": blobs are scoped per repository, as in distribution.
        var links: Set<String> = []
        var uploadRepository: [String: String] = [:]
        var manifests: [String: (bytes: [UInt8], type: String)] = [:]
        var uploads: [String: [UInt8]] = [:]
        var uploadPatched: Set<String> = []
        var log: [String] = []
        /// Referrers index entries (JSON objects, encoded) by "name@subject".
        var referrers: [String: [Data]] = [:]
        var remaining429: Int
        var remaining500: Int
        var raced = false
        /// True the first time only.
        func takeRace() -> Bool {
            defer { raced = true }
            return !raced
        }
        init(quirks: Quirks) {
            remaining429 = quirks.rateLimitFirst
            remaining500 = quirks.failFirst
        }
        func record(_ line: String) { log.append(line) }
        func take429() -> Bool {
            if remaining429 > 0 {
                remaining429 -= 1
                return true
            }
            return false
        }
        func take500() -> Bool {
            if remaining500 > 0 {
                remaining500 -= 1
                return true
            }
            return false
        }
        func blob(_ digest: String) -> [UInt8]? { blobs[digest] }
        func blob(_ digest: String, in repository: String) -> [UInt8]? {
            links.contains("\(repository)@\(digest)") ? blobs[digest] : nil
        }
        func link(_ digest: String, to repository: String) { links.insert("\(repository)@\(digest)") }
        func putBlob(_ digest: String, _ bytes: [UInt8], repository: String) {
            blobs[digest] = bytes
            links.insert("\(repository)@\(digest)")
        }
        func manifest(_ key: String) -> (bytes: [UInt8], type: String)? { manifests[key] }
        func addReferrer(_ key: String, _ entry: Data) {
            guard !(referrers[key] ?? []).contains(entry) else { return }
            referrers[key, default: []].append(entry)
        }
        func referrers(_ key: String) -> [Data] { referrers[key] ?? [] }
        func referrers(in name: String) -> [Data] {
            referrers.filter { $0.key.hasPrefix(name + "@") }.sorted { $0.key < $1.key }.flatMap(\.value)
        }
        /// Removes a manifest by digest with every tag on it, and its referrers index entry.
        func deleteManifest(_ name: String, digest: String) -> Bool {
            guard let bytes = manifests["\(name):\(digest)"]?.bytes else { return false }
            for key in manifests.keys where key.hasPrefix(name + ":") && manifests[key]?.bytes == bytes {
                manifests[key] = nil
            }
            for key in referrers.keys where key.hasPrefix(name + "@") {
                referrers[key]?.removeAll { entry in
                    (try? JSONSerialization.jsonObject(with: entry) as? [String: Any])?["digest"] as? String == digest
                }
            }
            return true
        }
        func putManifest(_ keys: [String], _ bytes: [UInt8], _ type: String) {
            for key in keys { manifests[key] = (bytes, type) }
        }
        func newUpload(_ repository: String) -> String {
            let id = UUID().uuidString.lowercased()
            uploads[id] = []
            uploadRepository[id] = repository
            return id
        }
        func append(_ id: String, _ bytes: [UInt8], patch: Bool) -> Int? {
            guard uploads[id] != nil else { return nil }
            uploads[id]! += bytes
            if patch { uploadPatched.insert(id) }
            return uploads[id]!.count
        }
        func finish(_ id: String) -> (bytes: [UInt8], repository: String)? {
            guard let bytes = uploads.removeValue(forKey: id), let repository = uploadRepository.removeValue(forKey: id)
            else {
                return nil
            }
            uploadPatched.remove(id)
            return (bytes, repository)
        }
        func tags(_ repository: String) -> [String] {
            manifests.keys.filter { $0.hasPrefix(repository + ":") }.map { String($0.dropFirst(repository.count + 1)) }
                .filter { !$0.hasPrefix("sha256:") }.sorted()
        }
    }

    public let quirks: Quirks
    /// Requests being answered now and at most at once.
    public let gauge: RequestGauge
    let store: Store
    let server: TestServer
    public var host: String { "127.0.0.1:\(server.port)" }

    /// Requests seen, as "METHOD path".
    public func requestLog() async -> [String] { await store.log }
    public func blob(_ digest: String) async -> [UInt8]? { await store.blob(digest) }
    public func manifest(_ repository: String, _ reference: String) async -> [UInt8]? {
        await store.manifest("\(repository):\(reference)")?.bytes
    }

    public init(quirks: Quirks = Quirks(), gauge: RequestGauge = RequestGauge()) async throws {
        self.quirks = quirks
        self.gauge = gauge
        let store = Store(quirks: quirks)
        self.store = store
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            await gauge.enter()
            do {
                if let delay = quirks.answerDelay { try await Task.sleep(for: delay) }
                let response = try await Self.handle(request, store: store, quirks: quirks)
                await gauge.leave()
                return response
            } catch {
                await gauge.leave()
                throw error
            }
        }
        for method in [HTTPRequest.Method.get, .head, .post, .put, .patch, .delete] {
            router.on("/**", method: method, use: handler)
        }
        server = try await TestServer(router: router)
    }

    public func stop() { server.stop() }
    /// Stops the server gracefully and waits until it has.
    public func shutdown() async { await server.shutdown() }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String, html: Bool = false) -> Response
    {
        if html {
            return Response(
                status: status, headers: [.contentType: "text/html"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: "<html><body><h1>\(status.code) oops</h1>\n<p>upstream</p></body></html>")))
        }
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"errors":[{"code":"\#(code)","message":"\#(message)"}]}"#)))
    }

    static func digest(_ bytes: [UInt8]) -> String {
        "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    static func handle(_ request: Request, store: Store, quirks: Quirks) async throws -> Response {
        var request = request
        let path = request.uri.path
        let query = request.uri.queryParameters
        await store.record(
            "\(request.method.rawValue) \(path)" + (request.headers[.authorization] != nil ? " [auth]" : ""))
        if path != "/v2/" || request.method != .get {
            if await store.take429() {
                return Response(status: .tooManyRequests, headers: [HTTPField.Name("Retry-After")!: "1"])
            }
            if await store.take500() { return error(.internalServerError, "UNKNOWN", "transient failure") }
        }
        if path == "/v2/" || path == "/v2" { return Response(status: .ok) }
        // Upload sessions live at /upload/<id>.
        if path.hasPrefix("/upload/") {
            let id = String(path.dropFirst("/upload/".count))
            let body = Array(buffer: try await request.collectBody(upTo: 64 << 20))
            switch request.method {
            case .patch:
                if let minimum = quirks.chunkMinLength, body.count < minimum, request.headers[.contentRange] == nil {
                    return error(.rangeNotSatisfiable, "BLOB_UPLOAD_INVALID", "chunk too small")
                }
                guard let size = await store.append(id, body, patch: true) else {
                    return error(.notFound, "BLOB_UPLOAD_UNKNOWN", "no upload")
                }
                return Response(
                    status: .accepted,
                    headers: [
                        .location: location("/upload/\(id)", quirks, request.head.authority), .range: "0-\(size - 1)",
                    ])
            case .put:
                if quirks.chunkMinLength != nil, !body.isEmpty {
                    return error(.contentTooLarge, "BLOB_UPLOAD_INVALID", "send chunks")
                }
                _ = await store.append(id, body, patch: false)
                guard let (bytes, repository) = await store.finish(id) else {
                    return error(.notFound, "BLOB_UPLOAD_UNKNOWN", "no upload")
                }
                let digest = digest(bytes)
                guard query.get("digest") == digest else {
                    return error(.badRequest, "DIGEST_INVALID", "digest mismatch")
                }
                await store.putBlob(digest, bytes, repository: repository)
                var headers: HTTPFields = [.location: "/v2/blobs/\(digest)"]
                if !quirks.omitDigestHeader { headers[.dockerContentDigest] = digest }
                return Response(status: .created, headers: headers)
            default:
                return error(.methodNotAllowed, "UNSUPPORTED", "method")
            }
        }
        guard path.hasPrefix("/v2/") else { return error(.notFound, "NAME_UNKNOWN", "no such path") }
        let rest = String(path.dropFirst(4))
        if rest.hasSuffix("/blobs/uploads/") || rest.hasSuffix("/blobs/uploads") {
            let name = String(rest[..<rest.range(of: "/blobs/uploads")!.lowerBound])
            if let mount = query.get("mount") {
                if !quirks.mountAnswers202, await store.blob(mount) != nil {
                    await store.link(mount, to: name)
                    return Response(status: .created, headers: [.location: "/v2/\(name)/blobs/\(mount)"])
                }
            }
            let id = await store.newUpload(name)
            var headers: HTTPFields = [
                .location: location("/upload/\(id)", quirks, request.head.authority), .range: "0-0",
            ]
            if let minimum = quirks.chunkMinLength { headers[.ociChunkMinLength] = "\(minimum)" }
            return Response(status: .accepted, headers: headers)
        }
        if !quirks.referrersAPI, rest.contains("/referrers/sha256:") {
            // docker-registry 2.8 has no such route: its router's plain-text 404, no distribution error.
            return Response(
                status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "404 page not found\n")))
        }
        if quirks.referrersAPI, let range = rest.range(of: "/referrers/"), request.method == .get {
            let name = String(rest[..<range.lowerBound])
            let subject = String(rest[range.upperBound...])
            let listed =
                quirks.referrersListedUnderEverySubject
                ? await store.referrers(in: name) : await store.referrers("\(name)@\(subject)")
            var entries = listed.compactMap {
                try? JSONSerialization.jsonObject(with: $0) as? [String: Any]
            }
            var headers: HTTPFields = [.contentType: "application/vnd.oci.image.index.v1+json"]
            if let type = query.get("artifactType") {
                entries = entries.filter { $0["artifactType"] as? String == type }
                headers[HTTPField.Name("OCI-Filters-Applied")!] = "artifactType"
            }
            let body = try JSONSerialization.data(
                withJSONObject: [
                    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries,
                ] as [String: Any])
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Array(body))))
        }
        if let range = rest.range(of: "/blobs/") {
            let name = String(rest[..<range.lowerBound])
            let digest = String(rest[range.upperBound...])
            guard let bytes = await store.blob(digest, in: name) else {
                return error(.notFound, "BLOB_UNKNOWN", "blob unknown")
            }
            let headers: HTTPFields = [.contentLength: "\(bytes.count)", .dockerContentDigest: digest]
            if request.method == .head { return Response(status: .ok, headers: headers) }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        if let range = rest.range(of: "/manifests/") {
            let name = String(rest[..<range.lowerBound])
            let reference = String(rest[range.upperBound...])
            switch request.method {
            case .put:
                let bytes = Array(buffer: try await request.collectBody(upTo: 4 << 20))
                let digest = digest(bytes)
                let type = request.headers[.contentType] ?? ""
                if reference.hasPrefix("sha256:"), reference != digest {
                    return error(.badRequest, "DIGEST_INVALID", "mismatch")
                }
                await store.putManifest(["\(name):\(reference)", "\(name):\(digest)"], bytes, type)
                if let racing = quirks.racingReferrersIndex, reference.hasPrefix("sha256-"), !reference.contains("."),
                    await store.takeRace()
                {
                    await store.putManifest(
                        ["\(name):\(reference)", "\(name):\(Self.digest(racing))"], racing,
                        "application/vnd.oci.image.index.v1+json")
                }
                var headers: HTTPFields = [.location: "/v2/\(name)/manifests/\(digest)"]
                if quirks.referrersAPI,
                    let document = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                    let subject = (document["subject"] as? [String: Any])?["digest"] as? String
                {
                    // distribution-spec: artifactType, else the config's media type.
                    var entry: [String: Any] = ["mediaType": type, "digest": digest, "size": bytes.count]
                    let configType = (document["config"] as? [String: Any])?["mediaType"] as? String
                    if let artifactType = document["artifactType"] as? String ?? configType {
                        entry["artifactType"] = artifactType
                    }
                    if let annotations = document["annotations"] { entry["annotations"] = annotations }
                    await store.addReferrer(
                        "\(name)@\(subject)", try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]))
                    headers[HTTPField.Name("OCI-Subject")!] = subject
                }
                if !quirks.omitDigestHeader { headers[.dockerContentDigest] = digest }
                return Response(status: .created, headers: headers)
            case .get, .head:
                guard let (bytes, type) = await store.manifest("\(name):\(reference)") else {
                    if quirks.htmlErrors { return error(.badGateway, "", "", html: true) }
                    return error(.notFound, "MANIFEST_UNKNOWN", "manifest unknown")
                }
                var headers: HTTPFields = [.contentType: type, .contentLength: "\(bytes.count)"]
                if quirks.wrongManifestDigest {
                    headers[.dockerContentDigest] = "sha256:" + String(repeating: "0", count: 64)
                } else if !quirks.omitDigestHeader {
                    headers[.dockerContentDigest] = digest(bytes)
                }
                if request.method == .head { return Response(status: .ok, headers: headers) }
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            case .delete:
                guard reference.hasPrefix("sha256:"), await store.deleteManifest(name, digest: reference) else {
                    return error(.notFound, "MANIFEST_UNKNOWN", "manifest unknown")
                }
                return Response(status: .accepted)
            default:
                return error(.methodNotAllowed, "UNSUPPORTED", "method")
            }
        }
        if rest.hasSuffix("/tags/list") {
            let name = String(rest.dropLast("/tags/list".count))
            if quirks.endlessPagination {
                let page = Int(query.get("last") ?? "0") ?? 0
                let body = try JSONSerialization.data(withJSONObject: ["name": name, "tags": ["t\(page)"]])
                return Response(
                    status: .ok,
                    headers: [
                        .contentType: "application/json",
                        HTTPField.Name("Link")!: "</v2/\(name)/tags/list?n=1&last=\(page + 1)>; rel=\"next\"",
                    ],
                    body: .init(byteBuffer: ByteBuffer(bytes: Array(body))))
            }
            var tags = await store.tags(name)
            if let last = query.get("last") { tags = tags.filter { $0 > last } }
            let n = min(Int(query.get("n") ?? "") ?? 1000, 2)  // small pages, to exercise Link pagination
            let page = Array(tags.prefix(n))
            var headers: HTTPFields = [.contentType: "application/json"]
            if tags.count > n, let lastTag = page.last {
                headers[HTTPField.Name("Link")!] = "</v2/\(name)/tags/list?n=\(n)&last=\(lastTag)>; rel=\"next\""
            }
            let body = try JSONSerialization.data(withJSONObject: ["name": name, "tags": page])
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Array(body))))
        }
        return error(.notFound, "NAME_UNKNOWN", "no such path")
    }

    static func location(_ path: String, _ quirks: Quirks, _ authority: String?) -> String {
        if let foreign = quirks.foreignUploadHost, path.hasPrefix("/upload/") { return foreign + path + "?_state=abc" }
        // GHCR answers with a relative Location; others with an absolute one (the host is filled in by the client).
        return quirks.relativeLocation
            ? path + "?_state=abc" : "http://\(authority ?? "127.0.0.1")" + path + "?_state=abc"
    }
}
