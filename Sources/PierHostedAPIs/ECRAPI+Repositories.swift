import Foundation
import PierModel

extension ECRAPI {
    /// The registry password for the caller (`GetAuthorizationToken`): `authorizationToken` is base64 of
    /// `AWS:<password>`. `registryID` is the account of the registry host, so the token is the one issued for it.
    public func authorizationToken(registryID: String?) async throws(PierError) -> ECRAuthorization {
        var payload: [String: Any] = [:]
        if let registryID { payload["registryIds"] = [registryID] }
        let answer = try await call("GetAuthorizationToken", payload)
        let data = ((answer.json as? [String: Any])?["authorizationData"] as? [[String: Any]])?.first
        guard let encoded = data?["authorizationToken"] as? String,
            let decoded = Data(base64Encoded: encoded).flatMap({ String(data: $0, encoding: .utf8) }),
            let colon = decoded.firstIndex(of: ":")
        else {
            throw PierError(
                .auth, operation: "ECR GetAuthorizationToken",
                message: "the answer has no authorizationToken of the form base64(user:password)")
        }
        return ECRAuthorization(
            username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]),
            expiresAt: Self.date(data?["expiresAt"]), proxyEndpoint: data?["proxyEndpoint"] as? String)
    }

    /// Creates `repository` with `settings`; false when it already exists (`RepositoryAlreadyExistsException`),
    /// which is left as it is.
    public func createRepository(_ repository: String, settings: ECRRepositorySettings) async throws(PierError)
        -> Bool
    {
        var payload = settings.payload
        payload["repositoryName"] = repository
        let answer = try await call("CreateRepository", payload, accept: [200, 400])
        if answer.status == 200 { return true }
        if Self.errorType(answer) == "RepositoryAlreadyExistsException" { return false }
        throw Self.failure(answer, action: "CreateRepository", repository: repository)
    }

    /// Installs `policy` (the lifecycle policy JSON text) on `repository` (`PutLifecyclePolicy`).
    public func putLifecyclePolicy(_ repository: String, policy: String) async throws(PierError) {
        _ = try await call("PutLifecyclePolicy", ["repositoryName": repository, "lifecyclePolicyText": policy])
    }

    /// The lifecycle policy installed on `repository`, or nil when there is none.
    public func lifecyclePolicy(_ repository: String) async throws(PierError) -> String? {
        let answer = try await call("GetLifecyclePolicy", ["repositoryName": repository], accept: [200, 400])
        if answer.status == 200 { return (answer.json as? [String: Any])?["lifecyclePolicyText"] as? String }
        if Self.errorType(answer) == "LifecyclePolicyNotFoundException" { return nil }
        throw Self.failure(answer, action: "GetLifecyclePolicy", repository: repository)
    }

    /// Scan status and finding counts by severity of one image (`DescribeImageScanFindings`); nil when the
    /// image was never scanned (`ScanNotFoundException`).
    public func scanFindings(_ repository: String, digest: PierModel.Digest) async throws(PierError)
        -> ECRScanFindings?
    {
        let answer = try await call(
            "DescribeImageScanFindings",
            ["repositoryName": repository, "imageId": ["imageDigest": digest.description], "maxResults": 1],
            accept: [200, 400])
        if answer.status != 200 {
            if Self.errorType(answer) == "ScanNotFoundException" { return nil }
            throw Self.failure(answer, action: "DescribeImageScanFindings", repository: repository)
        }
        let object = answer.json as? [String: Any]
        let status = (object?["imageScanStatus"] as? [String: Any])?["status"] as? String ?? "UNKNOWN"
        let counts = (object?["imageScanFindings"] as? [String: Any])?["findingSeverityCounts"] as? [String: Any]
        var bySeverity: [String: Int] = [:]
        for (severity, value) in counts ?? [:] {
            guard let count = (value as? NSNumber)?.intValue, count >= 0, count <= ECRScanFindings.maximumCount else {
                continue
            }
            bySeverity[severity] = count
        }
        return ECRScanFindings(status: status, countsBySeverity: bySeverity)
    }
}

extension ECRAPI {
    /// Starts ECR's preview of `policy` on `repository` (`StartLifecyclePolicyPreview`).
    public func startLifecyclePolicyPreview(_ repository: String, policy: String) async throws(PierError) {
        _ = try await call(
            "StartLifecyclePolicyPreview", ["repositoryName": repository, "lifecyclePolicyText": policy])
    }

    /// The preview's status and, once `COMPLETE`, every image it expires (`GetLifecyclePolicyPreview`, paged by
    /// `nextToken`).
    public func lifecyclePolicyPreview(_ repository: String) async throws(PierError) -> ECRLifecyclePreview {
        var preview = ECRLifecyclePreview(status: "IN_PROGRESS", expiring: [:])
        var token: String?
        for _ in 0..<APIClient.maximumPages {
            var payload: [String: Any] = ["repositoryName": repository, "maxResults": Self.previewPageSize]
            if let token { payload["nextToken"] = token }
            let page = try await call("GetLifecyclePolicyPreview", payload).json as? [String: Any]
            preview.status = page?["status"] as? String ?? "UNKNOWN"
            for result in page?["previewResults"] as? [[String: Any]] ?? [] {
                guard let digest = (result["imageDigest"] as? String).flatMap({ try? Digest($0) }),
                    ((result["action"] as? [String: Any])?["type"] as? String ?? "EXPIRE") == "EXPIRE"
                else { continue }
                preview.expiring[digest] = (
                    result["imageTags"] as? [String] ?? [], (result["appliedRulePriority"] as? NSNumber)?.intValue
                )
            }
            guard let next = page?["nextToken"] as? String, !next.isEmpty, next != token else { break }
            token = next
        }
        return preview
    }

    /// Preview results per `GetLifecyclePolicyPreview` page: the API returns at most 100.
    static let previewPageSize = 100
}
