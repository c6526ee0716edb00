import Foundation
import NIOHTTP1
import PierHTTP
import PierModel

/// Amazon ECR's API (AWS JSON 1.1, Signature Version 4): `DescribeImages` lists, `BatchDeleteImage` deletes.
/// Deleting by tag removes only that tag (the image goes with its last tag); deleting by digest removes the image
/// and all its tags. Per-item `failures[]` come back with HTTP 200 and are reported.
public struct ECRAPI: ImageListingAPI {
    public let name = "ECR API"
    public var pushTimeSource: DateSource { .ecrPushed }
    public var listsUntagged: Bool { true }
    let api: APIClient
    let endpoint: String
    let region: String
    let transport: HTTPTransport
    /// Where the signing keys come from (looked up at each call, so temporary credentials are renewed).
    public let credentials: AWSCredentialProvider

    /// Image ids per `BatchDeleteImage` call: the API takes at most 100.
    static let batchLimit = 100
    /// Images per `DescribeImages` page: the API returns at most 1,000.
    static let describePageSize = 1_000

    /// `endpoint` defaults to `https://api.ecr.REGION.amazonaws.com`; `AWS_ENDPOINT_URL_ECR` or
    /// `AWS_ENDPOINT_URL` override it (moto in tests).
    public init(
        transport: HTTPTransport, region: String, accessKey: String, secretKey: String, sessionToken: String? = nil,
        endpoint: String? = nil
    ) {
        self.init(
            transport: transport, region: region,
            credentials: AWSCredentialProvider(
                credentials: AWSCredentials(
                    accessKeyID: accessKey, secretAccessKey: secretKey, sessionToken: sessionToken,
                    source: "AWS_ACCESS_KEY_ID")),
            endpoint: endpoint)
    }

    /// An ECR API client signing with whatever `credentials` finds (`AWSCredentialSources`' order).
    public init(transport: HTTPTransport, region: String, credentials: AWSCredentialProvider, endpoint: String? = nil) {
        api = APIClient(transport: transport, service: "ECR API")
        self.transport = transport
        self.region = region
        self.credentials = credentials
        self.endpoint = endpoint ?? "https://api.ecr.\(region).amazonaws.com"
    }

    /// The region of an ECR registry host, nil for any other host. Only ECR's exact shape counts (AWS "Amazon ECR
    /// private registry" endpoints): `ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]` with a 12-digit account and
    /// nothing before or after, because pier hands this host an ECR token: `x.ecr.us-east-1.amazonaws.evil.test`
    /// is not ECR.
    public static func region(ofHost host: String) -> String? {
        let labels = host.lowercased().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard labels.count == 6 || (labels.count == 7 && labels[6] == "cn"),
            labels[0].count == 12, labels[0].allSatisfy({ $0.isASCII && $0.isNumber }),
            labels[1] == "dkr", labels[2] == "ecr" || labels[2] == "ecr-fips",
            labels[4] == "amazonaws", labels[5] == "com",
            !labels[3].isEmpty, labels[3].count <= 32,
            labels[3].allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })
        else { return nil }
        return labels[3]
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
        let payload: [String: Any] = ["repositoryName": repository, "maxResults": Self.describePageSize]
        try await pages("DescribeImages", payload, operation: "ECR DescribeImages", registry: endpoint) { page in
            for detail in page?["imageDetails"] as? [[String: Any]] ?? [] {
                guard let digest = (detail["imageDigest"] as? String).flatMap({ try? Digest($0) }) else { continue }
                images.append(
                    ListedImage(
                        digest: digest, tags: detail["imageTags"] as? [String] ?? [],
                        pushed: Self.date(detail["imagePushedAt"])))
            }
        }
        return images
    }

    /// Calls `action` once per page, following `nextToken`, handing each answer to `page`. The listing must be
    /// whole (prune and discovery act on it): a token that repeats one already followed, or more than
    /// `maximumPages` pages, is an error instead of the end of the list.
    func pages(
        _ action: String, _ payload: [String: Any], operation: String, registry: String?,
        maximumPages: Int = APIClient.maximumPages, _ page: ([String: Any]?) throws(PierError) -> Void
    ) async throws(PierError) {
        var payload = payload
        var seen: Set<String> = []
        for _ in 0..<maximumPages {
            let answer = try await call(action, payload).json as? [String: Any]
            try page(answer)
            guard let next = answer?["nextToken"] as? String, !next.isEmpty else { return }
            guard seen.insert(next).inserted else {
                throw PierError(
                    .invalidInput, operation: operation, message: "ECR's nextToken repeats one already followed",
                    registry: registry, hint: "pier will not act on a partial list")
            }
            payload["nextToken"] = next
        }
        throw PierError(
            .invalidInput, operation: operation, message: "the listing did not end after \(maximumPages) pages",
            registry: registry, hint: "pier will not act on a partial list")
    }

    /// Epoch seconds a push time may have: ±1e12 s is ±31,000 years, well inside `Date`.
    static let maximumEpochSeconds = 1e12

    /// AWS JSON 1.1 timestamps are epoch seconds (a number); finite values in the range of a `Date` only.
    static func date(_ value: Any?) -> Date? {
        guard let seconds = (value as? NSNumber)?.doubleValue, seconds.isFinite, abs(seconds) < maximumEpochSeconds
        else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    /// Deletes in batches of `batchLimit`; the per-item failures are thrown after every batch was sent.
    public func batchDelete(repository: String, ids: [[String: String]]) async throws(PierError) {
        var failures: [String] = []
        var start = 0
        while start < ids.count {
            let batch = Array(ids[start..<min(start + Self.batchLimit, ids.count)])
            start += Self.batchLimit
            let answer = try await call("BatchDeleteImage", ["repositoryName": repository, "imageIds": batch])
            for failure in (answer.json as? [String: Any])?["failures"] as? [[String: Any]] ?? [] {
                let id = failure["imageId"] as? [String: String] ?? [:]
                failures.append(
                    "\(id["imageTag"] ?? id["imageDigest"] ?? "?"): \(failure["failureCode"] ?? "") \(failure["failureReason"] ?? "")"
                )
            }
        }
        if !failures.isEmpty {
            throw PierError(
                .other, operation: "BatchDeleteImage", message: failures.joined(separator: "; "), repository: repository
            )
        }
    }

    /// Calls `action`; a status in `accept` beyond 200 comes back as an answer (for the error types the caller
    /// handles, such as `RepositoryAlreadyExistsException`).
    func call(_ action: String, _ payload: [String: Any], accept: Set<Int> = [200]) async throws(PierError)
        -> APIClient.Answer
    {
        guard let keys = try await credentials.credentials(transport: transport) else {
            throw PierError(
                .auth, operation: "ECR \(action)", message: "no AWS credentials were found",
                hint: AWSCredentialSources.hint)
        }
        let signer = SigV4Signer(
            accessKey: keys.accessKeyID, secretKey: keys.secretAccessKey, sessionToken: keys.sessionToken,
            region: region, service: "ecr")
        let body = Array((try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data())
        let host = URLComponents(string: endpoint).map { ($0.host ?? "") + ($0.port.map { ":\($0)" } ?? "") } ?? ""
        let headers = signer.headers(
            body: body, target: "AmazonEC2ContainerRegistry_V20150921.\(action)", host: host, date: Date())
        return try await api.call(
            .POST, endpoint + "/", headers: headers, body: body, operation: "ECR \(action)", accept: accept)
    }

    /// The `__type` of an AWS JSON error answer, without its namespace (`RepositoryNotFoundException`).
    static func errorType(_ answer: APIClient.Answer) -> String? {
        guard let type = (answer.json as? [String: Any])?["__type"] as? String else { return nil }
        return type.split(separator: "#").last.map(String.init)
    }

    /// The error of an answer `call` was told to accept but the caller does not handle.
    static func failure(_ answer: APIClient.Answer, action: String, repository: String?) -> PierError {
        let object = answer.json as? [String: Any]
        let message = (object?["message"] ?? object?["Message"]) as? String ?? ""
        return PierError(
            answer.status == 403 ? .auth : .other, operation: "ECR \(action)",
            message:
                "ECR answered \(answer.status) \(errorType(answer) ?? ""): \(message.prefix(APIClient.quotedBodyLimit))",
            repository: repository, status: answer.status)
    }
}
