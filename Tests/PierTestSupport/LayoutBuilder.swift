import Crypto
import Foundation

/// Writes OCI layouts from exact bytes, for tests that need the same digests on every run (golden files).
public struct LayoutBuilder {
    public let root: String

    public init(at root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root + "/blobs/sha256", withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: root + "/oci-layout"))
    }

    /// Stores bytes; returns a descriptor dictionary.
    @discardableResult
    public func blob(_ bytes: Data, mediaType: String) throws -> [String: Any] {
        let hex = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        try bytes.write(to: URL(fileURLWithPath: "\(root)/blobs/sha256/\(hex)"))
        return ["mediaType": mediaType, "digest": "sha256:\(hex)", "size": bytes.count]
    }

    /// An image manifest over a config (JSON object) and layers of the given sizes (deterministic bytes).
    public func image(config: [String: Any], layerSizes: [Int], seed: UInt8) throws -> [String: Any] {
        var layers: [[String: Any]] = []
        for (index, size) in layerSizes.enumerated() {
            let bytes = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index &+ Int(seed)) })
            layers.append(try blob(bytes, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip"))
        }
        let configDescriptor = try blob(
            JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]),
            mediaType: "application/vnd.oci.image.config.v1+json")
        let manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": configDescriptor,
            "layers": layers,
        ]
        return try blob(
            JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]),
            mediaType: "application/vnd.oci.image.manifest.v1+json")
    }

    /// Tags `descriptor` in index.json.
    public func tag(_ descriptor: [String: Any], as tag: String) throws {
        var entry = descriptor
        entry["annotations"] = ["org.opencontainers.image.ref.name": tag]
        let index: [String: Any] = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [entry],
        ]
        try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys]).write(
            to: URL(fileURLWithPath: root + "/index.json"))
    }
}
