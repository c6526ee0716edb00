import PierModel

extension GitLabRegistryAPI: RepositoryListingAPI {
    /// The group's registry repositories (`GET /groups/:id/registry/repositories?per_page=100`, the id being the
    /// URL-encoded group path; Link pagination), else, when the namespace is a project, the project's
    /// (`/projects/:id/registry/repositories`). Each entry's `path` is the full path, `group/project/name`.
    public func listRepositories(registry: String, under namespace: String) async throws(PierError) -> [String] {
        let operation = "list GitLab registry repositories"
        guard !namespace.isEmpty else {
            throw PierError(
                .usage, operation: operation, message: "GitLab registry repositories belong to a group or project",
                registry: registry, hint: "set organisation.primary to \(registry)/GROUP")
        }
        let id = APIClient.escape(namespace)
        let query = "registry/repositories?per_page=\(APIClient.pageSize)"
        let urls = ["\(base)/groups/\(id)/\(query)", "\(base)/projects/\(id)/\(query)"]
        if let paths = try await api.listedNames(
            urls, field: "path", headers: headers, api: name, operation: operation, registry: registry)
        {
            return paths
        }
        throw PierError(
            .notFound, operation: operation, message: "GitLab knows no group or project \(namespace)",
            registry: registry, hint: "the token (GITLAB_TOKEN, read_api) needs access to the group")
    }
}
