import Foundation
import PierEngine
import PierHostedAPIs
import PierLayout
import PierModel
import PierRegistry
import PierTestSupport
import Testing

/// Release notes (golden files), GitHub/GitLab releases and the Docker Hub description against fakes.
struct NotesTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Golden"
    ).path

    /// Compares with the golden file; `PIER_UPDATE_GOLDEN=1` rewrites it.
    func golden(_ name: String, _ text: String) throws {
        let path = "\(Self.goldenDirectory)/\(name)"
        if ProcessInfo.processInfo.environment["PIER_UPDATE_GOLDEN"] == "1"
            || !FileManager.default.fileExists(atPath: path)
        {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == expected, "notes differ from \(name); run with PIER_UPDATE_GOLDEN=1 to accept")
    }

    /// A git repository with conventional commits at fixed dates, so commit ids are the same on every run.
    func gitRepository() throws -> String {
        let dir = Tools.temporaryDirectory("pier-notes-git")
        let env = [
            "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com", "GIT_COMMITTER_NAME": "Dev",
            "GIT_COMMITTER_EMAIL": "dev@example.com", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
            "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
        ]
        func git(_ args: String...) throws { try Tools.run("git", ["-C", dir] + args, environment: env) }
        try git("init", "-q", "-b", "main")
        try git("commit", "-q", "--allow-empty", "-m", "chore: initial")
        try git("tag", "v1.0.0")
        for message in [
            "feat(api): add the status endpoint", "fix: handle empty tag lists", "feat!: drop the v1 config format",
            "docs: explain prune", "Update README",
        ] {
            try git("commit", "-q", "--allow-empty", "-m", message)
        }
        try git("tag", "v1.1.0")
        return dir
    }

    @Test func multiPlatformNotesWithLabelsAndChangelog() async throws {
        let layout = try LayoutBuilder(at: Tools.temporaryDirectory("pier-notes") + "/layout")
        let labels = [
            "org.opencontainers.image.source": "https://github.com/example/app",
            "org.opencontainers.image.revision": "abc1234",
            "org.opencontainers.image.base.name": "docker.io/library/alpine:3.20", "maintainer": "team@example.com",
        ]
        var children: [[String: Any]] = []
        for (arch, seed) in [("amd64", UInt8(1)), ("arm64", UInt8(2))] {
            var child = try layout.image(
                config: [
                    "architecture": arch, "os": "linux", "created": "2026-11-22T01:30:45Z",
                    "config": ["Labels": labels],
                    "rootfs": ["type": "layers", "diff_ids": []],
                ],
                layerSizes: [3000, 1_500_000], seed: seed)
            child["platform"] = ["os": "linux", "architecture": arch]
            children.append(child)
        }
        let index = try layout.blob(
            JSONSerialization.data(
                withJSONObject: [
                    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": children,
                ], options: [.sortedKeys]), mediaType: "application/vnd.oci.image.index.v1+json")
        try layout.tag(index, as: "1.1.0")
        let source = LayoutImageSource(layout: OCILayout(root: layout.root), name: "oci:layout", tag: "1.1.0")
        let notes = try await ReleaseNotes.collect(
            version: "1.1.0", root: try await source.root(), source: source,
            registries: [
                try ImageReference(parsing: "ghcr.io/example/app"),
                try ImageReference(parsing: "registry.example.com/backup/app"),
            ],
            tags: ["1.1.0", "1.1", "1", "latest"],
            changelog: Changelog.fromGit(version: "v1.1.0", directory: try gitRepository()))
        #expect(notes.previousVersion == "v1.0.0")
        #expect(
            notes.changelog.map(\.title) == ["Breaking changes", "Features", "Fixes", "Documentation", "Other changes"])
        #expect(notes.platforms.map(\.layers) == [2, 2])
        try golden("notes-multi-platform.md", try notes.render())

        // A team's own template.
        let custom = try notes.render(template: "{{version}} {{#platforms}}[{{platform}}]{{/platforms}}")
        #expect(custom == "1.1.0 [linux/amd64][linux/arm64]")
    }

    @Test func singleImageWithoutLabels() async throws {
        let layout = try LayoutBuilder(at: Tools.temporaryDirectory("pier-notes") + "/layout")
        let image = try layout.image(
            config: ["architecture": "amd64", "os": "linux", "rootfs": ["type": "layers", "diff_ids": []]],
            layerSizes: [1234], seed: 9)
        try layout.tag(image, as: "2.0.0")
        let source = LayoutImageSource(layout: OCILayout(root: layout.root), name: "oci:layout", tag: "2.0.0")
        let notes = try await ReleaseNotes.collect(
            version: "2.0.0", root: try await source.root(), source: source,
            registries: [try ImageReference(parsing: "127.0.0.1:5000/app")],
            tags: ["2.0.0"])
        #expect(notes.labels.isEmpty && notes.source == nil)
        try golden("notes-no-labels.md", try notes.render())
        #expect(throws: PierError.self) { try notes.render(template: "{{#unclosed}}") }
    }

    @Test func githubReleaseFromAPublishReportUploadsAndReplacesAssets() async throws {
        let fake = try await FakeManagementAPI()
        let registry = try TestRegistry()
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/layout", tag: "1.0", layers: 1)
        let published = try Harness.pier(
            "publish", "--json", "--source", "oci:\(layout):1.0", "--to", "\(registry.host)/rel/app", "--version",
            "v1.4.0")
        #expect(published.status == 0, "\(published.stderr)")
        let directory = Tools.temporaryDirectory("pier-assets")
        try published.stdoutBytes.write(to: URL(fileURLWithPath: directory + "/publish.json"))
        let tarball = directory + "/pier-1.4.0-linux-amd64.tar.gz"
        let sums = directory + "/SHA256SUMS"
        func write(_ seed: Int) throws -> (String, String) {
            let bytes = Data((0..<200_000).map { UInt8(($0 * 31 + seed) % 251) })
            let hex = ImageFixtures.sha256Hex(bytes)
            try bytes.write(to: URL(fileURLWithPath: tarball))
            try "\(hex)  pier-1.4.0-linux-amd64.tar.gz\n".write(toFile: sums, atomically: true, encoding: .utf8)
            return (hex, ImageFixtures.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: sums))))
        }
        let environment = Harness.isolatedEnvironment([
            "GITHUB_TOKEN": FakeManagementAPI.githubToken, "GITHUB_API_URL": fake.base,
            "GITHUB_REPOSITORY": "example/pier",
        ])
        func release() throws -> Tools.Result {
            try Harness.pier(
                [
                    "release", "github", "--version", "v1.4.0", "--report", directory + "/publish.json", "--asset",
                    tarball, "--asset", sums,
                ],
                env: environment)
        }
        let first = try write(1)
        let created = try release()
        #expect(created.status == 0, "\(created.stderr)")
        #expect(
            created.stdout.contains("created GitHub release v1.4.0") && created.stdout.contains("uploaded SHA256SUMS"),
            "\(created.stdout)")
        let id = try #require(await fake.releases()["example/pier#v1.4.0"]?["id"])
        #expect(
            await fake.releaseAssets(release: id) == ["pier-1.4.0-linux-amd64.tar.gz": first.0, "SHA256SUMS": first.1])
        #expect(
            await fake.releases()["example/pier#v1.4.0"]?["body"]?.contains(registry.host) == true,
            "notes from the report")
        // A rerun replaces same-named assets (GitHub refuses a duplicate name): one delete and one upload each.
        let second = try write(2)
        let updated = try release()
        #expect(updated.status == 0 && updated.stdout.contains("updated GitHub release v1.4.0"), "\(updated.stderr)")
        #expect(
            await fake.releaseAssets(release: id) == [
                "pier-1.4.0-linux-amd64.tar.gz": second.0, "SHA256SUMS": second.1,
            ])
        let calls = await fake.calls()
        #expect(
            calls.filter { $0.hasPrefix("github DELETE asset") }.count == 2
                && calls.filter { $0.hasPrefix("github POST asset") }.count == 4)
        // A missing asset file is a usage error before anything is sent.
        let before = await fake.calls().count
        let missing = try Harness.pier(
            [
                "release", "github", "--version", "v1.4.0", "--report", directory + "/publish.json", "--asset",
                directory + "/nope",
            ], env: environment)
        #expect(missing.status == 64 && missing.stderr.contains("cannot read"), "\(missing.stderr)")
        #expect(await fake.calls().count == before)
        // Without --version the release is the report's version as it was tagged (v1.4.0), not the semver 1.4.0.
        let fromReport = try Harness.pier(
            ["release", "github", "--report", directory + "/publish.json"], env: environment)
        #expect(
            fromReport.status == 0 && fromReport.stdout.contains("updated GitHub release v1.4.0"),
            "\(fromReport.stdout) \(fromReport.stderr)")
        #expect(await fake.releases().keys.sorted() == ["example/pier#v1.4.0"])
    }

    @Test func githubAndGitLabReleasesAreIdempotent() async throws {
        let fake = try await FakeManagementAPI()
        let transport = try RegistryTransport(caFile: nil, concurrency: 4)
        let github = GitHubReleasesAPI(
            transport: transport, token: FakeManagementAPI.githubToken, repository: "example/app", base: fake.base)
        #expect(
            try await github.publish(tag: "v1.0.0", name: "v1.0.0", body: "first", prerelease: false).action == .created
        )
        #expect(
            try await github.publish(tag: "v1.0.0", name: "v1.0.0", body: "second", prerelease: false).action
                == .updated)
        let releases = await fake.releases()
        #expect(releases.count == 1 && releases["example/app#v1.0.0"]?["body"] == "second")
        let bad = GitHubReleasesAPI(transport: transport, token: "wrong", repository: "example/app", base: fake.base)
        await #expect { _ = try await bad.publish(tag: "v1.0.0", name: "x", body: "x", prerelease: false) } throws: {
            ($0 as? PierError)?.kind == .auth
        }

        let gitlab = GitLabReleasesAPI(
            transport: transport, base: fake.base + "/api/v4", project: "group/app", privateToken: nil,
            jobToken: "job-token")
        #expect(try await gitlab.publish(tag: "v2.0.0", name: "v2.0.0", body: "one").action == .created)
        #expect(try await gitlab.publish(tag: "v2.0.0", name: "v2.0.0", body: "two").action == .updated)
        #expect(await fake.releases()["group/app#v2.0.0"]?["body"] == "two")
        #expect(
            await fake.calls().filter { $0.contains("release") } == [
                "github POST release v1.0.0", "github PATCH release v1.0.0", "gitlab POST release v2.0.0",
                "gitlab PUT release v2.0.0",
            ])
        await transport.shutdown()
    }

    /// A create that may have happened is not sent again: GitHub answered 502 after making the release, and a second
    /// POST would be refused as a duplicate (or make a second release). A 429 says nothing was made: sent again.
    @Test func releaseCreationIsNotRepeatedAfterAnUnclearFailure() async throws {
        let fake = try await FakeManagementAPI()
        let transport = try RegistryTransport(caFile: nil, concurrency: 4)
        defer { Task { await transport.shutdown() } }
        let github = GitHubReleasesAPI(
            transport: transport, token: FakeManagementAPI.githubToken, repository: "example/app", base: fake.base)
        await fake.failGitHub([(502, [:])])
        await #expect {
            _ = try await github.publish(tag: "v3.0.0", name: "v3", body: "x", prerelease: false)
        } throws: {
            ($0 as? PierError)?.status == 502
        }
        #expect(await fake.calls().filter { $0 == "github POST release v3.0.0" }.count == 1)
        // The rerun finds the release and updates it.
        #expect(try await github.publish(tag: "v3.0.0", name: "v3", body: "y", prerelease: false).action == .updated)
        await fake.failGitHub([(429, ["retry-after": "0"])])
        #expect(try await github.publish(tag: "v4.0.0", name: "v4", body: "z", prerelease: false).action == .created)
        #expect(await fake.releases().keys.sorted() == ["example/app#v3.0.0", "example/app#v4.0.0"])
    }

    @Test func dockerHubDescriptionChecksLimitsFirst() async throws {
        let fake = try await FakeManagementAPI()
        let transport = try RegistryTransport(caFile: nil, concurrency: 4)
        let hub = DockerHubAPI(
            transport: transport, username: FakeManagementAPI.hubUser, password: FakeManagementAPI.hubPassword,
            base: fake.base)
        await #expect {
            try await hub.describe(repository: "org/app", short: String(repeating: "x", count: 101), full: nil)
        } throws: {
            ($0 as? PierError)?.message.contains("101 characters") ?? false
        }
        await #expect {
            try await hub.describe(repository: "org/app", short: nil, full: String(repeating: "é", count: 12_501))
        } throws: {
            ($0 as? PierError)?.message.contains("25002 bytes") ?? false
        }
        #expect(await fake.calls().isEmpty)
        try await hub.describe(repository: "org/app", short: "A tool", full: "# App\n")
        #expect(await fake.descriptions()["org/app"] == ["description": "A tool", "full_description": "# App\n"])
        await transport.shutdown()
    }

    @Test func annotatingKeepsOtherFieldsAndChangesTheDigest() throws {
        let bytes = Array(
            #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"annotations":{"a.b":"kept"},"x-unknown":{"a":1,"b":true,"c":1.5,"d":null}}"#
                .utf8)
        let root = try ManifestBlob(bytes: bytes, mediaType: nil, source: "t")
        let annotated = try ImageAnnotator.annotate(root, with: ["org.opencontainers.image.version": "1.0.0"])
        #expect(annotated.digest != root.digest)
        // Unknown fields keep their types (a boolean stays a boolean), existing annotations stay, keys sorted.
        #expect(
            String(decoding: annotated.bytes, as: UTF8.self)
                == #"{"annotations":{"a.b":"kept","org.opencontainers.image.version":"1.0.0"},"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2,"x-unknown":{"a":1,"b":true,"c":1.5,"d":null}}"#
        )
        #expect(annotated.document.annotations?["org.opencontainers.image.version"] == "1.0.0")
    }
}
