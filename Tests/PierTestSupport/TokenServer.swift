import Crypto
import Foundation
import Hummingbird
import NIOCore

/// A distribution token server (docker token.md) for `TestRegistry(auth: .token)`: checks Basic credentials or a
/// refresh token, and signs ES256 JWTs with an `x5c` certificate the registry trusts. It counts requests per scope
/// so tests can see token caching.
public final class TokenServer: Sendable {
    public let certificates: Certificates
    public let service = "pier-test-registry"
    public let issuer = "pier-test-issuer"
    public let user: String
    public let password: String
    public let refreshToken = "pier-refresh-token"
    let server: TestServer
    let counter: Counter
    public var realm: String { "http://127.0.0.1:\(server.port)/token" }

    actor Counter {
        var byScope: [String: Int] = [:]
        func add(_ scope: String) { byScope[scope, default: 0] += 1 }
    }

    /// Token requests seen, by space-joined sorted scopes.
    public func requests() async -> [String: Int] { await counter.byScope }

    public init(certificates: Certificates, user: String = "pier", password: String = "s3cret-pw", lifetime: Int = 300)
        async throws
    {
        self.certificates = certificates
        self.user = user
        self.password = password
        let counter = Counter()
        self.counter = counter
        let key = try P256.Signing.PrivateKey(
            pemRepresentation: String(contentsOfFile: certificates.tokenKey, encoding: .utf8))
        let pem = try String(contentsOfFile: certificates.tokenCert, encoding: .utf8)
        let der = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let service = self.service
        let issuer = self.issuer
        let refresh = refreshToken
        let router = Router()
        @Sendable func issue(subject: String, scopes: [String]) throws -> Response {
            var access: [[String: Any]] = []
            for scope in scopes {
                let parts = scope.split(separator: ":", maxSplits: 2).map(String.init)
                guard parts.count == 3 else { continue }
                access.append([
                    "type": parts[0], "name": parts[1], "actions": parts[2].split(separator: ",").map(String.init),
                ])
            }
            let now = Int(Date().timeIntervalSince1970)
            let header: [String: Any] = ["typ": "JWT", "alg": "ES256", "x5c": [der]]
            let claims: [String: Any] = [
                "iss": issuer, "sub": subject, "aud": service, "exp": now + lifetime, "nbf": now - 10, "iat": now,
                "jti": UUID().uuidString, "access": access,
            ]
            let signingInput =
                try base64URL(JSONSerialization.data(withJSONObject: header)) + "."
                + base64URL(JSONSerialization.data(withJSONObject: claims))
            let signature = try key.signature(for: Data(signingInput.utf8)).rawRepresentation
            let token = signingInput + "." + base64URL(signature)
            let body = try JSONSerialization.data(withJSONObject: [
                "token": token, "access_token": token, "expires_in": lifetime,
            ])
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(data: body)))
        }
        router.get("/token") { request, _ -> Response in
            let scopes = request.uri.queryParameters.getAll("scope").map { String($0) }
            await counter.add(scopes.sorted().joined(separator: " "))
            guard let authorization = request.headers[.authorization], authorization.hasPrefix("Basic "),
                let decoded = Data(base64Encoded: String(authorization.dropFirst(6))).flatMap({
                    String(data: $0, encoding: .utf8)
                }),
                decoded == "\(user):\(password)"
            else {
                return Response(
                    status: .unauthorized,
                    body: .init(
                        byteBuffer: ByteBuffer(
                            string: #"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#)))
            }
            return try issue(subject: user, scopes: scopes)
        }
        router.post("/token") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 16)
            var form: [String: String] = [:]
            for pair in String(buffer: body).split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map {
                    String($0).removingPercentEncoding ?? String($0)
                }
                if kv.count == 2 { form[kv[0]] = kv[1] }
            }
            let scopes = (form["scope"] ?? "").split(separator: " ").map(String.init)
            await counter.add(scopes.sorted().joined(separator: " "))
            guard form["grant_type"] == "refresh_token", form["refresh_token"] == refresh else {
                return Response(status: .unauthorized)
            }
            return try issue(subject: user, scopes: scopes)
        }
        server = try await TestServer(router: router)
    }

    public func stop() { server.stop() }
    /// Stops the server gracefully and waits until it has.
    public func shutdown() async { await server.shutdown() }
}

func base64URL(_ data: Data) -> String {
    data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}
