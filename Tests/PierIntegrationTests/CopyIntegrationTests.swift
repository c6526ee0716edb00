import Foundation
import PierEngine
import PierModel
import PierTestSupport
import Testing

/// `pier copy` against real docker-registry instances, checked with skopeo.
@Suite(.serialized) struct CopyIntegrationTests {
    init() throws { try Harness.requireTools() }

    @Test func layoutToRegistryIsByteForByteAndSkopeoAgrees() throws {
        let registry = try TestRegistry()
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/layout", tag: "1.0", layers: 3)
        let expected = try Harness.layoutDigest(layout, tag: "1.0")
        let result = try Harness.pier("copy", "oci:\(layout):1.0", "\(registry.host)/team/app:1.0")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(registry.host)/team/app:1.0@\(expected)"
        )
        let raw = try Harness.skopeoRaw("\(registry.host)/team/app:1.0")
        #expect(Harness.sha256(raw) == expected)
        #expect(raw == (try Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + expected.dropFirst(7)))))
        // skopeo pulls every blob back (it verifies each digest) into a layout of its own.
        let back = Tools.temporaryDirectory() + "/back"
        try Tools.run(
            "skopeo", ["copy", "--src-tls-verify=false", "docker://\(registry.host)/team/app:1.0", "oci:\(back):x"])
        #expect(try Harness.layoutDigest(back, tag: "x") == expected)
        // pier digest and inspect agree.
        #expect(try Harness.pier("digest", "\(registry.host)/team/app:1.0").stdout.contains(expected))
        let inspect = try Harness.pier("inspect", "--raw", "\(registry.host)/team/app:1.0")
        #expect(inspect.stdoutBytes == raw)
        // A second copy uploads nothing.
        let again = try Harness.pier("copy", "--json", "oci:\(layout):1.0", "\(registry.host)/team/app:1.0")
        let report = try ReportJSON.decoder().decode(CopyReport.self, from: again.stdoutBytes)
        #expect(report.blobsUploaded == 0 && report.blobsSkipped == 4)
    }

    /// Registry → layout downloads straight into the layout's blob directory: every blob byte for byte, no
    /// temporary file left, and a second pull of the same image into it downloads nothing.
    @Test func registryToLayoutWritesEveryBlobInPlace() throws {
        let registry = try TestRegistry()
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/layout", tag: "1.0", layers: 2, layerSize: 3_000_000)
        let expected = try Harness.layoutDigest(layout, tag: "1.0")
        #expect(try Harness.pier("copy", "oci:\(layout):1.0", "\(registry.host)/pull/app:1.0").status == 0)
        let out = Tools.temporaryDirectory("pier-pull") + "/out"
        let pulled = try Harness.pier("copy", "\(registry.host)/pull/app:1.0", "oci:\(out):1.0")
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(try Harness.layoutDigest(out, tag: "1.0") == expected)
        let blobs = try FileManager.default.contentsOfDirectory(atPath: out + "/blobs/sha256")
        #expect(blobs.allSatisfy { !$0.contains(".tmp") }, "\(blobs)")
        #expect(blobs.count == 4, "\(blobs)")
        for name in blobs {
            #expect(
                FileManager.default.contents(atPath: out + "/blobs/sha256/" + name)
                    == FileManager.default.contents(atPath: layout + "/blobs/sha256/" + name), "\(name)")
        }
        try Tools.run("skopeo", ["copy", "oci:\(out):1.0", "oci:\(out)-check:x"])
        let again = try Harness.pier("copy", "--json", "\(registry.host)/pull/app:1.0", "oci:\(out):2.0")
        let report = try ReportJSON.decoder().decode(CopyReport.self, from: again.stdoutBytes)
        #expect(report.blobsUploaded == 0 && report.blobsSkipped == 3)

        // The registry now serves other bytes of the same length for the first layer: the pull fails on the digest
        // and leaves no layout, no blob and no temporary file behind.
        let manifest =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + expected.dropFirst(7))))
            as! [String: Any]
        let layer = ((manifest["layers"] as! [[String: Any]])[0]["digest"] as! String).dropFirst(7)
        let stored = "\(registry.directory)/data/docker/registry/v2/blobs/sha256/\(layer.prefix(2))/\(layer)/data"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: stored))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: stored))
        let bad = Tools.temporaryDirectory("pier-pull-bad") + "/out"
        let refused = try Harness.pier("copy", "\(registry.host)/pull/app:1.0", "oci:\(bad):1.0")
        #expect(refused.status == 70, "\(refused.stderr)")
        #expect(refused.stderr.contains("hash to"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: bad), "a failed pull left \(bad)")
        let siblings = try FileManager.default.contentsOfDirectory(atPath: (bad as NSString).deletingLastPathComponent)
        #expect(siblings.isEmpty, "\(siblings)")
    }

    @Test func multiPlatformIndexStaysIntact() async throws {
        let registry = try TestRegistry()
        let layout = Tools.temporaryDirectory() + "/multi"
        let indexDigest = try ImageFixtures.multiPlatformImage(at: layout, tag: "multi")
        let store = try Harness.store()
        let report = try await Harness.copy("oci:\(layout):multi", "\(registry.host)/app:multi", store: store)
        #expect(report.digest.description == indexDigest)
        #expect(report.manifestsPushed == 3)
        let raw = try Harness.skopeoRaw("\(registry.host)/app:multi")
        #expect(Harness.sha256(raw) == indexDigest)
        let index = try JSONSerialization.jsonObject(with: raw) as! [String: Any]
        for entry in index["manifests"] as! [[String: Any]] {
            let child = entry["digest"] as! String
            #expect(Harness.sha256(try Harness.skopeoRaw("\(registry.host)/app@\(child)")) == child)
        }
        // Registry to registry keeps the index digest; --platform copies one child.
        let second = try TestRegistry()
        let copied = try await Harness.copy("\(registry.host)/app:multi", "\(second.host)/mirror/app", store: store)
        #expect(copied.digest.description == indexDigest)
        #expect(copied.tag == "multi")
        let arm = try await Harness.copy(
            "\(registry.host)/app:multi", "\(second.host)/mirror/app:arm", store: store,
            platform: Platform(os: "linux", architecture: "arm64"))
        let armDigest =
            (index["manifests"] as! [[String: Any]]).first {
                ($0["platform"] as! [String: String])["architecture"] == "arm64"
            }!["digest"] as! String
        #expect(arm.digest.description == armDigest)
        #expect(Harness.sha256(try Harness.skopeoRaw("\(second.host)/mirror/app:arm")) == armDigest)
        await store.pool.shutdown()
    }

    @Test func sameRegistryMountsAndSameRepositorySendsOnlyManifests() async throws {
        let registry = try TestRegistry()
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 2)
        let store = try Harness.store()
        let first = try await Harness.copy("oci:\(layout):1.0", "\(registry.host)/a/app:1.0", store: store)
        #expect(first.blobsUploaded == 3)
        let mounted = try await Harness.copy("\(registry.host)/a/app:1.0", "\(registry.host)/b/app:1.0", store: store)
        #expect(mounted.blobsMounted == 3 && mounted.blobsUploaded == 0)
        let retag = try await Harness.copy("\(registry.host)/a/app:1.0", "\(registry.host)/a/app:stable", store: store)
        #expect(retag.blobsUploaded == 0 && retag.blobsMounted == 0 && retag.manifestsPushed == 0)
        #expect(Harness.sha256(try Harness.skopeoRaw("\(registry.host)/a/app:stable")) == first.digest.description)
        #expect(Harness.sha256(try Harness.skopeoRaw("\(registry.host)/b/app:1.0")) == first.digest.description)
        let tags = try Harness.pier("tags", "--json", "\(registry.host)/a/app")
        #expect(try JSONDecoder().decode([String].self, from: tags.stdoutBytes).sorted() == ["1.0", "stable"])
        await store.pool.shutdown()
    }

    @Test func archivesFromSkopeo() throws {
        let registry = try TestRegistry()
        let dir = Tools.temporaryDirectory()
        let layout = try ImageFixtures.umociImage(at: dir + "/l", tag: "1.0", layers: 2)
        let expected = try Harness.layoutDigest(layout, tag: "1.0")
        try Tools.run("skopeo", ["copy", "oci:\(layout):1.0", "oci-archive:\(dir)/image.tar:1.0"])
        let fromArchive = try Harness.pier("copy", "oci-archive:\(dir)/image.tar:1.0", "\(registry.host)/arch/app:1.0")
        #expect(fromArchive.status == 0, "\(fromArchive.stderr)")
        #expect(Harness.sha256(try Harness.skopeoRaw("\(registry.host)/arch/app:1.0")) == expected)

        // docker save format: new (gzip) layer digests, same config, deterministic across runs.
        try Tools.run("skopeo", ["copy", "oci:\(layout):1.0", "docker-archive:\(dir)/docker.tar:example/app:1.0"])
        let first = try Harness.pier(
            "copy", "--json", "docker-archive:\(dir)/docker.tar", "\(registry.host)/docker/app:one")
        #expect(first.status == 0, "\(first.stderr)")
        let second = try Harness.pier(
            "copy", "--json", "docker-archive:\(dir)/docker.tar:example/app:1.0", "\(registry.host)/docker/app:two")
        let a = try ReportJSON.decoder().decode(CopyReport.self, from: first.stdoutBytes)
        let b = try ReportJSON.decoder().decode(CopyReport.self, from: second.stdoutBytes)
        #expect(a.digest == b.digest)
        #expect(a.mediaType == MediaType.dockerManifest)
        let manifest =
            try JSONSerialization.jsonObject(with: Harness.skopeoRaw("\(registry.host)/docker/app:one"))
            as! [String: Any]
        let ociManifest =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + expected.dropFirst(7))))
            as! [String: Any]
        #expect(
            (manifest["config"] as! [String: Any])["digest"] as? String == (ociManifest["config"] as! [String: Any])[
                "digest"] as? String)
        // skopeo can pull the converted image completely (it checks every blob digest).
        try Tools.run(
            "skopeo",
            ["copy", "--src-tls-verify=false", "docker://\(registry.host)/docker/app:one", "oci:\(dir)/pulled:x"])

        // pier writes archives and layouts that skopeo reads.
        let out = try Harness.pier("copy", "\(registry.host)/arch/app:1.0", "oci-archive:\(dir)/out.tar:v1")
        #expect(out.status == 0, "\(out.stderr)")
        try Tools.run("skopeo", ["copy", "oci-archive:\(dir)/out.tar:v1", "oci:\(dir)/roundtrip:v1"])
        #expect(try Harness.layoutDigest(dir + "/roundtrip", tag: "v1") == expected)
    }
}
