import Foundation
import PierTestSupport
import Testing

/// What the command line promises whatever the command: usage errors before any network I/O, one line per
/// error, a headline that says how a publish ended, and help that lists only options that do something.
@Suite(.serialized) struct CommandLineTests {
    init() throws { try Harness.requireTools() }

    /// Every usage error comes before any request: the fake registry sees nothing.
    @Test func usageErrorsComeBeforeAnyRequest() async throws {
        let fake = try await FakeRegistry()
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1, layerSize: 100)
        let directory = Tools.temporaryDirectory("pier-usage")
        for (arguments, text) in [
            (["prune", "\(fake.host)/app"], "no retention rule given"),
            (["prune", "\(fake.host)/app", "--keep-last=-1"], "out of range"),
            (
                [
                    "publish", "--source", "oci:\(layout):1.0", "--to", "\(fake.host)/app", "--version", "1.0.0",
                    "--annotate", "--annotation", "novalue",
                ], "is not KEY=VALUE"
            ),
            (
                [
                    "publish", "--source", "oci:\(layout):1.0", "--to", "\(fake.host)/app", "--version", "1.0.0",
                    "--notes", directory + "/n.md", "--notes-template", directory + "/missing.mustache",
                ], "cannot read"
            ),
            (["publish", "--to", "\(fake.host)/app", "--version", "1.0.0"], "no source image"),
            (
                ["notes", "--source", "\(fake.host)/app:1.0", "--report", directory + "/missing.json"],
                "is not a pier publish --json report"
            ),
            (
                ["copy", "oci:\(layout):1.0", "\(fake.host)/app:1.0", "--timeout", "0"],
                "--timeout 0.0 is not a number of seconds above 0"
            ),
        ] {
            let result = try Harness.pier(arguments)
            #expect(result.status == 64 || result.status == 65, "\(arguments): \(result.stderr)")
            #expect(
                result.stderr.contains(text) && result.stderr.split(separator: "\n").count == 1,
                "\(arguments): \(result.stderr)")
        }
        let seen = await fake.requestLog()
        #expect(seen.isEmpty, "\(seen)")
        fake.stop()
    }

    /// A publish that reached no registry neither starts with "published" nor prints its error twice.
    @Test func failedPublishSaysSoOnce() throws {
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1, layerSize: 100)
        let host = "127.0.0.1:\(Tools.freePort())"
        let unreachable = "\(host)/app"
        let result = try Harness.pier(
            "publish", "--source", "oci:\(layout):1.0", "--to", unreachable, "--version", "1.0.0", "--timeout", "2")
        #expect(result.status == 69, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("failed to publish"), "\(result.stdout)")
        let errorLines = result.stderr.split(separator: "\n").filter { $0.contains("cannot reach \(host)") }
        #expect(errorLines.count == 1, "\(result.stderr)")
    }

    /// `describe` without Docker Hub credentials names describe and what it needs, not prune.
    @Test func describeWithoutCredentialsNamesItself() throws {
        let result = try Harness.pier(
            "describe", "org/app", "--short", "x", "--api-url", "http://127.0.0.1:\(Tools.freePort())")
        #expect(result.status == 77, "\(result.stderr)")
        #expect(
            result.stderr.hasPrefix("pier: describe") && result.stderr.contains("DOCKERHUB_USERNAME"),
            "\(result.stderr)")
        #expect(!result.stderr.contains("prune"), "\(result.stderr)")
    }

    /// Without a terminal, each registry gets a plain progress line (here only the last: the push is short);
    /// `--quiet` prints nothing on stderr; the results on stdout are the same.
    @Test func progressLinesForCILogs() throws {
        let registry = try TestRegistry()
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 2, layerSize: 300_000)
        let plain = try Harness.pier(
            "publish", "--source", "oci:\(layout):1.0", "--to", "\(registry.host)/a", "--to", "\(registry.host)/b",
            "--version", "1.0.0",
            "--progress", "plain")
        #expect(plain.status == 0, "\(plain.stderr)")
        for repository in ["a", "b"] {
            let lines = plain.stderr.split(separator: "\n").filter {
                $0.hasPrefix("pier: \(registry.host)/\(repository) ")
            }
            #expect(lines.count == 1 && lines[0].contains("(100%) done in"), "\(plain.stderr)")
        }
        let quiet = try Harness.pier("copy", "--quiet", "oci:\(layout):1.0", "\(registry.host)/c:1.0")
        #expect(
            quiet.status == 0 && quiet.stderr.isEmpty && quiet.stdout.contains("\(registry.host)/c:1.0@sha256:"),
            "\(quiet.stderr)")
        let none = try Harness.pier("copy", "--progress", "none", "oci:\(layout):1.0", "\(registry.host)/d:1.0")
        #expect(none.status == 0 && !none.stderr.contains("done in"), "\(none.stderr)")
    }

    /// ArgumentParser's own errors quote what was typed; a pasted escape sequence reaches the terminal escaped.
    @Test func parseErrorsAreEscaped() throws {
        let result = try Harness.pier("prune", "--keep-last", "\u{1B}]0;owned\u{07}", "x/y")
        #expect(result.status == 64, "\(result.stderr)")
        #expect(!result.stderr.contains("\u{1B}") && !result.stderr.contains("\u{07}"), "\(result.stderr)")
        #expect(result.stderr.contains("\\x1B]0;owned\\x07"), "\(result.stderr)")
    }

    /// `--version` is pier's at the top and the release's on publish; other subcommands do not list it.
    @Test func versionFlagOnlyWhereItDoesSomething() throws {
        let top = try Harness.pier("--version")
        #expect(top.status == 0 && top.stdout.hasPrefix("0."), "\(top.stdout)")
        for command in ["copy", "inspect", "prune", "status", "login", "tags list"] {
            let help = try Harness.pier(command.split(separator: " ").map(String.init) + ["--help"])
            #expect(!help.stdout.contains("--version"), "\(command) --help lists --version")
        }
        let publish = try Harness.pier("publish", "--help")
        #expect(publish.stdout.contains("--version <version>"), "\(publish.stdout)")
    }
}
