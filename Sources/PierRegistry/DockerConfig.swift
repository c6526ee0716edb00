import Foundation
import PierModel

/// docker's `config.json` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), read and written in docker's
/// own format so docker, skopeo and pier share logins. Unknown keys are kept on write.
public struct DockerConfig: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The file docker itself would use.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> DockerConfig {
        if let dir = environment["DOCKER_CONFIG"], !dir.isEmpty { return DockerConfig(path: dir + "/config.json") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return DockerConfig(path: home + "/.docker/config.json")
    }

    /// docker keeps Docker Hub under this key.
    public static let dockerHubKey = "https://index.docker.io/v1/"

    /// Maps the spellings of a registry found in config files and on command lines to one key:
    /// scheme and path dropped, Docker Hub's aliases folded into `docker.io`.
    public static func normalizedHost(_ text: String) -> String {
        var host = Substring(text)
        for prefix in ["https://", "http://"] where host.hasPrefix(prefix) { host = host.dropFirst(prefix.count) }
        if let slash = host.firstIndex(of: "/") { host = host[..<slash] }
        let lowered = host.lowercased()
        switch lowered {
        case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com": return "docker.io"
        default: return lowered
        }
    }

    /// The key docker writes for a host in `auths`.
    public static func key(for host: String) -> String {
        normalizedHost(host) == "docker.io" ? dockerHubKey : normalizedHost(host)
    }

    func load() throws(PierError) -> [String: Any] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            if data.isEmpty { return [:] }
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw PierError(.invalidInput, operation: "read docker config", message: "not a JSON object", registry: path)
            }
            return object
        } catch let error as PierError {
            throw error
        } catch {
            throw PierError(
                .invalidInput, operation: "read docker config", message: "cannot parse \(path)",
                hint: "fix or remove the file", cause: "\(error.localizedDescription)")
        }
    }

    /// The credential stored for `host`, looking at `credHelpers`, `auths` and `credsStore` in docker's order.
    public func credential(for host: String) throws(PierError) -> Credential? {
        let config = try load()
        let normalized = Self.normalizedHost(host)
        if let helpers = config["credHelpers"] as? [String: String],
            let helper = helpers.first(where: { Self.normalizedHost($0.key) == normalized })?.value
        {
            return try CredentialHelper(name: helper).get(serverURL: Self.key(for: host))
        }
        if let auths = config["auths"] as? [String: Any],
            let entry = auths.first(where: { Self.normalizedHost($0.key) == normalized })?.value as? [String: Any]
        {
            if let token = entry["identitytoken"] as? String, !token.isEmpty { return .identityToken(token) }
            if let auth = entry["auth"] as? String, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) }),
                    let colon = decoded.firstIndex(of: ":")
                else {
                    throw PierError(
                        .invalidInput, operation: "read docker config",
                        message: "the \"auth\" entry for \(host) is not base64 of user:password", registry: path,
                        hint: "run 'pier login \(host)' again")
                }
                return .basic(username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
            }
            if let user = entry["username"] as? String, let password = entry["password"] as? String {
                return .basic(username: user, password: password)
            }
        }
        if let store = config["credsStore"] as? String, !store.isEmpty {
            return try CredentialHelper(name: store).get(serverURL: Self.key(for: host))
        }
        return nil
    }

    /// Stores `username`/`password` for `host`: through `credsStore` when one is configured, else in `auths`.
    public func store(host: String, username: String, password: String) throws(PierError) {
        var config = try load()
        if let store = config["credsStore"] as? String, !store.isEmpty {
            try CredentialHelper(name: store).store(serverURL: Self.key(for: host), username: username, secret: password)
            var auths = config["auths"] as? [String: Any] ?? [:]
            auths[Self.key(for: host)] = [String: Any]()
            config["auths"] = auths
        } else {
            var auths = config["auths"] as? [String: Any] ?? [:]
            let normalized = Self.normalizedHost(host)
            for key in auths.keys where Self.normalizedHost(key) == normalized { auths[key] = nil }
            auths[Self.key(for: host)] = ["auth": Data("\(username):\(password)".utf8).base64EncodedString()]
            config["auths"] = auths
        }
        try write(config)
    }

    /// Removes what is stored for `host`. Returns false when nothing was stored.
    @discardableResult
    public func erase(host: String) throws(PierError) -> Bool {
        var config = try load()
        var auths = config["auths"] as? [String: Any] ?? [:]
        let normalized = Self.normalizedHost(host)
        let keys = auths.keys.filter { Self.normalizedHost($0) == normalized }
        if let store = config["credsStore"] as? String, !store.isEmpty {
            try? CredentialHelper(name: store).erase(serverURL: Self.key(for: host))
        }
        guard !keys.isEmpty else { return false }
        for key in keys { auths[key] = nil }
        config["auths"] = auths
        try write(config)
        return true
    }

    /// Writes atomically with mode 0600: the file holds secrets.
    func write(_ config: [String: Any]) throws(PierError) {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            let temporary = path + ".pier-\(getpid())"
            guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600])
            else {
                throw PierError(.other, operation: "write docker config", message: "cannot create \(temporary)")
            }
            if rename(temporary, path) != 0 {
                let code = errno
                unlink(temporary)
                throw PierError(
                    .other, operation: "write docker config", message: "cannot replace \(path)",
                    cause: String(cString: strerror(code)))
            }
        } catch let error as PierError {
            throw error
        } catch {
            throw PierError(.other, operation: "write docker config", message: "cannot write \(path)", cause: "\(error)")
        }
    }
}
