import Foundation
import PierHostedAPIs
import PierModel

/// The result of `pier publish`, printed as a human summary or as JSON (`--json`). The JSON schema is stable:
/// fields are only ever added; `schemaVersion` changes if one is removed or changes meaning.
public struct PublishReport: Sendable, Codable {
    public var schemaVersion = 1
    public var source: String
    /// The root digest every tag must point at.
    public var digest: Digest
    public var mediaType: String
    public var platforms: [String]
    public var context: TagContext
    /// The planned tags (one plan for every registry).
    public var tags: [PlannedTag]
    /// True for --dry-run and for pull/merge request builds without --push-on-pr.
    public var dryRun: Bool
    /// How the publish ended, as a whole.
    public enum Status: String, Sendable, Codable {
        case ok
        /// Some registries failed, the others hold every tag.
        case partial
        case failed
    }
    public var status: Status
    public var registries: [RegistryReport]
    public var seconds: Double
    /// ECR repositories this run created (`host/name`), when the registry's settings said to; absent otherwise.
    public var createdRepositories: [String]?
    /// ECR's scan of the published digest, by repository (`host/name`), for every ECR target that was written;
    /// absent when no target is ECR. Status `NOT_SCANNED` when the repository does not scan on push.
    public var scans: [String: ECRScanFindings]?

    public init(
        source: String, digest: Digest, mediaType: String, platforms: [String], context: TagContext, tags: [PlannedTag],
        dryRun: Bool, registries: [RegistryReport], seconds: Double
    ) {
        self.source = source
        self.digest = digest
        self.mediaType = mediaType
        self.platforms = platforms
        self.context = context
        self.tags = tags
        self.dryRun = dryRun
        self.registries = registries
        self.seconds = seconds
        let failed = registries.filter { $0.error != nil }.count
        status = failed == 0 ? .ok : failed == registries.count ? .failed : .partial
    }
}

/// What happened on one registry.
public struct RegistryReport: Sendable, Codable {
    public struct TagResult: Sendable, Codable, Equatable {
        public var tag: String
        public var kind: PlannedTag.Kind
        /// The digest the tag pointed at before, if it existed.
        public var before: Digest?
        /// What happened to a tag on one registry.
        public enum Action: String, Sendable, Codable {
            case written, unchanged
            /// A dry run would write it.
            case wouldWrite = "would-write"
            /// A full version tag holding another digest (`--on-conflict fail`).
            case conflict
            /// Not written because another tag of the plan conflicted.
            case skipped
        }
        public var action: Action
        /// For `--on-conflict backup`: where the old image was kept.
        public var backup: String?
    }
    public struct Failure: Sendable, Codable {
        public var kind: PierError.Kind
        public var message: String
    }
    public var repository: String
    /// The first target is the primary; the others are backups.
    public enum Role: String, Sendable, Codable {
        case primary, backup
    }
    public var role: Role
    public var tags: [TagResult] = []
    public var blobsUploaded = 0
    public var blobsMounted = 0
    public var blobsSkipped = 0
    public var bytesUploaded: Int64 = 0
    public var manifestsPushed = 0
    /// Signatures, SBOMs and attestations carried from a registry source, each verified here.
    public var referrers: [Referrer] = []
    /// Blobs a real run would upload (dry runs).
    public var wouldUpload: [Digest] = []
    /// Every tag HEADed back to the root digest and every child manifest present.
    public var verified = false
    /// With a signing key: whether the signature was added or already there (then read back and verified).
    public var signature: SignatureStore.Outcome?
    public var seconds: Double = 0
    /// Docker Hub style rate-limit headers, when the registry sent them.
    public var rateLimit: String?
    public var error: Failure?
    /// The full error, for the CLI's renderer; not part of the JSON.
    public var pierError: PierError?

    enum CodingKeys: String, CodingKey {
        case repository, role, tags, blobsUploaded, blobsMounted, blobsSkipped, bytesUploaded, manifestsPushed,
            wouldUpload, referrers,
            verified, seconds, rateLimit, error, signature
    }

    public init(repository: String, role: Role) {
        self.repository = repository
        self.role = role
    }
}
