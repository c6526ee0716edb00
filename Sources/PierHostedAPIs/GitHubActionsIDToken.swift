import Foundation
import NIOHTTP1
import PierHTTP
import PierModel

/// GitHub Actions' OIDC ID token ("Configuring OpenID Connect in cloud providers"): a GET of
/// `ACTIONS_ID_TOKEN_REQUEST_URL` with `&audience=…`, authorised by `ACTIONS_ID_TOKEN_REQUEST_TOKEN` as a bearer
/// token, answers `{"value": "<JWT>"}`. The job needs `permissions: id-token: write`.
public struct GitHubActionsIDToken: Sendable {
    let api: APIClient
    let requestURL: String
    let requestToken: String

    public init(transport: HTTPTransport, requestURL: String, requestToken: String) {
        api = APIClient(transport: transport, service: "GitHub Actions ID token service")
        self.requestURL = requestURL
        self.requestToken = requestToken
    }

    /// An ID token for `audience`.
    public func token(audience: String) async throws(PierError) -> String {
        guard var components = URLComponents(string: requestURL), let scheme = components.scheme,
            ["http", "https"].contains(scheme.lowercased())
        else {
            throw PierError(
                .usage, operation: "get GitHub Actions ID token",
                message: "ACTIONS_ID_TOKEN_REQUEST_URL is not an http(s) URL")
        }
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "audience", value: audience)]
        let answer = try await api.call(
            .GET, components.string ?? requestURL, headers: ["Authorization": "Bearer \(requestToken)"],
            operation: "get GitHub Actions ID token")
        guard let value = (answer.json as? [String: Any])?["value"] as? String, !value.isEmpty else {
            throw PierError(
                .auth, operation: "get GitHub Actions ID token", message: "the answer has no token",
                hint: "give the job permissions: id-token: write")
        }
        return value
    }
}
