import Foundation
import PierEngine
import PierModel
import PierTestSupport
import Testing

/// `pier sync|status|prune` over pier.yml's repositories on two real registries: one summary, a rerun that finds
/// everything done by HEAD, shards that split the work, and the status page over all of them.
@Suite(.serialized) struct OrganisationTests {
    init() throws { try Harness.requireTools() }

    func summary(_ result: Tools.Result) throws -> OrganisationSummary {
        try ReportJSON.decoder().decode(OrganisationSummary.self, from: result.stdoutBytes)
    }

    @Test func syncStatusAndPruneOverFourRepositoriesWithOneSummary() async throws {
        let primary = try TestRegistry()
        let backup = try TestRegistry()
        let work = Tools.temporaryDirectory("pier-org")
        let layout = work + "/images"
        for (name, month) in [("a", 1), ("b", 2), ("c", 3)] {
            try ImageFixtures.umociImage(
                at: layout, tag: name, layers: 1, layerSize: 800, created: "2026-0\(month)-01T00:00:00Z")
        }
        let names = ["app", "api", "web", "team/tools"]
        for name in names {
            for (tag, image) in [("1.0.0", "a"), ("1.1.0", "b")] {
                let copied = try Harness.pier("copy", "oci:\(layout):\(image)", "\(primary.host)/org/\(name):\(tag)")
                #expect(copied.status == 0, "\(copied.stderr)")
            }
        }
        let config = work + "/pier.yml"
        try """
        organisation:
          primary: \(primary.host)/org
          backups: [\(backup.host)/mirror]
          concurrency: 2
        repositories:
          - app
          - name: api
            prune: {keep_last: 1}
          - name: web
            tags: "^1[.]1[.]0$"
          - team/tools

        """.write(toFile: config, atomically: true, encoding: .utf8)
        let base = ["--config", config, "--json"]

        // A dry run reads as a plan: nothing written, and it says so.
        let planned = try Harness.pier("sync", "--dry-run", "--config", config)
        #expect(planned.status == 0, "\(planned.stderr)")
        #expect(planned.stdout.contains("app  planned  would copy 2, in sync 0"), "\(planned.stdout)")
        #expect(planned.stdout.contains("sync (dry run, nothing written): 4 of 4"), "\(planned.stdout)")
        #expect((try? Harness.skopeoRaw("\(backup.host)/mirror/app:1.0.0")) == nil)

        let first = try Harness.pier(["sync"] + base)
        #expect(first.status == 0, "\(first.stderr)")
        let synced = try summary(first)
        #expect(synced.results.map(\.name) == names)
        #expect(synced.results.map(\.copied) == [2, 2, 1, 2])
        #expect(synced.counts == ["changed": 4])
        for name in ["app", "api", "team/tools"] {
            #expect(
                try Harness.sha256(Harness.skopeoRaw("\(backup.host)/mirror/\(name):1.1.0"))
                    == Harness.layoutDigest(layout, tag: "b"))
        }
        #expect((try? Harness.skopeoRaw("\(backup.host)/mirror/web:1.0.0")) == nil)

        // The rerun finds everything done by HEAD and copies nothing.
        let again = try summary(try Harness.pier(["sync"] + base))
        #expect(again.counts == ["ok": 4] && again.results.allSatisfy { $0.copied == 0 })

        // The verification key reaches every repository's sync: an unsigned new tag is refused, not copied.
        let keys = try SigningKeyPair.make()
        #expect(try Harness.pier("copy", "oci:\(layout):c", "\(primary.host)/org/app:1.2.0").status == 0)
        let verified = try Harness.pier(["sync", "--verify-key", keys.pub] + base)
        #expect(verified.status == 70, "\(verified.stderr)")
        let refused = try summary(verified)
        #expect(refused.results.map(\.outcome) == [.unsigned, .ok, .ok, .ok])
        #expect(refused.results[0].unsigned == 1 && refused.results[0].copied == 0)
        #expect((try? Harness.skopeoRaw("\(backup.host)/mirror/app:1.2.0")) == nil)
        try Tools.run("skopeo", ["delete", "--tls-verify=false", "docker://\(primary.host)/org/app:1.2.0"])

        // --shards without the index it divides by is a usage error, not a silent 1/1.
        let unindexed = try Harness.pier(["status", "--shards", "2"] + base)
        #expect(unindexed.status == 64 && unindexed.stderr.contains("JOB_COMPLETION_INDEX"), "\(unindexed.stderr)")

        // Shards split the repositories: disjoint, and together the whole (2/2 through GitLab's variables).
        let one = try summary(try Harness.pier(["sync", "--shard", "1/2"] + base))
        let two = try summary(
            try Harness.pier(
                ["sync"] + base, env: Harness.isolatedEnvironment(["CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "2"])))
        #expect(one.shard == "1/2" && two.shard == "2/2")
        #expect(Set(one.results.map(\.name)).isDisjoint(with: two.results.map(\.name)))
        #expect(Set(one.results.map(\.name)).union(two.results.map(\.name)) == Set(names))
        #expect(one.results.map(\.name) == names.filter { Shard.index(of: $0, total: 2) == 0 })

        // A tag deleted from one backup is drift; the page shows it across every repository.
        try Tools.run(
            "skopeo", ["delete", "--tls-verify=false", "docker://\(backup.host)/mirror/team/tools:1.0.0"])
        let page = work + "/org.html"
        let status = try Harness.pier(["status", "--html", page] + base)
        #expect(status.status == 0, "\(status.stderr)")
        let seen = try summary(status)
        #expect(seen.results.map(\.outcome) == [.ok, .ok, .ok, .drift])
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.components(separatedBy: "class=\"cell drift\"").count - 1 == 1)
        #expect(html.components(separatedBy: "<section>").count - 1 == 4)
        let checked = try Harness.pier(["status", "--check"] + base)
        #expect(checked.status == 70, "\(checked.stderr)")

        // Prune plans only where rules are set: api keeps its newest image on both registries.
        let pruned = try summary(try Harness.pier(["prune", "--org"] + base))
        #expect(pruned.dryRun && pruned.results.map(\.outcome) == [.skipped, .planned, .skipped, .skipped])
        #expect(pruned.results[1].removed == 2)

        // A primary that does not exist fails status (66; a failed row in an organisation); a missing backup is drift.
        let ghost = try Harness.pier("status", "\(primary.host)/org/ghost", "\(backup.host)/mirror/app", "--check")
        #expect(ghost.status == 66 && ghost.stderr.contains("org/ghost does not exist"), "\(ghost.stderr)")
        let unmirrored = try Harness.pier("status", "\(primary.host)/org/app", "\(backup.host)/mirror/ghost", "--check")
        #expect(unmirrored.status == 70, "\(unmirrored.stderr)")
        let ghosts = work + "/ghost.yml"
        try
            "organisation: {primary: \(primary.host)/org, backups: [\(backup.host)/mirror]}\nrepositories: [app, ghost]\n"
            .write(toFile: ghosts, atomically: true, encoding: .utf8)
        let haunted = try Harness.pier("status", "--config", ghosts, "--json")
        #expect(haunted.status == 75, "\(haunted.stderr)")
        #expect(try summary(haunted).results.map(\.outcome) == [.ok, .failed])
        // Every repository failing the same way exits with that failure's code: a registry nobody listens on, 69.
        let unreachable = work + "/unreachable.yml"
        try "organisation: {primary: 127.0.0.1:\(Tools.freePort())/org}\nrepositories: [app, api]\n"
            .write(toFile: unreachable, atomically: true, encoding: .utf8)
        let down = try Harness.pier("status", "--config", unreachable, "--json")
        #expect(down.status == 69, "\(down.stderr)")
        #expect(try summary(down).results.map(\.outcome) == [.failed, .failed])

        // Discovery: the primary's catalog, read page by page, adds what the pattern matches under the prefix.
        let store = try Harness.store()
        let catalog = try await store.client(for: primary.host).catalog(pageSize: 1)
        #expect(catalog == names.map { "org/\($0)" }.sorted())
        let discovering = work + "/discover.yml"
        try """
        organisation:
          primary: \(primary.host)/org
          backups: [\(backup.host)/mirror]
          discover: "team/.*|w.*"
        repositories:
          - name: app
            tags: "1[.]0[.]0"

        """.write(toFile: discovering, atomically: true, encoding: .utf8)
        let found = try summary(try Harness.pier(["status", "--config", discovering, "--json"]))
        #expect(found.results.map(\.name) == ["app", "team/tools", "web"])
        #expect(found.results.map(\.outcome) == [.ok, .drift, .drift])
    }
}
