import Foundation
import PierEngine
import PierLayout
import PierModel
import PierTestSupport
import Testing

/// Behaviours a new user tripped on (issue 16), against real docker-registry instances.
@Suite(.serialized) struct NewUserBehaviourTests {
    init() throws { try Harness.requireTools() }

    func digest(_ reference: String) -> String? { (try? Harness.skopeoRaw(reference)).map(Harness.sha256) }

    /// Layout images `names`, each with its digest.
    func images(_ names: [String]) throws -> (layout: String, digests: [String: String]) {
        let layout = Tools.temporaryDirectory() + "/images"
        var digests: [String: String] = [:]
        for name in names {
            try ImageFixtures.umociImage(
                at: layout, tag: name, layers: 1, layerSize: 2000, created: "2026-06-01T00:00:00Z")
            digests[name] = try Harness.layoutDigest(layout, tag: name)
        }
        return (layout, digests)
    }

    /// Every `date`/`timestamp` value in a JSON document, anywhere in it.
    static func dateValues(_ json: Any) -> [Any] {
        switch json {
        case let object as [String: Any]:
            return object.flatMap { key, value in
                (key == "date" || key == "timestamp" ? [value] : []) + dateValues(value)
            }
        case let array as [Any]: return array.flatMap(dateValues)
        default: return []
        }
    }

    /// True when `value` is an RFC 3339 date-time string (`2026-12-01T20:12:22Z`).
    static func isRFC3339(_ value: Any) -> Bool {
        guard let text = value as? String else { return false }
        return text.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/) != nil
            && ISO8601DateFormatter().date(from: text) != nil
    }

    // Behaviour 2: publish accepts v1.1.0, so rollback does too, whichever way the version was tagged.
    @Test func rollbackFindsTheVersionInEitherForm() throws {
        let registry = try TestRegistry()
        let (layout, digests) = try images(["a", "b"])
        let to = ["--to", "\(registry.host)/app"]
        #expect(
            try Harness.pier(["publish", "--no-sha-tag", "--source", "oci:\(layout):a", "--version", "v1.0.0"] + to)
                .status == 0)
        #expect(
            try Harness.pier(["publish", "--no-sha-tag", "--source", "oci:\(layout):b", "--version", "v1.1.0"] + to)
                .status == 0)
        #expect(digest("\(registry.host)/app:latest") == digests["b"])

        let applied = try Harness.pier(["rollback", "v1.0.0", "--apply", "--json"] + to)
        #expect(applied.status == 0, "\(applied.stderr)")
        let plan = try ReportJSON.decoder().decode(Rollback.Plan.self, from: applied.stdoutBytes)
        #expect(plan.version == "1.0.0" && plan.digest.description == digests["a"])
        #expect(Set(plan.changes.map(\.tag)) == ["latest", "1", "1.0"])
        #expect(
            digest("\(registry.host)/app:latest") == digests["a"] && digest("\(registry.host)/app:1") == digests["a"])

        // Tagged v2.0.0 only (v_prefix, or another tool): rollback 2.0.0 finds it.
        #expect(try Harness.pier("copy", "oci:\(layout):a", "\(registry.host)/vapp:v2.0.0").status == 0)
        #expect(try Harness.pier("copy", "oci:\(layout):b", "\(registry.host)/vapp:latest").status == 0)
        let vform = try Harness.pier("rollback", "2.0.0", "--apply", "--json", "--to", "\(registry.host)/vapp")
        #expect(vform.status == 0, "\(vform.stderr)")
        #expect(try ReportJSON.decoder().decode(Rollback.Plan.self, from: vform.stdoutBytes).version == "v2.0.0")
        #expect(digest("\(registry.host)/vapp:latest") == digests["a"])

        // Not a version at all: a usage error before any registry is asked.
        let bad = try Harness.pier(["rollback", "latest"] + to)
        #expect(bad.status == 64, "\(bad.stderr)")
    }

    // Behaviour 3: a tag only a backup has is "extra", not drift; status --check passes after sync.
    @Test func statusCheckPassesAfterSync() throws {
        let primary = try TestRegistry()
        let backup = try TestRegistry()
        let (layout, digests) = try images(["a", "c"])
        let repositories = ["\(primary.host)/app", "\(backup.host)/app"]
        #expect(
            try Harness.pier([
                "publish", "--no-sha-tag", "--source", "oci:\(layout):a", "--version", "1.0.0", "--to", repositories[0],
                "--to", repositories[1],
            ]).status == 0)
        #expect(try Harness.pier("copy", "oci:\(layout):c", "\(repositories[0]):edge").status == 0)
        #expect(try Harness.pier("copy", "oci:\(layout):c", "\(repositories[1]):backup-only").status == 0)

        let drift = try Harness.pier(["status", "--check"] + repositories)
        #expect(drift.status == 70, "\(drift.stdout)\(drift.stderr)")
        #expect(drift.stderr.contains("edge (missing)") && !drift.stderr.contains("backup-only"), "\(drift.stderr)")
        #expect(drift.stderr.contains("pier sync \(repositories.joined(separator: " "))"), "\(drift.stderr)")
        let json = try Harness.pier(["status", "--json"] + repositories)
        let status = try ReportJSON.decoder().decode(RegistryStatus.self, from: json.stdoutBytes)
        let states = Dictionary(uniqueKeysWithValues: status.rows.map { ($0.tag, $0.state) })
        #expect(states == ["1.0.0": .ok, "1.0": .ok, "1": .ok, "latest": .ok, "edge": .missing, "backup-only": .extra])

        let sync = try Harness.pier(["sync", "--json"] + repositories)
        #expect(sync.status == 0, "\(sync.stderr)")
        let actions = try ReportJSON.decoder().decode([Sync.Action].self, from: sync.stdoutBytes)
        #expect(actions.filter { $0.action == .copied }.map(\.tag) == ["edge"])
        #expect(digest("\(repositories[1]):edge") == digests["c"])
        let clean = try Harness.pier(["status", "--check"] + repositories)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("extra"))
        #expect(digest("\(repositories[1]):backup-only") == digests["c"])
    }

    // Behaviour 4: notes without a report list only the tags that point at the image on the registry.
    @Test func notesWithoutAReportListOnlyPublishedTags() throws {
        let registry = try TestRegistry()
        let (layout, _) = try images(["a", "b"])
        let repo = "\(registry.host)/app"
        #expect(
            try Harness.pier(
                "publish", "--no-sha-tag", "--source", "oci:\(layout):b", "--version", "2.0.0", "--to", repo
            ).status == 0)
        #expect(
            try Harness.pier(
                "publish", "--no-sha-tag", "--source", "oci:\(layout):a", "--version", "1.5.0", "--to", repo
            ).status == 0)

        // The plan for 1.5.0 from this context also has latest and sha-0123456; neither points at 1.5.0 here.
        let arguments = [
            "notes", "--source", "\(repo):1.5.0", "--version", "1.5.0", "--git-sha",
            String(repeating: "0123456789", count: 4),
            "--no-changelog", "--to", repo,
        ]
        let run = try Harness.pier(arguments + ["--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let notes = try ReportJSON.decoder().decode(ReleaseNotes.self, from: run.stdoutBytes)
        #expect(notes.tags == ["1.5.0", "1.5", "1"])
        #expect(notes.registries.map(\.tags) == [["1.5.0", "1.5", "1"]])
        let markdown = try Harness.pier(arguments)
        #expect(
            markdown.status == 0 && !markdown.stdout.contains("latest") && !markdown.stdout.contains("sha-0123456"),
            "\(markdown.stdout)")

        // Without --to, the source's repository is where the tags are checked.
        let bySource = try Harness.pier([
            "notes", "--source", "\(repo):1.5.0", "--version", "1.5.0", "--no-changelog", "--json",
        ])
        #expect(bySource.status == 0, "\(bySource.stderr)")
        #expect(
            try ReportJSON.decoder().decode(ReleaseNotes.self, from: bySource.stdoutBytes).tags == [
                "1.5.0", "1.5", "1",
            ])

        // Second trial: notes for a version that is another image here, or that the report did not publish, are
        // refused rather than written with the wrong digest or tags.
        let other = try Harness.pier("notes", "--source", "\(repo):2.0.0", "--version", "1.5.0", "--no-changelog")
        #expect(other.status == 70, "\(other.stderr)")
        #expect(other.stderr.contains("1.5.0 is sha256:") && other.stderr.contains("not this image"), "\(other.stderr)")
        let report = Tools.temporaryDirectory() + "/report.json"
        let published = try Harness.pier(
            "publish", "--json", "--no-sha-tag", "--source", "oci:\(layout):a", "--version", "1.5.0", "--to", repo)
        try published.stdoutBytes.write(to: URL(fileURLWithPath: report))
        let mismatched = try Harness.pier("notes", "--report", report, "--version", "9.9.9", "--no-changelog")
        #expect(mismatched.status == 64, "\(mismatched.stderr)")
        #expect(mismatched.stderr.contains("--version 9.9.9 is not the version the report published (1.5.0)"))
        let same = try Harness.pier("notes", "--report", report, "--version", "v1.5.0", "--no-changelog")
        #expect(same.status == 0 && same.stdout.hasPrefix("# 1.5.0"), "\(same.stdout) \(same.stderr)")
        // A version only detected (a CI tag build of something else) does not override the report's.
        let detected = try Harness.pier(
            ["notes", "--report", report, "--no-changelog"],
            env: Harness.isolatedEnvironment(["GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/tags/v9.9.9"]))
        #expect(detected.status == 0 && detected.stdout.hasPrefix("# 1.5.0"), "\(detected.stdout) \(detected.stderr)")
    }

    // Behaviour 4: an empty base annotation (buildah's FROM scratch) gives no "Base image" line.
    @Test func scratchImageNotesHaveNoBaseImageLine() async throws {
        let layout = try LayoutBuilder(at: Tools.temporaryDirectory("pier-notes") + "/layout")
        let labels = ["org.opencontainers.image.base.name": "", "org.opencontainers.image.base.digest": ""]
        let image = try layout.image(
            config: [
                "architecture": "amd64", "os": "linux", "config": ["Labels": labels],
                "rootfs": ["type": "layers", "diff_ids": []],
            ],
            layerSizes: [100], seed: 3)
        try layout.tag(image, as: "1.0.0")
        let source = LayoutImageSource(layout: OCILayout(root: layout.root), name: "oci:layout", tag: "1.0.0")
        let notes = try await ReleaseNotes.collect(
            version: "1.0.0", root: try await source.root(), source: source, registries: [], tags: ["1.0.0"])
        #expect(notes.baseName == nil && notes.baseDigest == nil)
        #expect(!(try notes.render()).contains("Base image"))
    }

    // Behaviour 6: a local layout or file named without a prefix is refused before any network I/O.
    @Test func localPathWithoutPrefixIsRefused() throws {
        let registry = try TestRegistry()
        let directory = Tools.temporaryDirectory("pier-local-source")
        try ImageFixtures.umociImage(at: directory + "/img/v1", tag: "latest", layers: 1, layerSize: 100)
        _ = FileManager.default.createFile(atPath: directory + "/image.tar", contents: Data("not read".utf8))
        func pier(_ arguments: String...) throws -> Tools.Result {
            let script = "cd \"$1\" && shift && exec \"$@\""
            return try Tools.run(
                "sh", ["-c", script, "sh", directory, Tools.pierBinary] + arguments,
                environment: Harness.isolatedEnvironment(), check: false)
        }
        let cases = [
            ("img/v1", "oci:img/v1"), ("img/v1:latest", "oci:img/v1:latest"), ("image.tar", "oci-archive:image.tar"),
        ]
        for (source, prefixed) in cases {
            let run = try pier("publish", "--source", source, "--version", "1.0.0", "--to", "\(registry.host)/app")
            #expect(run.status == 64, "\(source): \(run.stderr)")
            #expect(run.stderr.contains(prefixed) && run.stderr.contains("docker://\(source)"), "\(run.stderr)")
        }
        #expect(try pier("copy", "image.tar", "\(registry.host)/app:x").stderr.contains("docker-archive:image.tar"))
        // Nothing reached the registry; with the prefix the same layout publishes.
        #expect(digest("\(registry.host)/app:1.0.0") == nil)
        let prefixed = try pier(
            "publish", "--no-sha-tag", "--source", "oci:img/v1:latest", "--version", "1.0.0", "--to",
            "\(registry.host)/app")
        #expect(prefixed.status == 0, "\(prefixed.stderr)")
    }

    // Behaviour 7: every date in --json output is RFC 3339 (publish, tags plan, prune); the other reports decode.
    @Test func jsonDatesAreRFC3339() throws {
        let registry = try TestRegistry()
        let (layout, _) = try images(["a"])
        let repo = "\(registry.host)/app"
        let publish = try Harness.pier(
            "publish", "--json", "--source", "oci:\(layout):a", "--version", "1.0.0", "--to", repo)
        #expect(publish.status == 0, "\(publish.stderr)")
        let prune = try Harness.pier("prune", "--json", "--keep-last", "5", repo)
        #expect(prune.status == 0, "\(prune.stderr)")
        let plan = try Harness.pier("tags", "plan", "--json", "--version", "1.0.0", "--to", repo)
        #expect(plan.status == 0, "\(plan.stderr)")
        for (name, output) in [("publish", publish), ("prune", prune), ("tags plan", plan)] {
            let dates = Self.dateValues(try JSONSerialization.jsonObject(with: output.stdoutBytes))
            #expect(!dates.isEmpty && dates.allSatisfy(Self.isRFC3339), "\(name): \(dates)")
        }
        #expect(
            try ReportJSON.decoder().decode(PublishReport.self, from: publish.stdoutBytes).digest.description.hasPrefix(
                "sha256:"))
        let pruned = try ReportJSON.decoder().decode([Pruner.Result].self, from: prune.stdoutBytes)
        #expect(
            pruned.first?.decisions.first { $0.tag == "1.0.0" }?.date
                == ISO8601DateFormatter().date(from: "2026-06-01T00:00:00Z"))
    }

    // Second trial: pier.yml names credential variables that the job did not set. The registry's refusal says
    // which ones, instead of suggesting variables that never reach that registry.
    @Test func aRefusalNamesTheUnsetVariablesOfPierYml() throws {
        let registry = try TestRegistry(auth: .htpasswd(user: "ci", password: "pass-1"))
        let (layout, _) = try images(["a"])
        let config = Tools.temporaryDirectory() + "/pier.yml"
        try """
        registries:
          - repository: \(registry.host)/app
            username_env: BACKUP_USER
            password_env: BACKUP_PASS
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try Harness.pier(
            ["publish", "--config", config, "--no-sha-tag", "--source", "oci:\(layout):a", "--version", "1.0.0"],
            env: Harness.isolatedEnvironment(["BACKUP_USER": "ci"]))
        #expect(run.status == 77, "\(run.stderr)")
        #expect(run.stderr.contains("set BACKUP_PASS: pier.yml names it for \(registry.host)"), "\(run.stderr)")
        #expect(!run.stderr.contains("PIER_USERNAME"))
        let inspected = try Tools.run(
            "skopeo",
            ["inspect", "--raw", "--tls-verify=false", "--creds", "ci:pass-1", "docker://\(registry.host)/app:1.0.0"],
            check: false)
        #expect(inspected.status != 0, "nothing was pushed")
    }

    // Second trial: a refused connection reads as the system says it, once; a suffix may start with a dash; a
    // pull-request build says why it pushes nothing; PIER_TIMEOUT is named when it is out of range.
    @Test func messagesSayWhatHappenedInTheUsersTerms() throws {
        let port = Tools.freePort()
        let refused = try Harness.pier("inspect", "127.0.0.1:\(port)/app:1")
        #expect(refused.status == 69, "\(refused.stderr)")
        #expect(refused.stderr.contains("cannot reach 127.0.0.1:\(port) (Connection refused)"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("errno"))

        let forgotten = try Harness.pier("tags", "plan", "--version", "1.2.3", "--tag-suffix", "--no-sha-tag")
        #expect(
            forgotten.status == 64 && forgotten.stderr.contains("--tag-suffix needs a suffix"), "\(forgotten.stderr)")
        let suffixed = try Harness.pier("tags", "plan", "--version", "1.2.3", "--tag-suffix", "-slim", "--no-sha-tag")
        #expect(suffixed.status == 0, "\(suffixed.stderr)")
        #expect(suffixed.stdout.split(separator: "\n").first?.hasPrefix("1.2.3-slim") == true, "\(suffixed.stdout)")

        let registry = try TestRegistry()
        let (layout, _) = try images(["a"])
        let pullRequest = try Harness.pier(
            ["publish", "--source", "oci:\(layout):a", "--to", "\(registry.host)/app"],
            env: Harness.isolatedEnvironment([
                "GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/pull/17/merge", "GITHUB_EVENT_NAME": "pull_request",
                "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
            ]))
        #expect(pullRequest.status == 0, "\(pullRequest.stderr)")
        #expect(pullRequest.stderr.contains("pushing nothing (--push-on-pr"), "\(pullRequest.stderr)")
        #expect(
            try Tools.run("curl", ["-s", "http://\(registry.host)/v2/app/tags/list"]).stdout.contains("NAME_UNKNOWN"))

        let timeout = try Harness.pier(
            ["inspect", "127.0.0.1:\(port)/app:1"], env: Harness.isolatedEnvironment(["PIER_TIMEOUT": "-5"]))
        #expect(timeout.status == 64 && timeout.stderr.contains("PIER_TIMEOUT -5 is not"), "\(timeout.stderr)")
    }

    // Second trial: a backup that refuses the tag listing does not stop `tags plan`, as it does not stop publish.
    @Test func aPlanLeavesOutATargetItCannotRead() throws {
        let primary = try TestRegistry()
        let backup = try TestRegistry(auth: .htpasswd(user: "ci", password: "pass-1"))
        let config = Tools.temporaryDirectory() + "/pier.yml"
        try "registries: [\(primary.host)/app, \(backup.host)/app]\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let plan = try Harness.pier("tags", "plan", "--config", config, "--version", "1.2.0", "--no-sha-tag")
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.hasPrefix("1.2.0\t"), "\(plan.stdout)")
        #expect(plan.stderr.contains("\(backup.host)/app: its tags are left out of the plan"), "\(plan.stderr)")
        let none = try Harness.pier("tags", "plan", "--version", "1.2.0", "--to", "\(backup.host)/app")
        #expect(none.status == 77, "\(none.stderr)")
    }
}
