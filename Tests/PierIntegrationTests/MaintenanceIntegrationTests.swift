import Foundation
import PierEngine
import PierModel
import PierTestSupport
import Testing

/// prune, rollback, status and sync against real docker-registry instances with delete enabled.
@Suite(.serialized) struct MaintenanceIntegrationTests {
    init() throws { try Harness.requireTools() }

    func digest(_ reference: String) -> String? { (try? Harness.skopeoRaw(reference)).map(Harness.sha256) }

    /// `prune --json` output; dates are RFC 3339.
    static func decodePlans(_ data: Data) throws -> [Pruner.Result] {
        try ReportJSON.decoder().decode([Pruner.Result].self, from: data)
    }

    func tagsAndDigests(_ registry: TestRegistry, _ repository: String) throws -> [String: String] {
        let tags = try JSONDecoder().decode(
            [String].self, from: Harness.pier("tags", "--json", "\(registry.host)/\(repository)").stdoutBytes)
        var result: [String: String] = [:]
        for tag in tags { result[tag] = digest("\(registry.host)/\(repository):\(tag)") }
        return result
    }

    /// Pushes one small image per day to `repo`, tagged `format` with the day, created at midnight that day.
    func pushDailyImages(_ repo: String, days: ClosedRange<Int>, tag format: String, month: String) throws {
        let layout = Tools.temporaryDirectory() + "/images"
        for day in days {
            let tag = String(format: format, day)
            try ImageFixtures.umociImage(
                at: layout, tag: tag, layers: 1, layerSize: 500, created: String(format: "\(month)-%02dT00:00:00Z", day)
            )
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
        let children =
            (try JSONSerialization.jsonObject(with: Harness.skopeoRaw("\(repo):multi")) as! [String: Any])["manifests"]
            as! [[String: Any]]

        let before = try tagsAndDigests(registry, "app")
        #expect(before.count == 18)

        // Dry run: the plan, and nothing changes.
        let dry = try Harness.pier("prune", "--json", "--keep-last", "10", "--only", "sha-.*", repo)
        #expect(dry.status == 0, "\(dry.stderr)")
        let plan = try Self.decodePlans(dry.stdoutBytes)[0]
        let actions = Dictionary(uniqueKeysWithValues: plan.decisions.map { ($0.tag, $0.action) })
        #expect(actions["sha-01"] == .untag && actions["sha-02"] == .untag)
        #expect(actions["sha-03"] == .delete && actions["sha-05"] == .delete && actions["sha-06"] == .keep)
        #expect(actions["latest"] == .keep && actions["1.0.0"] == .keep && actions["multi"] == .keep)
        // docker-registry 2.8 has no DELETE by tag: the two untags need the fallback, and the plan says so.
        #expect(plan.needingUntagFallback.sorted() == ["sha-01", "sha-02"])
        #expect(try tagsAndDigests(registry, "app") == before)
        let table = try Harness.pier("prune", "--keep-last", "10", "--only", "sha-.*", repo)
        #expect(
            table.stdout.contains("untag*")
                && table.stdout.contains(
                    "2 tag(s) can only be untagged through the fallback: --apply needs --allow-untag-fallback")
        )

        // Apply without the untag fallback: refused before anything is deleted.
        let first = try Harness.pier("prune", "--apply", "--keep-last", "10", "--only", "sha-.*", repo)
        #expect(first.status == 64, "\(first.stderr)")
        #expect(
            first.stderr.contains("--allow-untag-fallback") && first.stderr.contains("sha-01")
                && first.stderr.contains("nothing deleted"))
        #expect(try tagsAndDigests(registry, "app") == before)
        // With the fallback the whole plan is applied.
        let second = try Harness.pier(
            "prune", "--apply", "--allow-untag-fallback", "--keep-last", "10", "--only", "sha-.*", repo)
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

    /// A reproducible build (config created 1970-01-01, as `pier build` and SOURCE_DATE_EPOCH=0 write) pushed
    /// just now is undated on a registry that keeps no push time: no age rule deletes it, and the plan says where
    /// pier looked.
    @Test func pruneNeverDeletesAnUndatedImage() throws {
        let registry = try TestRegistry()
        let repo = "\(registry.host)/repro"
        try pushDailyImages(repo, days: 1...1, tag: "sha-%02d", month: "1970-01")
        try pushDailyImages(repo, days: 2...3, tag: "sha-%02d", month: "2025-01")
        let before = try tagsAndDigests(registry, "repro")
        for rule in [["--keep-newer-than", "90d"], ["--expire-older-than", "90d"], ["--keep-last", "0"]] {
            let run = try Harness.pier(["prune", "--json", "--apply"] + rule + [repo])
            #expect(run.status == 0, "\(run.stderr)")
            let plan = try Self.decodePlans(run.stdoutBytes)[0]
            let undated = try #require(plan.decisions.first { $0.tag == "sha-01" })
            #expect(undated.action == .keep && undated.dateSource == .undated && undated.date == nil)
            #expect(
                undated.dateLooked?.contains {
                    $0.contains("config created: 1970-01-01T00:00:00Z is before 2000-01-01")
                } ?? false)
            #expect(plan.decisions.last?.tag == "sha-01", "undated images come last")
        }
        let after = try tagsAndDigests(registry, "repro")
        #expect(after == ["sha-01": before["sha-01"]!])
        let table = try Harness.pier("prune", "--keep-newer-than", "90d", repo)
        #expect(
            table.stdout.contains("undated") && table.stdout.contains("1 undated (kept)")
                && table.stdout.contains("looked at:"))
    }

    /// --keep-last counts images: a release with four tags (semver fan-out) is one image.
    @Test func keepLastCountsImagesAndDatesAreRFC3339() throws {
        let registry = try TestRegistry()
        let repo = "\(registry.host)/fan"
        for (day, version) in [(1, "1.0.0"), (2, "1.1.0"), (3, "1.2.0"), (4, "2.0.0")] {
            try pushDailyImages(repo, days: day...day, tag: "sha-%02d", month: "2026-03")
            let parts = version.split(separator: ".")
            for tag in [version, "\(parts[0]).\(parts[1])"] {
                #expect(try Harness.pier("copy", "\(repo):sha-0\(day)", "\(repo):\(tag)").status == 0)
            }
        }
        let dry = try Harness.pier("prune", "--json", "--keep-last", "2", repo)
        #expect(dry.status == 0, "\(dry.stderr)")
        let plan = try Self.decodePlans(dry.stdoutBytes)[0]
        let kept = Set(plan.decisions.filter { $0.action == .keep }.map(\.tag))
        #expect(kept == ["sha-04", "2.0.0", "2.0", "sha-03", "1.2.0", "1.2"])
        // Newest first, dated by config created, written as RFC 3339.
        #expect(plan.decisions.first.map { ["sha-04", "2.0.0", "2.0"].contains($0.tag) } ?? false)
        #expect(plan.decisions.allSatisfy { $0.dateSource == .config })
        #expect(dry.stdout.contains("\"date\" : \"2026-03-04T00:00:00Z\""), "\(dry.stdout.prefix(600))")
    }

    /// A pattern that matches no tag is named on stderr, from flags and from pier.yml.
    @Test func patternsMatchingNoTagAreWarnings() throws {
        let registry = try TestRegistry()
        let repo = "\(registry.host)/warn"
        try pushDailyImages(repo, days: 1...2, tag: "sha-%02d", month: "2026-04")
        let run = try Harness.pier("prune", "--keep-last", "1", "--only", "^sha-", repo)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stderr.contains("--only \"^sha-\" matches no tag") && run.stderr.contains("whole tag")
                && run.stderr.contains("\"sha-.*\""))
        let config = Tools.temporaryDirectory("pier-prune-warn") + "/pier.yml"
        try "registries:\n  - \(repo)\nprune:\n  keep_last: 1\n  keep: [\"v.*\"]\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let fromConfig = try Harness.pier("prune", "--config", config)
        #expect(fromConfig.stderr.contains("prune.keep in \(config) \"v.*\" matches no tag"), "\(fromConfig.stderr)")
        let clean = try Harness.pier("prune", "--keep-last", "1", "--only", "sha-.*", repo)
        #expect(!clean.stderr.contains("matches no tag"))
    }

    /// Negative counts and absurd durations are usage errors before any network I/O: the repository named here
    /// does not exist (nothing listens on port 9), and the answer is still 64, not a network error.
    @Test func absurdRulesAreRefusedBeforeTheNetwork() throws {
        for rule in [
            ["--keep-last=-1"], ["--keep-newer-than", "infd"], ["--keep-newer-than", "1e300w"],
            ["--expire-older-than", "nanh"],
            ["--keep-last", "99999999999"],
        ] {
            let run = try Harness.pier(["prune"] + rule + ["127.0.0.1:9/app"])
            #expect(run.status == 64, "\(rule): \(run.status) \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        }
        let config = Tools.temporaryDirectory("pier-prune-bad") + "/pier.yml"
        try "registries:\n  - 127.0.0.1:9/app\nprune:\n  expire_older_than: 1e300w\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let bad = try Harness.pier("prune", "--config", config)
        #expect(bad.status == 65 && bad.stderr.contains("pier.yml:4"), "\(bad.stderr)")
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
        #expect(
            try Harness.pier(["publish", "--no-sha-tag", "--source", "oci:\(layout):a", "--version", "1.0.0"] + to)
                .status == 0)
        #expect(
            try Harness.pier(["publish", "--no-sha-tag", "--source", "oci:\(layout):b", "--version", "1.1.0"] + to)
                .status == 0)
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
