import Crypto
import Foundation
import NIOHTTP1
import PierModel

/// AWS Signature Version 4 for a JSON POST to `/` (AWS docs "Create a signed AWS API request"): the canonical
/// request over `content-type`, `host`, `x-amz-date`, `x-amz-target` (and `x-amz-security-token` for temporary
/// credentials), signed with the key derived from the secret, the day, the region and the service.
struct SigV4Signer: Sendable {
    let accessKey: String
    let secretKey: String
    let sessionToken: String?
    let region: String
    /// The signing name of the service: `ecr`.
    let service: String

    /// The `Content-Type` AWS JSON 1.1 protocols take.
    static let contentType = "application/x-amz-json-1.1"

    /// The headers to send with `body` (all signed ones but `host`, which the HTTP client sets) and `Authorization`.
    func headers(body: [UInt8], target: String, host: String, date: Date) -> HTTPHeaders {
        let amzDate = Self.timestamp(date)
        let day = String(amzDate.prefix(8))
        var signed: [(String, String)] = [
            ("content-type", Self.contentType), ("host", host), ("x-amz-date", amzDate), ("x-amz-target", target),
        ]
        if let sessionToken { signed.append(("x-amz-security-token", sessionToken)) }
        signed.sort { $0.0 < $1.0 }
        let canonicalHeaders = signed.map { "\($0.0):\($0.1)\n" }.joined()
        let signedNames = signed.map(\.0).joined(separator: ";")
        let payloadHash = SHA256.hash(data: body).hexString
        let canonicalRequest = ["POST", "/", "", canonicalHeaders, signedNames, payloadHash].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope, SHA256.hash(data: Array(canonicalRequest.utf8)).hexString,
        ]
        .joined(separator: "\n")
        func hmac(_ key: [UInt8], _ text: String) -> [UInt8] {
            Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: key)))
        }
        let signingKey = hmac(hmac(hmac(hmac(Array("AWS4\(secretKey)".utf8), day), region), service), "aws4_request")
        let signature = hmac(signingKey, stringToSign).hexString
        var headers: HTTPHeaders = [:]
        for (name, value) in signed where name != "host" { headers.add(name: name, value: value) }
        headers.add(
            name: "Authorization",
            value:
                "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedNames), Signature=\(signature)"
        )
        return headers
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC, the form `x-amz-date` takes.
    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }
}
