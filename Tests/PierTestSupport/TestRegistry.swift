import Foundation

/// A real CNCF distribution registry (Debian's `docker-registry`) on 127.0.0.1 and an ephemeral port, started
/// for one test and stopped with it.
public final class TestRegistry: @unchecked Sendable {
    public enum Auth: Sendable {
        case none
        /// htpasswd (bcrypt) with one user.
        case htpasswd(user: String, password: String)
        /// distribution token auth against a `TokenServer`.
        case token(TokenServer)
    }

    public let port: Int
    public let directory: String
    public private(set) var process: Process
    public let tls: Bool
    /// `127.0.0.1:PORT`.
    public var host: String { "127.0.0.1:\(port)" }

    public init(auth: Auth = .none, tls certificates: Certificates? = nil, deleteEnabled: Bool = true) throws {
        directory = Tools.temporaryDirectory("pier-registry")
        tls = certificates != nil
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = Tools.freePort()
            var config = """
                version: 0.1
                log: {level: error, accesslog: {disabled: true}}
                storage:
                  filesystem: {rootdirectory: \(directory)/data}
                  delete: {enabled: \(deleteEnabled)}
                http:
                  addr: 127.0.0.1:\(port)
                  secret: pier-test-secret

                """
            if let certificates {
                config += "  tls: {certificate: \(certificates.serverCert), key: \(certificates.serverKey)}\n"
            }
            switch auth {
            case .none: break
            case .htpasswd(let user, let password):
                let line = try Tools.run("htpasswd", ["-Bbn", user, password]).stdout
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                try (line + "\n").write(toFile: "\(directory)/htpasswd", atomically: true, encoding: .utf8)
                config += "auth:\n  htpasswd: {realm: pier-test, path: \(directory)/htpasswd}\n"
            case .token(let server):
                config += """
                    auth:
                      token:
                        realm: \(server.realm)
                        service: \(server.service)
                        issuer: \(server.issuer)
                        rootcertbundle: \(server.certificates.tokenCert)

                    """
            }
            try config.write(toFile: "\(directory)/config.yml", atomically: true, encoding: .utf8)
            let process = try Self.launch(directory)
            if Self.waitForPort(port) {
                self.port = port
                self.process = process
                return
            }
            process.terminate()
            process.waitUntilExit()
            lastError = Tools.ToolError(description: "docker-registry did not start on port \(port)")
        }
        throw lastError!
    }

    static func launch(_ directory: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", "\(directory)/config.yml"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        return process
    }

    /// Waits until something accepts connections on the port.
    public static func waitForPort(_ port: Int) -> Bool {
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(fd)
            if connected == 0 { return true }
            usleep(50_000)
        }
        return false
    }

    /// Starts the registry again on the same port with the same storage, after `stop()`.
    public func restart() throws {
        stop()
        process = try Self.launch(directory)
        guard Self.waitForPort(port) else {
            throw Tools.ToolError(description: "docker-registry did not restart on \(port)")
        }
    }

    /// Stops the registry, as when a backup registry goes down mid-run.
    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A CA, a server certificate for 127.0.0.1/localhost signed by it, and a token-signing certificate, made with
/// openssl for one test run.
public final class Certificates: Sendable {
    public let directory: String
    public var caCert: String { "\(directory)/ca.pem" }
    public var serverCert: String { "\(directory)/server.pem" }
    public var serverKey: String { "\(directory)/server.key" }
    public var tokenCert: String { "\(directory)/token.pem" }
    public var tokenKey: String { "\(directory)/token.key" }

    public init() throws {
        directory = Tools.temporaryDirectory("pier-certs")
        let d = directory
        try Tools.run(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=pier test CA", "-keyout", "\(d)/ca.key", "-out", "\(d)/ca.pem",
            ])
        try Tools.run(
            "openssl",
            [
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=127.0.0.1",
                "-keyout", "\(d)/server.key", "-out", "\(d)/server.csr",
            ])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(
            toFile: "\(d)/ext.cnf", atomically: true, encoding: .utf8)
        try Tools.run(
            "openssl",
            [
                "x509", "-req", "-in", "\(d)/server.csr", "-CA", "\(d)/ca.pem", "-CAkey", "\(d)/ca.key",
                "-CAcreateserial",
                "-days", "2", "-extfile", "\(d)/ext.cnf", "-out", "\(d)/server.pem",
            ])
        try Tools.run(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=pier token signer", "-keyout", "\(d)/token.key", "-out", "\(d)/token.pem",
            ])
    }
}
