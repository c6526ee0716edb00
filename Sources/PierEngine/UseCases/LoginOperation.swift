import PierModel
import PierRegistry

/// `pier login`: check the given credentials against the registry, then store them in docker's config.json.
public struct LoginOperation: Sendable {
    public let host: String
    public let registry: String

    /// Checks the host's grammar before any network I/O.
    public init(host: String) throws(PierError) {
        self.host = host
        registry = DockerConfig.normalizedHost(host)
        try ImageReference.checkRegistryHost(registry)
    }

    /// Logs in with the credentials given for the host; a refusal says to check them, not to log in.
    public func run(session: Session) async throws(PierError) {
        guard case .basic(let user, let password)? = session.settings.network.explicitCredentials[registry] else {
            throw PierError(
                .usage, operation: "log in", message: "no credentials given for \(registry)",
                hint: "pier login \(host) -u USER --password-stdin (or set PIER_USERNAME and PIER_PASSWORD)")
        }
        do {
            try await session.pool.client(for: registry == "docker.io" ? ImageReference.dockerHub : registry)
                .checkLogin()
        } catch  where error.kind == .auth {
            var refused = error
            refused.hint =
                "\(registry) refused the password or token of \(user): check it (and its scopes) and log in again"
            throw refused
        }
        try session.settings.network.dockerConfig.store(host: registry, username: user, password: password)
    }
}
