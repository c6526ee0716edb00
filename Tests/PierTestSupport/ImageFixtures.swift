import Crypto
import Foundation

/// Test images made by independent tools (umoci), so pier is checked against images it did not write.
public enum ImageFixtures {
    /// An OCI layout at `directory` with image `tag` of `layers` layers of random bytes (`layerSize` each).
    @discardableResult
    public static func umociImage(
        at directory: String, tag: String = "1.0", layers: Int = 2, layerSize: Int = 200_000, arch: String = "amd64",
        created: String? = nil
    ) throws -> String {
        if !FileManager.default.fileExists(atPath: directory + "/index.json") {
            try Tools.run("umoci", ["init", "--layout", directory])
        }
        try Tools.run("umoci", ["new", "--image", "\(directory):\(tag)"])
        let scratch = Tools.temporaryDirectory("pier-fixture")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for index in 0..<layers {
            let file = "\(scratch)/layer\(index).bin"
            var bytes = [UInt8](repeating: 0, count: layerSize)
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
            FileManager.default.createFile(atPath: file, contents: Data(bytes))
            try Tools.run("umoci", ["insert", "--image", "\(directory):\(tag)", file, "/data/layer\(index).bin"])
        }
        try Tools.run(
            "umoci",
            [
                "config", "--image", "\(directory):\(tag)", "--os", "linux", "--architecture", arch,
                "--config.entrypoint", "/data/layer0.bin", "--config.label", "org.opencontainers.image.version=\(tag)",
            ] + (created.map { ["--created", $0] } ?? []))
        return directory
    }

    /// A two-platform OCI layout: an index tagged `tag` over an amd64 and an arm64 image, written by hand from
    /// umoci-made images (umoci does not write indexes).
    @discardableResult
    public static func multiPlatformImage(at directory: String, tag: String = "multi") throws -> String {
        try umociImage(at: directory, tag: "amd64", layers: 1, layerSize: 50_000, arch: "amd64")
        try umociImage(at: directory, tag: "arm64", layers: 1, layerSize: 50_000, arch: "arm64")
        let indexData = try Data(contentsOf: URL(fileURLWithPath: directory + "/index.json"))
        let index = try JSONSerialization.jsonObject(with: indexData) as! [String: Any]
        var manifests = index["manifests"] as! [[String: Any]]
        var entries: [[String: Any]] = []
        for (name, arch) in [("amd64", "amd64"), ("arm64", "arm64")] {
            var entry = manifests.first {
                ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == name
            }!
            entry["annotations"] = nil
            entry["platform"] = ["os": "linux", "architecture": arch]
            entries.append(entry)
        }
        let child: [String: Any] = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries,
        ]
        let bytes = try JSONSerialization.data(withJSONObject: child, options: [.sortedKeys])
        let digest = sha256Hex(bytes)
        try bytes.write(to: URL(fileURLWithPath: "\(directory)/blobs/sha256/\(digest)"))
        manifests.append([
            "mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:\(digest)", "size": bytes.count,
            "annotations": ["org.opencontainers.image.ref.name": tag],
        ])
        var updated = index
        updated["manifests"] = manifests
        try JSONSerialization.data(withJSONObject: updated, options: [.sortedKeys]).write(
            to: URL(fileURLWithPath: directory + "/index.json"))
        return "sha256:\(digest)"
    }

    public static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
