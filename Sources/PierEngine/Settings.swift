import Foundation
import Logging
import PierHostedAPIs
import PierModel
import PierRegistry

/// Everything one run of pier needs to know, resolved once by `Settings.resolve` with one precedence:
/// flags > environment > pier.yml > defaults. Use cases read this value and nothing else: no use case reads the
/// process environment or a config file itself.
public struct Settings: Sendable {
    /// The pier.yml that was read (empty when there is none): its `build:` and `prune:` sections.
    public var config: PierConfig
    /// The process environment as it was at start, for what pier passes on rather than decides with: the CI
    /// variables the tag context and annotations are detected from, and the builder's allowed variables.
    public var environment: [String: String]
    /// When the run started: the timestamp of date tags and of backup tag names (`bkup-<tag>-<time>`).
    public var startedAt: Date
    public var network: NetworkSettings
    /// One entry per registry host named in pier.yml, `--to`, `PIER_TO` or the command's images, keyed by
    /// normalised host (`DockerConfig.normalizedHost`).
    public var registries: [String: RegistrySettings]
    /// Tokens and endpoints of the hosted services (GitHub, GitLab, Docker Hub, AWS).
    public var services: ServiceSettings
    public var release: ReleaseSettings
    /// Which referrers copy, publish and sync carry (`--no-referrers`, `--referrers-type`, pier.yml `referrers:`).
    public var referrers = ReferrerSelection()
    /// The keys that sign and verify images (`--sign-key`, `--verify-key`, pier.yml `signing:`).
    public var signing = SigningSettings()
    /// pier.yml's `repositories:` with this job's shard; nil without that list.
    public var organisation: OrganisationSettings? = nil

    /// The entry for `host`; a host nobody configured gets the defaults.
    public func registry(_ host: String) -> RegistrySettings {
        registries[DockerConfig.normalizedHost(host)] ?? RegistrySettings(host: host)
    }
}

/// How pier talks to every registry.
public struct NetworkSettings: Sendable {
    /// Hosts allowed plain HTTP and unverified TLS besides loopback (`--insecure-registry`,
    /// `PIER_INSECURE_REGISTRIES`, pier.yml `insecure_registries` and `registries[].insecure`).
    public var insecureHosts: Set<String> = []
    /// Extra CA certificates to trust (`--ca-file`, `PIER_CA_FILE`, pier.yml `ca_file`).
    public var caFile: String?
    /// Requests in flight per registry (`--concurrency`, pier.yml `concurrency`, default 4).
    public var concurrency = NetworkSettings.defaultConcurrency
    /// Requests in flight across the run, every registry and hosted API together (`--max-requests`,
    /// `PIER_MAX_REQUESTS`, pier.yml `max_requests`; default `defaultMaxRequestsFactor` × `concurrency`).
    public var maxRequests = NetworkSettings.defaultMaxRequestsFactor * NetworkSettings.defaultConcurrency
    /// Seconds without a byte before a request fails (`--timeout`, `PIER_TIMEOUT`, default 120).
    public var timeout = NetworkSettings.defaultTimeout
    /// Credentials bound to their registry host before any request is sent.
    public var explicitCredentials: [String: Credential] = [:]
    /// Where each explicit credential came from, for hints when a registry refuses it.
    public var originByHost: [String: String] = [:]
    /// pier.yml's `username_env`/`password_env` names that were empty or not set, by normalised host.
    public var unsetVariablesByHost: [String: [String]] = [:]
    public var dockerConfig: DockerConfig

    /// go-containerregistry's and regclient's default.
    public static let defaultConcurrency = 4
    /// The run's limit by default is this many registries' worth of `concurrency`: a publish or sync to up to four
    /// registries runs as it would with no global limit, while an organisation run over many registries and hosted
    /// APIs stays at a number of connections a CI runner and the registries' rate limits take in their stride.
    public static let defaultMaxRequestsFactor = 4
    /// Long enough for a registry finishing a multi-GiB blob; short enough that a dead connection is noticed.
    public static let defaultTimeout: Double = 120
    /// The longest `--timeout` accepted: a day.
    public static let maximumTimeout: Double = 86_400
}

/// One registry host: where its credentials come from, whether it is insecure, which API deletes on it, and how
/// much to ask of it at once.
public struct RegistrySettings: Sendable, Equatable {
    public var host: String
    public var insecure = false
    /// A PEM file of CA certificates trusted for this registry only (pier.yml `registries[].ca_file`).
    public var caFile: String?
    /// The management API (`--registry-api`, pier.yml `registries[].api`); `.auto` picks by host.
    public var api: RegistryAPISelection.Kind = .auto
    /// Its base URL (`--api-url`, pier.yml `registries[].api_url`).
    public var apiURL: String?
    /// Requests in flight to this host, when pier.yml sets one for it.
    public var concurrency: Int?
    /// Create the repository when it does not exist (pier.yml `create: true`, `--create-repository`); ECR only.
    public var createRepository = false
    /// How an ECR repository pier creates is set up (pier.yml `ecr:`).
    public var ecr = ECRRepositorySettings()

    public init(host: String) { self.host = host }
}

/// The hosted services' tokens and endpoints, read from the environment once.
public struct ServiceSettings: Sendable {
    /// `GITHUB_TOKEN`: GitHub packages (prune on ghcr.io), GitHub releases, and the ghcr.io login fallback.
    public var githubToken: String?
    public var githubActor: String?
    /// `GITHUB_API_URL` (GitHub Enterprise), default https://api.github.com.
    public var githubAPIURL = "https://api.github.com"
    /// `GITHUB_REPOSITORY` (owner/name).
    public var githubRepository: String?
    /// `GITLAB_TOKEN` (a personal or project access token) wins over `CI_JOB_TOKEN`.
    public var gitlabToken: GitLabToken?
    /// `CI_API_V4_URL`.
    public var gitlabAPIURL: String?
    /// `CI_PROJECT_ID`.
    public var gitlabProject: String?
    /// `CI_REGISTRY`: the GitLab registry of this pipeline, managed through `gitlabAPIURL`.
    public var gitlabRegistry: String?
    /// `DOCKERHUB_USERNAME` and `DOCKERHUB_TOKEN`.
    public var dockerHubUsername: String?
    public var dockerHubToken: String?
    public var aws = AWSSettings()

    /// A GitLab API token and the header it goes in.
    public enum GitLabToken: Sendable, Equatable {
        case privateToken(String)
        case jobToken(String)
    }

    /// AWS credentials and endpoint for ECR, in the AWS CLI's variables.
    public struct AWSSettings: Sendable {
        public var accessKeyID: String?
        public var secretAccessKey: String?
        public var sessionToken: String?
        /// `AWS_REGION`, else `AWS_DEFAULT_REGION`, used when the registry host names none.
        public var region: String?
        /// `AWS_ENDPOINT_URL_ECR`, else `AWS_ENDPOINT_URL`.
        public var endpoint: String?
        /// Where credentials for ECR's API and ECR logins are looked for (environment, profiles, web identity,
        /// GitHub Actions OIDC), with pier.yml's `aws.role_arn` when `AWS_ROLE_ARN` is unset.
        public var sources = AWSCredentialSources()
        /// The one lookup of `sources` a run shares (ECR logins and ECR's API).
        public var provider = AWSCredentialProvider(sources: AWSCredentialSources())
    }

    public init() {}

    /// Reads the services' variables; an empty variable counts as unset.
    public init(environment: [String: String]) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func secret(_ name: String) -> String? { CredentialChain.secret(name, in: environment) }
        githubToken = secret("GITHUB_TOKEN")
        githubActor = value("GITHUB_ACTOR")
        githubAPIURL = value("GITHUB_API_URL") ?? githubAPIURL
        githubRepository = value("GITHUB_REPOSITORY")
        gitlabToken =
            secret("GITLAB_TOKEN").map(GitLabToken.privateToken) ?? secret("CI_JOB_TOKEN").map(GitLabToken.jobToken)
        gitlabAPIURL = value("CI_API_V4_URL")
        gitlabProject = value("CI_PROJECT_ID")
        gitlabRegistry = value("CI_REGISTRY")
        dockerHubUsername = value("DOCKERHUB_USERNAME")
        dockerHubToken = secret("DOCKERHUB_TOKEN")
        aws.accessKeyID = secret("AWS_ACCESS_KEY_ID")
        aws.secretAccessKey = secret("AWS_SECRET_ACCESS_KEY")
        aws.sessionToken = secret("AWS_SESSION_TOKEN")
        aws.region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION")
        aws.endpoint = value("AWS_ENDPOINT_URL_ECR") ?? value("AWS_ENDPOINT_URL")
        aws.sources = AWSCredentialSources(environment: environment)
        aws.provider = AWSCredentialProvider(sources: aws.sources)
    }
}

/// What is being released and where it goes.
public struct ReleaseSettings: Sendable {
    /// The image to publish (`--source`, `PIER_SOURCE`, pier.yml `source`).
    public var source: String?
    /// Several `--source` images, merged into one index before publishing (`ImageMerger`); empty for one.
    public var mergeSources: [String] = []
    /// The repositories (`--to`, `PIER_TO`, pier.yml `registries`): the first is the primary. Tags are dropped.
    public var targets: [ImageReference] = []
    public var rules = TagRules()
    /// The git/CI context with the flags' overrides applied.
    public var context: TagContext
    public var onConflict: ConflictPolicy = .fail
    public var failFast = false
    public var pushOnPullRequest = false
}
