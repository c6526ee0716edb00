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
        let urls = [
            "\(base)/orgs/\(APIClient.escape(owner))/\(query)", "\(base)/users/\(APIClient.escape(owner))/\(query)",
        ]
        if let names = try await api.listedNames(
            urls, field: "name", headers: headers, api: name, operation: operation, registry: registry)
        {
            return names.map { "\(owner)/\($0)" }
        }
        throw PierError(
            .notFound, operation: operation, message: "GitHub knows no organisation or user \(owner)",
            registry: registry, hint: "the token needs read:packages for \(owner)'s packages")
    }
}
