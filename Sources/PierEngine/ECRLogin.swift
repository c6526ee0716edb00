import Foundation
import PierHTTP
import PierHostedAPIs
import PierModel
import PierRegistry

/// Logs in to ECR registries without the AWS CLI: `GetAuthorizationToken`, signed with the AWS credentials
/// `AWSCredentialProvider` finds, presented as Basic `AWS:<password>` to the one registry host it was asked for.
/// The token is kept until shortly before its `expiresAt` and fetched again after that (a run longer than its
/// 12 hours) or when the registry refuses it.
///
/// It serves `*.dkr.ecr.REGION.amazonaws.com` hosts and hosts whose API is set to `ecr` (`--registry-api ecr`,
/// pier.yml `api: ecr`), and only when no explicit credential, `docker login` or credential helper has one.
public actor ECRLogin: RegistryLoginSource {
    /// One ECR registry host: the region and API endpoint its token comes from.
    public struct Target: Sendable, Equatable {
        public var region: String
        public var endpoint: String?
        /// The account that owns the registry, when its host names it (`123456789012.dkr.ecr…`).
        public var registryID: String?
    }

    struct Entry {
        var credential: Credential
        var renewAt: Date
    }

    public nonisolated let targets: [String: Target]
    /// ECR-pattern hosts nobody configured are served with these defaults.
    nonisolated let defaultRegion: String?
    nonisolated let defaultEndpoint: String?
    let provider: AWSCredentialProvider
    private var entries: [String: Entry] = [:]
    private var inFlight: [String: Task<Entry, any Error>] = [:]
    private let now: @Sendable () -> Date

    /// The region of a host that names none when `AWS_REGION` is unset: the AWS CLI's own default.
    public static let defaultRegion = "us-east-1"
    /// A token is fetched again this long before ECR says it expires.
    public static let renewalMargin: TimeInterval = 300
    /// The shortest time a token is kept: an `expiresAt` in the past or too close (a skewed clock) does not make
    /// every request fetch a new one.
    public static let minimumLifetime: TimeInterval = 60
    /// The longest time a token is kept, whatever `expiresAt` says: ECR's tokens last 12 hours.
    public static let maximumLifetime: TimeInterval = 12 * 3_600

    public init(
        targets: [String: Target], defaultRegion: String?, defaultEndpoint: String?, provider: AWSCredentialProvider,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.targets = targets.reduce(into: [:]) { $0[DockerConfig.normalizedHost($1.key)] = $1.value }
        self.defaultRegion = defaultRegion
        self.defaultEndpoint = defaultEndpoint
        self.provider = provider
        self.now = now
    }

    public nonisolated func logsIn(to registry: String) -> Bool { target(for: registry) != nil }

    nonisolated func target(for registry: String) -> Target? {
        let host = DockerConfig.normalizedHost(registry)
        if let target = targets[host] { return target }
        guard let region = ECRAPI.region(ofHost: host) else { return nil }
        return Target(region: region, endpoint: defaultEndpoint, registryID: ECRAPI.account(ofHost: host))
    }

    public func credential(for registry: String, transport: HTTPTransport) async throws(PierError) -> Credential {
        let host = DockerConfig.normalizedHost(registry)
        guard let target = target(for: host) else { return .anonymous }
        if let entry = entries[host], entry.renewAt > now() { return entry.credential }
        let task: Task<Entry, any Error>
        if let running = inFlight[host] {
            task = running
        } else {
            let provider = provider
            let now = now
            task = Task { try await Self.fetch(target, provider: provider, transport: transport, now: now) }
            inFlight[host] = task
        }
        defer { inFlight[host] = nil }
        do {
            let entry = try await task.value
            entries[host] = entry
            return entry.credential
        } catch var error as PierError {
            error.registry = error.registry ?? host
            throw error
        } catch {
            throw PierError(.other, operation: "log in to ECR", message: "\(error)", registry: host)
        }
    }

    static func fetch(
        _ target: Target, provider: AWSCredentialProvider, transport: HTTPTransport, now: @Sendable () -> Date
    ) async throws(PierError) -> Entry {
        guard try await provider.credentials(transport: transport) != nil else {
            return Entry(credential: .anonymous, renewAt: now() + minimumLifetime)
        }
        let api = ECRAPI(
            transport: transport, region: target.region, credentials: provider, endpoint: target.endpoint)
        let token = try await api.authorizationToken(registryID: target.registryID)
        let lifetime = (token.expiresAt?.timeIntervalSince(now()) ?? maximumLifetime) - renewalMargin
        return Entry(
            credential: .basic(username: token.username, password: token.password),
            renewAt: now() + min(max(lifetime, minimumLifetime), maximumLifetime))
    }

    public func invalidate(registry: String) async {
        entries[DockerConfig.normalizedHost(registry)] = nil
        await provider.invalidate()
    }

    public nonisolated func missingRepositoryHint(for registry: String) -> String? {
        ECRRepositoryCreation.missingRepositoryHint
    }

    public nonisolated func loginHint(for registry: String) -> String {
        "pier logs in to ECR with AWS credentials: \(AWSCredentialSources.hint); or run 'pier login \(registry)'"
    }
}
