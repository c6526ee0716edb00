import Foundation
import Logging
import PierHTTP
import PierHostedAPIs
import PierModel
import PierRegistry

extension Settings {
    /// Resolves a run's settings: flags > environment > pier.yml > defaults. Every value from the environment or
    /// the config file is checked here, so a typo is a usage error (exit 64, or 65 with file:line for pier.yml)
    /// before any network I/O.
    ///
    /// - Parameters:
    ///   - flags: what the command line gave.
    ///   - environment: the process environment, read by nothing else.
    ///   - readPassword: reads `--password-stdin`'s secret; called at most once, only when the flag is given.
    public static func resolve(
        _ flags: SettingsFlags, environment: [String: String], readPassword: @escaping () -> String = { "" }
    ) throws(PierError) -> Settings {
        func variable(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let config = try PierConfig.forRun(path: flags.configPath ?? variable("PIER_CONFIG"))
        var services = ServiceSettings(environment: environment)
        if services.aws.sources.roleARN == nil, let role = config.awsRoleARN {
            services.aws.sources.roleARN = role
            services.aws.provider = AWSCredentialProvider(sources: services.aws.sources)
        }
        try checkURL(services.aws.sources.stsEndpoint, from: "AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL")
        try checkURL(services.aws.sources.actionsIDTokenURL, from: "ACTIONS_ID_TOKEN_REQUEST_URL")
        try checkURL(services.githubAPIURL, from: "GITHUB_API_URL")
        try checkURL(services.gitlabAPIURL, from: "CI_API_V4_URL")
        try checkURL(services.aws.endpoint, from: "AWS_ENDPOINT_URL_ECR or AWS_ENDPOINT_URL")
        try checkURL(flags.apiURL, from: "--api-url")
        for entry in config.registries {
            try checkURL(entry.apiURL, from: "api_url of \(entry.repository) in pier.yml")
        }
        let startedAt = Date()
        let release = try resolveRelease(flags, config: config, environment: environment, now: startedAt)

        var network = NetworkSettings(dockerConfig: .standard(environment: environment))
        network.insecureHosts = Set(flags.insecureRegistries + config.insecureRegistries)
        for host in (variable("PIER_INSECURE_REGISTRIES") ?? "").split(separator: ",") {
            let trimmed = host.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty { network.insecureHosts.insert(trimmed) }
        }
        network.caFile = flags.caFile ?? variable("PIER_CA_FILE") ?? config.caFile
        if let value = flags.concurrency ?? config.concurrency {
            network.concurrency = try RegistryOptions.checkedConcurrency(value, from: "--concurrency")
        }
        if let value = flags.maxRequests {
            network.maxRequests = try RegistryOptions.checkedMaxRequests(value, from: "--max-requests")
        } else if let text = variable("PIER_MAX_REQUESTS") {
            guard let value = Int(text) else {
                throw PierError(
                    .usage, operation: "read options", message: "PIER_MAX_REQUESTS \(text) is not a whole number")
            }
            network.maxRequests = try RegistryOptions.checkedMaxRequests(value, from: "PIER_MAX_REQUESTS")
        } else if let value = config.maxRequests {
            network.maxRequests = value
        } else {
            network.maxRequests = NetworkSettings.defaultMaxRequestsFactor * network.concurrency
        }
        var timeout = flags.timeout.map { ($0, "--timeout \($0)") }
        if timeout == nil, let text = variable("PIER_TIMEOUT") {
            guard let value = Double(text) else {
                throw PierError(
                    .usage, operation: "read options", message: "PIER_TIMEOUT \(text) is not a number of seconds")
            }
            timeout = (value, "PIER_TIMEOUT \(text)")
        }
        if let (seconds, given) = timeout {
            guard seconds.isFinite, seconds > 0, seconds <= NetworkSettings.maximumTimeout else {
                throw PierError(
                    .usage, operation: "read options",
                    message:
                        "\(given) is not a number of seconds above 0 and at most \(Int(NetworkSettings.maximumTimeout))"
                )
            }
            network.timeout = seconds
        }

        var registries: [String: RegistrySettings] = [:]
        var origins: [String: String] = [:]
        for entry in config.registries {
            guard let reference = try? ImageReference(parsing: entry.repository) else { continue }
            let host = DockerConfig.normalizedHost(reference.registry)
            var settings = RegistrySettings(host: reference.registry)
            settings.insecure = entry.insecure
            settings.caFile = entry.caFile
            settings.api = entry.api ?? .auto
            settings.apiURL = entry.apiURL
            settings.concurrency = entry.concurrency
            settings.createRepository = entry.create
            settings.ecr = entry.ecr ?? settings.ecr
            if entry.insecure { network.insecureHosts.insert(reference.registry) }
            if let userVariable = entry.usernameEnv, let passwordVariable = entry.passwordEnv {
                if let user = variable(userVariable), let password = variable(passwordVariable) {
                    network.explicitCredentials[host] = .basic(username: user, password: password)
                    origins[host] = "\(userVariable) and \(passwordVariable) (pier.yml)"
                } else {
                    network.unsetVariablesByHost[host] = [userVariable, passwordVariable].filter { variable($0) == nil }
                }
            }
            registries[host] = settings
        }

        let named = flags.targetLocations ?? release.targets.map(\.description)
        let targetHosts = Self.registryHosts(of: named) + flags.targetHosts
        if flags.registryAPI != nil || flags.apiURL != nil {
            for host in targetHosts + release.targets.map(\.registry) {
                var settings = registries[DockerConfig.normalizedHost(host)] ?? RegistrySettings(host: host)
                if let api = flags.registryAPI { settings.api = api }
                if let url = flags.apiURL { settings.apiURL = url }
                registries[DockerConfig.normalizedHost(host)] = settings
            }
        }
        if flags.createRepository {
            for host in targetHosts + release.targets.map(\.registry) {
                var settings = registries[DockerConfig.normalizedHost(host)] ?? RegistrySettings(host: host)
                settings.createRepository = true
                registries[DockerConfig.normalizedHost(host)] = settings
            }
        }

        var given = try givenCredentials(flags, environment: environment)
        for scoped in flags.scopedUsers {
            guard case .registry(let reference) = try ImageLocation(parsing: scoped.location) else {
                throw PierError(
                    .usage, operation: "read credentials",
                    message: "\(scoped.flag) is for a registry, and \(scoped.location) is not one")
            }
            given.append(
                .init(
                    scope: .host(reference.registry), username: scoped.username, secretVariable: scoped.secretVariable,
                    flag: scoped.flag))
        }
        let explicit = try ExplicitCredentials.resolve(
            given, stdinSecret: flags.passwordFromStdin ? readPassword : nil, environment: environment,
            targets: targetHosts)
        for item in given {
            let host = DockerConfig.normalizedHost(item.scope == .target ? (targetHosts.first ?? "") : item.hostName)
            origins[host] = "\(item.flag) and \(flags.passwordFromStdin ? "--password-stdin" : item.secretVariable)"
        }
        for (host, credential) in explicit { network.explicitCredentials[host] = credential }
        network.originByHost = origins

        var settings = Settings(
            config: config, environment: environment, startedAt: startedAt, network: network, registries: registries,
            services: services, release: release)
        settings.signing.key = flags.signKey ?? config.signing.key
        settings.signing.verifyKey = flags.verifyKey ?? config.signing.verifyKey
        settings.organisation = try resolveOrganisation(flags, config: config, environment: environment)
        settings.referrers = try resolveReferrers(flags, config: config)
        return settings
    }

    /// Flags win over pier.yml's `referrers:`; `--referrers-type` replaces its `types`.
    /// Each `--referrers-type` must be a media type (a usage error before any network I/O).
    static func resolveReferrers(_ flags: SettingsFlags, config: PierConfig) throws(PierError) -> ReferrerSelection {
        for type in flags.referrerTypes where !MediaType.isMediaType(type) {
            throw PierError(
                .usage, operation: "read options", message: "--referrers-type \"\(type)\" is not a media type",
                hint: MediaType.artifactTypeExamples)
        }
        var selection = config.referrers ?? ReferrerSelection()
        if flags.noReferrers { selection.carry = false }
        if !flags.referrerTypes.isEmpty { selection.artifactTypes = flags.referrerTypes }
        return selection
    }

    /// An API base URL pier will send credentials to: http or https, a host, a port from 1 to 65535.
    static func checkURL(_ url: String?, from origin: String) throws(PierError) {
        guard let url, case .failure(let refusal) = HTTPOrigin.parse(url) else { return }
        throw PierError(
            .usage, operation: "read options", message: "\(origin) \(url) is \(refusal)",
            hint: "give a URL such as https://host[:port]/path")
    }

    /// The tag context, rules, targets and policies of a release.
    static func resolveRelease(
        _ flags: SettingsFlags, config: PierConfig, environment: [String: String], now: Date
    ) throws(PierError) -> ReleaseSettings {
        var rules = config.rules
        rules.raw += flags.rawTags
        if let latest = flags.latest { rules.latest = latest }
        if let prefix = flags.tagPrefix { rules.prefix = prefix }
        if let suffix = flags.tagSuffix {
            // --tag-suffix takes the next argument whatever it is (-slim): one that is a flag was forgotten.
            guard !suffix.hasPrefix("--") else {
                throw PierError(
                    .usage, operation: "read options", message: "--tag-suffix needs a suffix, not \(suffix)",
                    hint: "for example --tag-suffix -slim")
            }
            rules.suffix = suffix
        }
        if flags.noSHATag { rules.sha = false }

        var texts = flags.targets
        if texts.isEmpty, let list = environment["PIER_TO"], !list.isEmpty {
            texts = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if texts.isEmpty { texts = config.registries.map(\.repository) }
        let targets = try texts.map { (text) throws(PierError) in try ImageReference(parsing: text).with(tag: nil) }

        var onConflict = flags.onConflict ?? config.onConflict ?? .fail
        if flags.onConflict == nil, let text = environment["PIER_ON_CONFLICT"], !text.isEmpty {
            guard let policy = ConflictPolicy(rawValue: text) else {
                throw PierError(
                    .usage, operation: "read options",
                    message:
                        "PIER_ON_CONFLICT \(text) is not one of \(ConflictPolicy.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            onConflict = policy
        }
        let overrides = TagContext.Overrides(
            version: flags.version, gitSHA: flags.gitSHA, branch: flags.branch, buildNumber: flags.buildNumber,
            event: flags.event)
        let context =
            flags.detectsTagContext
            ? TagContext.detect(overrides: overrides, environment: environment, now: now)
            : TagContext(
                version: flags.version, gitSHA: flags.gitSHA, branch: flags.branch, buildNumber: flags.buildNumber,
                event: flags.event ?? (flags.version == nil ? .push : .tag), timestamp: now)
        var release = ReleaseSettings(
            source: flags.source ?? environment["PIER_SOURCE"].flatMap { $0.isEmpty ? nil : $0 } ?? config.source,
            targets: targets, rules: rules, context: context, onConflict: onConflict,
            failFast: flags.failFast || (config.failFast ?? false),
            pushOnPullRequest: flags.pushOnPullRequest || (config.pushOnPullRequest ?? false))
        release.mergeSources = flags.mergeSources
        return release
    }

    /// The usernames given by flags and environment, each with the registry it is for. `--creds` wins over
    /// `-u`/`PIER_USERNAME` (it names its host); `PIER_REGISTRY` names the host of `-u`/`PIER_USERNAME`.
    static func givenCredentials(
        _ flags: SettingsFlags, environment: [String: String]
    ) throws(PierError) -> [ExplicitCredentials.Given] {
        if let creds = flags.hostCredentials {
            guard flags.username == nil else {
                throw PierError(
                    .usage, operation: "read credentials", message: "give either --creds HOST=USER or -u USER, not both"
                )
            }
            let parts = creds.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw PierError(.usage, operation: "read credentials", message: "--creds takes HOST=USER, not \(creds)")
            }
            return [.init(scope: .host(parts[0]), username: parts[1], secretVariable: "PIER_PASSWORD", flag: "--creds")]
        }
        guard let user = flags.username ?? environment["PIER_USERNAME"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            return []
        }
        let scope: ExplicitCredentials.Given.Scope =
            environment["PIER_REGISTRY"].flatMap { $0.isEmpty ? nil : .host($0) } ?? .target
        return [
            .init(
                scope: scope, username: user, secretVariable: "PIER_PASSWORD",
                flag: flags.username == nil ? "PIER_USERNAME" : "-u")
        ]
    }

    /// The registry hosts of image locations (local layouts have none; an unparsable one is reported later,
    /// where it is used).
    public static func registryHosts(of locations: [String]) -> [String] {
        locations.compactMap { text -> String? in
            if case .registry(let reference)? = try? ImageLocation(parsing: text) { return reference.registry }
            return nil
        }
    }

    /// The options the registry clients run with.
    public func registryOptions(logger: Logger, userAgent: String) -> RegistryOptions {
        var options = RegistryOptions(
            insecureHosts: network.insecureHosts, caFile: network.caFile, concurrency: network.concurrency,
            readTimeout: .milliseconds(Int64(network.timeout * 1000)),
            credentials: CredentialChain(
                explicitByHost: network.explicitCredentials, originByHost: network.originByHost,
                unsetVariablesByHost: network.unsetVariablesByHost,
                dockerConfig: network.dockerConfig,
                gitHubToken: services.githubToken.map { .basic(username: services.githubActor ?? "pier", password: $0) }
            ),
            userAgent: userAgent, logger: logger)
        options.credentials.loginSource = ecrLogin()
        options.maxRequests = network.maxRequests
        for (host, settings) in registries {
            if let limit = settings.concurrency { options.concurrencyByHost[host] = limit }
            if let file = settings.caFile { options.caFileByHost[settings.host] = file }
        }
        return options
    }
}

extension ExplicitCredentials.Given {
    /// The host a `.host` credential names ("" for `.target`).
    var hostName: String {
        if case .host(let host) = scope { return host }
        return ""
    }
}

extension PierConfig {
    /// The config of a run: `path` (from `--config` or `PIER_CONFIG`), which must exist, else `pier.yml` when
    /// present, else an empty config.
    public static func forRun(path: String?) throws(PierError) -> PierConfig {
        if let path { return try load(path: path, required: true) }
        return try load(path: "pier.yml", required: false)
    }
}

extension Settings {
    /// The ECR login of this run: every `*.dkr.ecr.*.amazonaws.com` host, and the hosts whose API is set to `ecr`
    /// (their `api_url` is the ECR API endpoint their tokens come from).
    func ecrLogin() -> ECRLogin {
        var targets: [String: ECRLogin.Target] = [:]
        for (host, settings) in registries {
            let region = ECRAPI.region(ofHost: host)
            guard settings.api == .ecr || (settings.api == .auto && region != nil) else { continue }
            targets[host] = ECRLogin.Target(
                region: region ?? services.aws.region ?? ECRLogin.defaultRegion,
                endpoint: settings.apiURL ?? services.aws.endpoint, registryID: ECRAPI.account(ofHost: host))
        }
        return ECRLogin(
            targets: targets, defaultRegion: services.aws.region, defaultEndpoint: services.aws.endpoint,
            provider: services.aws.provider)
    }
}
