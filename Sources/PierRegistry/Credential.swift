import Foundation
import PierModel

/// What pier presents to a registry or its token server.
public enum Credential: Sendable, Equatable {
    case anonymous
    /// Username and password (or access token used as a password).
    case basic(username: String, password: String)
    /// An OAuth2 refresh token (docker's `identitytoken`), exchanged by POST at the token endpoint.
    case identityToken(String)
    /// A registry bearer token used as is.
    case bearer(String)

    /// The username shown to people, never the secret.
    public var username: String? {
        if case .basic(let username, _) = self { return username }
        return nil
    }
}

/// Finds the credential for a registry host: credentials given for that host (flags, environment, pier.yml), then
/// docker's `config.json` (`credHelpers`, `auths`, `credsStore`), then `GITHUB_TOKEN` for ghcr.io. The same chain
/// docker, skopeo and regclient follow, so a `docker login` is honoured by pier and a `pier login` by docker.
///
/// There is no credential for every host: each explicit credential names the one registry it belongs to.
public struct CredentialChain: Sendable {
    /// Explicit credentials, keyed by normalised host (`DockerConfig.normalizedHost`).
    public var explicitByHost: [String: Credential]
    public var dockerConfig: DockerConfig
    public var environment: [String: String]

    public init(
        explicitByHost: [String: Credential] = [:], dockerConfig: DockerConfig,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.explicitByHost = explicitByHost.reduce(into: [:]) { $0[DockerConfig.normalizedHost($1.key)] = $1.value }
        self.dockerConfig = dockerConfig
        self.environment = environment
    }

    /// The credential for `registry`, or `.anonymous`.
    public func credential(for registry: String) throws(PierError) -> Credential {
        let host = DockerConfig.normalizedHost(registry)
        if let found = explicitByHost[host] { return found }
        if let found = try dockerConfig.credential(for: host) { return found }
        if host == "ghcr.io", let token = environment["GITHUB_TOKEN"], !token.isEmpty {
            return .basic(username: environment["GITHUB_ACTOR"] ?? "pier", password: token)
        }
        return .anonymous
    }
}
