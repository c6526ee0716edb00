import Foundation
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
        await fake.seed("org/app", ["old": Self.d1.description, "also-old": Self.d1.description, "keep": Self.d2.description])
        let transport = try transport()
        let hub = DockerHubAPI(transport: transport, username: FakeManagementAPI.hubUser, password: FakeManagementAPI.hubPassword, base: fake.base)
        try await hub.untag(repository: "org/app", tag: "keep", digest: Self.d2)
        try await hub.deleteImage(repository: "org/app", digest: Self.d1, tags: ["old", "also-old"])
        #expect(await fake.tags("org/app").isEmpty)
        let wrong = DockerHubAPI(transport: transport, username: "x", password: "y", base: fake.base)
        await #expect { try await wrong.untag(repository: "org/app", tag: "x", digest: Self.d1) } throws: { ($0 as? PierError)?.kind == .auth }
        await transport.shutdown()
    }

    @Test func gitHubPackagesPaginates() async throws {
        let fake = try await FakeManagementAPI()
        await fake.seed("org/app", ["a": Self.d1.description, "b": Self.d2.description, "c": Self.d3.description])
        let transport = try transport()
        let github = GitHubPackagesAPI(transport: transport, token: FakeManagementAPI.githubToken, base: fake.base)
        // d3 is on the second page of versions.
        try await github.deleteImage(repository: "org/app", digest: Self.d3, tags: ["c"])
        #expect(await fake.tags("org/app") == ["a": Self.d1.description, "b": Self.d2.description])
        await #expect { try await github.untag(repository: "org/app", tag: "a", digest: Self.d1) } throws: { ($0 as? PierError)?.kind == .unsupported }
        await #expect { try await github.deleteImage(repository: "org/app", digest: Self.d3, tags: []) } throws: { ($0 as? PierError)?.kind == .notFound }
        await transport.shutdown()
    }

    @Test func gitLabFindsTheProjectAndRepository() async throws {
        let fake = try await FakeManagementAPI()
        await fake.seed("group/project/api", ["1.0": Self.d1.description, "1.1": Self.d2.description])
        let transport = try transport()
        let gitlab = GitLabRegistryAPI(transport: transport, base: fake.base + "/api/v4", privateToken: FakeManagementAPI.gitlabToken)
        try await gitlab.untag(repository: "group/project/api", tag: "1.0", digest: Self.d1)
        #expect(await fake.tags("group/project/api") == ["1.1": Self.d2.description])
        #expect(await fake.calls() == ["gitlab DELETE group/project/api:1.0"])
        await transport.shutdown()
    }

    @Test func harborEscapesNestedRepositories() async throws {
        let fake = try await FakeManagementAPI()
        await fake.seed("library/team/app", ["x": Self.d1.description, "y": Self.d1.description, "z": Self.d2.description])
        let transport = try transport()
        let harbor = HarborAPI(transport: transport, base: fake.base, username: "admin", password: "Harbor12345")
        try await harbor.untag(repository: "library/team/app", tag: "x", digest: Self.d1)
        try await harbor.deleteImage(repository: "library/team/app", digest: Self.d2, tags: ["z"])
        #expect(await fake.tags("library/team/app") == ["y": Self.d1.description])
        await transport.shutdown()
    }

    @Test func ecrAgainstMoto() async throws {
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
        defer { kill(moto.processIdentifier, SIGKILL); moto.waitUntilExit() }
        #expect(TestRegistryPortWait.wait(port))
        let endpoint = "http://127.0.0.1:\(port)"
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
        let ecr = ECRAPI(transport: transport, region: "eu-west-1", accessKey: "AKIDTEST", secretKey: "secret", endpoint: endpoint)
        // 120 tags: two BatchDeleteImage calls (at most 100 ids each).
        try await ecr.batchDelete(repository: "team/app", ids: (0..<120).map { ["imageTag": String(format: "t%03d", $0)] })
        let left = try JSONDecoder().decode([String].self, from: Tools.run("python3", ["-c", python, "list"]).stdoutBytes)
        #expect(left == (120..<130).map { String(format: "t%03d", $0) })
        // A tag that does not exist comes back in failures[] with HTTP 200: pier reports it.
        await #expect { try await ecr.untag(repository: "team/app", tag: "nope", digest: Self.d1) } throws: {
            ($0 as? PierError)?.message.contains("nope") ?? false
        }
        #expect(ECRAPI.region(ofHost: "123456789012.dkr.ecr.eu-west-1.amazonaws.com") == "eu-west-1")
        await transport.shutdown()
    }
}

enum TestRegistryPortWait {
    static func wait(_ port: Int) -> Bool { TestRegistry.waitForPort(port) }
}
