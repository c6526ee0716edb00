import Foundation

/// Running external programs (docker-registry, skopeo, umoci, openssl, the pier binary) from tests.
public enum Tools {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var stdoutBytes: Data
    }

    /// Runs a program to completion, with optional stdin and extra environment.
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
        check: Bool = true
    ) throws -> Result {
        _ = ignoreSIGPIPE
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
        process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try? input.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child cannot fill one and block.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        let result = Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self), stdoutBytes: outData)
        if check, result.status != 0 {
            throw ToolError(
                description:
                    "\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result
    }

    /// Writing stdin to a child that already exited raises SIGPIPE, which would kill the whole test process.
    static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN) }()

    public struct ToolError: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// A free TCP port on 127.0.0.1 (bound, read, released).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A new empty directory for one test.
    public static func temporaryDirectory(_ name: String = "pier-test") -> String {
        let path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The built `pier` executable: `PIER_BIN`, or next to the test bundle in `.build/debug`.
    public static var pierBinary: String {
        if let bin = ProcessInfo.processInfo.environment["PIER_BIN"] { return bin }
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pier")
                .path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/pier").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[1]
    }

    /// Runs pier with a private docker config directory.
    @discardableResult
    public static func pier(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws
        -> Result
    {
        try run(pierBinary, arguments, stdin: stdin, environment: environment, check: false)
    }

    public static func isInstalled(_ program: String) -> Bool {
        (try? run("which", [program], check: false).status) == 0
    }
}
