import PierHTTP
import PierModel

/// A credential pier obtains itself for some registries (ECR's `GetAuthorizationToken`), asked at each request so
/// one that lapses during a long run is replaced. It comes after explicit credentials and docker's config in the
/// chain: a `docker login`, a credential helper or `-u` for the host wins.
public protocol RegistryLoginSource: Sendable {
    /// Whether this source logs in to `registry` (normalised host); it never gives a credential to another host.
    func logsIn(to registry: String) -> Bool
    /// The credential for `registry`, fetched or cached; `.anonymous` when the source has none to give.
    func credential(for registry: String, transport: HTTPTransport) async throws(PierError) -> Credential
    /// Forgets the cached credential of `registry` (the registry refused it).
    func invalidate(registry: String) async
    /// What to tell a user whose registry refused the credential, or who has none.
    func loginHint(for registry: String) -> String
    /// What to tell a user whose push was answered NAME_UNKNOWN (ECR does not create repositories on push).
    func missingRepositoryHint(for registry: String) -> String?
}
