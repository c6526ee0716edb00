import PierModel
import PierRegistry

/// What the user gave on the command line, as the CLI parsed it: every value optional, so `Settings.resolve` can
/// tell a flag that was given from a default. The CLI maps its flags into this and nothing more.
public struct SettingsFlags: Sendable {
    /// `--config`; else `PIER_CONFIG` (both must exist), else `pier.yml` when present.
    public var configPath: String?

    public var insecureRegistries: [String] = []
    public var caFile: String?
    public var concurrency: Int?
    /// `--max-requests`: requests in flight across the run.
    public var maxRequests: Int?
    public var timeout: Double?

    /// `-u USER`: for the command's one target registry, or for `PIER_REGISTRY` when set.
    public var username: String?
    /// `--creds HOST=USER`.
    public var hostCredentials: String?
    /// `--password-stdin`.
    public var passwordFromStdin = false
    /// Usernames the command binds to one image's registry (`--src-creds`, `--dest-creds`).
    public var scopedUsers: [ScopedUser] = []

    /// A username for the registry of one image location, its secret in `secretVariable`.
    public struct ScopedUser: Sendable {
        public var username: String
        public var location: String
        public var secretVariable: String
        public var flag: String

        public init(username: String, location: String, secretVariable: String, flag: String) {
            self.username = username
            self.location = location
            self.secretVariable = secretVariable
            self.flag = flag
        }
    }
    /// The image locations the command targets, for `-u` and `PIER_USERNAME`; nil means the release targets.
    public var targetLocations: [String]?
    /// Registry hosts the command targets by name (`pier login HOST`).
    public var targetHosts: [String] = []

    /// Whether the command releases (publish, tags plan, notes, release): only then is the git/CI context
    /// detected (it runs git).
    public var detectsTagContext = false
    public var version: String?
    public var gitSHA: String?
    public var branch: String?
    public var buildNumber: String?
    public var event: TagContext.Event?
    public var rawTags: [String] = []
    public var latest: TagRules.Latest?
    public var tagPrefix: String?
    public var tagSuffix: String?
    public var noSHATag = false
    /// `--to`.
    public var targets: [String] = []

    public var source: String?
    /// `--source` given more than once: the builds `pier publish` merges into one index.
    public var mergeSources: [String] = []
    /// `--shard I/N` and `--shards N`: this job's share of pier.yml's repositories.
    public var shard: String?
    public var shards: Int?
    public var onConflict: ConflictPolicy?
    public var failFast = false
    public var pushOnPullRequest = false

    /// `--registry-api` and `--api-url`: they apply to every registry the command names.
    public var registryAPI: RegistryAPISelection.Kind?
    public var apiURL: String?
    /// `--create-repository`: create a missing ECR repository on every registry the command writes to.
    public var createRepository = false

    /// `--sign-key` (publish) and `--verify-key` (rollback, sync): a key file or env://NAME.
    public var signKey: String?
    public var verifyKey: String?

    /// `--no-referrers`: signatures, SBOMs and attestations stay behind.
    public var noReferrers = false
    /// `--referrers-type TYPE` (repeatable): only referrers of these artifact types.
    public var referrerTypes: [String] = []

    public init() {}
}
