import Foundation
import PierEngine
import PierModel
import PierRegistry
import Testing

/// One precedence for every setting: flags > environment > pier.yml > defaults, resolved before any network I/O.
@Suite struct SettingsTests {
    /// A pier.yml in a fresh directory, and flags pointing at it.
    func flags(config yaml: String) throws -> SettingsFlags {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pier-settings-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try yaml.write(toFile: directory + "/pier.yml", atomically: true, encoding: .utf8)
        var flags = SettingsFlags()
        flags.configPath = directory + "/pier.yml"
        return flags
    }

    @Test func concurrencyFlagWinsOverTheConfigAndReachesTheRegistryLimiter() throws {
        var given = try flags(config: "registries:\n  - 127.0.0.1:5000/app\nconcurrency: 8\n")
        #expect(try Settings.resolve(given, environment: [:]).network.concurrency == 8)
        given.concurrency = 2
        let settings = try Settings.resolve(given, environment: [:])
        #expect(settings.network.concurrency == 2)
        #expect(
            settings.registryOptions(logger: .init(label: "t"), userAgent: "t").concurrency(for: "127.0.0.1:5000") == 2)
    }

    /// `--max-requests` > `PIER_MAX_REQUESTS` > pier.yml `max_requests` > 4 × the per-registry concurrency; each is
    /// range-checked and the result reaches the registry options (the one transport's limit).
    @Test func maxRequestsHasOnePrecedenceAndRangeAndReachesTheTransport() throws {
        var given = try flags(config: "concurrency: 6\nmax_requests: 40\n")
        let options = { (settings: Settings) in settings.registryOptions(logger: .init(label: "t"), userAgent: "t") }
        #expect(try Settings.resolve(try flags(config: "concurrency: 6\n"), environment: [:]).network.maxRequests == 24)
        #expect(try Settings.resolve(SettingsFlags(), environment: [:]).network.maxRequests == 16)
        #expect(options(try Settings.resolve(given, environment: [:])).maxRequests == 40)
        #expect(options(try Settings.resolve(given, environment: ["PIER_MAX_REQUESTS": "12"])).maxRequests == 12)
        given.maxRequests = 3
        #expect(options(try Settings.resolve(given, environment: ["PIER_MAX_REQUESTS": "12"])).maxRequests == 3)
        for (flag, variable, yaml, text) in [
            (0, nil, nil, "--max-requests 0 is not between 1 and 256"),
            (257, nil, nil, "--max-requests 257 is not between 1 and 256"),
            (nil, "many", nil, "PIER_MAX_REQUESTS many is not a whole number"),
            (nil, "-1", nil, "PIER_MAX_REQUESTS -1 is not between 1 and 256"),
            (nil, nil, "max_requests: 1000", "max_requests must be 1 to 256"),
        ] as [(Int?, String?, String?, String)] {
            var bad = try flags(config: yaml ?? "")
            bad.maxRequests = flag
            #expect {
                _ = try Settings.resolve(bad, environment: variable.map { ["PIER_MAX_REQUESTS": $0] } ?? [:])
            } throws: { error in
                (error as? PierError)?.kind == (yaml == nil ? .usage : .invalidInput) && "\(error)".contains(text)
            }
        }
    }

    @Test func perRegistryEntriesCarryAPIConcurrencyAndCredentialVariables() throws {
        let given = try flags(
            config: """
                registries:
                  - repository: harbor.example.com/team/app
                    api: harbor
                    api_url: https://harbor.example.com
                    concurrency: 2
                    username_env: HARBOR_USER
                    password_env: HARBOR_PASS
                  - ghcr.io/org/app
                concurrency: 6
                """)
        let settings = try Settings.resolve(given, environment: ["HARBOR_USER": "robot", "HARBOR_PASS": "s3cret"])
        let harbor = settings.registry("harbor.example.com")
        #expect(harbor.api == .harbor && harbor.apiURL == "https://harbor.example.com" && harbor.concurrency == 2)
        #expect(
            settings.network.explicitCredentials["harbor.example.com"] == .basic(username: "robot", password: "s3cret"))
        let options = settings.registryOptions(logger: .init(label: "t"), userAgent: "t")
        #expect(options.concurrency(for: "harbor.example.com") == 2 && options.concurrency(for: "ghcr.io") == 6)
        // A refusal names where the credentials came from, not PIER_USERNAME.
        #expect(
            options.credentials.loginHint(for: "harbor.example.com").contains("HARBOR_USER and HARBOR_PASS (pier.yml)"))
        #expect(settings.release.targets.map(\.repositoryName) == ["harbor.example.com/team/app", "ghcr.io/org/app"])
    }

    @Test func environmentSitsBetweenFlagsAndConfig() throws {
        var given = try flags(
            config: "registries:\n  - a.example.com/app\non_conflict: backup\nsource: oci:from-config\n")
        let environment = [
            "PIER_TO": "b.example.com/app, c.example.com/app", "PIER_ON_CONFLICT": "overwrite",
            "PIER_SOURCE": "oci:from-env",
        ]
        var settings = try Settings.resolve(given, environment: environment)
        #expect(settings.release.targets.map(\.registry) == ["b.example.com", "c.example.com"])
        #expect(settings.release.onConflict == .overwrite && settings.release.source == "oci:from-env")
        given.targets = ["d.example.com/app"]
        given.onConflict = .fail
        given.source = "oci:from-flag"
        settings = try Settings.resolve(given, environment: environment)
        #expect(settings.release.targets.map(\.registry) == ["d.example.com"])
        #expect(settings.release.onConflict == .fail && settings.release.source == "oci:from-flag")
        settings = try Settings.resolve(try flags(config: "on_conflict: backup\n"), environment: [:])
        #expect(settings.release.onConflict == .backup)
    }

    @Test func badValuesFromTheEnvironmentAreUsageErrors() throws {
        let given = SettingsFlags()
        for (name, value, text) in [
            ("PIER_TIMEOUT", "soon", "PIER_TIMEOUT soon is not a number"),
            ("PIER_TIMEOUT", "0", "PIER_TIMEOUT 0 is not a number of seconds above 0"),
            ("PIER_ON_CONFLICT", "replace", "PIER_ON_CONFLICT replace is not one of fail, overwrite, backup"),
        ] {
            #expect {
                _ = try Settings.resolve(given, environment: [name: value])
            } throws: { error in
                (error as? PierError)?.kind == .usage && "\(error)".contains(text)
            }
        }
        for (name, value, text) in [
            ("AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:99999", "port 99999"),
            ("GITHUB_API_URL", "file:///etc", "a file: URL"),
            ("CI_API_V4_URL", "https://gitlab.example.com:x/api/v4", "port x"),
        ] {
            #expect {
                _ = try Settings.resolve(given, environment: [name: value])
            } throws: { error in
                (error as? PierError)?.kind == .usage && "\(error)".contains(name) && "\(error)".contains(text)
            }
        }
        var huge = SettingsFlags()
        huge.concurrency = 1000
        #expect(throws: PierError.self) { _ = try Settings.resolve(huge, environment: [:]) }
    }

    @Test func servicesTokensAreReadOnceWithOneGitLabRule() {
        let both = ServiceSettings(environment: ["GITLAB_TOKEN": "glpat", "CI_JOB_TOKEN": "job"])
        #expect(both.gitlabToken == .privateToken("glpat"))
        let job = ServiceSettings(environment: ["GITLAB_TOKEN": "", "CI_JOB_TOKEN": "job"])
        #expect(job.gitlabToken == .jobToken("job"))
        let github = ServiceSettings(environment: [
            "GITHUB_TOKEN": "ghp", "GITHUB_API_URL": "https://ghe.example.com/api/v3",
        ])
        #expect(github.githubToken == "ghp" && github.githubAPIURL == "https://ghe.example.com/api/v3")
    }

    @Test func configNeedsBothCredentialVariablesOrNeither() throws {
        #expect(throws: PierError.self) {
            _ = try Settings.resolve(
                try flags(config: "registries:\n  - repository: a.example.com/app\n    username_env: U\n"),
                environment: [:])
        }
    }
}
