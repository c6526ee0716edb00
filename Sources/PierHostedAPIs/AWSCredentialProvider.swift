import Foundation
import PierHTTP
import PierModel

/// Finds AWS credentials in `AWSCredentialSources`' order once, and again when temporary ones are about to lapse;
/// concurrent callers share one lookup (one STS call, one ID-token request).
public actor AWSCredentialProvider {
    public nonisolated let sources: AWSCredentialSources
    private let fixed: AWSCredentials?
    private var cached: AWSCredentials?
    private var lookup: Task<AWSCredentials?, any Error>?
    private let now: @Sendable () -> Date

    /// How long before temporary credentials expire they are replaced, so a signed request never carries a
    /// credential that lapses in flight (the AWS SDKs refresh 5 to 15 minutes early).
    public static let renewalMargin: TimeInterval = 300
    /// Bytes of a web identity token file: a JWT is a few KiB.
    static let tokenFileLimit = 64 << 10

    public init(sources: AWSCredentialSources, now: @escaping @Sendable () -> Date = { Date() }) {
        self.sources = sources
        fixed = nil
        self.now = now
    }

    /// A provider of exactly `credentials` (keys given directly).
    public init(credentials: AWSCredentials) {
        sources = AWSCredentialSources(home: "/nonexistent")
        fixed = credentials
        now = { Date() }
    }

    /// Credentials valid for at least `renewalMargin`, or nil when no source gives any.
    public func credentials(transport: HTTPTransport) async throws(PierError) -> AWSCredentials? {
        if let fixed { return fixed }
        if let cached, cached.expiration.map({ $0.timeIntervalSince(now()) > Self.renewalMargin }) ?? true {
            return cached
        }
        let task: Task<AWSCredentials?, any Error>
        if let lookup {
            task = lookup
        } else {
            let sources = sources
            task = Task { try await Self.resolve(sources, transport: transport) }
            lookup = task
        }
        defer { lookup = nil }
        do {
            let found = try await task.value
            cached = found
            return found
        } catch let error as PierError {
            throw error
        } catch {
            throw PierError(.other, operation: "find AWS credentials", message: "\(error)")
        }
    }

    /// Forgets the cached credentials (they were refused).
    public func invalidate() { cached = nil }

    static func resolve(_ sources: AWSCredentialSources, transport: HTTPTransport) async throws(PierError)
        -> AWSCredentials?
    {
        if let key = sources.accessKeyID {
            guard let secret = sources.secretAccessKey else {
                throw PierError(
                    .usage, operation: "find AWS credentials",
                    message: "AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY")
            }
            return AWSCredentials(
                accessKeyID: key, secretAccessKey: secret, sessionToken: sources.sessionToken,
                source: "AWS_ACCESS_KEY_ID")
        }
        let sts = STSAPI(transport: transport, region: sources.region, endpoint: sources.stsEndpoint)
        if let file = sources.webIdentityTokenFile {
            guard let role = sources.roleARN else {
                throw PierError(
                    .usage, operation: "find AWS credentials",
                    message: "AWS_WEB_IDENTITY_TOKEN_FILE is set without AWS_ROLE_ARN")
            }
            return try await sts.assumeRoleWithWebIdentity(
                roleARN: role, sessionName: sources.roleSessionName, webIdentityToken: try readToken(file),
                source: "AWS_WEB_IDENTITY_TOKEN_FILE")
        }
        if let url = sources.actionsIDTokenURL, let request = sources.actionsIDTokenRequestToken,
            let role = sources.roleARN
        {
            let token = try await GitHubActionsIDToken(transport: transport, requestURL: url, requestToken: request)
                .token(audience: AWSCredentialSources.actionsAudience)
            return try await sts.assumeRoleWithWebIdentity(
                roleARN: role, sessionName: sources.roleSessionName, webIdentityToken: token,
                source: "GitHub Actions OIDC")
        }
        for (path, isConfigFile) in [(sources.sharedCredentialsFile, false), (sources.configFile, true)] {
            guard
                let settings = try AWSProfileFile.settings(
                    path: path, profile: sources.profile, isConfigFile: isConfigFile)
            else { continue }
            let source = "profile \(sources.profile) in \(path)"
            if let key = settings["aws_access_key_id"], let secret = settings["aws_secret_access_key"] {
                return AWSCredentials(
                    accessKeyID: key, secretAccessKey: secret, sessionToken: settings["aws_session_token"],
                    source: source)
            }
            if let role = settings["role_arn"], let file = settings["web_identity_token_file"] {
                return try await sts.assumeRoleWithWebIdentity(
                    roleARN: role, sessionName: settings["role_session_name"] ?? sources.roleSessionName,
                    webIdentityToken: try readToken(file), source: "web_identity_token_file of \(source)")
            }
        }
        return nil
    }

    /// The token in a web identity token file (Kubernetes rotates it; it is read at each lookup).
    static func readToken(_ path: String) throws(PierError) -> String {
        guard let data = BoundedFileRead.contents(of: path, limit: tokenFileLimit),
            let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
            !text.isEmpty
        else {
            throw PierError(
                .usage, operation: "find AWS credentials", message: "cannot read a web identity token from \(path)")
        }
        return text
    }
}
