import Foundation
import NIOHTTP1
import PierHTTP
import PierModel

/// AWS STS's `AssumeRoleWithWebIdentity` (Query protocol, API version 2011-06-15): an OIDC token (a Kubernetes
/// service account's, GitHub Actions') exchanged for temporary credentials of a role that trusts its issuer. The
/// call is not signed: the web identity token is the credential.
public struct STSAPI: Sendable {
    let api: APIClient
    let endpoint: String

    /// Seconds the assumed credentials last: STS's default, and the least every role allows.
    static let sessionSeconds = 3_600
    /// Characters of a role session name STS accepts (`[\w+=,.@-]{2,64}`).
    static let sessionNameLimit = 64

    /// `endpoint` defaults to STS's regional endpoint (`https://sts.REGION.amazonaws.com`), else the global one.
    public init(transport: HTTPTransport, region: String?, endpoint: String? = nil) {
        api = APIClient(transport: transport, service: "AWS STS")
        self.endpoint = endpoint ?? region.map { "https://sts.\($0).amazonaws.com" } ?? "https://sts.amazonaws.com"
    }

    /// Temporary credentials of `roleARN` for `webIdentityToken`; `source` says where the token came from.
    public func assumeRoleWithWebIdentity(
        roleARN: String, sessionName: String, webIdentityToken: String, source: String
    ) async throws(PierError) -> AWSCredentials {
        var form = URLComponents()
        form.queryItems = [
            URLQueryItem(name: "Action", value: "AssumeRoleWithWebIdentity"),
            URLQueryItem(name: "Version", value: "2011-06-15"),
            URLQueryItem(name: "RoleArn", value: roleARN),
            URLQueryItem(name: "RoleSessionName", value: String(sessionName.prefix(Self.sessionNameLimit))),
            URLQueryItem(name: "DurationSeconds", value: "\(Self.sessionSeconds)"),
            URLQueryItem(name: "WebIdentityToken", value: webIdentityToken),
        ]
        let body = (form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        let answer = try await api.call(
            .POST, endpoint.hasSuffix("/") ? endpoint : endpoint + "/",
            headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"], body: Array(body.utf8),
            operation: "STS AssumeRoleWithWebIdentity")
        let xml = String(decoding: answer.body, as: UTF8.self)
        guard let key = Self.element("AccessKeyId", in: xml), let secret = Self.element("SecretAccessKey", in: xml),
            let token = Self.element("SessionToken", in: xml)
        else {
            throw PierError(
                .auth, operation: "STS AssumeRoleWithWebIdentity",
                message: "STS answered without credentials for \(roleARN)")
        }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: token,
            expiration: Self.element("Expiration", in: xml).flatMap(Self.date),
            source: "role \(roleARN) assumed with \(source)")
    }

    /// The text of the first `<name>…</name>` in `xml`, its five predefined entities decoded.
    static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"),
            let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex)
        else { return nil }
        let text = xml[open.upperBound..<close.lowerBound]
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&").trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// STS's ISO 8601 timestamps, with or without fractional seconds.
    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
