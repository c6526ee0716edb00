import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PierEngine
import PierHTTP
import PierHostedAPIs
import PierModel
import PierRegistry
import PierTestSupport
import Testing

/// ECR tokens are kept for their lifetime and fetched again when a run outlives it, against a fake of
/// GetAuthorizationToken that follows the API reference and hands out a new password at each call (moto's tokens
/// carry a fixed `expiresAt` in 2015 and the same password every time, so they cannot show a renewal).
struct ECRLoginCacheTests {
    final class ManualClock: @unchecked Sendable {
        private let lock = NSLock()
        private var current: Date
        init(_ start: Date) { current = start }
        var now: Date { lock.withLock { current } }
        func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
    }

    actor Calls {
        var count = 0
        func next() -> Int {
            count += 1
            return count
        }
    }

    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"

    @Test func tokenIsCachedForItsLifetimeAndRenewed() async throws {
        let calls = Calls()
        let router = Router()
        router.post("/") { request, _ -> Response in
            guard
                request.headers[HTTPField.Name("X-Amz-Target")!]
                    == "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
                request.headers[.authorization]?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDCACHE/") ?? false
            else { return Response(status: .badRequest) }
            let n = await calls.next()
            let body = try JSONSerialization.data(withJSONObject: [
                "authorizationData": [
                    [
                        "authorizationToken": Data("AWS:password-\(n)".utf8).base64EncodedString(),
                        "expiresAt": Self.start.timeIntervalSince1970 + 12 * 3_600,
                        "proxyEndpoint": "https://\(Self.host)",
                    ]
                ]
            ])
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(data: body)))
        }
        let server = try await TestServer(router: router)
        let transport = try HTTPTransport(caFile: nil, concurrency: 1)
        let clock = ManualClock(Self.start)
        let provider = AWSCredentialProvider(
            credentials: AWSCredentials(accessKeyID: "AKIDCACHE", secretAccessKey: "s", source: "test"))
        let login = ECRLogin(
            targets: [:], defaultRegion: "eu-west-1", defaultEndpoint: "http://127.0.0.1:\(server.port)",
            provider: provider, now: { clock.now })

        #expect(login.logsIn(to: Self.host))
        #expect(!login.logsIn(to: "registry.example.com"))
        #expect(try await login.credential(for: "registry.example.com", transport: transport) == .anonymous)
        #expect(await calls.count == 0)

        let first = try await login.credential(for: Self.host, transport: transport)
        #expect(first == .basic(username: "AWS", password: "password-1"))
        clock.advance(11 * 3_600)
        #expect(try await login.credential(for: Self.host, transport: transport) == first)
        #expect(await calls.count == 1)
        // Within the renewal margin of expiresAt: a new token.
        clock.advance(3_600 - ECRLogin.renewalMargin + 1)
        #expect(
            try await login.credential(for: Self.host, transport: transport)
                == .basic(username: "AWS", password: "password-2"))
        // Refused by the registry: forgotten and fetched again.
        await login.invalidate(registry: Self.host)
        #expect(
            try await login.credential(for: Self.host, transport: transport)
                == .basic(username: "AWS", password: "password-3"))

        // An explicit credential (or docker login) for the host wins over the ECR login.
        var chain = CredentialChain(
            explicitByHost: [Self.host: .basic(username: "me", password: "given")],
            dockerConfig: DockerConfig(path: "/nonexistent/config.json"), gitHubToken: nil)
        chain.loginSource = login
        let pinged = try chain.credential(for: Self.host)
        #expect(
            try await chain.current(for: Self.host, pinged: pinged, transport: transport)
                == .basic(username: "me", password: "given"))
        #expect(await calls.count == 3)
        await transport.shutdown()
        await server.shutdown()
    }
}
