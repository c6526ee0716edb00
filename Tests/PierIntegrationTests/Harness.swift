import Foundation
import Logging
import PierEngine
import PierHTTP
import PierModel
import PierRegistry
import PierTestSupport
import Testing

/// Shared helpers: run pier and skopeo with a private docker config, open engine stores.
enum Harness {
    /// An empty DOCKER_CONFIG directory, so tests never read or write the developer's logins.
    static func isolatedEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        let dir = Tools.temporaryDirectory("pier-docker-config")
        var env = ["DOCKER_CONFIG": dir, "PIER_USERNAME": "", "PIER_PASSWORD": "", "GITHUB_TOKEN": ""]
        for (key, value) in extra { env[key] = value }
        return env
    }

    static func pier(_ arguments: String..., stdin: String? = nil, env: [String: String] = isolatedEnvironment()) throws
        -> Tools.Result
    {
        try pier(arguments, stdin: stdin, env: env)
    }

    static func pier(_ arguments: [String], stdin: String? = nil, env: [String: String] = isolatedEnvironment()) throws
        -> Tools.Result
    {
        try Tools.pier(arguments, stdin: stdin.map { Data($0.utf8) }, environment: env)
    }

    /// `skopeo inspect --raw` bytes, as an independent reader of what pier wrote.
    static func skopeoRaw(_ reference: String, extra: [String] = []) throws -> Data {
        try Tools.run("skopeo", ["inspect", "--raw", "--tls-verify=false"] + extra + ["docker://\(reference)"])
            .stdoutBytes
    }

    static func sha256(_ data: Data) -> String { "sha256:" + ImageFixtures.sha256Hex(data) }

    /// Digest of the image tagged `tag` in an OCI layout, read from its index.json.
    static func layoutDigest(_ directory: String, tag: String) throws -> String {
        let index =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/index.json")))
            as! [String: Any]
        let entries = index["manifests"] as! [[String: Any]]
        let entry = entries.first {
            ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == tag
        }!
        return entry["digest"] as! String
    }

    /// An engine store; `credentials` are by registry host, as the CLI binds them.
    static func store(
        credentials: [String: Credential] = [:], caFile: String? = nil, insecure: Set<String> = [],
        dockerConfig: String? = nil
    ) throws -> ImageStore {
        var logger = Logger(label: "pier-test")
        logger.logLevel = .warning
        let config = DockerConfig(path: dockerConfig ?? Tools.temporaryDirectory("pier-dc") + "/config.json")
        let options = RegistryOptions(
            insecureHosts: insecure, caFile: caFile, retry: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(20)),
            credentials: CredentialChain(explicitByHost: credentials, dockerConfig: config, environment: [:]),
            logger: logger)
        return ImageStore(pool: try RegistryPool(options: options))
    }

    /// Copies with the engine and returns the report.
    static func copy(_ source: String, _ destination: String, store: ImageStore, platform: Platform? = nil) async throws
        -> CopyReport
    {
        let from = try await store.openSource(try ImageLocation(parsing: source))
        defer { Task { await from.close() } }
        let to = try await store.openDestination(try ImageLocation(parsing: destination))
        return try await Copier(concurrency: 4).copy(from: from, to: to, platform: platform)
    }

    static func requireTools() throws {
        for tool in ["docker-registry", "skopeo", "umoci", "htpasswd", "openssl"] where !Tools.isInstalled(tool) {
            throw Tools.ToolError(description: "\(tool) is not installed: run scripts/test.sh, which installs it")
        }
    }
}
