import PierModel

extension GitHubPackagesAPI: RepositoryListingAPI {
    /// The owner's container packages (`GET /orgs/OWNER/packages?package_type=container&per_page=100`, else
    /// `/users/OWNER/…` when the owner is a user; Link pagination; the token needs `read:packages`). A package
    /// `team/app` is the repository `OWNER/team/app` on ghcr.io. The owner is the namespace's first path component.
    public func listRepositories(registry: String, under namespace: String) async throws(PierError) -> [String] {
        let operation = "list container packages"
        guard let owner = namespace.split(separator: "/").first.map(String.init) else {
            throw PierError(
                .usage, operation: operation, message: "GitHub packages belong to an owner, and the prefix names none",
                registry: registry, hint: "set organisation.primary to \(registry)/OWNER")
        }
        let query = "packages?package_type=container&per_page=\(APIClient.pageSize)"
        for path in [
            "\(base)/orgs/\(APIClient.escape(owner))/\(query)", "\(base)/users/\(APIClient.escape(owner))/\(query)",
        ] {
            var names: [String] = []
            do {
                try await api.completePages(
                    path, headers: headers, operation: operation, maximumPages: RepositoryListingLimits.maximumPages
                ) { (answer) throws(PierError) in
                    guard let list = answer.json as? [[String: Any]] else {
                        throw PierError(
                            .invalidInput, operation: operation, message: "the GitHub API's answer is not a list",
                            registry: registry)
                    }
                    names += list.compactMap { $0["name"] as? String }
                    guard names.count <= RepositoryListingLimits.maximumRepositories else {
                        throw RepositoryListingLimits.tooMany(name, operation: operation, registry: registry)
                    }
                }
            } catch {
                if error.kind == .notFound { continue }
                throw error
            }
            return names.map { "\(owner)/\($0)" }
        }
        throw PierError(
            .notFound, operation: operation, message: "GitHub knows no organisation or user \(owner)",
            registry: registry, hint: "the token needs read:packages for \(owner)'s packages")
    }
}
