import Foundation
import PierEngine
import PierModel
import Testing

/// `--shard I/N` and the CI variables: every repository in exactly one shard, by a hash that never changes.
@Suite struct ShardTests {
    func flags(config yaml: String) throws -> SettingsFlags {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pier-shard-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try yaml.write(toFile: directory + "/pier.yml", atomically: true, encoding: .utf8)
        var flags = SettingsFlags()
        flags.configPath = directory + "/pier.yml"
        return flags
    }

    static let organisation = """
        organisation:
          primary: 127.0.0.1:5000/org
          backups: [127.0.0.1:5001/mirror]
        repositories:
          - app
          - name: api
            prune: {keep_last: 2}
          - name: web
            backups: [127.0.0.1:5002/other/web]

        """

    @Test func shardsAreDisjointAndTheirUnionIsTheWhole() throws {
        let names = (0..<500).map { "team-\($0 % 7)/service-\($0)" }
        for total in [1, 2, 3, 4, 7, 16] {
            var seen: [String: Int] = [:]
            for index in 0..<total {
                let shard = try Shard(index: index, of: total, from: "test")
                for name in names where shard.contains(name) {
                    #expect(seen[name] == nil, "\(name) is in shards \(seen[name] ?? -1) and \(index) of \(total)")
                    seen[name] = index
                }
            }
            #expect(seen.count == names.count)
            // Every shard gets a share (500 names over at most 16 shards).
            #expect(Set(seen.values).count == total)
        }
    }

    @Test func theHashIsSHA256OfTheNameAndNeverChanges() {
        // int(sha256(name).hexdigest()[:16], 16) % N, computed with Python's hashlib.
        #expect(Shard.index(of: "org/app", total: 4) == 2)
        #expect(Shard.index(of: "api", total: 4) == 1)
        #expect(Shard.index(of: "team/a", total: 4) == 0)
        #expect(Shard.index(of: "api", total: 2) == 1)
    }

    @Test func shardFlagsAndVariablesAreRangeChecked() throws {
        for text in ["0/4", "5/4", "1/0", "a/b", "-1/3", "1/", "/2", "1/2/3", " 1/2", "1/99999999999", "1/10001"] {
            #expect(throws: PierError.self, "\(text)") { try Shard(parsing: text) }
        }
        #expect(try Shard(parsing: "4/4") == Shard(index: 3, of: 4, from: ""))

        let given = try flags(config: Self.organisation)
        let whole = try #require(try Settings.resolve(given, environment: [:]).organisation)
        #expect(whole.shard == .all && whole.assigned.map(\.name) == ["app", "api", "web"])
        #expect(whole.repositories[0].primary.repositoryName == "127.0.0.1:5000/org/app")
        #expect(whole.repositories[2].backups.map(\.repositoryName) == ["127.0.0.1:5002/other/web"])
        #expect(whole.repositories[1].prune?.keepLast == 2 && whole.repositories[0].prune == nil)

        // GitLab parallel: 1-based.
        let gitlab = try Settings.resolve(given, environment: ["CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "3"])
        #expect(gitlab.organisation?.shard == (try Shard(index: 1, of: 3, from: "")))
        // Kubernetes indexed Job: 0-based, the total from --shards or pier.yml.
        var kubernetes = given
        kubernetes.shards = 4
        let job = try Settings.resolve(kubernetes, environment: ["JOB_COMPLETION_INDEX": "3"])
        #expect(job.organisation?.shard == (try Shard(index: 3, of: 4, from: "")))
        // The flag wins over the variables.
        var flagged = given
        flagged.shard = "1/2"
        #expect(
            try Settings.resolve(flagged, environment: ["CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "3"]).organisation?.shard
                == (try Shard(index: 0, of: 2, from: "")))

        for environment in [
            ["JOB_COMPLETION_INDEX": "0"], ["CI_NODE_INDEX": "4", "CI_NODE_TOTAL": "3"],
            ["CI_NODE_INDEX": "0", "CI_NODE_TOTAL": "3"],
            ["CI_NODE_INDEX": "1"], ["CI_NODE_INDEX": "x", "CI_NODE_TOTAL": "3"],
            ["CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "-3"],
        ] {
            #expect(throws: PierError.self, "\(environment)") { try Settings.resolve(given, environment: environment) }
        }
        var orphan = SettingsFlags()
        orphan.shard = "1/2"
        #expect(throws: PierError.self) { try Settings.resolve(orphan, environment: [:]) }
    }

    @Test func repositoriesListMistakesNameTheirLine() throws {
        for (yaml, message) in [
            ("repositories:\n  - app\n", "no primary"),
            ("organisation: {primary: r.example/org}\nrepositories:\n  - app\n  - app\n", "listed twice"),
            ("organisation: {primary: r.example/org}\nrepositories:\n  - Bad Name\n", "not a repository name"),
            ("organisation: {primary: r.example/org, shards: 0}\nrepositories: [app]\n", "shards must be"),
            ("organisation: {primary: r.example/org}\nrepositories:\n  - {name: a, colour: red}\n", "unknown key"),
            ("organisation: {primary: r.example/org}\n", "needs a repositories"),
            ("organization: {primary: r.example/org}\nrepositories: [app]\n", "did you mean \"organisation\"?"),
            ("organisation: {discover: \"a.*\"}\n", "needs organisation.primary"),
            ("organisation: {primary: r.example/org, discover: \"(\"}\n", "not a valid regular expression"),
        ] {
            do {
                _ = try PierConfig.parse(yaml)
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect(error.kind == .invalidInput && error.message.contains(message), "\(error.message)")
            }
        }
    }
}
