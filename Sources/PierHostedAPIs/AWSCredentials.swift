import Foundation

/// An AWS access key (and, for temporary credentials, its session token and expiry), with where it came from.
/// Its description names the source only: the secret never reaches a log line, an error or a report.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials (STS) lapse; nil for long-term keys.
    public var expiration: Date?
    /// Where they were found, for messages: `AWS_ACCESS_KEY_ID`, `profile ci in ~/.aws/credentials`.
    public var source: String

    public init(
        accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil,
        source: String
    ) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }

    public var description: String { "AWS credentials from \(source)" }
}
