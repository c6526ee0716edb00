import Foundation
import PierHostedAPIs
import PierModel
import PierRegistry

/// Picks the API that deletes for a registry: named with `--registry-api`, or detected from the host
/// (docker.io → Docker Hub, ghcr.io → GitHub, *.dkr.ecr.*.amazonaws.com → ECR, `CI_REGISTRY` → GitLab).
public enum RegistryAPISelection {
    public enum Kind: String, Sendable, CaseIterable {
        case auto, distribution, dockerhub, ghcr, ecr, gitlab, harbor
    }

    public static func choose(
        _ kind: Kind, registry: String, apiURL: String?, pool: RegistryPool,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws(PierError) -> RegistryAPIChoice {
        var resolved = kind
        if kind == .auto {
            if registry == ImageReference.dockerHub { resolved = .dockerhub }
            else if registry == "ghcr.io" { resolved = .ghcr }
            else if ECRAPI.region(ofHost: registry) != nil { resolved = .ecr }
            else if environment["CI_REGISTRY"] == registry, environment["CI_API_V4_URL"] != nil { resolved = .gitlab }
            else { resolved = .distribution }
        }
        let transport = pool.transport
        let credential = try pool.options.credentials.credential(for: registry)
        func missing(_ what: String) -> PierError {
            PierError(.auth, operation: "prune", message: "the \(resolved.rawValue) API needs \(what)", registry: registry)
        }
        switch resolved {
        case .auto, .distribution:
            return .distribution
        case .dockerhub:
            let user = environment["DOCKERHUB_USERNAME"] ?? credential.username
            var password = environment["DOCKERHUB_TOKEN"]
            if password == nil, case .basic(_, let secret) = credential { password = secret }
            guard let user, let password else { throw missing("DOCKERHUB_USERNAME and DOCKERHUB_TOKEN, or a docker login") }
            return .native(DockerHubAPI(transport: transport, username: user, password: password, base: apiURL ?? "https://hub.docker.com"))
        case .ghcr:
            guard let token = environment["GITHUB_TOKEN"] else { throw missing("GITHUB_TOKEN with delete:packages") }
            return .native(GitHubPackagesAPI(transport: transport, token: token, base: apiURL ?? environment["GITHUB_API_URL"] ?? "https://api.github.com"))
        case .ecr:
            guard let access = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"] else {
                throw missing("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            }
            let region = ECRAPI.region(ofHost: registry) ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
            return .native(ECRAPI(
                transport: transport, region: region, accessKey: access, secretKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"],
                endpoint: apiURL ?? environment["AWS_ENDPOINT_URL_ECR"] ?? environment["AWS_ENDPOINT_URL"]))
        case .gitlab:
            guard let base = apiURL ?? environment["CI_API_V4_URL"] else { throw missing("--api-url or CI_API_V4_URL") }
            let privateToken = environment["GITLAB_TOKEN"]
            let jobToken = privateToken == nil ? environment["CI_JOB_TOKEN"] : nil
            guard privateToken != nil || jobToken != nil else { throw missing("GITLAB_TOKEN or CI_JOB_TOKEN") }
            return .native(GitLabRegistryAPI(transport: transport, base: base, privateToken: privateToken, jobToken: jobToken))
        case .harbor:
            guard case .basic(let user, let password) = credential else { throw missing("credentials (pier login or PIER_USERNAME/PIER_PASSWORD)") }
            return .native(HarborAPI(transport: transport, base: apiURL ?? "https://\(registry)", username: user, password: password))
        }
    }
}
