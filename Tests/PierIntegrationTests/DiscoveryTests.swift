import Foundation
import PierEngine
import PierHTTP
import PierHostedAPIs
import PierModel
import PierRegistry
import PierTestSupport
import Testing

/// `organisation.discover` through the hosted APIs: GitHub packages and GitLab group repositories on the
/// in-process fake, ECR's DescribeRepositories on moto (and on the fake for its pagination, which moto does not
/// implement), each followed by an organisation run over real docker-registry instances. Bad names from the
/// listing are skipped with a warning; the listing's requests are counted.
@Suite(.serialized) struct DiscoveryTests {
    init() throws { try Harness.requireTools() }

    func summary(_ result: Tools.Result) throws -> OrganisationSummary {
        try ReportJSON.decoder().decode(OrganisationSummary.self, from: result.stdoutBytes)
    }

    func write(_ text: String, _ work: String, _ name: String = "pier.yml") throws -> String {
        let path = work + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Two small images, `a` and `b`, in an OCI layout under `work`.
    func images(_ work: String) throws -> String {
        let layout = work + "/images"
        _ = try ImageFixtures.umociImage(at: layout, tag: "a", layers: 1, layerSize: 500)
        _ = try ImageFixtures.umociImage(at: layout, tag: "b", layers: 1, layerSize: 700)
        return layout
    }

    func push(_ layout: String, _ pairs: [(String, String)], to registry: TestRegistry, env: [String: String]? = nil)
        throws
    {
        for (reference, image) in pairs {
            let copied = try Harness.pier(
                ["copy", "oci:\(layout):\(image)", "\(registry.host)/\(reference)"],
                env: env ?? Harness.isolatedEnvironment())
            #expect(copied.status == 0, "\(copied.stderr)")
        }
    }

    /// Names no registry path can be: each is listed by the API and must be skipped with a warning.
    static let hostileNames = ["../x", "Upper", String(repeating: "a", count: 300), "bad\u{1b}]0;owned\u{07}x"]

    func skippedWarnings(_ stderr: String) -> Int { stderr.components(separatedBy: "discover: skipped").count - 1 }

    /// ghcr-style discovery on a registry marked `api: ghcr`: three pages of packages, the matching ones synced to
    /// the backup, the listed repository keeping its own tag filter, hostile names skipped; then status over the
    /// same set. Without a token, with a refused token, and with a next page on another origin, the run stops
    /// with one line and its exit code before touching any repository.
    @Test func gitHubPackagesAreDiscoveredSyncedAndStatused() async throws {
        let primary = try TestRegistry()
        let backup = try TestRegistry()
        defer {
            primary.stop()
            backup.stop()
        }
        let fake = try await FakeManagementAPI()
        let work = Tools.temporaryDirectory("pier-discover-github")
        let layout = try images(work)
        try push(
            layout,
            [("org/app:1.0.0", "a"), ("org/app:1.1.0", "b"), ("org/team/api:1.0.0", "a"), ("org/team/web:2.0.0", "b")],
            to: primary)
        await fake.seedPackages(owner: "org", ["app", "team/api", "tools"] + Self.hostileNames + ["team/web"])
        await fake.setGitHubPageLimit(3)
        let config = try write(
            """
            registries:
              - repository: \(primary.host)/org/app
                api: ghcr
                api_url: \(fake.base)
            organisation:
              primary: \(primary.host)/org
              backups: [\(backup.host)/mirror]
              discover: "app|team/.*|Upper|[.][.]/x|a+|bad.*"
            repositories:
              - name: app
                tags: "1[.]0[.]0"

            """, work)
        let env = Harness.isolatedEnvironment(["GITHUB_TOKEN": FakeManagementAPI.githubToken])

        let synced = try Harness.pier(["sync", "--config", config, "--json"], env: env)
        #expect(synced.status == 0, "\(synced.stderr)")
        let result = try summary(synced)
        #expect(result.results.map(\.name) == ["app", "team/api", "team/web"])
        #expect(result.results.map(\.copied) == [1, 1, 1])
        #expect(
            try Harness.sha256(Harness.skopeoRaw("\(backup.host)/mirror/team/web:2.0.0"))
                == Harness.layoutDigest(layout, tag: "b"))
        #expect(
            try Harness.sha256(Harness.skopeoRaw("\(backup.host)/mirror/app:1.0.0"))
                == Harness.layoutDigest(layout, tag: "a"))
        #expect((try? Harness.skopeoRaw("\(backup.host)/mirror/app:1.1.0")) == nil, "app keeps its own tag filter")
        #expect(skippedWarnings(synced.stderr) == Self.hostileNames.count, "\(synced.stderr)")
        #expect(!synced.stderr.contains("\u{1b}") && synced.stderr.contains(#"bad\x1B]0;owned\x07x"#))
        // 8 packages at 3 a page: 3 pages, each read once, from the org path.
        #expect(
            await fake.calls().filter { $0.hasPrefix("github PACKAGES") } == [
                "github PACKAGES orgs/org page 1", "github PACKAGES orgs/org page 2", "github PACKAGES orgs/org page 3",
            ])

        let status = try Harness.pier(["status", "--config", config, "--json"], env: env)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(try summary(status).results.map(\.outcome) == [.ok, .ok, .ok])

        // Shards split discovered repositories as they split listed ones: disjoint, together the whole.
        let halves = try ["1/2", "2/2"].map { shard in
            try summary(try Harness.pier(["status", "--shard", shard, "--config", config, "--json"], env: env))
        }
        let (one, two) = (Set(halves[0].results.map(\.name)), Set(halves[1].results.map(\.name)))
        #expect(one.isDisjoint(with: two) && one.union(two) == ["app", "team/api", "team/web"])

        // A user's packages: the org path answers 404, the user path lists them.
        await fake.seedPackages(owner: "org", user: true, ["team/api"])
        let user = try summary(try Harness.pier(["status", "--config", config, "--json"], env: env))
        #expect(user.results.map(\.name) == ["app", "team/api"])
        #expect(
            await fake.calls().suffix(2) == ["github PACKAGES orgs/org page 1", "github PACKAGES users/org page 1"])

        let before = await fake.calls().count
        let tokenless = try Harness.pier(["status", "--config", config], env: Harness.isolatedEnvironment())
        #expect(tokenless.status == 77 && tokenless.stderr.contains("GITHUB_TOKEN"), "\(tokenless.stderr)")
        #expect(await fake.calls().count == before, "no request without a token")
        let refused = try Harness.pier(
            ["status", "--config", config], env: Harness.isolatedEnvironment(["GITHUB_TOKEN": "wrong"]))
        #expect(refused.status == 77, "\(refused.stderr)")
        #expect(
            refused.stderr.contains("discover repositories through GitHub packages") && refused.stderr.contains("401"))
        #expect(!refused.stderr.contains("wrong"), "the token is never shown")
        // A secret saved with a trailing newline works; one with a control character inside fails without showing it.
        let newline = Harness.isolatedEnvironment(["GITHUB_TOKEN": FakeManagementAPI.githubToken + "\n"])
        #expect(try Harness.pier(["status", "--config", config], env: newline).status == 0)
        let control = try Harness.pier(
            ["status", "--config", config], env: Harness.isolatedEnvironment(["GITHUB_TOKEN": "ghp_SECRET\u{1}42"]))
        #expect(control.status != 0 && !control.stderr.contains("ghp_SECRET"), "\(control.stderr)")
        #expect(control.stderr.contains("character HTTP does not allow"), "\(control.stderr)")

        // A next page on another origin is not followed (the token stays with the API) and not taken as the end.
        let other = try await FakeManagementAPI()
        await fake.seedPackages(owner: "org", Array(repeating: "app", count: 5))
        await fake.overrideNextLink("\(other.base)/orgs/org/packages?package_type=container&page=2")
        let foreign = try Harness.pier(["status", "--config", config], env: env)
        #expect(foreign.status == 65 && foreign.stderr.contains("another origin"), "\(foreign.stderr)")
        #expect(await other.calls().isEmpty)
    }

    /// GitLab: the group's registry repositories over three pages, then the same organisation forced onto the
    /// registry's catalog (`discover_from: catalog`), which finds the same repositories without the API; a prefix
    /// that is a project, read through the project's repositories after the group path answers 404. A typo
    /// in `discover_from` names the source it meant.
    @Test func gitLabGroupRepositoriesAndAForcedCatalog() async throws {
        let primary = try TestRegistry()
        defer { primary.stop() }
        let fake = try await FakeManagementAPI()
        let work = Tools.temporaryDirectory("pier-discover-gitlab")
        let layout = try images(work)
        try push(
            layout, [("group/proj/app:1.0", "a"), ("group/proj/api:1.0", "b"), ("group/other/svc:1.0", "a")],
            to: primary)
        await fake.seedGroup(
            "group",
            ["group/proj/app", "group/UP", "group/proj/api", "group/proj/skipme", "group/../etc", "group/other/svc"])
        await fake.setListingPageLimit(2)
        func config(_ extra: String) throws -> String {
            try write(
                """
                registries:
                  - repository: \(primary.host)/group/proj/app
                    api: gitlab
                    api_url: \(fake.base)/api/v4
                organisation:
                  primary: \(primary.host)/group
                  discover: "proj/a.*|other/.*|UP|[.][.]/etc"
                \(extra)

                """, work)
        }
        let env = Harness.isolatedEnvironment(["GITLAB_TOKEN": FakeManagementAPI.gitlabToken, "CI_JOB_TOKEN": ""])
        let status = try Harness.pier(["status", "--config", try config(""), "--json"], env: env)
        #expect(status.status == 0, "\(status.stderr)")
        let found = try summary(status)
        #expect(found.results.map(\.name) == ["other/svc", "proj/api", "proj/app"])
        #expect(found.results.map(\.outcome) == [.ok, .ok, .ok])
        #expect(skippedWarnings(status.stderr) == 2, "\(status.stderr)")
        #expect(
            await fake.calls() == [
                "gitlab GROUP group page 1", "gitlab GROUP group page 2", "gitlab GROUP group page 3",
            ])

        let forced = try Harness.pier(
            ["status", "--config", try config("  discover_from: catalog"), "--json"], env: env)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try summary(forced).results.map(\.name) == ["other/svc", "proj/api", "proj/app"])
        #expect(await fake.calls().count == 3, "the catalog, not the API")

        // A prefix that is a project, not a group: the group path answers 404, the project's repositories are read.
        await fake.seed("group/proj/app", ["1.0": "sha256:" + String(repeating: "1", count: 64)])
        let project = try write(
            """
            registries:
              - repository: \(primary.host)/group/proj/app
                api: gitlab
                api_url: \(fake.base)/api/v4
            organisation:
              primary: \(primary.host)/group/proj
              discover: ".*"

            """, work, "project.yml")
        let inProject = try Harness.pier(["status", "--config", project, "--json"], env: env)
        #expect(inProject.status == 0, "\(inProject.stderr)")
        #expect(try summary(inProject).results.map(\.name) == ["app"])
        #expect(
            await fake.calls().suffix(2) == ["gitlab GROUP group/proj page 1", "gitlab REPOSITORIES group/proj page 1"])

        let typo = try Harness.pier(["status", "--config", try config("  discover_from: gitlba")], env: env)
        #expect(typo.status == 65 && typo.stderr.contains(#"did you mean "gitlab"?"#), "\(typo.stderr)")
        let alias = try Harness.pier(["status", "--config", try config("  discover_from: ghcr")], env: env)
        #expect(alias.status == 65 && alias.stderr.contains(#"did you mean "github"?"#), "\(alias.stderr)")
    }

    /// ECR's DescribeRepositories on the fake, three pages by `nextToken` (moto answers in one page), signed with
    /// SigV4; what matches under the prefix is statused on a plain registry standing in for ECR.
    @Test func ecrRepositoriesArePagedByNextToken() async throws {
        let primary = try TestRegistry()
        defer { primary.stop() }
        let fake = try await FakeManagementAPI()
        let work = Tools.temporaryDirectory("pier-discover-ecr")
        let layout = try images(work)
        try push(layout, [("org/app:1.0", "a"), ("org/svc:1.0", "b")], to: primary)
        await fake.seedECRRepositories(["org/app", "other/x", "org/Bad", "org/svc", "org/../up", "org/skip"])
        await fake.setListingPageLimit(2)
        let config = try write(
            """
            registries:
              - repository: \(primary.host)/org/app
                api: ecr
            organisation:
              primary: \(primary.host)/org
              discover: "app|svc|Bad|[.][.]/up"

            """, work)
        let env = ECRIntegrationTests.environment(
            moto: fake.base, config: config, ["AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret"])
        let status = try Harness.pier(["status", "--json"], env: env)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(try summary(status).results.map(\.name) == ["app", "svc"])
        #expect(skippedWarnings(status.stderr) == 2, "\(status.stderr)")
        #expect(
            await fake.calls().filter { $0.hasPrefix("ecr DESCRIBE") } == [
                "ecr DESCRIBE from 0 registry -", "ecr DESCRIBE from 2 registry -", "ecr DESCRIBE from 4 registry -",
            ])
    }

    /// ECR on moto: repositories created with the AWS API are discovered and synced from an ECR stand-in (a
    /// docker-registry asking for moto's token) to a backup.
    @Test func ecrRepositoriesCreatedOnMotoAreDiscoveredAndSynced() async throws {
        let primary = try TestRegistry(
            auth: .htpasswd(user: "AWS", password: ECRIntegrationTests.defaultAccountPassword))
        let backup = try TestRegistry()
        defer {
            primary.stop()
            backup.stop()
        }
        let work = Tools.temporaryDirectory("pier-discover-moto")
        let layout = try images(work)
        try await ManagementAPITests().withMoto { moto in
            let python = """
                import boto3
                c = boto3.client("ecr", region_name="eu-west-1", endpoint_url="\(moto)", aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
                for name in ["org/app", "org/team/svc", "org/unmatched", "other/app"]:
                    c.create_repository(repositoryName=name)
                """
            try Tools.run("python3", ["-c", python])
            let config = try write(
                """
                registries:
                  - repository: \(primary.host)/org/app
                    api: ecr
                organisation:
                  primary: \(primary.host)/org
                  backups: [\(backup.host)/mirror]
                  discover: "app|team/.*"

                """, work)
            let env = ECRIntegrationTests.environment(
                moto: moto, config: config, ["AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret"])
            try push(layout, [("org/app:1.0", "a"), ("org/team/svc:2.0", "b")], to: primary, env: env)
            let synced = try Harness.pier(["sync", "--json"], env: env)
            #expect(synced.status == 0, "\(synced.stderr)")
            let result = try summary(synced)
            #expect(result.results.map(\.name) == ["app", "team/svc"])
            #expect(result.results.map(\.copied) == [1, 1])
            #expect(
                try Harness.sha256(Harness.skopeoRaw("\(backup.host)/mirror/team/svc:2.0"))
                    == Harness.layoutDigest(layout, tag: "b"))
        }
    }
}
