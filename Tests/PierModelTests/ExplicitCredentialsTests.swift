import PierModel
import PierRegistry
import Testing

/// Each explicit credential is bound to one registry before any request: the rules in README "Credentials".
struct ExplicitCredentialsTests {
    typealias Given = ExplicitCredentials.Given
    let env = ["PIER_PASSWORD": "pw", "PIER_SRC_PASSWORD": "src-pw"]

    @Test func unscopedGoesToTheOneTarget() throws {
        let bound = try ExplicitCredentials.resolve(
            [Given(scope: .target, username: "u", secretVariable: "PIER_PASSWORD", flag: "PIER_USERNAME")],
            stdinSecret: nil, environment: env, targets: ["GHCR.io", "ghcr.io"])
        #expect(bound == ["ghcr.io": .basic(username: "u", password: "pw")])
        // No registry target (a local layout): the credential goes nowhere.
        #expect(
            try ExplicitCredentials.resolve(
                [Given(scope: .target, username: "u", secretVariable: "PIER_PASSWORD", flag: "-u")],
                stdinSecret: nil, environment: env, targets: []
            ).isEmpty)
    }

    @Test func unscopedWithTwoTargetsIsRefused() {
        #expect {
            try ExplicitCredentials.resolve(
                [Given(scope: .target, username: "u", secretVariable: "PIER_PASSWORD", flag: "PIER_USERNAME")],
                stdinSecret: nil, environment: env, targets: ["ghcr.io", "registry.example.com"])
        } throws: { ($0 as? PierError)?.kind == .usage && ($0 as? PierError)?.hint?.contains("PIER_REGISTRY") == true }
    }

    @Test func scopedCredentialsKeepToTheirHosts() throws {
        let bound = try ExplicitCredentials.resolve(
            [
                Given(
                    scope: .host("index.docker.io"), username: "d", secretVariable: "PIER_PASSWORD",
                    flag: "--dest-creds"),
                Given(
                    scope: .host("src.example.com"), username: "s", secretVariable: "PIER_SRC_PASSWORD",
                    flag: "--src-creds"),
            ], stdinSecret: nil, environment: env, targets: ["docker.io"])
        #expect(
            bound == [
                "docker.io": .basic(username: "d", password: "pw"),
                "src.example.com": .basic(username: "s", password: "src-pw"),
            ])
    }

    @Test func secretsComeFromTheirOwnPlace() throws {
        // stdin serves exactly one username.
        #expect(
            try ExplicitCredentials.resolve(
                [Given(scope: .host("a.io"), username: "u", secretVariable: "NONE", flag: "--creds")],
                stdinSecret: { "from-stdin" }, environment: [:], targets: []) == [
                    "a.io": .basic(username: "u", password: "from-stdin")
                ])
        #expect(throws: PierError.self) {
            try ExplicitCredentials.resolve(
                [
                    Given(scope: .host("a.io"), username: "u", secretVariable: "PIER_PASSWORD", flag: "--src-creds"),
                    Given(scope: .host("b.io"), username: "v", secretVariable: "PIER_PASSWORD", flag: "--dest-creds"),
                ],
                stdinSecret: { "x" }, environment: env, targets: [])
        }
        #expect(throws: PierError.self) {
            try ExplicitCredentials.resolve([], stdinSecret: { "x" }, environment: env, targets: [])
        }
        // A username without its variable set is a usage error naming the variable.
        #expect {
            try ExplicitCredentials.resolve(
                [
                    Given(
                        scope: .host("a.io"), username: "u", secretVariable: "PIER_DEST_PASSWORD", flag: "--dest-creds")
                ],
                stdinSecret: nil, environment: env, targets: [])
        } throws: { ($0 as? PierError)?.hint?.contains("PIER_DEST_PASSWORD") == true }
        // Two different credentials for one host.
        #expect(throws: PierError.self) {
            try ExplicitCredentials.resolve(
                [
                    Given(scope: .host("a.io"), username: "u", secretVariable: "PIER_PASSWORD", flag: "--src-creds"),
                    Given(
                        scope: .host("A.io"), username: "v", secretVariable: "PIER_SRC_PASSWORD", flag: "--dest-creds"),
                ],
                stdinSecret: nil, environment: env, targets: [])
        }
    }
}
