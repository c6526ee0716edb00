import PierModel

extension ECRAPI: RepositoryListingAPI {
    /// Repositories per `DescribeRepositories` page: the API returns at most 1,000.
    static let repositoryPageSize = 1_000

    /// The account of an ECR registry host (its first label, 12 digits), nil for any other host.
    public static func account(ofHost host: String) -> String? {
        guard region(ofHost: host) != nil, let first = host.split(separator: ".").first, first.count == 12,
            first.allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        return String(first)
    }

    /// Every repository of the registry (`DescribeRepositories`, `nextToken` pagination, `registryId` the account of
    /// an ECR host); ECR names are full paths (`org/app`), so the caller keeps those under the namespace.
    public func listRepositories(registry: String, under namespace: String) async throws(PierError) -> [String] {
        let operation = "ECR DescribeRepositories"
        var names: [String] = []
        var payload: [String: Any] = ["maxResults": Self.repositoryPageSize]
        if let account = Self.account(ofHost: registry) { payload["registryId"] = account }
        try await pages(
            "DescribeRepositories", payload, operation: operation, registry: registry,
            maximumPages: RepositoryListingLimits.maximumPages
        ) { (page) throws(PierError) in
            guard let list = page?["repositories"] as? [[String: Any]] else {
                throw PierError(
                    .invalidInput, operation: operation, message: "the answer has no repositories list",
                    registry: registry)
            }
            names += list.compactMap { $0["repositoryName"] as? String }
            guard names.count <= RepositoryListingLimits.maximumRepositories else {
                throw RepositoryListingLimits.tooMany(self.name, operation: operation, registry: registry)
            }
        }
        return names
    }
}
