import Foundation
import PierEngine
import PierHTTP
import PierHostedAPIs
import PierModel
import PierRegistry
import PierTestSupport
import Testing

/// The native delete adapters against fakes that follow each documented API, and ECR against moto.
struct ManagementAPITests {
    static let d1 = try! Digest("sha256:" + String(repeating: "1", count: 64))
    static let d2 = try! Digest("sha256:" + String(repeating: "2", count: 64))
    static let d3 = try! Digest("sha256:" + String(repeating: "3", count: 64))

    func transport() throws -> RegistryTransport { try RegistryTransport(caFile: nil, concurrency: 4) }

    @Test func dockerHub() async throws {
        let fake = try await FakeManagementAPI()
        await fake.seed(
            "org/app", ["old": Self.d1.description, "also-old": Self.d1.description, "keep": Self.d2.description])
        let transport = try transport()
        let hub = DockerHubAPI(
            transport: transport, username: FakeManagementAPI.hubUser, password: FakeManagementAPI.hubPassword,
            base: fake.base)
        try await hub.untag(repository: "org/app", tag: "keep", digest: Self.d2)
        try await hub.deleteImage(repository: "org/app", digest: Self.d1, tags: ["old", "also-old"])
        #expect(await fake.tags("org/app").isEmpty)
        // One login for the three deletes.
        #expect(await fake.calls().filter { $0 == "hub LOGIN" }.count == 1)
        let wrong = DockerHubAPI(transport: transport, username: "x", password: "y", base: fake.base)
        await #expect { try await wrong.untag(repository: "org/app", tag: "x", digest: Self.d1) } throws: {
            ($0 as? PierError)?.kind == .auth
        }
        await transport.shutdown()
    }

    @Test func gitHubPackagesPaginates() async throws {
        let fake = try await FakeManagementAPI()
        await fake.seed("org/app", ["a": Self.d1.description, "b": Self.d2.description, "c": Self.d3.description])
        let transport = try transport()
        await fake.setGitHubPageLimit(2)
        let github = GitHubPackagesAPI(transport: transport, token: FakeManagementAPI.githubToken, base: fake.base)
        // d3 is on the second page of versions.
        try await github.deleteImage(repository: "org/app", digest: Self.d3, tags: ["c"])
        #expect(await fake.tags("org/app") == ["a": Self.d1.description, "b": Self.d2.description])
        await #expect { try await github.untag(repository: "org/app", tag: "a", digest: Self.d1) } throws: {
            ($0 as? PierError)?.kind == .unsupported
        }
        await #expect { try await github.deleteImage(repository: "org/app", digest: Self.d3, tags: []) } throws: {
            ($0 as? PierError)?.kind == .notFound
        }
        await transport.shutdown()
    }

    @Test func gitLabFindsTheProjectAndRepository() async throws {
        let fake = try await FakeManagementAPI()
        await fake.seed("group/project/api", ["1.0": Self.d1.description, "1.1": Self.d2.description])
        let transport = try transport()
        let gitlab = GitLabRegistryAPI(
            transport: transport, base: fake.base + "/api/v4", privateToken: FakeManagementAPI.gitlabToken)
        try await gitlab.untag(repository: "group/project/api", tag: "1.0", digest: Self.d1)
        #expect(await fake.tags("group/project/api") == ["1.1": Self.d2.description])
        #expect(
            await fake.calls() == ["gitlab REPOSITORIES group/project page 1", "gitlab DELETE group/project/api:1.0"])
        await transport.shutdown()
    }

    /// The repository is on the second page of the project's registry repositories; two deletes look it up once.
    /// A token the project refuses is reported as such, not as "no repository".
    @Test func gitLabReadsEveryPageOfRepositories() async throws {
        let fake = try await FakeManagementAPI()
        for index in 0..<120 {
            await fake.seed(String(format: "group/project/img%03d", index), ["1": Self.d1.description])
        }
        await fake.seed("group/project/zz", ["1.0": Self.d1.description, "1.1": Self.d2.description])
        let transport = try transport()
        let gitlab = GitLabRegistryAPI(
            transport: transport, base: fake.base + "/api/v4", privateToken: FakeManagementAPI.gitlabToken)
        try await gitlab.untag(repository: "group/project/zz", tag: "1.0", digest: Self.d1)
        try await gitlab.untag(repository: "group/project/zz", tag: "1.1", digest: Self.d2)
        #expect(await fake.tags("group/project/zz").isEmpty)
        #expect(
            await fake.calls().filter { $0.hasPrefix("gitlab REPOSITORIES") } == [
                "gitlab REPOSITORIES group/project page 1", "gitlab REPOSITORIES group/project page 2",
            ])
        let refused = GitLabRegistryAPI(transport: transport, base: fake.base + "/api/v4", privateToken: "wrong")
        await #expect { try await refused.untag(repository: "group/project/zz", tag: "1.0", digest: Self.d1) } throws: {
            ($0 as? PierError)?.kind == .auth
        }
        await transport.shutdown()
    }

    @Test func harborEscapesNestedRepositories() async throws {
        let fake = try await FakeManagementAPI()
        await fake.seed(
            "library/team/app", ["x": Self.d1.description, "y": Self.d1.description, "z": Self.d2.description])
        let transport = try transport()
        let harbor = HarborAPI(transport: transport, base: fake.base, username: "admin", password: "Harbor12345")
        try await harbor.untag(repository: "library/team/app", tag: "x", digest: Self.d1)
        try await harbor.deleteImage(repository: "library/team/app", digest: Self.d2, tags: ["z"])
        #expect(await fake.tags("library/team/app") == ["y": Self.d1.description])
        await transport.shutdown()
    }

    /// moto_server on an ephemeral port, stopped when `body` returns.
    func withMoto(_ body: (String) async throws -> Void) async throws {
        guard Tools.isInstalled("moto_server") else {
            Issue.record("moto_server is not installed: scripts/install-test-deps.sh installs it")
            return
        }
        let port = Tools.freePort()
        let moto = Process()
        moto.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        moto.arguments = ["moto_server", "-H", "127.0.0.1", "-p", "\(port)"]
        moto.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        moto.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try moto.run()
        defer {
            kill(moto.processIdentifier, SIGKILL)
            moto.waitUntilExit()
        }
        #expect(TestRegistryPortWait.wait(port))
        try await body("http://127.0.0.1:\(port)")
    }

    @Test func ecrAgainstMoto() async throws {
        try await withMoto { endpoint in try await ecrBatchDelete(endpoint) }
    }

    func ecrBatchDelete(_ endpoint: String) async throws {
        let python = """
            import boto3, json, sys
            c = boto3.client("ecr", region_name="eu-west-1", endpoint_url="\(endpoint)", aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
            if sys.argv[1] == "setup":
                c.create_repository(repositoryName="team/app")
                for i in range(130):
                    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + ("%064x" % i), "size": i}, "layers": []})
                    c.put_image(repositoryName="team/app", imageManifest=m, imageTag="t%03d" % i)
            else:
                print(json.dumps(sorted(i.get("imageTag", "") for i in c.list_images(repositoryName="team/app", maxResults=1000)["imageIds"])))
            """
        try Tools.run("python3", ["-c", python, "setup"])
        let transport = try transport()
        let ecr = ECRAPI(
            transport: transport, region: "eu-west-1", accessKey: "AKIDTEST", secretKey: "secret", endpoint: endpoint)
        // 120 tags: two BatchDeleteImage calls (at most 100 ids each).
        try await ecr.batchDelete(
            repository: "team/app", ids: (0..<120).map { ["imageTag": String(format: "t%03d", $0)] })
        let left = try JSONDecoder().decode(
            [String].self, from: Tools.run("python3", ["-c", python, "list"]).stdoutBytes)
        #expect(left == (120..<130).map { String(format: "t%03d", $0) })
        // A tag that does not exist comes back in failures[] with HTTP 200: pier reports it.
        await #expect { try await ecr.untag(repository: "team/app", tag: "nope", digest: Self.d1) } throws: {
            ($0 as? PierError)?.message.contains("nope") ?? false
        }
        #expect(ECRAPI.region(ofHost: "123456789012.dkr.ecr.eu-west-1.amazonaws.com") == "eu-west-1")
        #expect(ECRAPI.region(ofHost: "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com") == "us-gov-west-1")
        #expect(ECRAPI.region(ofHost: "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn") == "cn-north-1")
        // Lookalikes get no ECR token: another suffix, another prefix, no account, a port.
        for host in [
            "x.ecr.us-east-1.amazonaws.evil.test", "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.test",
            "evil.123456789012.dkr.ecr.us-east-1.amazonaws.com", "registry.dkr.ecr.us-east-1.amazonaws.com",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com:5000", "123456789012.dkr.ecr..amazonaws.com",
        ] {
            #expect(ECRAPI.region(ofHost: host) == nil, "\(host)")
        }
        await transport.shutdown()
    }
}

extension ManagementAPITests {
    /// ECR ages images by push time: images built reproducibly (config created 1970) and pushed now are young on
    /// ECR, for --keep-newer-than and for an ECR policy's sinceImagePushed. The images live on docker-registry; moto
    /// holds the same manifests and digests, as ECR's API would.
    @Test func ecrAgesImagesByPushTime() async throws {
        try Harness.requireTools()
        let registry = try TestRegistry()
        let repo = "\(registry.host)/team/app"
        let layout = Tools.temporaryDirectory() + "/images"
        var digests: [String: String] = [:]
        for tag in ["r1", "r2"] {
            try ImageFixtures.umociImage(
                at: layout, tag: tag, layers: 1, layerSize: 300, created: "1970-01-01T00:00:00Z")
            #expect(try Harness.pier("copy", "oci:\(layout):\(tag)", "\(repo):\(tag)").status == 0)
        }
        try ImageFixtures.umociImage(
            at: layout, tag: "old-config", layers: 1, layerSize: 300, created: "2020-01-01T00:00:00Z")
        #expect(try Harness.pier("copy", "oci:\(layout):old-config", "\(repo):old-config").status == 0)
        let manifests = Tools.temporaryDirectory("pier-ecr-manifests")
        for tag in ["r1", "r2", "old-config"] {
            let bytes = try Harness.skopeoRaw("\(repo):\(tag)")
            digests[tag] = Harness.sha256(bytes)
            try bytes.write(to: URL(fileURLWithPath: "\(manifests)/\(tag)"))
        }
        try await withMoto { endpoint in
            let python = """
                import boto3, json, sys
                c = boto3.client("ecr", region_name="eu-west-1", endpoint_url="\(endpoint)", aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
                if sys.argv[1] == "setup":
                    c.create_repository(repositoryName="team/app")
                    for tag, digest in json.loads(sys.argv[2]).items():
                        c.put_image(repositoryName="team/app", imageManifest=open("\(manifests)/" + tag).read(), imageTag=tag, imageDigest=digest, imageManifestMediaType="application/vnd.oci.image.manifest.v1+json")
                else:
                    print(json.dumps(sorted(i.get("imageTag", "") for i in c.list_images(repositoryName="team/app")["imageIds"])))
                """
            let mapping = String(decoding: try JSONSerialization.data(withJSONObject: digests), as: UTF8.self)
            try Tools.run("python3", ["-c", python, "setup", mapping])
            let (pruner, store, transport) = try ecrPruner(registry, endpoint: endpoint)
            let reference = try ImageReference(parsing: repo)
            let window = RetentionPolicy.rules(.init(keepNewerThan: 90 * 86400))
            let now = Date()
            let fresh = try await pruner.plan(reference, policy: window, now: now)
            // Pushed seconds ago: every image is young by imagePushedAt, whatever its config says.
            #expect(
                fresh.decisions.allSatisfy { $0.action == .keep && $0.dateSource == .ecrPushed }, "\(fresh.decisions)")
            let policyFile = Tools.temporaryDirectory("pier-ecr-policy") + "/policy.json"
            try
                #"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":90},"action":{"type":"expire"}}]}"#
                .write(toFile: policyFile, atomically: true, encoding: .utf8)
            let ecrPolicy = RetentionPolicy.ecr(try ECRLifecyclePolicy.load(policyFile))
            #expect(
                try await pruner.plan(reference, policy: ecrPolicy, now: now).decisions.allSatisfy {
                    $0.action == .keep
                })
            // A hundred days on, the same pushes are past 90 days by push time: expired, and deleted through ECR.
            let later = now.addingTimeInterval(100 * 86400)
            let aged = try await pruner.plan(reference, policy: ecrPolicy, now: later)
            #expect(
                aged.decisions.allSatisfy { $0.action == .delete && $0.rule.contains("ECR imagePushedAt") },
                "\(aged.decisions)")
            let applied = try await pruner.apply(try await pruner.plan(reference, policy: window, now: later))
            #expect(applied.failures.isEmpty && applied.removed.count == 3, "\(applied.failures)")
            let left = try JSONDecoder().decode(
                [String].self, from: Tools.run("python3", ["-c", python, "list"]).stdoutBytes)
            #expect(left.isEmpty)
            await store.pool.shutdown()
            await transport.shutdown()
        }
    }

    /// GitHub versions are listed once per run: 3,000 versions are 30 pages of 100, and each expired version is
    /// one DELETE.
    @Test func gitHubListsVersionsOncePerRun() async throws {
        let fake = try await FakeManagementAPI()
        var tags: [String: String] = [:]
        var pushed: [String: String] = [:]
        for n in 0..<3000 {
            let digest = "sha256:" + String(format: "%064x", n)
            tags[String(format: "t%04d", n)] = digest
            pushed[digest] = String(format: "2026-01-01T%02d:%02d:00Z", n / 60 % 24, n % 60)
        }
        await fake.seed("org/app", tags)
        await fake.seed("org/app", pushed: pushed)
        let transport = try transport()
        let github = GitHubPackagesAPI(transport: transport, token: FakeManagementAPI.githubToken, base: fake.base)
        let listed = try await github.listImages(repository: "org/app")
        #expect(listed.count == 3000 && listed.allSatisfy { $0.pushed != nil && $0.tags.count == 1 })
        for n in 0..<40 {
            let digest = try Digest("sha256:" + String(format: "%064x", n * 7))
            try await github.deleteImage(repository: "org/app", digest: digest, tags: [String(format: "t%04d", n * 7)])
        }
        let calls = await fake.calls()
        #expect(calls.filter { $0.hasPrefix("github LIST") }.count <= 31)
        #expect(calls.filter { $0.hasPrefix("github DELETE") }.count == 40)
        #expect(await fake.tags("org/app").count == 2960)
        await transport.shutdown()
    }

    /// A version listing prune would act on must be whole: a next page on another origin or one already read is an
    /// error, never the end of the list (a kept tag on an unread page must still protect its image).
    @Test func aBrokenVersionListingIsAnError() async throws {
        let fake = try await FakeManagementAPI()
        var tags: [String: String] = [:]
        for n in 0..<150 { tags[String(format: "t%04d", n)] = "sha256:" + String(format: "%064x", n) }
        await fake.seed("org/app", tags)
        let transport = try transport()
        let github = GitHubPackagesAPI(transport: transport, token: FakeManagementAPI.githubToken, base: fake.base)
        #expect(try await github.listImages(repository: "org/app").count == 150)
        for (link, says) in [
            ("http://127.0.0.2:9/orgs/org/packages/container/app/versions", "another origin"),
            ("/orgs/org/packages/container/app/versions?per_page=100", "already read"),
        ] {
            await fake.overrideNextLink(link)
            let before = await fake.calls().count
            // A new client: versions are listed once per client.
            let github = GitHubPackagesAPI(transport: transport, token: FakeManagementAPI.githubToken, base: fake.base)
            await #expect { try await github.listImages(repository: "org/app") } throws: { error in
                let error = error as? PierError
                return error?.kind == .invalidInput && (error?.message.contains(says) ?? false)
            }
            #expect(await fake.calls().count - before <= 2)
        }
        await transport.shutdown()
    }

    /// Repository discovery takes a listing whole or not at all: a 404 on a later page is an error, not a reason to
    /// try the user path.
    @Test func discoveryListingsAreWholeOrErrors() async throws {
        let fake = try await FakeManagementAPI()
        let transport = try transport()
        func discover() async -> PierError? {
            let github = GitHubPackagesAPI(transport: transport, token: FakeManagementAPI.githubToken, base: fake.base)
            do {
                _ = try await github.listRepositories(registry: "ghcr.io", under: "org")
                return nil
            } catch { return error }
        }
        await fake.seedPackages(owner: "org", ["a", "b", "c"])
        await fake.setGitHubPageLimit(2)
        #expect(await discover() == nil)
        await fake.overrideNextLink("/orgs/org/packages/missing")
        let missing = await discover()
        #expect(missing?.kind == .notFound, "\(String(describing: missing))")
        #expect(
            await fake.calls().filter { $0.contains("users/org") }.isEmpty, "a later 404 does not try the user path")
        await transport.shutdown()
    }

    /// 429 and 5xx with Retry-After and GitHub's secondary rate limit (403 with x-ratelimit-reset) are waited out and
    /// retried; a limit that resets too far ahead is reported as a rate limit, not an auth failure.
    @Test func hostedAPIsRetryRateLimits() async throws {
        let fake = try await FakeManagementAPI()
        let d = Self.d1.description
        await fake.seed("org/app", ["a": d])
        let transport = try transport()
        let github = GitHubPackagesAPI(
            transport: transport, token: FakeManagementAPI.githubToken, base: fake.base,
            retry: RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(10)))
        let reset = Int(Date().timeIntervalSince1970) + 1
        await fake.failGitHub([
            (429, ["retry-after": "0"]), (502, [:]),
            (403, ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "\(reset)"]),
            (403, ["retry-after": "-5"]),
        ])
        #expect(try await github.listImages(repository: "org/app").map(\.digest) == [Self.d1])
        #expect(await fake.calls().filter { $0.hasPrefix("github LIST") }.count == 5)
        let fresh = GitHubPackagesAPI(transport: transport, token: FakeManagementAPI.githubToken, base: fake.base)
        await fake.failGitHub([(403, ["retry-after": "3600"])])
        await #expect { try await fresh.listImages(repository: "org/app") } throws: { error in
            let error = error as? PierError
            return error?.kind == .network && (error?.hint?.contains("rate limited") ?? false)
        }
        // A plain 403 (no rate-limit headers) is an auth failure at once.
        await fake.failGitHub([(403, [:])])
        await #expect { try await fresh.listImages(repository: "org/app") } throws: {
            ($0 as? PierError)?.kind == .auth
        }
        await transport.shutdown()
    }

    /// Each management API's push time reaches the plan: Docker Hub tag_last_pushed, GitLab created_at, Harbor
    /// push_time, GitHub updated_at; and Harbor and GitHub list untagged manifests.
    @Test func pushTimesFromEachAPI() async throws {
        let fake = try await FakeManagementAPI()
        let transport = try transport()
        let date = "2026-05-06T07:08:09.123456Z"
        let expected = ImageDate.parse("2026-05-06T07:08:09Z")
        for repo in ["org/app", "group/project/api", "library/team/app"] {
            await fake.seed(repo, ["v1": Self.d1.description, "v2": Self.d2.description])
            await fake.seed(
                repo, pushed: [Self.d1.description: date, Self.d2.description: date], untagged: [Self.d3.description])
        }
        let apis: [any ImageListingAPI] = [
            DockerHubAPI(
                transport: transport, username: FakeManagementAPI.hubUser, password: FakeManagementAPI.hubPassword,
                base: fake.base),
            GitHubPackagesAPI(transport: transport, token: FakeManagementAPI.githubToken, base: fake.base),
            GitLabRegistryAPI(
                transport: transport, base: fake.base + "/api/v4", privateToken: FakeManagementAPI.gitlabToken),
            HarborAPI(transport: transport, base: fake.base, username: "admin", password: "Harbor12345"),
        ]
        for (api, repo) in zip(apis, ["org/app", "org/app", "group/project/api", "library/team/app"]) {
            let images = try await api.listImages(repository: repo)
            let tagged = images.filter { !$0.tags.isEmpty }
            #expect(Set(tagged.flatMap(\.tags)) == ["v1", "v2"], "\(api.name)")
            #expect(
                tagged.allSatisfy { $0.pushed.map { abs($0.timeIntervalSince(expected!)) < 1 } ?? false }, "\(api.name)"
            )
            #expect(images.contains { $0.tags.isEmpty && $0.digest == Self.d3 } == api.listsUntagged, "\(api.name)")
        }
        await transport.shutdown()
    }

    /// --untagged deletes the untagged manifests that GitHub and Harbor list and nothing reaches, never the untagged
    /// children of a tagged multi-platform index (the GHCR cleanup failure that breaks multi-platform images).
    /// A pruner reading `registry` and deleting through ECR's API on moto at `endpoint`.
    func ecrPruner(_ registry: TestRegistry, endpoint: String) throws -> (Pruner, ImageStore, RegistryTransport) {
        let store = try Harness.store(insecure: [registry.host])
        let transport = try transport()
        var pruner = Pruner(store: store)
        pruner.api = .native(
            ECRAPI(
                transport: transport, region: "eu-west-1", accessKey: "AKIDTEST", secretKey: "secret",
                endpoint: endpoint))
        return (pruner, store, transport)
    }

    /// A repository on docker-registry with a tagged multi-platform index (its children untagged) and the two
    /// children of an index that was deleted (untagged, reached by nothing).
    func untaggedFixture(_ registry: TestRegistry, repository: String) throws -> (
        keptIndex: String, keptChildren: [String], orphans: [String]
    ) {
        let repo = "\(registry.host)/\(repository)"
        let kept = Tools.temporaryDirectory() + "/kept"
        let keptIndex = try ImageFixtures.multiPlatformImage(at: kept, tag: "multi")
        #expect(try Harness.pier("copy", "oci:\(kept):multi", "\(repo):multi").status == 0)
        let gone = Tools.temporaryDirectory() + "/gone"
        let goneIndex = try ImageFixtures.multiPlatformImage(at: gone, tag: "gone")
        #expect(try Harness.pier("copy", "oci:\(gone):gone", "\(repo):gone").status == 0)
        func children(_ index: String) throws -> [String] {
            let json = try JSONSerialization.jsonObject(with: Harness.skopeoRaw("\(repo)@\(index)")) as! [String: Any]
            return (json["manifests"] as! [[String: Any]]).map { $0["digest"] as! String }
        }
        let keptChildren = try children(keptIndex)
        let orphans = try children(goneIndex)
        try Tools.run("skopeo", ["delete", "--tls-verify=false", "docker://\(repo):gone"])
        return (keptIndex, keptChildren, orphans)
    }

    @Test func untaggedCleanupSparesIndexChildren() async throws {
        try Harness.requireTools()
        let registry = try TestRegistry()
        let repo = "\(registry.host)/org/app"
        let (keptIndex, keptChildren, orphans) = try untaggedFixture(registry, repository: "org/app")
        let old = "2026-01-01T00:00:00Z"
        let transport = try transport()
        let store = try Harness.store(insecure: [registry.host])
        for api in ["github", "harbor"] {
            let fake = try await FakeManagementAPI()
            await fake.seed("org/app", ["multi": keptIndex])
            await fake.seed(
                "org/app",
                pushed: Dictionary(uniqueKeysWithValues: ([keptIndex] + keptChildren + orphans).map { ($0, old) }),
                untagged: keptChildren + orphans)
            var pruner = Pruner(store: store)
            pruner.api =
                api == "github"
                ? .native(
                    GitHubPackagesAPI(transport: transport, token: FakeManagementAPI.githubToken, base: fake.base))
                : .native(HarborAPI(transport: transport, base: fake.base, username: "admin", password: "Harbor12345"))
            let plan = try await pruner.plan(
                try ImageReference(parsing: repo), policy: .rules(.init(keepLast: 5, untagged: true)))
            let actions = Dictionary(uniqueKeysWithValues: plan.untagged.map { ($0.digest.description, $0.action) })
            for child in keptChildren { #expect(actions[child] == .keep, "\(api): kept index child \(child)") }
            for orphan in orphans { #expect(actions[orphan] == .delete, "\(api): orphan \(orphan)") }
            let applied = try await pruner.apply(plan)
            #expect(applied.failures.isEmpty, "\(applied.failures)")
            let deletes = await fake.calls().filter { $0.contains("DELETE") }
            #expect(
                deletes.count == 2 && orphans.allSatisfy { orphan in deletes.contains { $0.hasSuffix(orphan) } },
                "\(api): \(deletes)")
            #expect(await fake.untagged("org/app") == Set(keptChildren))
            // Without --untagged, untagged manifests are not considered.
            #expect(
                try await pruner.plan(try ImageReference(parsing: repo), policy: .rules(.init(keepLast: 5))).untagged
                    .isEmpty)
        }
        await store.pool.shutdown()
        await transport.shutdown()
    }

    /// An ECR policy's `tagStatus: untagged` rule expires untagged images by imagePushedAt (moto), never the
    /// untagged children of a tagged index, and only after the day's grace.
    @Test func ecrUntaggedRuleSparesIndexChildren() async throws {
        try Harness.requireTools()
        let registry = try TestRegistry()
        let repo = "\(registry.host)/team/app"
        let (keptIndex, keptChildren, orphans) = try untaggedFixture(registry, repository: "team/app")
        let manifests = Tools.temporaryDirectory("pier-ecr-untagged")
        var entries: [[String: String]] = []
        for digest in [keptIndex] + keptChildren + orphans {
            let reference = digest == keptIndex ? "\(repo):multi" : "\(repo)@\(digest)"
            let bytes = try Harness.skopeoRaw(reference)
            try bytes.write(to: URL(fileURLWithPath: "\(manifests)/\(digest)"))
            let type = (try JSONSerialization.jsonObject(with: bytes) as? [String: Any])?["mediaType"] as? String
            entries.append([
                "digest": digest, "tag": digest == keptIndex ? "multi" : "",
                "type": type ?? "application/vnd.oci.image.manifest.v1+json",
            ])
        }
        try await withMoto { endpoint in
            let python = """
                import boto3, json, sys
                c = boto3.client("ecr", region_name="eu-west-1", endpoint_url="\(endpoint)", aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
                if sys.argv[1] == "setup":
                    c.create_repository(repositoryName="team/app")
                    for e in json.loads(sys.argv[2]):
                        args = dict(repositoryName="team/app", imageManifest=open("\(manifests)/" + e["digest"]).read(), imageDigest=e["digest"], imageManifestMediaType=e["type"])
                        if e["tag"]: args["imageTag"] = e["tag"]
                        c.put_image(**args)
                else:
                    print(json.dumps(sorted(i["imageDigest"] for i in c.describe_images(repositoryName="team/app")["imageDetails"])))
                """
            let setup = String(decoding: try JSONSerialization.data(withJSONObject: entries), as: UTF8.self)
            try Tools.run("python3", ["-c", python, "setup", setup])
            let (pruner, store, transport) = try ecrPruner(registry, endpoint: endpoint)
            let policyFile = Tools.temporaryDirectory("pier-ecr-policy") + "/policy.json"
            try
                #"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}"#
                .write(toFile: policyFile, atomically: true, encoding: .utf8)
            let policy = RetentionPolicy.ecr(try ECRLifecyclePolicy.load(policyFile))
            let reference = try ImageReference(parsing: repo)
            // Just pushed: within the day's grace, nothing goes.
            #expect(try await pruner.plan(reference, policy: policy).untagged.allSatisfy { $0.action == .keep })
            let plan = try await pruner.plan(reference, policy: policy, now: Date().addingTimeInterval(3 * 86400))
            let actions = Dictionary(uniqueKeysWithValues: plan.untagged.map { ($0.digest.description, $0.action) })
            #expect(
                keptChildren.allSatisfy { actions[$0] == .keep } && orphans.allSatisfy { actions[$0] == .delete },
                "\(plan.untagged)")
            #expect(plan.decisions.allSatisfy { $0.action == .keep })
            let applied = try await pruner.apply(plan)
            #expect(applied.failures.isEmpty, "\(applied.failures)")
            let left = try JSONDecoder().decode(
                [String].self, from: Tools.run("python3", ["-c", python, "list"]).stdoutBytes)
            #expect(left == ([keptIndex] + keptChildren).sorted())
            await store.pool.shutdown()
            await transport.shutdown()
        }
    }
}

enum TestRegistryPortWait {
    static func wait(_ port: Int) -> Bool { TestRegistry.waitForPort(port) }
}
