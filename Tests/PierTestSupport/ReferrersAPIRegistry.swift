import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `FakeRegistry` plus the OCI 1.1 referrers API, which docker-registry 2.8 lacks (distribution-spec §Listing
/// Referrers, §Pushing Manifests with Subject): `GET /v2/<name>/referrers/<digest>` answers an index of the
/// manifests pushed with that subject, and such a push is answered with `OCI-Subject`.
public final class ReferrersAPIRegistry: Sendable {
    let server: TestServer
    let referrers: Referrers
    public var host: String { "127.0.0.1:\(server.port)" }

    /// Descriptors of the manifests pushed with a subject, by "name@subject-digest".
    actor Referrers {
        var byKey: [String: [Data]] = [:]
        func add(_ descriptor: Data, key: String) { byKey[key, default: []].append(descriptor) }
        func list(_ key: String) -> [Data] { byKey[key] ?? [] }
    }

    public init() async throws {
        let quirks = FakeRegistry.Quirks()
        let store = FakeRegistry.Store(quirks: quirks)
        let referrers = Referrers()
        self.referrers = referrers
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            try await Self.handle(request, store: store, referrers: referrers, quirks: quirks)
        }
        for method in [HTTPRequest.Method.get, .head, .post, .put, .patch, .delete] {
            router.on("/**", method: method, use: handler)
        }
        server = try await TestServer(router: router)
    }

    /// The descriptors listed for `digest` in `name`, as the referrers API lists them.
    public func referrers(of digest: String, in name: String) async -> [[String: Any]] {
        await referrers.list("\(name)@\(digest)").compactMap {
            try? JSONSerialization.jsonObject(with: $0) as? [String: Any]
        }
    }

    public func shutdown() async { await server.shutdown() }

    static func handle(
        _ request: Request, store: FakeRegistry.Store, referrers: Referrers, quirks: FakeRegistry.Quirks
    ) async throws -> Response {
        var request = request
        let path = request.uri.path
        if request.method == .get, path.hasPrefix("/v2/"), let range = path.range(of: "/referrers/") {
            let key =
                "\(path[path.index(path.startIndex, offsetBy: 4)..<range.lowerBound])@\(path[range.upperBound...])"
            let manifests = await referrers.list(key).compactMap { try? JSONSerialization.jsonObject(with: $0) }
            let index = try JSONSerialization.data(withJSONObject: [
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests,
            ])
            return Response(
                status: .ok, headers: [.contentType: "application/vnd.oci.image.index.v1+json"],
                body: .init(byteBuffer: ByteBuffer(bytes: Array(index))))
        }
        guard request.method == .put, path.hasPrefix("/v2/"), let range = path.range(of: "/manifests/") else {
            return try await FakeRegistry.handle(request, store: store, quirks: quirks)
        }
        let body = Array(buffer: try await request.collectBody(upTo: 4 << 20))
        var response = try await FakeRegistry.handle(request, store: store, quirks: quirks)
        guard response.status == .created,
            let document = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let subject = (document["subject"] as? [String: Any])?["digest"] as? String
        else { return response }
        var descriptor: [String: Any] = [
            "mediaType": request.headers[.contentType] ?? "", "digest": FakeRegistry.digest(body), "size": body.count,
        ]
        if let artifactType = document["artifactType"] { descriptor["artifactType"] = artifactType }
        let name = String(path[path.index(path.startIndex, offsetBy: 4)..<range.lowerBound])
        await referrers.add(try JSONSerialization.data(withJSONObject: descriptor), key: "\(name)@\(subject)")
        response.headers[HTTPField.Name("OCI-Subject")!] = subject
        return response
    }
}
