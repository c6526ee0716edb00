import AsyncHTTPClient
import Crypto
import Foundation
import NIOHTTP1
import PierModel

/// Amazon ECR's `BatchDeleteImage` (AWS JSON 1.1, Signature Version 4). Deleting by tag removes only that tag
/// (the image goes with its last tag); deleting by digest removes the image and all its tags. At most 100 image
/// ids per call; per-item `failures[]` come back with HTTP 200 and are reported.
public struct ECRAPI: ImageListingAPI {
    public let name = "ECR API"
    public var pushTimeSource: DateSource { .ecrPushed }
    public var listsUntagged: Bool { true }
    let api: APIClient
    let endpoint: String
    let region: String
    let accessKey: String
    let secretKey: String
    let sessionToken: String?

    /// `endpoint` defaults to `https://api.ecr.REGION.amazonaws.com`; `AWS_ENDPOINT_URL_ECR` or
    /// `AWS_ENDPOINT_URL` override it (moto in tests).
    public init(
        transport: RegistryTransport, region: String, accessKey: String, secretKey: String, sessionToken: String? = nil,
        endpoint: String? = nil
    ) {
        api = APIClient(http: transport.verifying, service: "ECR API")
        self.region = region
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.sessionToken = sessionToken
        self.endpoint = endpoint ?? "https://api.ecr.\(region).amazonaws.com"
    }

    /// The region of an ECR registry host: `123456789012.dkr.ecr.eu-west-1.amazonaws.com`.
    public static func region(ofHost host: String) -> String? {
        let parts = host.split(separator: ".")
        guard let index = parts.firstIndex(of: "ecr"), index + 1 < parts.count, parts.contains("amazonaws") else { return nil }
        return String(parts[index + 1])
    }

    public func untag(repository: String, tag: String, digest: PierModel.Digest) async throws(PierError) {
        try await batchDelete(repository: repository, ids: [["imageTag": tag]])
    }

    public func deleteImage(repository: String, digest: PierModel.Digest, tags: [String]) async throws(PierError) {
        try await batchDelete(repository: repository, ids: [["imageDigest": digest.description]])
    }

    /// Every image with its tags and `imagePushedAt` (DescribeImages, at most 1,000 per page, `nextToken`
    /// pagination): the push time ECR's own lifecycle policies age images by.
    public func listImages(repository: String) async throws(PierError) -> [ListedImage] {
        var images: [ListedImage] = []
        var token: String?
        for _ in 0..<APIClient.maximumPages {
            var payload: [String: Any] = ["repositoryName": repository, "maxResults": 1000]
            if let token { payload["nextToken"] = token }
            let page = try await call("DescribeImages", payload).json as? [String: Any]
            for detail in page?["imageDetails"] as? [[String: Any]] ?? [] {
                guard let digest = (detail["imageDigest"] as? String).flatMap({ try? Digest($0) }) else { continue }
                images.append(ListedImage(digest: digest, tags: detail["imageTags"] as? [String] ?? [], pushed: Self.date(detail["imagePushedAt"])))
            }
            guard let next = page?["nextToken"] as? String, !next.isEmpty, next != token else { break }
            token = next
        }
        return images
    }

    /// AWS JSON 1.1 timestamps are epoch seconds (a number); finite values in the range of a `Date` only.
    static func date(_ value: Any?) -> Date? {
        guard let seconds = (value as? NSNumber)?.doubleValue, seconds.isFinite, abs(seconds) < 1e12 else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    /// Deletes in batches of 100; the first per-item failure is thrown after every batch was sent.
    public func batchDelete(repository: String, ids: [[String: String]]) async throws(PierError) {
        var failures: [String] = []
        var start = 0
        while start < ids.count {
            let batch = Array(ids[start..<min(start + 100, ids.count)])
            start += 100
            let answer = try await call("BatchDeleteImage", ["repositoryName": repository, "imageIds": batch])
            for failure in (answer.json as? [String: Any])?["failures"] as? [[String: Any]] ?? [] {
                let id = failure["imageId"] as? [String: String] ?? [:]
                failures.append("\(id["imageTag"] ?? id["imageDigest"] ?? "?"): \(failure["failureCode"] ?? "") \(failure["failureReason"] ?? "")")
            }
        }
        if !failures.isEmpty {
            throw PierError(.other, operation: "BatchDeleteImage", message: failures.joined(separator: "; "), repository: repository)
        }
    }

    func call(_ action: String, _ payload: [String: Any]) async throws(PierError) -> APIClient.Answer {
        let body = Array((try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data())
        let headers = sign(body: body, target: "AmazonEC2ContainerRegistry_V20150921.\(action)", date: Date())
        return try await api.call(.POST, endpoint + "/", headers: headers, body: body, operation: "ECR \(action)")
    }

    /// AWS Signature Version 4 for a POST to `/` (docs: "Create a signed AWS API request").
    func sign(body: [UInt8], target: String, date: Date) -> HTTPHeaders {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let amzDate = formatter.string(from: date)
        let day = String(amzDate.prefix(8))
        let host = URLComponents(string: endpoint).map { ($0.host ?? "") + ($0.port.map { ":\($0)" } ?? "") } ?? ""
        var signed: [(String, String)] = [
            ("content-type", "application/x-amz-json-1.1"), ("host", host), ("x-amz-date", amzDate), ("x-amz-target", target),
        ]
        if let sessionToken { signed.append(("x-amz-security-token", sessionToken)) }
        signed.sort { $0.0 < $1.0 }
        let canonicalHeaders = signed.map { "\($0.0):\($0.1)\n" }.joined()
        let signedNames = signed.map(\.0).joined(separator: ";")
        let payloadHash = SHA256.hash(data: body).hexString
        let canonicalRequest = ["POST", "/", "", canonicalHeaders, signedNames, payloadHash].joined(separator: "\n")
        let scope = "\(day)/\(region)/ecr/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, SHA256.hash(data: Array(canonicalRequest.utf8)).hexString]
            .joined(separator: "\n")
        func hmac(_ key: [UInt8], _ text: String) -> [UInt8] {
            Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: key)))
        }
        let kSigning = hmac(hmac(hmac(hmac(Array("AWS4\(secretKey)".utf8), day), region), "ecr"), "aws4_request")
        let signature = hmac(kSigning, stringToSign).hexString
        var headers: HTTPHeaders = [:]
        for (name, value) in signed where name != "host" { headers.add(name: name, value: value) }
        headers.add(name: "Authorization",
            value: "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedNames), Signature=\(signature)")
        return headers
    }
}
