import Foundation
import PierHTTP
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
/// docker's `config.json` (`credHelpers`, `auths`, `credsStore`), then the login pier obtains itself (`loginSource`:
/// ECR from AWS credentials), then `GITHUB_TOKEN` for ghcr.io. The same chain
/// docker, skopeo and regclient follow, so a `docker login` is honoured by pier and a `pier login` by docker.
///
/// There is no credential for every host: each explicit credential names the one registry it belongs to.
public struct CredentialChain: Sendable {
    /// Explicit credentials, keyed by normalised host (`DockerConfig.normalizedHost`).
    public var explicitByHost: [String: Credential]
    /// Where each explicit credential came from, by normalised host, for hints: `-u and PIER_PASSWORD`,
    /// `REGISTRY_USER and REGISTRY_PASSWORD (pier.yml)`.
    public var originByHost: [String: String]
    /// pier.yml's `username_env`/`password_env` names that were empty or not set, by normalised host: that
    /// registry got no explicit credential, and a refusal there names them.
    public var unsetVariablesByHost: [String: [String]] = [:]
    public var dockerConfig: DockerConfig
    /// `GITHUB_TOKEN` (with `GITHUB_ACTOR` as the username), presented to ghcr.io when nothing else is known.
    public var gitHubToken: Credential?
    /// Logins pier obtains itself for the hosts it covers, when nothing above gave a credential.
    public var loginSource: (any RegistryLoginSource)?

    public init(
        explicitByHost: [String: Credential] = [:], originByHost: [String: String] = [:],
        unsetVariablesByHost: [String: [String]] = [:], dockerConfig: DockerConfig, gitHubToken: Credential?
    ) {
        self.explicitByHost = explicitByHost.reduce(into: [:]) { $0[DockerConfig.normalizedHost($1.key)] = $1.value }
        self.originByHost = originByHost.reduce(into: [:]) { $0[DockerConfig.normalizedHost($1.key)] = $1.value }
        self.unsetVariablesByHost = unsetVariablesByHost.reduce(into: [:]) {
            $0[DockerConfig.normalizedHost($1.key)] = $1.value
        }
        self.dockerConfig = dockerConfig
        self.gitHubToken = gitHubToken
    }

    /// A chain whose ghcr.io fallback is read from `environment` (`GITHUB_TOKEN`, `GITHUB_ACTOR`).
    public init(explicitByHost: [String: Credential] = [:], dockerConfig: DockerConfig, environment: [String: String]) {
        let token = Self.secret("GITHUB_TOKEN", in: environment)
        self.init(
            explicitByHost: explicitByHost, dockerConfig: dockerConfig,
            gitHubToken: token.map { .basic(username: environment["GITHUB_ACTOR"] ?? "pier", password: $0) })
    }

    /// A secret from the environment, trimmed (a secret saved with a trailing newline is a common CI mistake, and no
    /// token has surrounding whitespace); nil when unset or empty.
    public static func secret(_ name: String, in environment: [String: String]) -> String? {
        environment[name].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The credential for `registry`, or `.anonymous`.
    public func credential(for registry: String) throws(PierError) -> Credential {
        let host = DockerConfig.normalizedHost(registry)
        if let found = explicitByHost[host] { return found }
        if let found = try dockerConfig.credential(for: host) { return found }
        if host == "ghcr.io", let gitHubToken { return gitHubToken }
        return .anonymous
    }

    /// The credential to present now: `pinged` (what `credential(for:)` gave when the registry was first reached)
    /// unless that was nothing and `loginSource` logs in to `registry`.
    public func current(for registry: String, pinged: Credential, transport: HTTPTransport) async throws(PierError)
        -> Credential
    {
        let host = DockerConfig.normalizedHost(registry)
        guard pinged == .anonymous, let loginSource, loginSource.logsIn(to: host) else { return pinged }
        return try await loginSource.credential(for: host, transport: transport)
    }

    /// Forgets a login `loginSource` made for `registry`, after the registry refused it.
    public func invalidateLogin(for registry: String) async {
        let host = DockerConfig.normalizedHost(registry)
        guard let loginSource, loginSource.logsIn(to: host) else { return }
        await loginSource.invalidate(registry: host)
    }

    /// What to tell a user whose credentials `registry` refused (or who gave none): the place they came from.
    public func loginHint(for registry: String) -> String {
        let host = DockerConfig.normalizedHost(registry)
        if let origin = originByHost[host] { return "check the credentials in \(origin)" }
        if let unset = unsetVariablesByHost[host], !unset.isEmpty {
            return
                "set \(unset.joined(separator: " and ")): pier.yml names \(unset.count == 1 ? "it" : "them") for \(registry), "
                + "and \(unset.count == 1 ? "it is" : "they are") empty or not set"
        }
        if explicitByHost[host] != nil { return "check the credentials given for \(host)" }
        if (try? dockerConfig.credential(for: host)) ?? nil != nil { return "run 'pier login \(registry)' again" }
        if let loginSource, loginSource.logsIn(to: host) { return loginSource.loginHint(for: host) }
        if host == "ghcr.io", gitHubToken != nil { return "check GITHUB_TOKEN and its packages scope" }
        return "run 'pier login \(registry)', or pass --creds \(registry)=USER with the password in PIER_PASSWORD"
    }
}
