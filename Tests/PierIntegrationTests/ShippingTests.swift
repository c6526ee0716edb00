import Foundation
import PierTestSupport
import Testing

/// What pier ships: the packaged binary (scripts/package.sh) in a chroot without the Swift toolchain, pier's own
/// image (scripts/image.sh) run from its unpacked root, the GitHub Action's install and publish steps, and the
/// workflow, action and GitLab template files against their published schemas.
///
/// scripts/test.sh packages pier before the tests run and names the tarball in PIER_PACKAGE.
@Suite(.serialized) struct ShippingTests {
    init() throws { try Harness.requireTools() }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func packageTarball() throws -> String {
        guard let tarball = ProcessInfo.processInfo.environment["PIER_PACKAGE"],
            FileManager.default.fileExists(atPath: tarball)
        else {
            throw Tools.ToolError(
                description: "PIER_PACKAGE names no tarball: run scripts/test.sh, which packages pier first")
        }
        return tarball
    }

    /// The tarball unpacked; returns its top directory.
    static func unpack(_ tarball: String) throws -> String {
        let directory = Tools.temporaryDirectory("pier-package")
        try Tools.run("tar", ["-xzf", tarball, "-C", directory])
        let top = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(top.count == 1, "one top directory: \(top)")
        return directory + "/" + (top.first ?? "")
    }

    /// The libraries the dynamic loader resolves for a binary, and the loader itself.
    static func linkedLibraries(_ binary: String) throws -> [String] {
        let lines = try Tools.run("ldd", [binary]).stdout.split(separator: "\n")
        return lines.compactMap { line in
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            if let arrow = words.firstIndex(of: "=>"), arrow + 1 < words.count, words[arrow + 1].hasPrefix("/") {
                return words[arrow + 1]
            }
            return words.first.flatMap { $0.hasPrefix("/") ? $0 : nil }
        }
    }

    static func copy(_ file: String, into root: String, at path: String? = nil) throws {
        let target = root + (path ?? file)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Tools.run("cp", ["-L", file, target])
    }

    /// Runs a command in a chroot with /proc mounted (as every container runtime provides: the Swift runtime reads
    /// the command line from /proc/self/cmdline) and nothing else of the host.
    static func chroot(_ root: String, _ arguments: [String], user: String? = nil) throws -> Tools.Result {
        try FileManager.default.createDirectory(atPath: root + "/proc", withIntermediateDirectories: true)
        try Tools.run("/usr/bin/mount", ["-t", "proc", "proc", root + "/proc"])
        defer { _ = try? Tools.run("/usr/bin/umount", [root + "/proc"], check: false) }
        let environment = [
            "HOME": "/tmp", "DOCKER_CONFIG": "/tmp/docker", "TMPDIR": "/tmp", "PATH": "/usr/local/bin:/bin",
            "PIER_USERNAME": "", "PIER_PASSWORD": "", "GITHUB_TOKEN": "", "GITHUB_ACTIONS": "", "GITLAB_CI": "",
        ]
        let options = user.map { ["--userspec=\($0)"] } ?? []
        return try Tools.run("/usr/sbin/chroot", options + [root] + arguments, environment: environment, check: false)
    }

    @Test func packagedBinaryRunsInAChrootWithoutTheToolchain() throws {
        let top = try Self.unpack(try Self.packageTarball())
        let binary = top + "/bin/pier"
        for file in [
            "share/man/man1/pier.1", "share/bash-completion/completions/pier", "share/zsh/site-functions/_pier",
            "share/fish/vendor_completions.d/pier.fish",
        ] {
            let size = (try FileManager.default.attributesOfItem(atPath: top + "/" + file)[.size] as? Int) ?? 0
            #expect(size > 1000, "\(file) is \(size) bytes")
        }
        #expect(try String(contentsOfFile: top + "/share/man/man1/pier.1", encoding: .utf8).contains("publish"))
        // Linked from the system only: no Swift runtime, no Foundation, nothing from the toolchain.
        let libraries = try Self.linkedLibraries(binary)
        #expect(!libraries.isEmpty)
        for library in libraries {
            #expect(
                !library.contains("swift") && !library.contains("Foundation") && !library.hasPrefix("/opt"),
                "\(library)")
        }
        let root = Tools.temporaryDirectory("pier-chroot")
        try Self.copy(binary, into: root, at: "/usr/local/bin/pier")
        for library in libraries { try Self.copy(library, into: root) }
        try Self.copy("/etc/ssl/certs/ca-certificates.crt", into: root)
        try FileManager.default.createDirectory(atPath: root + "/tmp/site", withIntermediateDirectories: true)
        try "<h1>pier</h1>\n".write(toFile: root + "/tmp/site/index.html", atomically: true, encoding: .utf8)
        let inside = try FileManager.default.subpathsOfDirectory(atPath: root)
        #expect(!inside.contains { $0.hasPrefix("opt") || $0.hasPrefix("usr/lib/swift") })
        #expect(!inside.contains { $0.contains("libswift") || $0.contains("Foundation") })

        let version = try Self.chroot(root, ["/usr/local/bin/pier", "--version"])
        #expect(version.status == 0, "\(version.stderr)")
        #expect(version.stdout.contains("commit "), "packaged builds name their commit: \(version.stdout)")

        let registry = try TestRegistry()
        let build = try Self.chroot(
            root,
            [
                "/usr/local/bin/pier", "build", "--base", "scratch", "--add", "/tmp/site:/srv/site", "--output",
                "oci:/tmp/img:1",
            ])
        #expect(build.status == 0, "\(build.stderr)")
        let digest = try Harness.layoutDigest(root + "/tmp/img", tag: "1")
        let copy = try Self.chroot(
            root, ["/usr/local/bin/pier", "copy", "oci:/tmp/img:1", "\(registry.host)/chroot/copy:1"])
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(Harness.sha256(try Harness.skopeoRaw("\(registry.host)/chroot/copy:1")) == digest)
        let publish = try Self.chroot(
            root,
            [
                "/usr/local/bin/pier", "publish", "--source", "oci:/tmp/img:1", "--to", "\(registry.host)/chroot/app",
                "--version", "1.2.3",
            ])
        #expect(publish.status == 0, "\(publish.stderr)")
        for tag in ["1.2.3", "1.2", "1", "latest"] {
            #expect(Harness.sha256(try Harness.skopeoRaw("\(registry.host)/chroot/app:\(tag)")) == digest)
        }
    }

    @Test func imageRunsFromItsUnpackedRootAndIsReproducible() throws {
        let tarball = try Self.packageTarball()
        let first = Tools.temporaryDirectory("pier-image") + "/layout"
        let second = Tools.temporaryDirectory("pier-image") + "/layout"
        let environment = ["SOURCE_DATE_EPOCH": "1700000000"]
        let digest = try Tools.run(
            "bash", [Self.repository + "/scripts/image.sh", tarball, "--output", "oci:\(first):v"],
            environment: environment
        )
        .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let again = try Tools.run(
            "bash", [Self.repository + "/scripts/image.sh", tarball, "--output", "oci:\(second):v"],
            environment: environment
        )
        .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(digest.hasPrefix("sha256:") && digest == again, "\(digest) vs \(again)")
        #expect(try Harness.layoutDigest(first, tag: "v") == digest)
        // umoci, an independent reader, unpacks it; pier runs from that root, as root and as the image's user.
        let bundle = Tools.temporaryDirectory("pier-bundle") + "/bundle"
        try Tools.run("umoci", ["unpack", "--image", "\(first):v", bundle])
        let rootfs = bundle + "/rootfs"
        let config =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/config.json")))
            as? [String: Any]
        let process = config?["process"] as? [String: Any]
        let user = process?["user"] as? [String: Any]
        #expect(user?["uid"] as? Int == 65532 && user?["gid"] as? Int == 65532)
        #expect((process?["args"] as? [String])?.first == "/usr/local/bin/pier")
        #expect(FileManager.default.fileExists(atPath: rootfs + "/etc/ssl/certs/ca-certificates.crt"))
        #expect(!FileManager.default.fileExists(atPath: rootfs + "/bin/sh"), "the plain image has no shell")
        let asRoot = try Self.chroot(rootfs, ["/usr/local/bin/pier", "--version"])
        #expect(asRoot.status == 0 && asRoot.stdout.contains("(commit "), "\(asRoot.stdout) \(asRoot.stderr)")
        let asUser = try Self.chroot(rootfs, ["/usr/local/bin/pier", "--version"], user: "65532:65532")
        #expect(asUser.status == 0 && asUser.stdout == asRoot.stdout, "\(asUser.stderr)")
        // The shell variant (for GitLab's script:) runs a script that calls pier.
        let shell = Tools.temporaryDirectory("pier-image") + "/shell"
        try Tools.run(
            "bash", [Self.repository + "/scripts/image.sh", tarball, "--output", "oci:\(shell):v", "--shell"],
            environment: environment)
        let shellBundle = Tools.temporaryDirectory("pier-bundle") + "/bundle"
        try Tools.run("umoci", ["unpack", "--image", "\(shell):v", shellBundle])
        let script = try Self.chroot(
            shellBundle + "/rootfs", ["/bin/sh", "-c", "pier --version | tr -d '\\n'; echo ok"], user: "65532:65532")
        #expect(script.status == 0 && script.stdout.hasSuffix("ok\n"), "\(script.stdout) \(script.stderr)")
    }

    /// A directory served over HTTP on 127.0.0.1 for as long as the value lives.
    final class StaticServer {
        let process: Process
        let port: Int
        init(directory: String) throws {
            port = Tools.freePort()
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", directory, String(port),
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<100 {
                if (try? Tools.run("curl", ["-sf", "-o", "/dev/null", "http://127.0.0.1:\(port)/"], check: false).status)
                    == 0
                {
                    return
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            throw Tools.ToolError(description: "the static server did not start")
        }
        deinit { process.terminate() }
    }

    @Test func actionInstallStepVerifiesTheChecksumAndCaches() throws {
        let tarball = try Self.packageTarball()
        let served = Tools.temporaryDirectory("pier-releases")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: tarball))
        let arch = try Tools.run("uname", ["-m"]).stdout.contains("aarch64") ? "arm64" : "amd64"
        func release(_ version: String, checksum: String) throws {
            let name = "pier-\(version)-linux-\(arch).tar.gz"
            try FileManager.default.createDirectory(atPath: "\(served)/v\(version)", withIntermediateDirectories: true)
            try bytes.write(to: URL(fileURLWithPath: "\(served)/v\(version)/\(name)"))
            try "\(checksum)  \(name)\n".write(
                toFile: "\(served)/v\(version)/SHA256SUMS", atomically: true, encoding: .utf8)
        }
        let good = ImageFixtures.sha256Hex(bytes)
        try release("9.9.9", checksum: good)
        try release("9.9.8", checksum: String(good.reversed()))
        let server = try StaticServer(directory: served)
        let cache = Tools.temporaryDirectory("pier-tool-cache")
        func install(_ version: String) throws -> Tools.Result {
            try Tools.run(
                "bash", [Self.repository + "/scripts/action-install.sh"],
                environment: [
                    "PIER_VERSION": "v" + version, "PIER_DOWNLOAD_BASE": "http://127.0.0.1:\(server.port)",
                    "PIER_CACHE_DIR": cache,
                ], check: false)
        }
        let installed = try install("9.9.9")
        #expect(installed.status == 0, "\(installed.stderr)")
        let binary = installed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(binary == "\(cache)/9.9.9/\(arch)/pier")
        #expect(try Tools.run(binary, ["--version"]).status == 0)
        let cached = try install("9.9.9")
        #expect(cached.status == 0 && cached.stderr.contains("using cached"), "\(cached.stderr)")
        // A tarball that does not match SHA256SUMS is refused and nothing is installed.
        let tampered = try install("9.9.8")
        #expect(tampered.status == 1 && tampered.stderr.contains("checksum mismatch"), "\(tampered.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(cache)/9.9.8"))
        // No release: exit 3, which the action turns into a build from source.
        #expect(try install("9.9.7").status == 3)
    }

    @Test func actionPublishStepWritesOutputsOnPartialFailureAndRunsNoInput() throws {
        let registry = try TestRegistry()
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/layout", tag: "1.0", layers: 2)
        let digest = try Harness.layoutDigest(layout, tag: "1.0")
        let files = Tools.temporaryDirectory("pier-action")
        let marker = files + "/injected"
        var environment = Harness.isolatedEnvironment([
            "PIER": Tools.pierBinary, "INPUT_SOURCE": "oci:\(layout):1.0",
            // The backup refuses connections: some registries fail, exit 75, outputs still written.
            "INPUT_TO": "\(registry.host)/act/app\n  127.0.0.1:\(Tools.freePort())/dead/app  \n",
            "INPUT_ON_CONFLICT": "fail", "INPUT_ARGS": "--version 1.2.3 --tag $(touch \(marker))",
            "GITHUB_OUTPUT": files + "/output", "GITHUB_STEP_SUMMARY": files + "/summary", "RUNNER_TEMP": files,
        ])
        environment["PIER_TIMEOUT"] = "5"
        let result = try Tools.run(
            "bash", [Self.repository + "/scripts/action-publish.sh"], environment: environment, check: false)
        // `$(touch …)` is words, not shell code: pier refuses them as arguments, and nothing ran.
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(result.status != 0)
        environment["INPUT_ARGS"] = "--version 1.2.3\n--tag edge"
        let partial = try Tools.run(
            "bash", [Self.repository + "/scripts/action-publish.sh"], environment: environment, check: false)
        #expect(partial.status == 75, "\(partial.stderr)")
        #expect(partial.stdout.contains("::warning"))
        let output = try String(contentsOfFile: files + "/output", encoding: .utf8)
        #expect(output.contains("digest=\(digest)\n"), "\(output)")
        #expect(output.contains("tags=") && output.contains("1.2.3") && output.contains("edge"))
        #expect(output.contains("report=\(files)/pier-report.json"))
        let summary = try String(contentsOfFile: files + "/summary", encoding: .utf8)
        #expect(
            summary.contains("| \(registry.host)/act/app | primary | 1.2.3 | written | `\(digest)` |"), "\(summary)")
        #expect(summary.contains("docker pull \(registry.host)/act/app@\(digest)"))
        #expect(Harness.sha256(try Harness.skopeoRaw("\(registry.host)/act/app:edge")) == digest)
    }

    @Test func workflowsActionAndTemplateMatchTheirSchemas() throws {
        let root = Self.repository
        let checks: [(schema: String, files: [String])] = [
            ("vendor.github-workflows", [root + "/.github/workflows/ci.yml", root + "/.github/workflows/release.yml"]),
            ("vendor.github-actions", [root + "/action.yml"]),
            ("vendor.gitlab-ci", [root + "/templates/pier.gitlab-ci.yml"]),
        ]
        for check in checks {
            let result = try Tools.run(
                "check-jsonschema", ["--builtin-schema", check.schema] + check.files, check: false)
            #expect(result.status == 0, "\(check.schema): \(result.stdout) \(result.stderr)")
        }
        // The check can fail: a workflow job without runs-on is refused.
        let broken = Tools.temporaryDirectory("pier-schema") + "/broken.yml"
        try String(contentsOfFile: root + "/.github/workflows/ci.yml", encoding: .utf8)
            .replacingOccurrences(of: "runs-on:", with: "runs-off:").write(
                toFile: broken, atomically: true, encoding: .utf8)
        #expect(
            try Tools.run("check-jsonschema", ["--builtin-schema", "vendor.github-workflows", broken], check: false)
                .status != 0)
        // Script injection: no expression inside any run: of the action; inputs arrive through env:.
        let script = """
            import sys, yaml
            steps = yaml.safe_load(open(sys.argv[1]))["runs"]["steps"]
            bad = [s.get("name") for s in steps if "${{" in s.get("run", "")]
            print(bad); sys.exit(1 if bad else 0)
            """
        let injection = try Tools.run("python3", ["-c", script, root + "/action.yml"], check: false)
        #expect(injection.status == 0, "steps with ${{ }} in run: \(injection.stdout)")
    }
}
