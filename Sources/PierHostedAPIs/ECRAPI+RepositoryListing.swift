import PierModel

extension ECRAPI: RepositoryListingAPI {
    /// Repositories per `DescribeRepositories` page: the API returns at most 1,000.
    static let repositoryPageSize = 1_000

    /// The account of an ECR registry host (its first label), nil for any other host.
    public static func account(ofHost host: String) -> String? {
        guard region(ofHost: host) != nil else { return nil }
        return host.split(separator: ".").first.map(String.init)
    }

    /// Every repository of the registry (`DescribeRepositories`, `nextToken` pagination, `registryId` the account of
    /// an ECR host); ECR names are full paths (`org/app`), so the caller keeps those under the namespace.
    public func listRepositories(registry: String, under namespace: String) async throws(PierError) -> [String] {
        let operation = "ECR DescribeRepositories"
        var names: [String] = []
        var token: String?
        var seen: Set<String> = []
        for _ in 0..<RepositoryListingLimits.maximumPages {
            var payload: [String: Any] = ["maxResults": Self.repositoryPageSize]
            if let account = Self.account(ofHost: registry) { payload["registryId"] = account }
            if let token { payload["nextToken"] = token }
            let page = try await call("DescribeRepositories", payload).json as? [String: Any]
            guard let list = page?["repositories"] as? [[String: Any]] else {
                throw PierError(
                    .invalidInput, operation: operation, message: "the answer has no repositories list",
                    registry: registry)
            }
            names += list.compactMap { $0["repositoryName"] as? String }
            guard names.count <= RepositoryListingLimits.maximumRepositories else {
                throw RepositoryListingLimits.tooMany(self.name, operation: operation, registry: registry)
            }
            guard let next = page?["nextToken"] as? String, !next.isEmpty else { return names }
            guard seen.insert(next).inserted else {
                throw PierError(
                    .invalidInput, operation: operation,
                    message: "ECR's nextToken repeats one already followed, after \(names.count) repositories",
                    registry: registry, hint: "pier will not act on a partial list")
            }
            token = next
        }
        throw PierError(
            .invalidInput, operation: operation,
            message: "the listing did not end after \(RepositoryListingLimits.maximumPages) pages", registry: registry,
            hint: "pier will not act on a partial list")
    }
}
