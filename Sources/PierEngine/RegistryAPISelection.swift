import Foundation
import PierHostedAPIs
import PierModel
import PierRegistry

/// Picks the API that manages a registry: named with `--registry-api` or pier.yml, or detected from the host
/// (docker.io → Docker Hub, ghcr.io → GitHub, *.dkr.ecr.*.amazonaws.com → ECR, `CI_REGISTRY` → GitLab).
public enum RegistryAPISelection {
    public enum Kind: String, Sendable, CaseIterable {
        case auto, distribution, dockerhub, ghcr, ecr, gitlab, harbor
    }

    /// The kind of API that manages `registry`: the registry's settings (`--registry-api`, pier.yml
    /// `registries[].api`), else detected from the host.
    public static func kind(for registry: String, settings: Settings) -> Kind {
        let named = settings.registry(registry).api
        guard named == .auto else { return named }
        if registry == ImageReference.dockerHub { return .dockerhub }
        if registry == "ghcr.io" { return .ghcr }
        if ECRAPI.region(ofHost: registry) != nil { return .ecr }
        if settings.services.gitlabRegistry == registry, settings.services.gitlabAPIURL != nil { return .gitlab }
        return .distribution
    }

    /// The API that manages `registry` for `operation` (named in errors), from the registry's settings
    /// (`--registry-api`, pier.yml `registries[].api`) and the services' tokens; `kind` forces one.
    public static func choose(
        for registry: String, operation: String, session: Session, kind: Kind? = nil
    ) throws(PierError) -> RegistryAPIChoice {
        let settings = session.settings.registry(registry)
        let services = session.settings.services
        let resolved = kind ?? Self.kind(for: registry, settings: session.settings)
        let transport = session.pool.transport
        let credential = try session.pool.options.credentials.credential(for: registry)
        let apiURL = settings.apiURL
        func missing(_ what: String) -> PierError {
            PierError(
                .auth, operation: operation, message: "the \(resolved.rawValue) API needs \(what)", registry: registry)
        }
        switch resolved {
        case .auto, .distribution:
            return .distribution
        case .dockerhub:
            let user = services.dockerHubUsername ?? credential.username
            var password = services.dockerHubToken
            if password == nil, case .basic(_, let secret) = credential { password = secret }
            guard let user, let password else {
                throw missing("DOCKERHUB_USERNAME and DOCKERHUB_TOKEN, or a docker login")
            }
            return .native(
                DockerHubAPI(
                    transport: transport, username: user, password: password, base: apiURL ?? "https://hub.docker.com"))
        case .ghcr:
            guard let token = services.githubToken else {
                throw missing("GITHUB_TOKEN (read:packages; delete:packages to delete)")
            }
            return .native(GitHubPackagesAPI(transport: transport, token: token, base: apiURL ?? services.githubAPIURL))
        case .ecr:
            let aws = services.aws
            return .native(
                ECRAPI(
                    transport: transport,
                    region: ECRAPI.region(ofHost: registry) ?? aws.region ?? ECRLogin.defaultRegion,
                    credentials: aws.provider, endpoint: apiURL ?? aws.endpoint))
        case .gitlab:
            guard let base = apiURL ?? services.gitlabAPIURL else { throw missing("--api-url or CI_API_V4_URL") }
            guard let token = services.gitlabToken else { throw missing("GITLAB_TOKEN or CI_JOB_TOKEN") }
            return .native(
                GitLabRegistryAPI(
                    transport: transport, base: base, privateToken: token.privateToken, jobToken: token.jobToken))
        case .harbor:
            guard case .basic(let user, let password) = credential else {
                throw missing("credentials (\(session.pool.options.credentials.loginHint(for: registry)))")
            }
            return .native(
                HarborAPI(
                    transport: transport, base: apiURL ?? "https://\(registry)", username: user, password: password))
        }
    }
}

extension ServiceSettings.GitLabToken {
    /// The token for GitLab's `PRIVATE-TOKEN` header.
    public var privateToken: String? {
        if case .privateToken(let token) = self { return token }
        return nil
    }

    /// The token for GitLab's `JOB-TOKEN` header.
    public var jobToken: String? {
        if case .jobToken(let token) = self { return token }
        return nil
    }
}
