import Foundation
import PierTestSupport
import Testing

/// Bad input gets one line on stderr, the documented exit code, and nothing at the destination tag.
@Suite(.serialized) struct BadInputTests {
    init() throws { try Harness.requireTools() }

    func expectOneLineFailure(_ result: Tools.Result, code: Int32, mentioning text: String) {
        #expect(result.status == code, "stderr: \(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("pier: "))
        #expect(result.stderr.contains(text), "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack dump"))
    }

    func tagIsAbsent(_ registry: TestRegistry, _ repositoryAndTag: String) throws {
        let check = try Tools.run(
            "skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/\(repositoryAndTag)"],
            check: false)
        #expect(check.status != 0, "\(repositoryAndTag) exists but should not")
    }

    @Test func usageErrors() throws {
        expectOneLineFailure(try Harness.pier("copy", "Upper/Case", "x/y"), code: 64, mentioning: "must be lowercase")
        expectOneLineFailure(try Harness.pier("digest", "app@sha256:123"), code: 64, mentioning: "64 lowercase hex")
        expectOneLineFailure(try Harness.pier("copy", "oci:", "x/y"), code: 64, mentioning: "names no path")
        expectOneLineFailure(
            try Harness.pier("inspect", "--platform", "linux", "x/y"), code: 64, mentioning: "invalid platform")
    }

    /// pier.yml files with wrong types, unknown keys, bad regexes and bad durations: one line naming the file, line and
    /// key, exit 65, before any registry is asked anything (the registry's tags are the same afterwards).
    @Test(arguments: [
        ("registrys:\n  - REG/app\n", "pier.yml:1: unknown key \"registrys\""),
        ("registries:\n  - REG/app\ntags:\n  semver: maybe\n", "pier.yml:4: tags.semver must be true or false"),
        ("registries:\n  - REG/app\nconcurrency: lots\n", "pier.yml:3: concurrency must be a whole number"),
        ("registries: REG/app\n", "pier.yml:1: registries must be a list"),
        ("registries:\n  - REG/app\ntags:\n  colour: blue\n", "pier.yml:4: unknown key \"colour\" in tags"),
        (
            "registries:\n  - REG/app\nprune:\n  keep: [\"v[0-9\"]\n",
            "pier.yml:4: prune.keep \"v[0-9\" is not a valid regular expression"
        ),
        (
            "registries:\n  - REG/app\nprune:\n  keep_last: 3\n  only: \"(sha-\"\n",
            "pier.yml:5: prune.only \"(sha-\" is not a valid regular expression"
        ),
        (
            "registries:\n  - REG/app\nprune:\n  keep_newer_than: 90 days\n",
            "pier.yml:4: prune.keep_newer_than \"90 days\" is not a duration"
        ),
        ("registries:\n  - REG/app\nprune:\n  keep_last: ten\n", "pier.yml:4: prune.keep_last must be a whole number"),
        (
            "registries:\n  - REG/app\nprune:\n  only: x\n",
            "pier.yml:4: prune needs keep_last, keep_newer_than, keep or expire_older_than"
        ),
        ("registries:\n  - REG/app\nbuild:\n  add: /srv\n", "pier.yml:4: build.add must be a list"),
        (
            "registries:\n  - REG/app\nbuild:\n  builder: kaniko\n",
            "pier.yml:4: build.builder must be one of auto, docker, podman, buildah, native"
        ),
        ("registries:\n  - REG/app\nbuild:\n  env: [MODE]\n", "pier.yml:4: build.env entries must be KEY=VALUE"),
        ("registries:\n  - [REG/app\n", "pier.yml"),
    ])
    func badConfigFiles(yaml: String, expected: String) throws {
        let registry = try TestRegistry()
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1, layerSize: 1000)
        #expect(try Harness.pier("copy", "oci:\(layout):1.0", "\(registry.host)/app:1.0").status == 0)
        let config = Tools.temporaryDirectory("pier-bad-config") + "/pier.yml"
        try yaml.replacingOccurrences(of: "REG", with: registry.host).write(
            toFile: config, atomically: true, encoding: .utf8)
        for command in [
            ["publish", "--config", config, "--source", "oci:\(layout):1.0", "--version", "2.0.0"],
            ["prune", "--config", config, "--apply"],
            ["build", "--config", config, "--output", "oci:\(Tools.temporaryDirectory())/out"],
        ] {
            expectOneLineFailure(try Harness.pier(command), code: 65, mentioning: expected)
        }
        let tags = try Harness.pier("tags", "\(registry.host)/app").stdout
        #expect(tags == "1.0\n", "the registry changed: \(tags)")
    }

    @Test func unreachableRegistry() throws {
        let port = Tools.freePort()
        expectOneLineFailure(
            try Harness.pier("digest", "127.0.0.1:\(port)/app:1"), code: 69,
            mentioning: "cannot reach 127.0.0.1:\(port)")
    }

    @Test func missingImageAndTag() throws {
        let registry = try TestRegistry()
        expectOneLineFailure(try Harness.pier("inspect", "\(registry.host)/nothing:here"), code: 66, mentioning: "404")
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1, layerSize: 1000)
        expectOneLineFailure(
            try Harness.pier("copy", "oci:\(layout):2.0", "\(registry.host)/a:1"), code: 66,
            mentioning: "tags here: 1.0")
    }

    @Test func corruptLayoutsWriteNothing() throws {
        let registry = try TestRegistry()
        // A missing layer blob.
        let missing = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/missing", tag: "1.0", layers: 2, layerSize: 5000)
        let manifest =
            try JSONSerialization.jsonObject(
                with: Data(
                    contentsOf: URL(
                        fileURLWithPath:
                            missing + "/blobs/sha256/" + (try Harness.layoutDigest(missing, tag: "1.0")).dropFirst(7))))
            as! [String: Any]
        let layer = ((manifest["layers"] as! [[String: Any]])[1]["digest"] as! String).dropFirst(7)
        try FileManager.default.removeItem(atPath: missing + "/blobs/sha256/" + layer)
        expectOneLineFailure(
            try Harness.pier("copy", "oci:\(missing):1.0", "\(registry.host)/m:1.0"), code: 65, mentioning: "is missing"
        )
        try tagIsAbsent(registry, "m:1.0")

        // A blob with the right size and the wrong bytes: the registry refuses it (DIGEST_INVALID).
        let corrupt = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/corrupt", tag: "1.0", layers: 1, layerSize: 5000)
        let corruptManifest =
            try JSONSerialization.jsonObject(
                with: Data(
                    contentsOf: URL(
                        fileURLWithPath:
                            corrupt + "/blobs/sha256/" + (try Harness.layoutDigest(corrupt, tag: "1.0")).dropFirst(7))))
            as! [String: Any]
        let corruptLayer =
            corrupt + "/blobs/sha256/"
            + ((corruptManifest["layers"] as! [[String: Any]])[0]["digest"] as! String).dropFirst(7)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: corruptLayer))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: corruptLayer))
        expectOneLineFailure(
            try Harness.pier("copy", "oci:\(corrupt):1.0", "\(registry.host)/c:1.0"), code: 70,
            mentioning: "DIGEST_INVALID")
        try tagIsAbsent(registry, "c:1.0")

        // A manifest that is not JSON.
        let broken = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/broken", tag: "1.0", layers: 1, layerSize: 100)
        let brokenPath = broken + "/blobs/sha256/" + (try Harness.layoutDigest(broken, tag: "1.0")).dropFirst(7)
        let size = try Data(contentsOf: URL(fileURLWithPath: brokenPath)).count
        try Data(repeating: UInt8(ascii: "{"), count: size).write(to: URL(fileURLWithPath: brokenPath))
        let result = try Harness.pier("copy", "oci:\(broken):1.0", "\(registry.host)/b:1.0")
        #expect(result.status == 70 || result.status == 65, "\(result.stderr)")  // the digest check fires first
        try tagIsAbsent(registry, "b:1.0")

        // Not a layout at all, and a truncated archive.
        expectOneLineFailure(
            try Harness.pier("copy", "oci:/nonexistent/dir", "\(registry.host)/n:1"), code: 66,
            mentioning: "not an OCI layout")
        let archive = Tools.temporaryDirectory() + "/cut.tar"
        try Tools.run(
            "skopeo",
            [
                "copy", "oci:\(missing.replacingOccurrences(of: "/missing", with: "/corrupt")):1.0",
                "oci-archive:\(archive)",
            ], check: false)
        try Data(repeating: 0x42, count: 3000).write(to: URL(fileURLWithPath: archive))
        expectOneLineFailure(
            try Harness.pier("copy", "oci-archive:\(archive)", "\(registry.host)/t:1"), code: 65, mentioning: "archive")
        try tagIsAbsent(registry, "t:1")
    }
}
