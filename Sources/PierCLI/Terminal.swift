#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PierModel

/// stdout for results, stderr for logs and the live progress line (on a TTY only).
///
/// Every text goes out through `TerminalText.escaped`: what registries, archives and config files say reaches the
/// terminal as visible characters, never as escape sequences. The only control sequences written are pier's own
/// (the progress line's erase).
final class Terminal: @unchecked Sendable {
    static let shared = Terminal()
    private let lock = NSLock()
    let stdoutIsTTY = isatty(1) == 1
    let stderrIsTTY = isatty(2) == 1
    private var progressShown = false

    /// A result line on stdout; a newline inside `line` is escaped.
    func print(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        Self.write(1, Array((TerminalText.escaped(line) + "\n").utf8))
    }

    /// A multi-line text document on stdout (release notes), its own newlines kept.
    func printDocument(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        Self.write(1, Array(TerminalText.escaped(text, keepingNewlines: true).utf8))
    }

    /// Exact bytes on stdout (`inspect --raw`), for pipes that hash them; on a terminal they are shown escaped.
    func write(_ bytes: [UInt8]) {
        guard !stdoutIsTTY else { return printDocument(String(decoding: bytes, as: UTF8.self)) }
        lock.lock()
        defer { lock.unlock() }
        Self.write(1, bytes)
    }

    /// A log line on stderr, clearing the progress line first.
    func log(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        if progressShown { Self.write(2, Array("\r\u{1B}[2K".utf8)) }
        progressShown = false
        Self.write(2, Array((TerminalText.escaped(line) + "\n").utf8))
    }

    /// Replaces the progress line (TTY only).
    func progress(_ line: String) {
        guard stderrIsTTY else { return }
        lock.lock()
        defer { lock.unlock() }
        Self.write(2, Array("\r\u{1B}[2K\(TerminalText.escaped(line))".utf8))
        progressShown = true
    }

    func clearProgress() {
        guard stderrIsTTY else { return }
        lock.lock()
        defer { lock.unlock() }
        if progressShown { Self.write(2, Array("\r\u{1B}[2K".utf8)) }
        progressShown = false
    }

    /// Writes with POSIX write(2). pier ignores SIGPIPE (a credential helper may exit before reading its stdin),
    /// so a closed stdout (`pier tags | head`) shows up here as EPIPE: stop quietly, as a pipeline expects.
    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if result < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { exit(0) }
                return
            }
            offset += result
        }
    }

    /// Encodes a result as pretty, key-sorted JSON on stdout; dates as RFC 3339.
    func printJSON(_ value: some Encodable) throws {
        let text = TerminalText.escapedJSON(String(decoding: try ReportJSON.encoder().encode(value), as: UTF8.self))
        lock.lock()
        defer { lock.unlock() }
        Self.write(1, Array((text + "\n").utf8))
    }
}

/// Bytes moved per blob, drawn as one live line on a TTY: `↑ 45.2 MB · sha256:ab12 3.1/10.0 MB · …`.
final class ProgressDisplay: @unchecked Sendable {
    private let lock = NSLock()
    private var perBlob: [Digest: Int64] = [:]
    private var sizes: [Digest: Int64] = [:]
    private var total: Int64 = 0
    private var lastDraw = ContinuousClock.now

    func expect(_ descriptors: [Descriptor]) {
        lock.lock()
        for descriptor in descriptors { sizes[descriptor.digest] = descriptor.size }
        lock.unlock()
    }

    func add(_ digest: Digest, _ bytes: Int) {
        lock.lock()
        perBlob[digest, default: 0] += Int64(bytes)
        total += Int64(bytes)
        let now = ContinuousClock.now
        guard now - lastDraw > .milliseconds(150) else {
            lock.unlock()
            return
        }
        lastDraw = now
        let active = perBlob.filter { $0.value < (sizes[$0.key] ?? Int64.max) }.sorted { $0.key < $1.key }.prefix(3)
        var line = "↑ \(Self.format(total))"
        for (digest, done) in active {
            line += " · \(digest.short) \(Self.format(done))"
            if let size = sizes[digest] { line += "/\(Self.format(size))" }
        }
        lock.unlock()
        Terminal.shared.progress(line)
    }

    static func format(_ bytes: Int64) -> String { ByteCount.format(bytes) }
}
