import Foundation
import PierTestSupport
import Testing

/// Files, archives, numbers and registry answers made by someone else: pier refuses them with one line and a
/// documented exit code, changes nothing, and keeps secrets and terminal escapes to itself.
@Suite(.serialized) struct HostileInputTests {
    init() throws { try Harness.requireTools() }

    func expectOneLineFailure(_ result: Tools.Result, code: Int32, mentioning text: String, _ what: String = "") {
        #expect(result.status == code, "\(what) stderr: \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(what) stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("pier: "), "\(what) stderr: \(result.stderr)")
        #expect(result.stderr.contains(text), "\(what) stderr: \(result.stderr)")
    }

    /// Every entry of `directory`, with each file's bytes, to show that nothing changed.
    func snapshot(_ directory: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        for name in FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? [] {
            result[name] = FileManager.default.contents(atPath: directory + "/" + name) ?? Data()
        }
        return result
    }

    func write(_ bytes: [UInt8], to path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    // MARK: Outside numbers

    /// Ports past 65535 and absurd --concurrency values are usage errors before anything connects.
    @Test func outsideNumbersAreUsageErrors() throws {
        for reference in [
            "127.0.0.1:70000/app:1", "[::1]:65536/app:1", "localhost:0/app:1", "127.0.0.1:99999999999999999999/app:1",
        ] {
            expectOneLineFailure(
                try Harness.pier("digest", reference), code: 64, mentioning: "port from 1 to 65535", reference)
        }
        expectOneLineFailure(
            try Harness.pier("login", "127.0.0.1:70000", "-u", "u", "--password-stdin", stdin: "p"), code: 64,
            mentioning: "invalid registry host")
        for value in ["4611686018427387904", "0", "-1", "65"] {
            expectOneLineFailure(
                try Harness.pier("digest", "--concurrency=\(value)", "127.0.0.1:5000/app:1"), code: 64,
                mentioning: "--concurrency \(value) is not between 1 and 64", value)
        }
    }

    /// PAX records that are not records, or whose length is near Int64.max, in an oci-archive source, a
    /// docker-archive source and an existing oci-archive destination: exit 65, one line naming the archive.
    @Test(arguments: [
        "1 x", "9223372036854775807 path=a\n", "99999999999999999999 size=1\n", "30 size=9223372036854775807\n",
    ])
    func hostilePaxHeaders(record: String) throws {
        let dir = Tools.temporaryDirectory("pier-pax")
        let archive = dir + "/bad.tar"
        try write(TarFixture.archive(paxRecords: record, files: [("index.json", Array("{}".utf8))]), to: archive)
        let before = try Data(contentsOf: URL(fileURLWithPath: archive))
        expectOneLineFailure(
            try Harness.pier("copy", "oci-archive:\(archive)", "oci:\(dir)/out:1"), code: 65, mentioning: "bad.tar")
        expectOneLineFailure(
            try Harness.pier("copy", "docker-archive:\(archive)", "oci:\(dir)/out:1"), code: 65, mentioning: "bad.tar")
        let layout = try ImageFixtures.umociImage(at: dir + "/good", tag: "1.0", layers: 1, layerSize: 100)
        expectOneLineFailure(
            try Harness.pier("copy", "oci:\(layout):1.0", "oci-archive:\(archive):1.0"), code: 65, mentioning: "bad.tar"
        )
        #expect(try Data(contentsOf: URL(fileURLWithPath: archive)) == before, "the destination archive changed")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
    }

    /// Layers whose sizes add up past Int64.max: inspect and notes say so instead of trapping.
    @Test func layerSizesPastInt64() throws {
        let layout = try LayoutBuilder(at: Tools.temporaryDirectory("pier-sizes") + "/layout")
        let config = try layout.blob(
            Data(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8),
            mediaType: "application/vnd.oci.image.config.v1+json")
        let layer: [String: Any] = [
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": Int64.max,
            "digest": "sha256:" + String(repeating: "a", count: 64),
        ]
        let manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config,
            "layers": [layer, layer],
        ]
        try layout.tag(
            try layout.blob(
                JSONSerialization.data(withJSONObject: manifest),
                mediaType: "application/vnd.oci.image.manifest.v1+json"),
            as: "1.0")
        expectOneLineFailure(
            try Harness.pier("inspect", "oci:\(layout.root):1.0"), code: 65,
            mentioning: "layer sizes add up to more than")
        expectOneLineFailure(
            try Harness.pier("notes", "--source", "oci:\(layout.root):1.0", "--version", "1.0.0", "--no-changelog"),
            code: 65,
            mentioning: "layer sizes add up to more than")
    }

    // MARK: config.json

    /// `pier login` writes config.json 0600 and the directories it creates 0700, whatever the umask; no temporary
    /// file is left beside it.
    @Test(arguments: ["000", "022", "277"])
    func loginWritesPrivateFiles(umask: String) throws {
        let registry = try TestRegistry(auth: .htpasswd(user: "alice", password: "wonder-land-9"))
        let base = Tools.temporaryDirectory("pier-login-modes")
        let directory = base + "/new/docker"
        var env = Harness.isolatedEnvironment()
        env["DOCKER_CONFIG"] = directory
        let login = try Tools.run(
            "/bin/sh",
            [
                "-c", "umask \(umask); exec \"$0\" login \"$1\" -u alice --password-stdin", Tools.pierBinary,
                registry.host,
            ],
            stdin: Data("wonder-land-9".utf8), environment: env, check: false)
        #expect(login.status == 0, "\(login.stderr)")
        func mode(_ path: String) throws -> Int {
            try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! Int
        }
        #expect(try mode(directory + "/config.json") == 0o600)
        #expect(try mode(directory) == 0o700)
        #expect(try mode(base + "/new") == 0o700)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["config.json"])

        // An existing config.json readable by others is replaced by a 0600 one, its other keys kept.
        try Data(#"{"auths":{},"psFormat":"table"}"#.utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
        chmod(directory + "/config.json", 0o644)
        let again = try Tools.run(
            "/bin/sh",
            [
                "-c", "umask \(umask); exec \"$0\" login \"$1\" -u alice --password-stdin", Tools.pierBinary,
                registry.host,
            ],
            stdin: Data("wonder-land-9".utf8), environment: env, check: false)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try mode(directory + "/config.json") == 0o600)
        #expect(try String(contentsOfFile: directory + "/config.json", encoding: .utf8).contains("psFormat"))
    }

    // MARK: Output directories

    /// A directory that is neither empty nor a layout is refused, byte for byte unchanged, by copy and build.
    @Test func outputDirectoryMustBeEmptyMissingOrALayout() throws {
        let dir = Tools.temporaryDirectory("pier-output")
        let layout = try ImageFixtures.umociImage(at: dir + "/src", tag: "1.0", layers: 1, layerSize: 100)
        let other = dir + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: other + "/index.json"))
        try Data("notes".utf8).write(to: URL(fileURLWithPath: other + "/keep.txt"))
        let before = try snapshot(other)
        expectOneLineFailure(
            try Harness.pier("copy", "oci:\(layout):1.0", "oci:\(other):1.0"), code: 64,
            mentioning: "is not an OCI layout")
        expectOneLineFailure(
            try Harness.pier("build", "--add", "/etc/hostname:/x", "--output", "oci:\(other)"), code: 64,
            mentioning: "is not an OCI layout")
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        expectOneLineFailure(
            try Harness.pier("copy", "oci:\(layout):1.0", "oci:\(dir)/file:1.0"), code: 64,
            mentioning: "is not a directory")
        #expect(try snapshot(other) == before)

        // Empty, missing and existing layouts are fine; an existing layout keeps its other tags.
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        #expect(try Harness.pier("copy", "oci:\(layout):1.0", "oci:\(dir)/empty:1.0").status == 0)
        #expect(try Harness.pier("copy", "oci:\(layout):1.0", "oci:\(dir)/missing/deeper:1.0").status == 0)
        #expect(try Harness.pier("copy", "oci:\(layout):1.0", "oci:\(dir)/empty:2.0").status == 0)
        #expect(try Harness.pier("tags", "oci:\(dir)/empty").stdout == "1.0\n2.0\n")
        #expect(
            try Harness.layoutDigest(dir + "/missing/deeper", tag: "1.0") == Harness.layoutDigest(layout, tag: "1.0"))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == [
                "empty", "file", "missing", "other", "src",
            ])
    }

    /// A build or copy that fails leaves no layout, and no staging directory, behind.
    @Test func failedBuildsAndCopiesLeaveNothing() throws {
        let dir = Tools.temporaryDirectory("pier-output-fail")
        let build = try Harness.pier("build", "--add", "/nonexistent/pier-file:/x", "--output", "oci:\(dir)/built:1")
        #expect(build.status == 66, "\(build.stderr)")
        let broken = try ImageFixtures.umociImage(at: dir + "/src", tag: "1.0", layers: 1, layerSize: 100)
        let manifest =
            try JSONSerialization.jsonObject(
                with: Data(
                    contentsOf: URL(
                        fileURLWithPath:
                            broken + "/blobs/sha256/" + (try Harness.layoutDigest(broken, tag: "1.0")).dropFirst(7))))
            as! [String: Any]
        let layer = ((manifest["layers"] as! [[String: Any]])[0]["digest"] as! String).dropFirst(7)
        try FileManager.default.removeItem(atPath: broken + "/blobs/sha256/" + layer)
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        for target in ["copied", "empty"] {
            let copy = try Harness.pier("copy", "oci:\(broken):1.0", "oci:\(dir)/\(target):1.0")
            #expect(copy.status == 65, "\(copy.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["empty", "src"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/empty").isEmpty)
    }

    // MARK: Names from files

    /// A docker-archive's RepoTags and an OCI index's ref.name are checked like tags on the command line.
    @Test func namesFromFilesAreValidated() throws {
        let registry = try TestRegistry()
        let dir = Tools.temporaryDirectory("pier-names")
        let layout = try ImageFixtures.umociImage(at: dir + "/l", tag: "1.0", layers: 1, layerSize: 100)
        try Tools.run("skopeo", ["copy", "oci:\(layout):1.0", "docker-archive:\(dir)/docker.tar:example/app:1.0"])
        try FileManager.default.createDirectory(atPath: dir + "/x", withIntermediateDirectories: true)
        try Tools.run("tar", ["-xf", dir + "/docker.tar", "-C", dir + "/x"])
        let hostile = "x/../../other/manifests/pwn?a=b"
        let manifestPath = dir + "/x/manifest.json"
        let text = try String(contentsOfFile: manifestPath, encoding: .utf8)
        try text.replacingOccurrences(of: "example/app:1.0", with: hostile).write(
            toFile: manifestPath, atomically: true, encoding: .utf8)
        #expect(try String(contentsOfFile: manifestPath, encoding: .utf8).contains("pwn"))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/x")
        try Tools.run("tar", ["-cf", dir + "/hostile.tar", "-C", dir + "/x"] + names)
        expectOneLineFailure(
            try Harness.pier("copy", "docker-archive:\(dir)/hostile.tar", "\(registry.host)/app"), code: 65,
            mentioning: "\(hostile)\", which is not an image reference")

        // The same name as an OCI ref.name.
        let indexPath = layout + "/index.json"
        let index = try String(contentsOfFile: indexPath, encoding: .utf8)
        try index.replacingOccurrences(of: "\"1.0\"", with: "\"\(hostile)\"")
            .write(toFile: indexPath, atomically: true, encoding: .utf8)
        expectOneLineFailure(
            try Harness.pier("copy", "oci:\(layout)", "\(registry.host)/app"), code: 65, mentioning: "neither a tag nor"
        )
        expectOneLineFailure(try Harness.pier("tags", "oci:\(layout)"), code: 65, mentioning: "neither a tag nor")
        let catalog = try Tools.run("curl", ["-s", "http://\(registry.host)/v2/_catalog"], check: false).stdout
        #expect(!catalog.contains("other") && !catalog.contains("app"), "\(catalog)")
    }

    // MARK: Terminal output

    /// A registry's error text and an image's labels reach the terminal without their control characters.
    @Test func controlCharactersNeverReachTheTerminal() async throws {
        let registry = try await EscapeRegistry()
        defer { registry.stop() }
        let failed = try Harness.pier("inspect", "\(registry.host)/app:1")
        expectOneLineFailure(failed, code: 66, mentioning: "gone\\x1B]0;pwned\\x07")
        for control in ["\u{1B}", "\u{07}", "\u{9B}", "\r", "\u{202E}"] {
            #expect(!failed.stderr.contains(control), "\(failed.stderr.debugDescription)")
        }

        let layout = try LayoutBuilder(at: Tools.temporaryDirectory("pier-escape") + "/layout")
        let label = "ok\u{1B}]8;;http://evil\u{07}click\u{1B}]8;;\u{07}\u{9B}2J\u{7F}"
        let image = try layout.image(
            config: [
                "architecture": "amd64", "os": "linux", "config": ["Labels": ["note": label]],
                "rootfs": ["type": "layers", "diff_ids": []],
            ],
            layerSizes: [10], seed: 3)
        try layout.tag(image, as: "1.0")
        let text = try Harness.pier("inspect", "oci:\(layout.root):1.0")
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("Label:       note=ok\\x1B]8;;http://evil\\x07click"), "\(text.stdout)")
        let json = try Harness.pier("inspect", "--json", "oci:\(layout.root):1.0")
        let notes = try Harness.pier(
            "notes", "--source", "oci:\(layout.root):1.0", "--version", "1.0.0", "--no-changelog")
        #expect(notes.status == 0, "\(notes.stderr)")
        for output in [text.stdout, json.stdout, notes.stdout] {
            for control in ["\u{1B}", "\u{07}", "\u{9B}", "\u{7F}"] {
                #expect(!output.contains(control), "\(output.debugDescription)")
            }
        }
        // JSON escapes them instead, and still decodes to the label as written.
        let details = try JSONSerialization.jsonObject(with: json.stdoutBytes) as! [String: Any]
        #expect(((details["config"] as? [String: Any])?["labels"] as? [String: String])?["note"] == label)
    }

    // MARK: Builder children

    /// A fake buildah on PATH records its environment and arguments: it gets what a builder needs and the build
    /// argument values, never pier's secrets; the values are on no command line and in no log.
    @Test func builderChildrenGetAMinimalEnvironment() throws {
        let dir = Tools.temporaryDirectory("pier-fake-builder")
        let bin = dir + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let image = try ImageFixtures.umociImage(at: dir + "/image", tag: "latest", layers: 1, layerSize: 100)
        let script = """
            #!/bin/sh
            env > "\(dir)/env-$$.txt"
            echo "$@" > "\(dir)/args-$$.txt"
            case " $* " in
              *" push "*) for last in "$@"; do :; done; dest="${last#oci:}"; dest="${dest%:latest}"; mkdir -p "$dest"; cp -R "\(image)/." "$dest/" ;;
            esac
            exit 0
            """
        try script.write(toFile: bin + "/buildah", atomically: true, encoding: .utf8)
        chmod(bin + "/buildah", 0o755)
        let context = dir + "/context"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        try Data("FROM scratch\n".utf8).write(to: URL(fileURLWithPath: context + "/Dockerfile"))
        var env = Harness.isolatedEnvironment()
        env["PATH"] = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        env["PIER_PASSWORD"] = "pier-secret-1"
        env["GITHUB_TOKEN"] = "ghp-secret-2"
        env["CI_JOB_TOKEN"] = "job-secret-3"
        env["AWS_SECRET_ACCESS_KEY"] = "aws-secret-4"
        env["FROM_ENV_TOKEN"] = "env-secret-5"
        env["EXTRA_SETTING"] = "passed"
        env["STORAGE_DRIVER"] = "vfs"
        env["CONTAINERS_CONF"] = "/etc/containers/containers.conf"
        let run = try Harness.pier(
            [
                "build", "--builder", "buildah", context, "--output", "oci:\(dir)/out:1", "--build-arg",
                "NPM_TOKEN=npm-secret-6",
                "--build-arg", "FROM_ENV_TOKEN", "--pass-env", "EXTRA_SETTING",
            ], env: env)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Harness.layoutDigest(dir + "/out", tag: "1") == Harness.layoutDigest(image, tag: "latest"))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        let envs = try files.filter { $0.hasPrefix("env-") }.map {
            try String(contentsOfFile: dir + "/" + $0, encoding: .utf8)
        }
        let args = try files.filter { $0.hasPrefix("args-") }.map {
            try String(contentsOfFile: dir + "/" + $0, encoding: .utf8)
        }
        #expect(envs.count >= 2, "\(files)")
        let bud = try #require(zip(envs, args).first { $0.1.contains("bud") })
        let variables = Set(
            bud.0.split(separator: "\n").compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) })
        for secret in ["PIER_PASSWORD", "GITHUB_TOKEN", "CI_JOB_TOKEN", "AWS_SECRET_ACCESS_KEY"] {
            #expect(!variables.contains(secret), "\(secret) reached the builder")
        }
        for needed in [
            "PATH", "HOME", "STORAGE_DRIVER", "CONTAINERS_CONF", "EXTRA_SETTING", "NPM_TOKEN", "FROM_ENV_TOKEN",
        ] {
            #expect(variables.contains(needed), "\(needed) did not reach the builder: \(variables.sorted())")
        }
        #expect(bud.0.contains("NPM_TOKEN=npm-secret-6") && bud.0.contains("FROM_ENV_TOKEN=env-secret-5"))
        #expect(bud.1.contains("--build-arg NPM_TOKEN --build-arg FROM_ENV_TOKEN"), "\(bud.1)")
        for secret in ["pier-secret-1", "ghp-secret-2", "job-secret-3", "aws-secret-4", "npm-secret-6"] {
            #expect(
                !run.stderr.contains(secret) && !run.stdout.contains(secret) && !args.joined().contains(secret),
                "\(secret) leaked")
        }
        #expect(run.stderr.contains("--build-arg NPM_TOKEN"), "\(run.stderr)")
    }
}
