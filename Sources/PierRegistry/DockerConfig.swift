import Foundation
import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
                throw PierError(
                    .invalidInput, operation: "read docker config", message: "not a JSON object", registry: path)
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
                return .basic(
                    username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
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
            try CredentialHelper(name: store).store(
                serverURL: Self.key(for: host), username: username, secret: password)
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

    /// Writes atomically, the file 0600 from the moment it exists: it holds secrets. The new file is created with
    /// O_CREAT|O_EXCL (a planted file or symlink at its name is refused, not followed) and mode 0600, then fchmod'ed
    /// to exactly 0600 whatever the umask, written, synced and renamed over the old one. Directories pier creates
    /// for it are 0700.
    func write(_ config: [String: Any]) throws(PierError) {
        func failure(_ message: String, _ code: Int32) -> PierError {
            PierError(
                .other, operation: "write docker config", message: message, cause: String(cString: strerror(code)))
        }
        let data: Data
        do { data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]) } catch {
            throw PierError(
                .other, operation: "write docker config", message: "cannot encode \(path)", cause: "\(error)")
        }
        try Self.makePrivateDirectories((path as NSString).deletingLastPathComponent)
        let temporary = path + ".pier-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot create \(temporary)", errno) }
        var code: Int32 = 0
        if fchmod(fd, 0o600) != 0 { code = errno }
        data.withUnsafeBytes { buffer in
            var written = 0
            while code == 0, written < buffer.count {
                let result = systemWrite(fd, buffer.baseAddress! + written, buffer.count - written)
                if result < 0, errno == EINTR { continue }
                if result <= 0 { code = errno == 0 ? EIO : errno } else { written += result }
            }
        }
        if code == 0, fsync(fd) != 0 { code = errno }
        close(fd)
        if code == 0, rename(temporary, path) != 0 { code = errno }
        guard code == 0 else {
            unlink(temporary)
            throw failure("cannot write \(path)", code)
        }
    }

    /// Creates `directory` and its missing parents with mode 0700 (exactly, whatever the umask); existing ones are
    /// left as they are.
    static func makePrivateDirectories(_ directory: String) throws(PierError) {
        guard !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) else { return }
        try makePrivateDirectories((directory as NSString).deletingLastPathComponent)
        if mkdir(directory, 0o700) == 0 {
            chmod(directory, 0o700)
        } else if errno != EEXIST {
            throw PierError(
                .other, operation: "write docker config", message: "cannot create \(directory)",
                cause: String(cString: strerror(errno)))
        }
    }
}

/// write(2), named apart from `DockerConfig.write`.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(fd, buffer, count)
    #else
        Darwin.write(fd, buffer, count)
    #endif
}
