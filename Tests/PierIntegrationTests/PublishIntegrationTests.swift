import Foundation
import PierEngine
import PierModel
import PierTestSupport
import Testing

/// `pier publish` against two or three real registries (one with htpasswd auth), checked with skopeo.
@Suite(.serialized) struct PublishIntegrationTests {
    init() throws { try Harness.requireTools() }

    /// Three different images in one layout, tagged a, b and c.
    static func images() throws -> (layout: String, digests: [String: String]) {
        let layout = Tools.temporaryDirectory() + "/images"
        var digests: [String: String] = [:]
        for name in ["a", "b", "c"] {
            try ImageFixtures.umociImage(at: layout, tag: name, layers: 2, layerSize: 30_000)
            digests[name] = try Harness.layoutDigest(layout, tag: name)
        }
        return (layout, digests)
    }

    func publish(_ arguments: [String], env: [String: String]) throws -> (Tools.Result, PublishReport?) {
        let result = try Tools.pier(["publish", "--json", "--no-sha-tag"] + arguments, environment: env)
        return (result, try? ReportJSON.decoder().decode(PublishReport.self, from: result.stdoutBytes))
    }

    func digest(_ reference: String, _ extra: [String] = []) -> String? {
        (try? Harness.skopeoRaw(reference, extra: extra)).map(Harness.sha256)
    }

    @Test func releaseLifecycleAcrossRegistries() throws {
        let primary = try TestRegistry()
        let backup = try TestRegistry(auth: .htpasswd(user: "ci", password: "backup-pass-1"))
        let (layout, digests) = try Self.images()
        let env = Harness.isolatedEnvironment(["BACKUP_USER": "ci", "BACKUP_PASS": "backup-pass-1"])
        let config = Tools.temporaryDirectory() + "/pier.yml"
        try """
        registries:
          - \(primary.host)/team/app
          - repository: \(backup.host)/mirror/app
            username_env: BACKUP_USER
            password_env: BACKUP_PASS
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let auth = ["--creds", "ci:backup-pass-1"]
        let base = ["--config", config]

        // Fresh publish of 1.0.0.
        let (first, report1) = try publish(base + ["--source", "oci:\(layout):a", "--version", "v1.0.0"], env: env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(report1?.status == .ok && report1?.registries.allSatisfy(\.verified) == true)
        #expect(report1?.tags.map(\.name) == ["1.0.0", "1.0", "1", "latest"])
        for tag in ["1.0.0", "1.0", "1", "latest"] {
            #expect(digest("\(primary.host)/team/app:\(tag)") == digests["a"])
            #expect(digest("\(backup.host)/mirror/app:\(tag)", auth) == digests["a"])
        }

        // Re-publish: nothing uploaded, every tag unchanged.
        let (_, again) = try publish(base + ["--source", "oci:\(layout):a", "--version", "v1.0.0"], env: env)
        #expect(
            again?.registries.allSatisfy { $0.blobsUploaded == 0 && $0.tags.allSatisfy { $0.action == .unchanged } }
                == true)

        // A second version moves 1 and latest; 1.0 stays.
        let (second, _) = try publish(base + ["--source", "oci:\(layout):b", "--version", "v1.1.0"], env: env)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(digest("\(primary.host)/team/app:latest") == digests["b"])
        #expect(digest("\(backup.host)/mirror/app:1", auth) == digests["b"])
        #expect(digest("\(primary.host)/team/app:1.0") == digests["a"])

        // A pre-release gets only its own tag.
        let (_, rc) = try publish(base + ["--source", "oci:\(layout):c", "--version", "v1.2.0-rc.1"], env: env)
        #expect(rc?.tags.map(\.name) == ["1.2.0-rc.1"])
        #expect(digest("\(primary.host)/team/app:latest") == digests["b"])

        // 2.0.0, then an older patch 1.1.1: latest stays on 2.0.0, 1 and 1.1 move.
        _ = try publish(base + ["--source", "oci:\(layout):c", "--version", "v2.0.0"], env: env)
        let (patch, patchReport) = try publish(base + ["--source", "oci:\(layout):a", "--version", "v1.1.1"], env: env)
        #expect(patch.status == 0, "\(patch.stderr)")
        #expect(patchReport?.tags.map(\.name) == ["1.1.1", "1.1", "1"])
        #expect(digest("\(primary.host)/team/app:latest") == digests["c"])
        #expect(digest("\(backup.host)/mirror/app:latest", auth) == digests["c"])
        #expect(digest("\(primary.host)/team/app:1") == digests["a"])

        // Pull-request mode writes nothing.
        let before = try Harness.pier("tags", "\(primary.host)/team/app", env: env).stdout
        let (pr, prReport) = try publish(
            base + ["--source", "oci:\(layout):b", "--event", "pull_request", "--branch", "fix", "--tag", "pr-test"],
            env: env)
        #expect(pr.status == 0, "\(pr.stderr)")
        #expect(prReport?.dryRun == true)
        #expect(try Harness.pier("tags", "\(primary.host)/team/app", env: env).stdout == before)

        // --dry-run writes nothing either, and says what it would upload.
        let fresh = try TestRegistry()
        let (_, dry) = try publish(
            ["--source", "oci:\(layout):b", "--to", "\(fresh.host)/x/app", "--version", "9.9.9", "--dry-run"], env: env)
        #expect(dry?.registries.first?.wouldUpload.count == 3)
        #expect(digest("\(fresh.host)/x/app:9.9.9") == nil)
    }

    @Test func conflictPolicies() throws {
        let registry = try TestRegistry()
        let (layout, digests) = try Self.images()
        let env = Harness.isolatedEnvironment()
        let to = ["--to", "\(registry.host)/app"]
        _ = try publish(to + ["--source", "oci:\(layout):a", "--version", "3.0.0"], env: env)

        let (failed, failReport) = try publish(to + ["--source", "oci:\(layout):b", "--version", "3.0.0"], env: env)
        #expect(failed.status == 73, "\(failed.stderr)")
        #expect(failed.stderr.contains("already points at"))
        #expect(failReport?.registries.first?.tags.first { $0.tag == "3.0.0" }?.action == .conflict)
        #expect(digest("\(registry.host)/app:3.0.0") == digests["a"])
        #expect(digest("\(registry.host)/app:latest") == digests["a"])

        let (backedUp, backupReport) = try publish(
            to + ["--source", "oci:\(layout):b", "--version", "3.0.0", "--on-conflict", "backup"], env: env)
        #expect(backedUp.status == 0, "\(backedUp.stderr)")
        let backupTag = try #require(backupReport?.registries.first?.tags.first { $0.tag == "3.0.0" }?.backup)
        #expect(backupTag.hasPrefix("bkup-3.0.0-"))
        #expect(digest("\(registry.host)/app:\(backupTag)") == digests["a"])
        #expect(digest("\(registry.host)/app:3.0.0") == digests["b"])

        let (overwritten, _) = try publish(
            to + ["--source", "oci:\(layout):c", "--version", "3.0.0", "--on-conflict", "overwrite"], env: env)
        #expect(overwritten.status == 0)
        #expect(digest("\(registry.host)/app:3.0.0") == digests["c"])
    }

    @Test func aStoppedRegistryFailsAloneAndARerunCompletesIt() throws {
        let primary = try TestRegistry()
        let backup = try TestRegistry()
        let (layout, digests) = try Self.images()
        let env = Harness.isolatedEnvironment()
        backup.stop()
        let args = [
            "--source", "oci:\(layout):a", "--version", "4.0.0", "--to", "\(primary.host)/app", "--to",
            "\(backup.host)/app",
        ]
        let (partial, report) = try publish(args, env: env)
        #expect(partial.status == 75, "\(partial.stderr)")
        #expect(report?.status == .partial)
        #expect(report?.registries[0].verified == true && report?.registries[1].error?.kind == .network)
        #expect(digest("\(primary.host)/app:4.0.0") == digests["a"])

        try backup.restart()
        let (rerun, rerunReport) = try publish(args, env: env)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerunReport?.registries[0].blobsUploaded == 0)
        #expect(digest("\(backup.host)/app:4.0.0") == digests["a"])

        // --fail-fast with a dead registry: the run stops with the failure's own code.
        backup.stop()
        let (fast, _) = try publish(args + ["--fail-fast", "--tag", "extra"], env: env)
        #expect(fast.status == 69, "\(fast.stderr)")
    }

    @Test func multiPlatformSourceAndRegistrySource() throws {
        let first = try TestRegistry()
        let second = try TestRegistry()
        let layout = Tools.temporaryDirectory() + "/multi"
        let index = try ImageFixtures.multiPlatformImage(at: layout, tag: "multi")
        let env = Harness.isolatedEnvironment()
        let (result, report) = try publish(
            ["--source", "oci:\(layout):multi", "--version", "5.0.0", "--to", "\(first.host)/app"], env: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report?.platforms.sorted() == ["linux/amd64", "linux/arm64"])
        #expect(digest("\(first.host)/app:5.0.0") == index)
        // A registry source: read once, pushed to another registry, index intact.
        let (copied, _) = try publish(
            ["--source", "\(first.host)/app:5.0.0", "--version", "5.0.0", "--to", "\(second.host)/app"], env: env)
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(digest("\(second.host)/app:5.0") == index)
        try Tools.run(
            "skopeo",
            ["copy", "--all", "--src-tls-verify=false", "docker://\(second.host)/app:5.0.0", "oci:\(layout)-back:x"])
    }

    @Test func badConfigIsOneLine() throws {
        let config = Tools.temporaryDirectory() + "/pier.yml"
        try "tags:\n  latset: auto\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try Harness.pier("publish", "--config", config, "--source", "oci:/x")
        #expect(result.status == 65)
        #expect(result.stderr.contains("pier.yml:2: unknown key \"latset\" in tags"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}
