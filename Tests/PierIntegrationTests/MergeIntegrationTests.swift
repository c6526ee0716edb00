import Foundation
import PierEngine
import PierModel
import PierTestSupport
import Testing

/// `pier merge` and `pier publish --source A --source B`: per-architecture builds from `pier build` (and an index
/// with a buildx attestation) combined into one index, published to a real registry, read back with skopeo and umoci.
@Suite(.serialized) struct MergeIntegrationTests {
    init() throws { try Harness.requireTools() }

    /// One single-platform image per platform from `pier build`, in layouts `<root>/<arch>:1`.
    static func builds(_ platforms: [String]) throws -> (root: String, digests: [String: String]) {
        let root = Tools.temporaryDirectory("pier-merge")
        try Data("merged\n".utf8).write(to: URL(fileURLWithPath: root + "/motd"))
        var digests: [String: String] = [:]
        for platform in platforms {
            let arch = String(platform.split(separator: "/")[1])
            let built = try Harness.pier([
                "build", "--platform", platform, "--add", "\(root)/motd:/etc/motd", "--output", "oci:\(root)/\(arch):1",
            ])
            #expect(built.status == 0, "\(built.stderr)")
            digests[arch] = try Harness.layoutDigest("\(root)/\(arch)", tag: "1")
        }
        return (root, digests)
    }

    /// An index as buildx writes it: one s390x image and its attestation manifest (platform unknown/unknown).
    static func attestedIndex(at directory: String) throws -> (image: String, attestation: String) {
        let layout = try LayoutBuilder(at: directory)
        let image = try layout.image(
            config: ["architecture": "s390x", "os": "linux", "rootfs": ["type": "layers", "diff_ids": []]],
            layerSizes: [2_000], seed: 9)
        let statement = try layout.blob(
            Data(
                #"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2"}"#
                    .utf8),
            mediaType: "application/vnd.in-toto+json")
        let config = try layout.blob(Data("{}".utf8), mediaType: "application/vnd.oci.image.config.v1+json")
        var attestation = try layout.blob(
            JSONSerialization.data(
                withJSONObject: [
                    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config,
                    "layers": [statement],
                ], options: [.sortedKeys]),
            mediaType: "application/vnd.oci.image.manifest.v1+json")
        var platformImage = image
        platformImage["platform"] = ["os": "linux", "architecture": "s390x"]
        attestation["platform"] = ["os": "unknown", "architecture": "unknown"]
        attestation["annotations"] = [
            "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": image["digest"]!,
        ]
        let index = try layout.blob(
            JSONSerialization.data(
                withJSONObject: [
                    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [platformImage, attestation],
                ], options: [.sortedKeys]),
            mediaType: "application/vnd.oci.image.index.v1+json")
        try layout.tag(index, as: "1")
        return (image["digest"] as! String, attestation["digest"] as! String)
    }

    static func entries(_ raw: Data) throws -> [[String: Any]] {
        let index = try JSONSerialization.jsonObject(with: raw) as! [String: Any]
        return index["manifests"] as! [[String: Any]]
    }

    @Test func mergedBuildsPublishAsOneDeterministicIndex() throws {
        let (root, digests) = try Self.builds(["linux/amd64", "linux/arm64"])
        let attested = try Self.attestedIndex(at: root + "/s390x")
        let sources = ["oci:\(root)/arm64:1", "oci:\(root)/amd64:1", "oci:\(root)/s390x:1"]

        let first = try Harness.pier(
            ["merge", "--json", "--output", "oci:\(root)/merged:1"] + sources.flatMap { ["--source", $0] })
        #expect(first.status == 0, "\(first.stderr)")
        let report = try JSONDecoder().decode(MergeOperation.Report.self, from: first.stdoutBytes)
        #expect(report.platforms == ["linux/amd64", "linux/arm64", "linux/s390x"])
        #expect(report.entries == 4)

        // Another order of the same inputs, another output: the same index digest.
        let second = try Harness.pier(
            ["merge", "--json", "--output", "oci:\(root)/again:1"] + sources.reversed().flatMap { ["--source", $0] })
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try JSONDecoder().decode(MergeOperation.Report.self, from: second.stdoutBytes).digest == report.digest)
        #expect(try Harness.layoutDigest("\(root)/merged", tag: "1") == report.digest.description)

        // Publish straight from the builds: same digest, children unchanged, the attestation next to its image.
        let registry = try TestRegistry()
        let published = try Harness.pier(
            ["publish", "--json", "--no-sha-tag", "--version", "2.0.0", "--to", "\(registry.host)/org/app"]
                + sources.flatMap { ["--source", $0] })
        #expect(published.status == 0, "\(published.stderr)")
        let raw = try Harness.skopeoRaw("\(registry.host)/org/app:2.0.0")
        #expect(Harness.sha256(raw) == report.digest.description)
        let entries = try Self.entries(raw)
        #expect(
            entries.map { $0["digest"] as! String } == [
                digests["amd64"]!, digests["arm64"]!, attested.image, attested.attestation,
            ])
        #expect(
            entries.map { ($0["platform"] as? [String: String])?["architecture"] }
                == ["amd64", "arm64", "s390x", "unknown"])
        #expect(
            (entries[3]["annotations"] as? [String: String])?["vnd.docker.reference.digest"] == attested.image)
        for (arch, digest) in digests {
            let child = try Harness.skopeoRaw("\(registry.host)/org/app@\(digest)")
            #expect(Harness.sha256(child) == digest, "\(arch)")
        }

        // umoci unpacks the arm64 image skopeo picks out of the published index.
        let picked = root + "/picked"
        try Tools.run(
            "skopeo",
            [
                "copy", "--src-tls-verify=false", "--override-arch", "arm64", "docker://\(registry.host)/org/app:2.0.0",
                "oci:\(picked):arm64",
            ])
        try Tools.run("umoci", ["unpack", "--rootless", "--image", "\(picked):arm64", root + "/bundle"])
        #expect(FileManager.default.contents(atPath: root + "/bundle/rootfs/etc/motd") == Data("merged\n".utf8))
        #expect(try Harness.layoutDigest(picked, tag: "arm64") == digests["arm64"])
    }

    @Test func aPlatformGivenTwiceIsRefused() throws {
        let (root, _) = try Self.builds(["linux/arm64"])
        // A second arm64 build with other contents: `arm64` and `arm64/v8` are one platform.
        try Data("other\n".utf8).write(to: URL(fileURLWithPath: root + "/motd"))
        let other = try Harness.pier([
            "build", "--platform", "linux/arm64/v8", "--add", "\(root)/motd:/etc/motd", "--output", "oci:\(root)/v8:1",
        ])
        #expect(other.status == 0, "\(other.stderr)")
        let merged = try Harness.pier([
            "merge", "--source", "oci:\(root)/arm64:1", "--source", "oci:\(root)/v8:1", "--output", "oci:\(root)/m:1",
        ])
        #expect(merged.status == 64, "\(merged.stderr)")
        #expect(merged.stderr.contains("two images for linux/arm64"), "\(merged.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/m"))
        let one = try Harness.pier(["merge", "--source", "oci:\(root)/arm64:1", "--output", "oci:\(root)/m:1"])
        #expect(one.status == 64, "\(one.stderr)")
    }
}
