import Foundation
import PierEngine
import PierHostedAPIs
import PierModel
import Testing

/// `organisation.discover_from` and the source chosen from the primary's registry, and the rule every listed name
/// passes before it becomes a repository: a path under the prefix, matching the pattern, a valid reference on the
/// primary and on every backup; anything else skipped and reported.
struct DiscoverySourceTests {
    func settings(_ yaml: String, environment: [String: String] = [:]) throws -> Settings {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pier-discovery-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try yaml.write(toFile: directory + "/pier.yml", atomically: true, encoding: .utf8)
        var flags = SettingsFlags()
        flags.configPath = directory + "/pier.yml"
        return try Settings.resolve(flags, environment: environment)
    }

    func source(_ host: String, api: String? = nil, environment: [String: String] = [:]) throws
        -> RepositoryDiscoverySource
    {
        let entry = api.map { "registries:\n  - repository: \(host)/org/app\n    api: \($0)\n" } ?? ""
        let settings = try settings(
            entry + "organisation: {primary: \(host)/org, discover: \".*\"}\n", environment: environment)
        return RepositoryDiscoverySource(managedBy: RegistryAPISelection.kind(for: host, settings: settings))
    }

    @Test func theSourceFollowsThePrimarysRegistry() throws {
        #expect(try source("ghcr.io") == .github)
        #expect(try source("123456789012.dkr.ecr.eu-west-1.amazonaws.com") == .ecr)
        #expect(try source("registry.example.com") == .catalog)
        #expect(try source("docker.io") == .catalog)
        #expect(try source("127.0.0.1:5000", api: "ecr") == .ecr)
        #expect(try source("127.0.0.1:5000", api: "harbor") == .catalog)
        let gitlab = ["CI_REGISTRY": "registry.gitlab.example", "CI_API_V4_URL": "https://gitlab.example/api/v4"]
        #expect(try source("registry.gitlab.example", environment: gitlab) == .gitlab)
        #expect(ECRAPI.account(ofHost: "123456789012.dkr.ecr.eu-west-1.amazonaws.com") == "123456789012")
        #expect(ECRAPI.account(ofHost: "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.test") == nil)
    }

    @Test func discoverFromIsCheckedWithASuggestion() throws {
        let forced = try settings("organisation: {primary: r.example/org, discover: \"a.*\", discover_from: gitlab}\n")
        #expect(forced.organisation?.discoverFrom == .gitlab)
        for (value, message) in [
            ("gihtub", #"did you mean "github"?"#), ("ghcr", #"did you mean "github"?"#),
            ("s3", "known: catalog, github, gitlab, ecr"),
        ] {
            #expect {
                _ = try settings("organisation: {primary: r.example/org, discover: \".*\", discover_from: \(value)}\n")
            } throws: { ($0 as? PierError)?.kind == .invalidInput && "\($0)".contains(message) }
        }
        #expect {
            _ = try settings("organisation: {primary: r.example/org, discover_from: github}\nrepositories: [app]\n")
        } throws: { "\($0)".contains("discover_from needs organisation.discover") }
    }

    @Test func listedNamesAreCheckedBeforeUse() throws {
        let settings = try settings(
            """
            organisation:
              primary: r.example/org
              backups: [m.example/\(String(repeating: "m", count: 200))]
              discover: "team/.*|app|short|Up.*|.*x"
            repositories:
              - name: app
                tags: "v.*"

            """)
        let organisation = try #require(settings.organisation)
        let long = "org/team/" + String(repeating: "l", count: 60)
        let (found, skipped) = try organisation.adding(discovered: [
            "org/team/api", "org/app", "org/team/api", "other/team/web", "org/short", "org/../x", "org/Upper",
            "org/x\u{1b}[2J", long, "org/unmatched",
        ])
        #expect(found.repositories.map(\.name) == ["app", "short", "team/api"])
        #expect(found.repositories[0].tags == "v.*", "a listed repository keeps its own settings")
        #expect(found.repositories[2].primary.repositoryName == "r.example/org/team/api")
        // `long` is a valid path on the primary, but its backup would pass 255 characters.
        #expect(Set(skipped) == ["org/../x", "org/Upper", "org/x\u{1b}[2J", long])
    }
}
