import Foundation
import PierEngine
import PierModel
import PierTestSupport
import Testing

/// `pier build`: native assembly checked by umoci, skopeo and GNU tar; Dockerfile builds through buildah; publish --build.
@Suite(.serialized) struct BuildIntegrationTests {
    init() throws { try Harness.requireTools() }

    /// A source tree with an executable, a plain file, a symlink, a nested directory and a name over 100 bytes.
    static func sourceTree() throws -> String {
        let root = Tools.temporaryDirectory("pier-build-src") + "/site"
        let long = String(repeating: "n", count: 120)
        try FileManager.default.createDirectory(atPath: root + "/assets/\(long)", withIntermediateDirectories: true)
        try Data("<h1>pier</h1>\n".utf8).write(to: URL(fileURLWithPath: root + "/index.html"))
        try Data("#!/bin/sh\necho hi\n".utf8).write(to: URL(fileURLWithPath: root + "/run.sh"))
        try Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(
            to: URL(fileURLWithPath: root + "/assets/\(long)/blob.bin"))
        chmod(root + "/run.sh", 0o700)
        chmod(root + "/index.html", 0o600)
        try FileManager.default.createSymbolicLink(atPath: root + "/home.html", withDestinationPath: "index.html")
        return root
    }

    static func configOf(_ location: String, extra: [String] = []) throws -> [String: Any] {
        let data = try Tools.run("skopeo", ["inspect", "--config", "--tls-verify=false"] + extra + [location])
            .stdoutBytes
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    @Test func nativeAssemblyIsDeterministicAndUnpacksAsAsked() throws {
        let site = try Self.sourceTree()
        let out = Tools.temporaryDirectory("pier-build-out")
        let arguments = [
            "--add", "\(site):/srv/www", "--add", "\(site)/index.html:/etc/motd", "--entrypoint",
            #"["/srv/www/run.sh","--serve"]"#,
            "--cmd=--port 8080", "--env", "MODE=prod", "--expose", "8080", "--expose", "53/udp", "--label",
            "org.opencontainers.image.title=site", "--workdir", "/srv/www", "--user", "65532", "--json",
        ]
        let first = try Harness.pier(["build", "--output", "oci:\(out)/a:1"] + arguments)
        #expect(first.status == 0, "\(first.stderr)")
        let result = try JSONDecoder().decode(BuildResultFixture.self, from: first.stdoutBytes)

        // Same inputs, another copy of the tree with other mtimes, another time, another output: same digest.
        let copy = Tools.temporaryDirectory("pier-build-src2") + "/site"
        try Tools.run("cp", ["-a", site, copy])
        try Tools.run("touch", ["-d", "2001-02-03", copy + "/index.html"])
        let copied = arguments.map { $0.replacingOccurrences(of: site, with: copy) }
        let second = try Harness.pier(["build", "--output", "oci:\(out)/b:1"] + copied)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try JSONDecoder().decode(BuildResultFixture.self, from: second.stdoutBytes).digest == result.digest)
        #expect(try Harness.layoutDigest("\(out)/a", tag: "1") == result.digest)

        // umoci unpacks the files with their contents and normalised modes.
        let bundle = out + "/bundle"
        try Tools.run("umoci", ["unpack", "--rootless", "--image", "\(out)/a:1", bundle])
        let rootfs = bundle + "/rootfs"
        let long = String(repeating: "n", count: 120)
        #expect(
            FileManager.default.contents(atPath: rootfs + "/srv/www/index.html")
                == FileManager.default.contents(atPath: site + "/index.html"))
        #expect(
            FileManager.default.contents(atPath: rootfs + "/srv/www/assets/\(long)/blob.bin")
                == FileManager.default.contents(atPath: site + "/assets/\(long)/blob.bin"))
        #expect(
            FileManager.default.contents(atPath: rootfs + "/etc/motd")
                == FileManager.default.contents(atPath: site + "/index.html"))
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: rootfs + "/srv/www/home.html") == "index.html")
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: rootfs + path)[.posixPermissions] as! NSNumber).intValue
        }
        #expect(try mode("/srv/www/run.sh") == 0o755)
        #expect(try mode("/srv/www/index.html") == 0o644)
        #expect(try mode("/srv/www/assets") == 0o755)

        // The layer itself, read by GNU tar: sorted, numeric owner 0, mtime 0.
        let manifest =
            try JSONSerialization.jsonObject(
                with: Data(
                    contentsOf: URL(
                        fileURLWithPath: "\(out)/a/blobs/sha256/"
                            + result.digest.dropFirst(7)))) as! [String: Any]
        let layer = ((manifest["layers"] as! [[String: Any]])[0]["digest"] as! String).dropFirst(7)
        let listing = try Tools.run(
            "tar", ["--numeric-owner", "--full-time", "-tvzf", "\(out)/a/blobs/sha256/\(layer)"]
        ).stdout
            .split(separator: "\n")
        let names = listing.map { $0.split(separator: " ", omittingEmptySubsequences: true)[5] }
        #expect(names.first == "etc/")
        #expect(names.contains("srv/www/assets/\(long)/blob.bin"))
        #expect(listing.allSatisfy { $0.contains(" 0/0 ") && $0.contains("1970-01-01 00:00:00") })

        // Config fields, read by skopeo.
        let config = try Self.configOf("oci:\(out)/a:1")
        let inner = config["config"] as! [String: Any]
        #expect(inner["Entrypoint"] as? [String] == ["/srv/www/run.sh", "--serve"])
        #expect(inner["Cmd"] as? [String] == ["--port", "8080"])
        #expect(inner["Env"] as? [String] == ["MODE=prod"])
        #expect((inner["ExposedPorts"] as? [String: Any]).map { Set($0.keys) } == ["8080/tcp", "53/udp"])
        #expect((inner["Labels"] as? [String: String])?["org.opencontainers.image.title"] == "site")
        #expect(inner["WorkingDir"] as? String == "/srv/www" && inner["User"] as? String == "65532")
        #expect(config["created"] as? String == "1970-01-01T00:00:00Z")

        // SOURCE_DATE_EPOCH moves mtimes and created, and so the digest; --chown sets numeric owners.
        var env = Harness.isolatedEnvironment()
        env["SOURCE_DATE_EPOCH"] = "1700000000"
        let dated = try Harness.pier(
            ["build", "--output", "oci:\(out)/c:1", "--chown", "65532:65533"] + arguments, env: env)
        #expect(dated.status == 0, "\(dated.stderr)")
        let datedDigest = try Harness.layoutDigest("\(out)/c", tag: "1")
        #expect(datedDigest != result.digest)
        #expect(try Self.configOf("oci:\(out)/c:1")["created"] as? String == "2023-11-14T22:13:20Z")
        let datedManifest =
            try JSONSerialization.jsonObject(
                with: Data(
                    contentsOf: URL(
                        fileURLWithPath: "\(out)/c/blobs/sha256/"
                            + datedDigest.dropFirst(7)))) as! [String: Any]
        let datedLayer = ((datedManifest["layers"] as! [[String: Any]])[0]["digest"] as! String).dropFirst(7)
        let owners = try Tools.run("tar", ["--numeric-owner", "-tvzf", "\(out)/c/blobs/sha256/\(datedLayer)"]).stdout
        #expect(owners.contains("65532/65533 ") && owners.contains("srv/www/run.sh"))
    }

    @Test func nativeAssemblyOnARegistryBaseKeepsItsFields() throws {
        let registry = try TestRegistry()
        // A base whose config carries fields pier does not model, with booleans and numbers that must stay so.
        let layout = Tools.temporaryDirectory("pier-build-base") + "/base"
        let builder = try LayoutBuilder(at: layout)
        let layers = [
            try builder.blob(Data(repeating: 1, count: 3000), mediaType: "application/vnd.oci.image.layer.v1.tar+gzip"),
            try builder.blob(Data(repeating: 2, count: 4000), mediaType: "application/vnd.oci.image.layer.v1.tar+gzip"),
        ]
        let config =
            #"{"architecture":"arm64","config":{"Cmd":["sh"],"Env":["PATH=/bin","KEEP=1","MODE=dev"],"Labels":{"base":"yes"},"StopSignal":"SIGTERM"},"history":[{"created_by":"base"}],"os":"linux","rootfs":{"diff_ids":["sha256:1111111111111111111111111111111111111111111111111111111111111111","sha256:2222222222222222222222222222222222222222222222222222222222222222"],"type":"layers"},"variant":"v8","x-vendor":{"count":1,"flag":true,"ratio":0.5}}"#
        let configDescriptor = try builder.blob(
            Data(config.utf8), mediaType: "application/vnd.oci.image.config.v1+json")
        let manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": configDescriptor,
            "layers": layers,
        ]
        let manifestDescriptor = try builder.blob(
            JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]),
            mediaType: "application/vnd.oci.image.manifest.v1+json")
        try builder.tag(manifestDescriptor, as: "1")
        try Tools.run(
            "skopeo", ["copy", "--dest-tls-verify=false", "oci:\(layout):1", "docker://\(registry.host)/base/os:1"])

        let file = Tools.temporaryDirectory("pier-build-bin") + "/server"
        try Data("binary-arm64".utf8).write(to: URL(fileURLWithPath: file))
        let out = Tools.temporaryDirectory("pier-build-out") + "/app"
        let run = try Harness.pier([
            "build", "--base", "\(registry.host)/base/os:1", "--binary", "linux/arm64=\(file)", "--env", "MODE=prod",
            "--label", "app=yes", "--output", "oci:\(out):1",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let built = try Self.configOf("oci:\(out):1")
        let inner = built["config"] as! [String: Any]
        #expect(inner["Env"] as? [String] == ["PATH=/bin", "KEEP=1", "MODE=prod"])
        #expect(inner["Labels"] as? [String: String] == ["base": "yes", "app": "yes"])
        #expect(inner["StopSignal"] as? String == "SIGTERM")
        #expect(inner["Entrypoint"] as? [String] == ["/usr/local/bin/server"])
        #expect(inner["Cmd"] == nil, "an entrypoint replaces the inherited Cmd")
        #expect(built["architecture"] as? String == "arm64" && built["variant"] as? String == "v8")
        // The unknown field survives byte for byte in meaning: a boolean stays a boolean, a number a number.
        let configText = String(
            decoding: try Tools.run("skopeo", ["inspect", "--raw", "--config", "oci:\(out):1"]).stdoutBytes,
            as: UTF8.self)
        #expect(configText.contains(#""x-vendor":{"count":1,"flag":true,"ratio":0.5}"#))
        let diffIDs = (built["rootfs"] as! [String: Any])["diff_ids"] as! [String]
        #expect(diffIDs.count == 3 && diffIDs[0].hasPrefix("sha256:1111"))
        #expect((built["history"] as! [[String: Any]]).count == 2)

        // The base layers are reused by digest; the manifest names its base (as the registry holds it: skopeo
        // compressed the fixture's layers on the way in).
        let baseRaw = try Harness.skopeoRaw("\(registry.host)/base/os:1")
        let baseManifest = try JSONSerialization.jsonObject(with: baseRaw) as! [String: Any]
        let raw =
            try JSONSerialization.jsonObject(
                with: Tools.run("skopeo", ["inspect", "--raw", "oci:\(out):1"]).stdoutBytes) as! [String: Any]
        let builtLayers = (raw["layers"] as! [[String: Any]]).map { $0["digest"] as! String }
        #expect(
            Array(builtLayers.prefix(2)) == (baseManifest["layers"] as! [[String: Any]]).map { $0["digest"] as! String }
        )
        #expect(
            (raw["annotations"] as? [String: String])?["org.opencontainers.image.base.digest"]
                == Harness.sha256(baseRaw))

        // A platform the base does not have is refused with the platforms it has.
        let wrong = try Harness.pier([
            "build", "--base", "\(registry.host)/base/os:1", "--binary", "linux/amd64=\(file)", "--output",
            "oci:\(out)-x:1",
        ])
        #expect(wrong.status == 66)
        #expect(wrong.stderr.contains("linux/arm64/v8"), "\(wrong.stderr)")
    }

    @Test func perPlatformBinariesMakeAnIndex() throws {
        let dir = Tools.temporaryDirectory("pier-build-bins")
        try Data("amd64-bytes".utf8).write(to: URL(fileURLWithPath: dir + "/app-amd64"))
        try Data("arm64-bytes".utf8).write(to: URL(fileURLWithPath: dir + "/app-arm64"))
        let out = dir + "/out"
        let run = try Harness.pier([
            "build", "--binary", "linux/amd64=\(dir)/app-amd64", "--binary", "linux/arm64=\(dir)/app-arm64",
            "--binary-dir", "/app",
            "--output", "oci:\(out):2",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let index =
            try JSONSerialization.jsonObject(
                with: Tools.run("skopeo", ["inspect", "--raw", "oci:\(out):2"]).stdoutBytes) as! [String: Any]
        #expect(index["mediaType"] as? String == MediaType.ociIndex)
        let platforms = (index["manifests"] as! [[String: Any]]).map {
            ($0["platform"] as! [String: String])["architecture"]!
        }
        #expect(platforms == ["amd64", "arm64"])
        for arch in ["amd64", "arm64"] {
            let config = try Self.configOf("oci:\(out):2", extra: ["--override-arch", arch])
            #expect(config["architecture"] as? String == arch)
            #expect((config["config"] as! [String: Any])["Entrypoint"] as? [String] == ["/app/app-\(arch)"])
            let bundle = dir + "/bundle-\(arch)"
            let single = dir + "/single-\(arch)"
            try Tools.run("skopeo", ["copy", "--override-arch", arch, "oci:\(out):2", "oci:\(single):x"])
            try Tools.run("umoci", ["unpack", "--rootless", "--image", "\(single):x", bundle])
            #expect(
                FileManager.default.contents(atPath: bundle + "/rootfs/app/app-\(arch)") == Data("\(arch)-bytes".utf8))
            let mode =
                try FileManager.default.attributesOfItem(atPath: bundle + "/rootfs/app/app-\(arch)")[.posixPermissions]
                as! NSNumber
            #expect(mode.intValue == 0o755)
        }
    }

    /// The layer of one tree, its manifest entry and its path.
    static func layer(of layout: String, tag: String) throws -> (mediaType: String, path: String) {
        let digest = try Harness.layoutDigest(layout, tag: tag)
        let manifest =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(layout)/blobs/sha256/" + digest.dropFirst(7))))
            as! [String: Any]
        let layer = (manifest["layers"] as! [[String: Any]])[0]
        return (layer["mediaType"] as! String, "\(layout)/blobs/sha256/" + (layer["digest"] as! String).dropFirst(7))
    }

    /// Parallel gzip gives the same digest on one core (`taskset -c 0`) as on all of them, at every level; zstd
    /// layers carry the OCI zstd type and are read back by zstd, GNU tar and skopeo.
    @Test func compressionIsTheSameOnAnyCoreCountAndReadsBack() throws {
        let site = try Self.sourceTree()
        // Three chunks of 1 MiB and a bit: several deflate jobs, each with the previous chunk as dictionary.
        try Data((0..<3_300_000).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }).write(
            to: URL(fileURLWithPath: site + "/big.bin"))
        let out = Tools.temporaryDirectory("pier-build-compress")
        let add = ["--add", "\(site):/srv/www"]
        var digests: [String: String] = [:]
        for (name, extra) in [("default", []), ("level1", ["--compression-level", "1"])] {
            let all = try Harness.pier(["build", "--output", "oci:\(out)/\(name)-all:1"] + add + extra)
            #expect(all.status == 0, "\(all.stderr)")
            let one = try Tools.run(
                "taskset",
                ["-c", "0", Tools.pierBinary, "build", "--output", "oci:\(out)/\(name)-one:1"] + add + extra,
                environment: Harness.isolatedEnvironment(), check: false)
            #expect(one.status == 0, "\(one.stderr)")
            let digest = try Harness.layoutDigest("\(out)/\(name)-all", tag: "1")
            #expect(try Harness.layoutDigest("\(out)/\(name)-one", tag: "1") == digest)
            let layer = try Self.layer(of: "\(out)/\(name)-all", tag: "1")
            #expect(layer.mediaType == MediaType.ociLayerGzip)
            try Tools.run("gzip", ["-t", layer.path])
            #expect(try Tools.run("tar", ["-tzf", layer.path]).stdout.contains("srv/www/big.bin"))
            digests[name] = digest
        }
        #expect(digests["default"] != digests["level1"])

        let zstd = try Harness.pier(["build", "--compression", "zstd", "--output", "oci:\(out)/zstd:1"] + add)
        #expect(zstd.status == 0, "\(zstd.stderr)")
        let layer = try Self.layer(of: "\(out)/zstd", tag: "1")
        #expect(layer.mediaType == MediaType.ociLayerZstd)
        try Tools.run("zstd", ["-t", layer.path])
        #expect(try Tools.run("tar", ["--zstd", "-tf", layer.path]).stdout.contains("srv/www/big.bin"))
        // skopeo decompresses the zstd layer to recompress it as gzip; umoci (0.4.7 reads no zstd) unpacks that.
        try Tools.run(
            "skopeo", ["copy", "--dest-compress-format", "gzip", "oci:\(out)/zstd:1", "oci:\(out)/regzip:1"])
        #expect(try Self.layer(of: "\(out)/regzip", tag: "1").mediaType == MediaType.ociLayerGzip)
        try Tools.run("umoci", ["unpack", "--rootless", "--image", "\(out)/regzip:1", out + "/bundle"])
        #expect(
            FileManager.default.contents(atPath: out + "/bundle/rootfs/srv/www/big.bin")
                == FileManager.default.contents(atPath: site + "/big.bin"))
    }

    @Test(
        arguments: [
            (["--add", "/nonexistent/pier-file:/x"], Int32(66), "does not exist"),
            (["--add", "/etc/hostname:/../etc/x"], 64, "outside the image root"),
            (["--add", "/etc/hostname:relative/x"], 64, "is not absolute"),
            (["--add", "/etc/hostname"], 64, "is not SRC:DEST"),
            (["--binary", "linux/amd46=/bin/true"], 64, "unknown platform"),
            (["--binary", "/bin/true"], 64, "PLATFORM=PATH"),
            (["--add", "/etc/hostname:/x", "--platform", "plan10/amd64"], 64, "unknown platform"),
            (["--add", "/etc/hostname:/x", "--chmod", "999"], 64, "octal mode"),
            (["--add", "/etc/hostname:/x", "--chown", "root"], 64, "UID[:GID]"),
            (["--add", "/etc/hostname:/x", "--expose", "99999"], 64, "PORT"),
            (["--add", "/etc/hostname:/x", "--entrypoint", "[1,2]"], 64, "JSON list of strings"),
            (["--binary", "linux/amd64=/bin/true", "--platform", "linux/arm64"], 64, "no --binary for linux/arm64"),
            (["--add", "/dev/null:/x"], 65, "not a file, directory or symlink"),
            (["--builder", "buildah", "--file", "/nonexistent/Dockerfile"], 64, "no Dockerfile"),
            (["--add", "/etc/hostname:/x", "--compression-level", "10"], 64, "is not a gzip level (1–9)"),
            (["--add", "/etc/hostname:/x", "--compression-level", "0"], 64, "is not a gzip level"),
            (["--add", "/etc/hostname:/x", "--compression", "zstd", "--compression-level", "20"], 64, "zstd level"),
            (["--add", "/etc/hostname:/x", "--compression", "brotli"], 64, "is not gzip or zstd"),
        ] as [([String], Int32, String)])
    func badBuildInputGetsOneLine(arguments: [String], status: Int32, message: String) throws {
        let out = Tools.temporaryDirectory("pier-build-bad") + "/out"
        let run = try Harness.pier(["build", "--output", "oci:\(out):1"] + arguments)
        #expect(run.status == status, "\(run.stderr)")
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        let index = (try? String(contentsOfFile: out + "/index.json", encoding: .utf8)) ?? ""
        #expect(!index.contains("org.opencontainers.image.ref.name"), "nothing is tagged")
    }

    @Test func outputMustBeALayout() throws {
        let run = try Harness.pier(["build", "--add", "/etc/hostname:/x", "--output", "localhost:5000/app:1"])
        #expect(run.status == 64 && run.stderr.contains("not an OCI layout"), "\(run.stderr)")
    }

    /// buildah builds a FROM scratch + COPY Dockerfile; pier publishes the result with its tag plan.
    @Test func buildahDockerfileThenPublish() throws {
        guard Tools.isInstalled("buildah") else {
            throw Tools.ToolError(description: "buildah is not installed: run scripts/test.sh, which installs it")
        }
        let registry = try TestRegistry()
        let context = Tools.temporaryDirectory("pier-build-ctx")
        try Data("hello from buildah\n".utf8).write(to: URL(fileURLWithPath: context + "/hello.txt"))
        try Data("FROM scratch\nARG WHO=nobody\nCOPY hello.txt /hello.txt\nLABEL who=$WHO\n".utf8)
            .write(to: URL(fileURLWithPath: context + "/Dockerfile"))
        let run = try Harness.pier([
            "publish", "--build", "--builder", "buildah", "--context", context, "--build-arg", "WHO=pier", "--label",
            "team=release",
            "--to", "\(registry.host)/team/app", "--version", "v1.4.0", "--no-sha-tag", "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try ReportJSON.decoder().decode(PublishReport.self, from: run.stdoutBytes)
        #expect(report.tags.map(\.name) == ["1.4.0", "1.4", "1", "latest"])
        for tag in report.tags.map(\.name) {
            #expect(
                Harness.sha256(try Harness.skopeoRaw("\(registry.host)/team/app:\(tag)")) == report.digest.description)
        }
        let config = try Self.configOf("docker://\(registry.host)/team/app:1.4.0")
        let labels = (config["config"] as! [String: Any])["Labels"] as? [String: String]
        #expect(labels?["who"] == "pier" && labels?["team"] == "release")
        let pulled = Tools.temporaryDirectory("pier-build-pull") + "/img"
        try Tools.run(
            "skopeo", ["copy", "--src-tls-verify=false", "docker://\(registry.host)/team/app:1.4.0", "oci:\(pulled):x"])
        try Tools.run("umoci", ["unpack", "--rootless", "--image", "\(pulled):x", pulled + "-bundle"])
        #expect(
            FileManager.default.contents(atPath: pulled + "-bundle/rootfs/hello.txt")
                == Data("hello from buildah\n".utf8))
    }

    /// A pier.yml with a build: section and no source: publish builds natively, then publishes; the digest is the
    /// one `pier build` gives for the same section.
    @Test func publishBuildsFromTheConfigSection() throws {
        let registry = try TestRegistry()
        let site = try Self.sourceTree()
        let dir = Tools.temporaryDirectory("pier-build-yml")
        let config = dir + "/pier.yml"
        try """
        registries:
          - \(registry.host)/web/site
        build:
          add:
            - \(site):/srv/www
          entrypoint: ["/srv/www/run.sh"]
          env:
            MODE: prod
          platforms: [linux/amd64, linux/arm64]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try Harness.pier(["publish", "--config", config, "--version", "v2.0.0", "--no-sha-tag", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try ReportJSON.decoder().decode(PublishReport.self, from: run.stdoutBytes)
        let built = try Harness.pier(["build", "--config", config, "--output", "oci:\(dir)/out:1"])
        #expect(built.status == 0, "\(built.stderr)")
        #expect(try Harness.layoutDigest(dir + "/out", tag: "1") == report.digest.description)
        #expect(Harness.sha256(try Harness.skopeoRaw("\(registry.host)/web/site:2.0.0")) == report.digest.description)
        #expect(report.platforms == ["linux/amd64", "linux/arm64"])

        // A wrong type in the section is one line naming the key and line.
        try "build:\n  add: /srv\n".write(toFile: config, atomically: true, encoding: .utf8)
        let bad = try Harness.pier(["build", "--config", config, "--output", "oci:\(dir)/bad:1"])
        #expect(
            bad.status == 65 && bad.stderr.contains("build.add must be a list") && bad.stderr.contains(":2"),
            "\(bad.stderr)")
    }
}

/// `pier build --json`, as a test reads it.
struct BuildResultFixture: Decodable {
    var output: String
    var digest: String
    var platforms: [String]
}
