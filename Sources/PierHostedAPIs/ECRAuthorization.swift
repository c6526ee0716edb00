import Foundation

/// What `GetAuthorizationToken` hands out: the password of the user `AWS` for the registry, and when it lapses
/// (12 hours after issue, API_AuthorizationData). Its description never shows the password.
public struct ECRAuthorization: Sendable, Equatable, CustomStringConvertible {
    public var username: String
    public var password: String
    public var expiresAt: Date?
    /// The registry URL the token is for (`https://123456789012.dkr.ecr.eu-west-1.amazonaws.com`).
    public var proxyEndpoint: String?

    public init(username: String, password: String, expiresAt: Date?, proxyEndpoint: String?) {
        self.username = username
        self.password = password
        self.expiresAt = expiresAt
        self.proxyEndpoint = proxyEndpoint
    }

    public var description: String { "ECR authorization for \(proxyEndpoint ?? "?")" }
}
