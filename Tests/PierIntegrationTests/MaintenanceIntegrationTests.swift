import Foundation
import PierEngine
import PierModel
import PierTestSupport
import Testing

/// prune, rollback, status and sync against real docker-registry instances with delete enabled.
@Suite(.serialized) struct MaintenanceIntegrationTests {
    init() throws { try Harness.requireTools() }

    func digest(_ reference: String) -> String? { (try? Harness.skopeoRaw(reference)).map(Harness.sha256) }

    func tagsAndDigests(_ registry: TestRegistry, _ repository: String) throws -> [String: String] {
        let tags = try JSONDecoder().decode([String].self, from: Harness.pier("tags", "--json", "\(registry.host)/\(repository)").stdoutBytes)
        var result: [String: String] = [:]
        for tag in tags { result[tag] = digest("\(registry.host)/\(repository):\(tag)") }
        return result
    }

    /// Pushes one small image per day to `repo`, tagged `format` with the day, created at midnight that day.
    func pushDailyImages(_ repo: String, days: ClosedRange<Int>, tag format: String, month: String) throws {
        let layout = Tools.temporaryDirectory() + "/images"
        for day in days {
            let tag = String(format: format, day)
            try ImageFixtures.umociImage(at: layout, tag: tag, layers: 1, layerSize: 500, created: String(format: "\(month)-%02dT00:00:00Z", day))
            #expect(try Harness.pier("copy", "oci:\(layout):\(tag)", "\(repo):\(tag)").status == 0)
        }
    }

    @Test func pruneKeepsTheNewestAndEverythingKeptTagsNeed() throws {
        let registry = try TestRegistry()
        let repo = "\(registry.host)/app"
        // sha-01 … sha-15, one image each, created on day 1 … 15.
        try pushDailyImages(repo, days: 1...15, tag: "sha-%02d", month: "2026-01")
        // 1.0.0 shares sha-01's image; latest shares sha-02's (an old image that must survive).
        #expect(try Harness.pier("copy", "\(repo):sha-01", "\(repo):1.0.0").status == 0)
        #expect(try Harness.pier("copy", "\(repo):sha-02", "\(repo):latest").status == 0)
        // A multi-platform index outside the selection: its untagged children must survive.
        let multi = Tools.temporaryDirectory() + "/multi"
        let index = try ImageFixtures.multiPlatformImage(at: multi, tag: "multi")
        #expect(try Harness.pier("copy", "oci:\(multi):multi", "\(repo):multi").status == 0)
        let children = (try JSONSerialization.jsonObject(with: Harness.skopeoRaw("\(repo):multi")) as! [String: Any])["manifests"] as! [[String: Any]]

        let before = try tagsAndDigests(registry, "app")
        #expect(before.count == 18)

        // Dry run: the plan, and nothing changes.
        let dry = try Harness.pier("prune", "--json", "--keep-last", "10", "--only", "sha-.*", repo)
        #expect(dry.status == 0, "\(dry.stderr)")
        let plan = try JSONDecoder().decode([Pruner.Result].self, from: dry.stdoutBytes)[0]
        let actions = Dictionary(uniqueKeysWithValues: plan.decisions.map { ($0.tag, $0.action) })
        #expect(actions["sha-01"] == .untag && actions["sha-02"] == .untag)
        #expect(actions["sha-03"] == .delete && actions["sha-05"] == .delete && actions["sha-06"] == .keep)
        #expect(actions["latest"] == .keep && actions["1.0.0"] == .keep && actions["multi"] == .keep)
        #expect(try tagsAndDigests(registry, "app") == before)

        // Apply without the untag fallback: the unshared digests go; the two shared tags are reported.
        let first = try Harness.pier("prune", "--apply", "--keep-last", "10", "--only", "sha-.*", repo)
        #expect(first.status == 75, "\(first.stderr)")
        #expect(first.stderr.contains("--allow-untag-fallback"))
        // A rerun with the fallback finishes the job.
        let second = try Harness.pier("prune", "--apply", "--allow-untag-fallback", "--keep-last", "10", "--only", "sha-.*", repo)
        #expect(second.status == 0, "\(second.stderr)")

        let after = try tagsAndDigests(registry, "app")
        let expected = Set((6...15).map { String(format: "sha-%02d", $0) } + ["1.0.0", "latest", "multi"])
        #expect(Set(after.keys) == expected)
        for tag in expected { #expect(after[tag] == before[tag], "\(tag) changed") }
        // The shared digests survive under their kept tags; the index and its children are intact.
        #expect(after["latest"] == before["sha-02"] && after["1.0.0"] == before["sha-01"])
        #expect(after["multi"] == index)
        for child in children {
            let digest = child["digest"] as! String
            #expect(self.digest("\(repo)@\(digest)") == digest)
        }
        // The expired, unshared images are gone by digest too.
        #expect(digest("\(repo)@\(before["sha-03"]!)") == nil)
    }

    /// pier.yml's prune: section and registries stand in for the flags and arguments.
    @Test func pruneReadsRulesAndRepositoriesFromConfig() throws {
        let registry = try TestRegistry()
        let repo = "\(registry.host)/svc"
        try pushDailyImages(repo, days: 1...5, tag: "build-%d", month: "2026-02")
        let config = Tools.temporaryDirectory("pier-prune-config") + "/pier.yml"
        try "registries:\n  - \(repo)\nprune:\n  keep_last: 2\n  keep: [\"build-1\"]\n  only: \"build-.*\"\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let run = try Harness.pier("prune", "--config", config, "--apply")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Set(try tagsAndDigests(registry, "svc").keys) == ["build-1", "build-4", "build-5"])
    }

    @Test func rollbackStatusAndSyncAcrossTwoRegistries() throws {
        let primary = try TestRegistry()
        let backup = try TestRegistry()
        let layout = Tools.temporaryDirectory() + "/images"
        var digests: [String: String] = [:]
        for name in ["a", "b", "c"] {
            try ImageFixtures.umociImage(at: layout, tag: name, layers: 1, layerSize: 2000)
            digests[name] = try Harness.layoutDigest(layout, tag: name)
        }
        let to = ["--to", "\(primary.host)/app", "--to", "\(backup.host)/app"]
        #expect(try Harness.pier(["publish", "--no-sha-tag", "--source", "oci:\(layout):a", "--version", "1.0.0"] + to).status == 0)
        #expect(try Harness.pier(["publish", "--no-sha-tag", "--source", "oci:\(layout):b", "--version", "1.1.0"] + to).status == 0)
        #expect(digest("\(primary.host)/app:latest") == digests["b"])

        // Plan only: nothing moves.
        let plan = try Harness.pier(["rollback", "1.0.0"] + to)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("would move"))
        #expect(digest("\(backup.host)/app:latest") == digests["b"])
        let applied = try Harness.pier(["rollback", "1.0.0", "--apply"] + to)
        #expect(applied.status == 0, "\(applied.stderr)")
        for host in [primary.host, backup.host] {
            #expect(digest("\(host)/app:latest") == digests["a"])
            #expect(digest("\(host)/app:1") == digests["a"])
            #expect(digest("\(host)/app:1.1") == digests["b"])
            #expect(digest("\(host)/app:1.1.0") == digests["b"])
        }

        // Status finds a tag deleted behind pier's back and one that diverged; sync repairs both.
        #expect(try Harness.pier("copy", "oci:\(layout):c", "\(primary.host)/app:edge").status == 0)
        #expect(try Harness.pier("copy", "oci:\(layout):c", "\(backup.host)/app:edge").status == 0)
        try Tools.run("skopeo", ["delete", "--tls-verify=false", "docker://\(backup.host)/app:edge"])
        #expect(try Harness.pier("copy", "oci:\(layout):c", "\(backup.host)/app:1.0").status == 0)
        let drift = try Harness.pier("status", "--check", "\(primary.host)/app", "\(backup.host)/app")
        #expect(drift.status == 70, "\(drift.stdout)\(drift.stderr)")
        #expect(drift.stdout.contains("edge") && drift.stdout.contains("missing") && drift.stdout.contains("diverged"))

        let sync = try Harness.pier("sync", "\(primary.host)/app", "\(backup.host)/app")
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(digest("\(backup.host)/app:edge") == digests["c"])
        #expect(digest("\(backup.host)/app:1.0") == digests["a"])
        let clean = try Harness.pier("status", "--check", "\(primary.host)/app", "\(backup.host)/app")
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")

        // Rollback refuses when registries disagree on the version's digest, unless told whom to trust.
        #expect(try Harness.pier("copy", "oci:\(layout):c", "\(backup.host)/app:1.0.0").status == 0)
        let refused = try Harness.pier(["rollback", "1.0.0", "--apply"] + to)
        #expect(refused.status == 73)
        #expect(refused.stderr.contains("different digests"))
        let trusted = try Harness.pier(["rollback", "1.0.0", "--apply", "--trust", "\(primary.host)/app"] + to)
        #expect(trusted.status == 0, "\(trusted.stderr)")
        #expect(digest("\(backup.host)/app:latest") == digests["a"])
    }
}
