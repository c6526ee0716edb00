import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A registry and a GitHub-style API that both count a request budget and announce it as the real services do:
/// Docker Hub's `ratelimit-remaining: N;w=21600` on manifest answers (a HEAD is free, a GET spends one), and
/// GitHub's `x-ratelimit-remaining` with `x-ratelimit-reset` (epoch seconds) on every API answer. A request the
/// budget does not cover is refused (429 for the registry, 403 for the API) and counted, so tests see whether pier
/// sent a request the service would refuse.
public final class RateLimitedServer: Sendable {
    /// The manifest served for every reference.
    public static let manifest = Array(
        #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#
            .utf8)
    /// Docker Hub's anonymous window.
    public static let window = 21_600

    actor Budget {
        var pulls: Int
        var apiLimit: Int
        var apiRemaining: Int
        var apiReset: Int
        let apiPeriod: Int
        var refused = 0
        var manifestGets = 0
        var apiRequests = 0

        init(pulls: Int, apiLimit: Int, apiResetIn: Int) {
            self.pulls = pulls
            self.apiLimit = apiLimit
            apiRemaining = apiLimit
            apiPeriod = apiResetIn
            apiReset = Int(Date().timeIntervalSince1970) + apiResetIn
        }

        /// Spends a pull; false when none is left.
        func pull() -> Bool {
            guard pulls > 0 else {
                refused += 1
                return false
            }
            pulls -= 1
            manifestGets += 1
            return true
        }

        /// Spends an API request; false when none is left before the reset. At the reset the budget refills.
        func call() -> Bool {
            let now = Int(Date().timeIntervalSince1970)
            if now >= apiReset {
                apiRemaining = apiLimit
                apiReset = now + apiPeriod
            }
            guard apiRemaining > 0 else {
                refused += 1
                return false
            }
            apiRemaining -= 1
            apiRequests += 1
            return true
        }
    }

    let budget: Budget
    let server: TestServer
    /// `127.0.0.1:PORT`.
    public var host: String { "127.0.0.1:\(server.port)" }
    /// `http://127.0.0.1:PORT`, the API's base URL.
    public var base: String { "http://\(host)" }

    /// Requests the budget did not cover, refused.
    public func refused() async -> Int { await budget.refused }
    /// Manifest GETs served.
    public func manifestGets() async -> Int { await budget.manifestGets }
    /// API requests served.
    public func apiRequests() async -> Int { await budget.apiRequests }

    /// `pulls` manifest GETs for the registry; `apiLimit` API requests per window of `apiResetIn` seconds.
    public init(pulls: Int, apiLimit: Int = 60, apiResetIn: Int = 3_600) async throws {
        let budget = Budget(pulls: pulls, apiLimit: apiLimit, apiResetIn: apiResetIn)
        self.budget = budget
        let router = Router()
        router.get("/v2/") { _, _ -> Response in Response(status: .ok) }
        @Sendable func pullHeaders() async -> HTTPFields {
            let left = await budget.pulls
            return [
                .contentType: "application/vnd.oci.image.manifest.v1+json",
                HTTPField.Name("Docker-Content-Digest")!: "sha256:" + ImageFixtures.sha256Hex(Data(Self.manifest)),
                HTTPField.Name("ratelimit-limit")!: "100;w=\(Self.window)",
                HTTPField.Name("ratelimit-remaining")!: "\(left);w=\(Self.window)",
            ]
        }
        router.head("/v2/:name/manifests/:reference") { _, _ -> Response in
            var headers = await pullHeaders()
            headers[.contentLength] = "\(Self.manifest.count)"
            return Response(status: .ok, headers: headers)
        }
        router.get("/v2/:name/manifests/:reference") { _, _ -> Response in
            guard await budget.pull() else {
                return Response(
                    status: .tooManyRequests, headers: await pullHeaders(),
                    body: .init(byteBuffer: ByteBuffer(string: #"{"errors":[{"code":"TOOMANYREQUESTS"}]}"#)))
            }
            return Response(
                status: .ok, headers: await pullHeaders(), body: .init(byteBuffer: ByteBuffer(bytes: Self.manifest)))
        }
        router.get("/orgs/:org/packages/container/:package/versions") { _, _ -> Response in
            let served = await budget.call()
            var headers: HTTPFields = [
                .contentType: "application/json",
                HTTPField.Name("x-ratelimit-limit")!: "\(await budget.apiLimit)",
                HTTPField.Name("x-ratelimit-remaining")!: "\(await budget.apiRemaining)",
                HTTPField.Name("x-ratelimit-reset")!: "\(await budget.apiReset)",
            ]
            guard served else {
                headers[HTTPField.Name("x-ratelimit-remaining")!] = "0"
                return Response(
                    status: .forbidden, headers: headers,
                    body: .init(byteBuffer: ByteBuffer(string: #"{"message":"API rate limit exceeded"}"#)))
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "[]")))
        }
        server = try await TestServer(router: router)
    }

    public func stop() { server.stop() }
}
