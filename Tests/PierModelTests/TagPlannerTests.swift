import Foundation
import PierEngine
import PierModel
import Testing

struct TagPlannerTests {
    let sha = "0123456789abcdef0123456789abcdef01234567"
    func names(_ context: TagContext, _ rules: TagRules = TagRules(), existing: [String] = []) throws -> [String] {
        try TagPlanner.plan(context: context, rules: rules, existingTags: existing).map(\.name)
    }

    @Test func stableRelease() throws {
        let tags = try names(TagContext(version: "v1.2.3", gitSHA: sha, buildNumber: "42", event: .tag))
        #expect(tags == ["1.2.3", "1.2", "1", "latest", "sha-0123456", "build-42"])
    }

    @Test func preReleaseMovesNothing() throws {
        let tags = try names(
            TagContext(version: "v1.3.0-rc.1", event: .tag), existing: ["1.2.3", "1.2", "1", "latest"])
        #expect(tags == ["1.3.0-rc.1"])
    }

    @Test func olderPatchAfterNewerMajorDoesNotMoveLatest() throws {
        let existing = ["1.2.3", "1.2", "1", "2.0.0", "2.0", "2", "latest"]
        #expect(try names(TagContext(version: "1.2.4", event: .tag), existing: existing) == ["1.2.4", "1.2", "1"])
        // An older patch within its own line does not move the line back either.
        #expect(try names(TagContext(version: "1.2.2", event: .tag), existing: existing) == ["1.2.2"])
        #expect(try names(TagContext(version: "1.1.9", event: .tag), existing: existing) == ["1.1.9", "1.1"])
        #expect(
            try names(TagContext(version: "2.1.0", event: .tag), existing: existing) == ["2.1.0", "2.1", "2", "latest"])
    }

    @Test func vPrefixAndMajorZero() throws {
        var rules = TagRules()
        rules.vPrefix = true
        #expect(
            try names(TagContext(version: "v2.0.1", event: .tag), rules) == [
                "2.0.1", "v2.0.1", "2.0", "v2.0", "2", "v2", "latest",
            ])
        #expect(try names(TagContext(version: "0.3.1", event: .tag)) == ["0.3.1", "0.3", "latest"])
        var zero = TagRules()
        zero.majorZero = true
        #expect(try names(TagContext(version: "0.3.1", event: .tag), zero) == ["0.3.1", "0.3", "0", "latest"])
    }

    @Test func branchBuilds() throws {
        let context = TagContext(gitSHA: sha, branch: "Feature/Login_Page", defaultBranch: "main", buildNumber: "7")
        #expect(try names(context) == ["Feature-Login_Page", "sha-0123456", "build-7"])
        var rules = TagRules()
        rules.latest = .defaultBranch
        rules.shaLength = 10
        rules.fullSHA = true
        rules.buildNumber = false
        let main = TagContext(gitSHA: sha, branch: "main", defaultBranch: "main")
        #expect(try names(main, rules) == ["main", "latest", "sha-0123456789", "sha-\(sha)"])
    }

    @Test func pullRequests() throws {
        let context = TagContext(gitSHA: sha, branch: "fix", pullRequest: "12", event: .pullRequest)
        #expect(try names(context) == ["pr-12", "sha-0123456"])
    }

    @Test func dateTemplatePrefixSuffixAndRaw() throws {
        var rules = TagRules()
        rules.dateTemplate = "{branch}-{date:yyyyMMdd-HHmmss}"
        rules.raw = ["edge"]
        rules.suffix = "-conversation"
        rules.sha = false
        let context = TagContext(branch: "main", timestamp: Date(timeIntervalSince1970: 1_795_311_045))
        #expect(
            try names(context, rules) == [
                "main-conversation", "main-20261122-013045-conversation", "edge-conversation",
            ])
        // The suffix is looked through when reading existing versions.
        var suffixed = TagRules()
        suffixed.suffix = "-slim"
        #expect(
            try names(TagContext(version: "1.0.0", event: .tag), suffixed, existing: ["2.0.0-slim"]) == [
                "1.0.0-slim", "1.0-slim", "1-slim",
            ])
    }

    @Test func invalidDuplicateAndEmptyPlansAreErrors() {
        var raw = TagRules()
        raw.raw = ["ok", "-bad"]
        #expect { try TagPlanner.plan(context: TagContext(), rules: raw) } throws: {
            ($0 as? PierError)?.message.contains("not a valid tag") ?? false
        }
        var duplicate = TagRules()
        duplicate.raw = ["main"]
        #expect { try TagPlanner.plan(context: TagContext(branch: "main"), rules: duplicate) } throws: {
            ($0 as? PierError)?.message.contains("planned twice") ?? false
        }
        #expect { try TagPlanner.plan(context: TagContext(), rules: TagRules()) } throws: {
            ($0 as? PierError)?.message.contains("empty") ?? false
        }
        var long = TagRules()
        long.raw = [String(repeating: "a", count: 129)]
        #expect(throws: PierError.self) { try TagPlanner.plan(context: TagContext(), rules: long) }
    }

    @Test func semverOrdering() {
        let ordered = [
            "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
            "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0",
        ]
        let versions = ordered.map { SemanticVersion($0)! }
        #expect(versions == versions.sorted())
        #expect(SemanticVersion("v1.2.3+build.7")?.description == "1.2.3")
        for bad in ["1.2", "01.2.3", "1.2.3-", "a.b.c", "1.2.3.4", ""] {
            #expect(SemanticVersion(bad) == nil, "\(bad)")
        }
    }
}

struct TagContextTests {
    @Test func gitHubTagPush() throws {
        let dir = NSTemporaryDirectory() + "pier-gh-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try #"{"repository":{"default_branch":"trunk"}}"#.write(
            toFile: dir + "/event.json", atomically: true, encoding: .utf8)
        let context = TagContext.detect(environment: [
            "GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/tags/v1.4.0", "GITHUB_REF_NAME": "v1.4.0",
            "GITHUB_REF_TYPE": "tag",
            "GITHUB_SHA": "abc1234def", "GITHUB_RUN_NUMBER": "99", "GITHUB_EVENT_NAME": "push",
            "GITHUB_EVENT_PATH": dir + "/event.json",
        ])
        #expect(context.version == "v1.4.0" && context.event == .tag && context.buildNumber == "99")
        #expect(context.defaultBranch == "trunk" && context.origin == "github-actions")
    }

    @Test func gitHubPullRequest() {
        let context = TagContext.detect(environment: [
            "GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/pull/17/merge", "GITHUB_REF_NAME": "17/merge",
            "GITHUB_REF_TYPE": "branch",
            "GITHUB_HEAD_REF": "feature/x", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_SHA": "abc",
        ])
        #expect(context.event == .pullRequest && context.pullRequest == "17" && context.branch == "feature/x")
    }

    @Test func gitLabPipelines() {
        let tag = TagContext.detect(environment: [
            "GITLAB_CI": "true", "CI_COMMIT_TAG": "v3.0.0", "CI_COMMIT_SHA": "fff", "CI_PIPELINE_IID": "5",
            "CI_DEFAULT_BRANCH": "main",
        ])
        #expect(tag.version == "v3.0.0" && tag.event == .tag && tag.buildNumber == "5" && tag.origin == "gitlab-ci")
        let mr = TagContext.detect(environment: [
            "GITLAB_CI": "true", "CI_COMMIT_SHA": "fff", "CI_MERGE_REQUEST_IID": "8",
            "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "topic",
        ])
        #expect(mr.event == .pullRequest && mr.pullRequest == "8" && mr.branch == "topic")
    }

    @Test func localGitAndFlagsWin() throws {
        let dir = NSTemporaryDirectory() + "pier-git-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for args in [
            ["init", "-q", "-b", "work"],
            ["-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x"],
            ["tag", "v0.9.0"], ["tag", "v1.0.0"], ["tag", "not-a-version"],
        ] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["git", "-C", dir] + args
            try p.run()
            p.waitUntilExit()
        }
        let context = TagContext.detect(environment: [:], directory: dir)
        #expect(
            context.version == "v1.0.0" && context.branch == "work" && context.gitSHA?.count == 40
                && context.origin == "git")
        let overridden = TagContext.detect(
            overrides: .init(version: "2.0.0", branch: "x"), environment: [:], directory: dir)
        #expect(overridden.version == "2.0.0" && overridden.branch == "x" && overridden.origin == "flags+git")
        // Outside a repository nothing comes from git: the origin says so.
        let outside = NSTemporaryDirectory() + "pier-nogit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        #expect(TagContext.detect(environment: [:], directory: outside).origin == "none")
        #expect(
            TagContext.detect(overrides: .init(version: "1.0.0"), environment: [:], directory: outside).origin
                == "flags")
    }
}

struct PierConfigTests {
    @Test func fullConfig() throws {
        let config = try PierConfig.parse(
            """
            source: oci:./out:latest
            registries:
              - repository: ghcr.io/org/app
                username_env: GHCR_USER
                password_env: GHCR_TOKEN
              - registry.example.com:5000/backup/app
            tags:
              v_prefix: true
              latest: default-branch
              sha_length: 10
              raw: [edge, nightly]
              suffix: -slim
            on_conflict: backup
            concurrency: 8
            insecure_registries: [registry.example.com:5000]
            """)
        #expect(config.source == "oci:./out:latest")
        #expect(config.registries.map(\.repository) == ["ghcr.io/org/app", "registry.example.com:5000/backup/app"])
        #expect(config.registries[0].usernameEnv == "GHCR_USER")
        #expect(config.rules.vPrefix && config.rules.latest == .defaultBranch && config.rules.shaLength == 10)
        #expect(config.rules.raw == ["edge", "nightly"] && config.rules.suffix == "-slim")
        #expect(config.onConflict == .backup && config.concurrency == 8)
    }

    @Test(arguments: [
        ("source: x\nregistrys: []\n", "pier.yml:2: unknown key \"registrys\""),
        ("tags:\n  semver: maybe\n", "pier.yml:2: tags.semver must be true or false"),
        ("tags:\n  latest: sometimes\n", "tags.latest must be one of auto, default-branch, never"),
        ("concurrency: lots\n", "pier.yml:1: concurrency must be a whole number"),
        ("registries: ghcr.io/x\n", "registries must be a list"),
        ("registries:\n  - insecure: true\n", "registries[0] needs a repository"),
        ("tags:\n  sha_length: 2\n", "sha_length must be 4 to 40"),
        ("on_conflict: [fail]\n", "on_conflict must be a string"),
        ("source: [unclosed\n", "pier.yml"),
    ])
    func errorsNameKeyAndLine(text: String, expected: String) {
        #expect {
            _ = try PierConfig.parse(text)
        } throws: { error in
            guard let error = error as? PierError else { return false }
            return error.message.contains(expected)
        }
    }
}
