import Foundation
import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
    private var progressLines = 0
    /// stderr's width in columns (TIOCGWINSZ), 80 when it is not known.
    let terminalWidth: Int = {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }()

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

    /// A log line on stderr, clearing the progress lines first (they are drawn again on the next update).
    func log(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        eraseProgress()
        Self.write(2, Array((TerminalText.escaped(line) + "\n").utf8))
    }

    /// Replaces the live progress lines (TTY only).
    func progress(_ lines: [String]) {
        guard stderrIsTTY else { return }
        lock.lock()
        defer { lock.unlock() }
        eraseProgress()
        // A line wider than the terminal would wrap and throw off the erase: cut it to the width.
        let width = max(20, terminalWidth - 1)
        Self.write(2, Array(lines.map { String(TerminalText.escaped($0).prefix(width)) + "\n" }.joined().utf8))
        progressLines = lines.count
    }

    func clearProgress() {
        guard stderrIsTTY else { return }
        lock.lock()
        defer { lock.unlock() }
        eraseProgress()
    }

    /// Moves up over the progress lines and erases to the end of the screen (ECMA-48 CPL and ED).
    private func eraseProgress() {
        if progressLines > 0 { Self.write(2, Array("\u{1B}[\(progressLines)F\u{1B}[J".utf8)) }
        progressLines = 0
    }

    /// Writes with POSIX write(2). pier ignores SIGPIPE (a credential helper may exit before reading its stdin),
    /// so a closed stdout (`pier tags | head`) shows up here as EPIPE: stop quietly, as a pipeline expects.
    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + offset, bytes.count - offset) }
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

/// write(2), from whichever C library the platform has.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        return Glibc.write(fd, buffer, count)
    #else
        return Darwin.write(fd, buffer, count)
    #endif
}
