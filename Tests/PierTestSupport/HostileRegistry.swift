import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A server that misbehaves on purpose, for what pier promises against registries it does not control: foreign
/// challenges after a redirect or an upload `Location`, non-http URLs, plain-http realms, trickled bodies, endless
/// tag lists. It records every request with its `Authorization` header, so tests count what reached it.
public final class HostileRegistry: Sendable {
    /// One request as the server saw it.
    public struct Seen: Sendable, Equatable, CustomStringConvertible {
        public var method: String
        public var path: String
        public var authorization: String?
        public var description: String { "\(method) \(path)\(authorization.map { " [\($0.prefix(6))…]" } ?? "")" }
    }

    public enum Behaviour: Sendable {
        /// Every request is answered 401 with this `WWW-Authenticate` (an origin that is not the registry);
        /// `{self}` in it becomes this server's `host:port`.
        case challengeEverything(String)
        /// A registry with Basic auth: blob GETs redirect to `redirectBlobsTo` + `/blobs/DIGEST`, upload sessions
        /// are at `uploadLocation`. Blob HEADs answer 404.
        case basicRegistry(user: String, password: String, redirectBlobsTo: String?, uploadLocation: String?)
        /// `/v2/` and everything else answer 401 `Bearer realm="REALM",service="hostile"` (no token is ever good).
        case bearerRealm(String)
        /// Manifests are sent at one byte a second.
        case trickleManifests
        /// `GET /v2/` is answered 500 with a registry error (over plain HTTP only); every other path 404.
        case failingPing
        /// Tag list pages that always link to a next page (`repeating`: the same page again).
        case endlessTags(repeating: Bool)
        /// A tag list whose next page is on `origin` (another server).
        case tagsContinuedElsewhere(origin: String)
        /// Asks for Basic credentials, then refuses every request but `/v2/` with 403 DENIED, its message echoing the
        /// `Authorization` header it got, decoded and as sent.
        case echoAuthorization
        /// A token server: every request is answered 200 with `body` as JSON.
        case tokenAnswer(String)
        /// `tags/list` answers these names in one page (whatever they are); every other path but `/v2/` is 404.
        case listsTags([String])
        /// A blob store (where a registry redirects blob GETs): every GET is answered 200 with `body`, in pieces of
        /// `piece` bytes.
        case blobStore(body: [UInt8], piece: Int)
        /// Every request but `/v2/` is answered 404 with an endless body: a byte a second (`trickle`), or 64 KiB
        /// pieces as fast as they are read.
        case endlessErrorBody(trickle: Bool)
        /// Upload sessions open (202 with a Location); every PUT and PATCH into one is answered `status` at once,
        /// with a proxy's HTML page (or nothing), its body never read.
        case refuseUploadsUnread(status: Int, page: Bool)
    }

    actor Log {
        var seen: [Seen] = []
        func add(_ entry: Seen) { seen.append(entry) }
    }

    let log = Log()
    let server: TestServer
    /// `127.0.0.1:PORT` (nil port for a UNIX socket server).
    public var host: String { "127.0.0.1:\(server.port)" }
    public var port: Int { server.port }

    /// Requests seen so far, in order.
    public func requests() async -> [Seen] { await log.seen }

    /// Listens on 127.0.0.1 and an ephemeral port, or on the UNIX socket at `unixSocket`.
    public init(_ behaviour: Behaviour, unixSocket: String? = nil) async throws {
        let log = self.log
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            await log.add(
                Seen(
                    method: request.method.rawValue, path: request.uri.path,
                    authorization: request.headers[.authorization]))
            return Self.answer(request, behaviour)
        }
        for method in [HTTPRequest.Method.get, .head, .post, .put, .patch, .delete] {
            router.on("/**", method: method, use: handler)
        }
        server = try await TestServer(
            router: router, address: unixSocket.map { .unixDomainSocket(path: $0) } ?? .hostname("127.0.0.1", port: 0))
    }

    public func stop() { server.stop() }
    /// Stops the server gracefully and waits until it has.
    public func shutdown() async { await server.shutdown() }

    static func answer(_ request: Request, _ behaviour: Behaviour) -> Response {
        let path = request.uri.path
        switch behaviour {
        case .challengeEverything(let challenge):
            let authority = request.head.authority ?? ""
            return Response(
                status: .unauthorized,
                headers: [.wwwAuthenticate: challenge.replacingOccurrences(of: "{self}", with: authority)])
        case .bearerRealm(let realm):
            return Response(
                status: .unauthorized, headers: [.wwwAuthenticate: #"Bearer realm="\#(realm)",service="hostile""#])
        case .basicRegistry(let user, let password, let redirect, let upload):
            let expected = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
            guard request.headers[.authorization] == expected else {
                return Response(status: .unauthorized, headers: [.wwwAuthenticate: #"Basic realm="hostile""#])
            }
            if path == "/v2/" { return Response(status: .ok) }
            if path.contains("/blobs/uploads"), let upload {
                return Response(status: .accepted, headers: [.location: upload, .range: "0-0"])
            }
            if let range = path.range(of: "/blobs/") {
                let digest = String(path[range.upperBound...])
                if request.method == .get, let redirect {
                    return Response(status: .temporaryRedirect, headers: [.location: "\(redirect)/blobs/\(digest)"])
                }
            }
            return Response(status: .notFound)
        case .failingPing:
            guard path == "/v2/" else { return Response(status: .notFound) }
            return Response(
                status: .internalServerError, headers: [.contentType: "application/json"],
                body: .init(
                    byteBuffer: ByteBuffer(string: #"{"errors":[{"code":"UNKNOWN","message":"storage offline"}]}"#)))
        case .trickleManifests:
            if path == "/v2/" { return Response(status: .ok) }
            let manifest = Array(
                #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#.utf8)
            let body = ResponseBody { writer in
                for byte in manifest {
                    try await writer.write(ByteBuffer(bytes: [byte]))
                    try await Task.sleep(for: .seconds(1))
                }
                try await writer.finish(nil)
            }
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/vnd.oci.image.index.v1+json", .contentLength: "\(manifest.count)",
                ],
                body: body)
        case .endlessTags(let repeating):
            if path == "/v2/" { return Response(status: .ok) }
            let page = repeating ? 0 : (Int(request.uri.queryParameters.get("last") ?? "0") ?? 0) + 1
            let body = #"{"name":"app","tags":["t\#(page)"]}"#
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/json",
                    HTTPField.Name("Link")!: "</v2/app/tags/list?n=1&last=\(page)>; rel=\"next\"",
                ],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        case .echoAuthorization:
            guard let authorization = request.headers[.authorization] else {
                return Response(status: .unauthorized, headers: [.wwwAuthenticate: #"Basic realm="hostile""#])
            }
            if path == "/v2/" { return Response(status: .ok) }
            let token = authorization.split(separator: " ").last.map(String.init) ?? ""
            let decoded = Data(base64Encoded: token).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let body = #"{"errors":[{"code":"DENIED","message":"creds \#(decoded) \#(authorization) denied"}]}"#
            return Response(
                status: .forbidden, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        case .tokenAnswer(let body):
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        case .listsTags(let tags):
            if path == "/v2/" { return Response(status: .ok) }
            guard path.hasSuffix("/tags/list") else { return Response(status: .notFound) }
            let names = tags.map { "\"\($0)\"" }.joined(separator: ",")
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"name":"app","tags":[\#(names)]}"#)))
        case .blobStore(let bytes, let piece):
            let body = ResponseBody { writer in
                for start in stride(from: 0, to: bytes.count, by: piece) {
                    try await writer.write(ByteBuffer(bytes: bytes[start..<min(bytes.count, start + piece)]))
                }
                try await writer.finish(nil)
            }
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream", .contentLength: "\(bytes.count)"],
                body: body)
        case .endlessErrorBody(let trickle):
            if path == "/v2/" { return Response(status: .ok) }
            let body = ResponseBody { writer in
                while true {
                    try await writer.write(ByteBuffer(repeating: UInt8(ascii: "x"), count: trickle ? 1 : 65_536))
                    if trickle { try await Task.sleep(for: .seconds(1)) }
                }
            }
            return Response(status: .notFound, headers: [.contentType: "text/plain"], body: body)
        case .refuseUploadsUnread(let status, let page):
            if path == "/v2/" { return Response(status: .ok) }
            if request.method == .post, path.hasSuffix("/blobs/uploads/") {
                return Response(status: .accepted, headers: [.location: "/v2/app/blobs/uploads/1", .range: "0-0"])
            }
            // What a proxy in front of a registry sends (nginx's client_max_body_size).
            return Response(
                status: HTTPResponse.Status(code: status), headers: [.contentType: "text/html"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: page ? "<html><body><h1>Request Entity Too Large</h1></body></html>" : "")))
        case .tagsContinuedElsewhere(let origin):
            if path == "/v2/" { return Response(status: .ok) }
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/json",
                    HTTPField.Name("Link")!: "<\(origin)/v2/app/tags/list?n=1&last=t0>; rel=\"next\"",
                ],
                body: .init(byteBuffer: ByteBuffer(string: #"{"name":"app","tags":["t0"]}"#)))
        }
    }
}
