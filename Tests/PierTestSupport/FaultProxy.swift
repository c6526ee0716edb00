import Foundation

/// The fault-injecting proxy (`Resources/fault_proxy.py`) in front of a registry, for one seeded schedule.
public final class FaultProxy: @unchecked Sendable {
    public let port: Int
    let process: Process
    let log: String
    public var host: String { "127.0.0.1:\(port)" }

    public static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/fault_proxy.py")
            .path
    }

    /// `faults` narrows the kinds drawn (see the script); `stall` is how long a stall lasts, in seconds.
    /// With `tls`, the proxy serves HTTPS with the server certificate.
    public init(
        upstreamPort: Int, seed: Int, rate: Double, faults kinds: [String]? = nil, stall: Double? = nil,
        tls: Certificates? = nil
    ) throws {
        let dir = Tools.temporaryDirectory("pier-proxy")
        let portFile = dir + "/port"
        log = dir + "/faults.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, "\(upstreamPort)", "\(seed)", "\(rate)", portFile]
        var environment = ProcessInfo.processInfo.environment
        if let kinds { environment["PROXY_FAULTS"] = kinds.joined(separator: ",") }
        if let stall { environment["PROXY_STALL"] = "\(stall)" }
        if let tls {
            environment["PROXY_TLS_CERT"] = tls.serverCert
            environment["PROXY_TLS_KEY"] = tls.serverKey
        }
        process.environment = environment
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        var found = 0
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let value = Int(text) {
                found = value
                break
            }
            usleep(20_000)
        }
        guard found > 0 else { throw Tools.ToolError(description: "fault proxy did not start") }
        port = found
    }

    /// The faults injected so far, one line each.
    public var faults: [String] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").filter {
            $0.hasPrefix("fault ")
        }.map(String.init)
    }

    public func stop() {
        // SIGKILL: a child started from a test thread can inherit a signal mask that blocks SIGTERM.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
