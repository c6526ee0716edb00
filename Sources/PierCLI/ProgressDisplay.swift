import ArgumentParser
import Foundation
import PierEngine
import PierModel

/// How transfer progress is shown (`--progress`).
enum ProgressMode: String, CaseIterable, ExpressibleByArgument {
    /// `tty` when stderr is a terminal, else `plain`.
    case auto
    /// One live line per registry, redrawn in place.
    case tty
    /// A log line per registry every `ProgressDisplay.plainInterval` or `plainStep`, whichever comes later.
    case plain
    case none
}

/// Bytes moved per destination registry: on a terminal one live line each (bytes, total, percent, rate, ETA); in
/// CI logs a plain line per registry now and then, and one when it is done.
final class ProgressDisplay: @unchecked Sendable {
    /// A plain line at most this often per registry (a CI log stays readable) …
    static let plainInterval: Duration = .seconds(10)
    /// … and only after this much more of the total (in percent).
    static let plainStep = 10
    /// The live lines are redrawn at most this often.
    static let redrawInterval: Duration = .milliseconds(150)

    struct Transfer {
        var total: Int64
        var done: Int64 = 0
        var sent: Int64 = 0
        let started = ContinuousClock.now
        var lastPlain = ContinuousClock.now
        var lastPlainPercent = 0
        var finished = false
    }

    let mode: ProgressMode
    private let lock = NSLock()
    private var transfers: [(name: String, transfer: Transfer)] = []
    private var lastDraw = ContinuousClock.now - .seconds(1)

    /// `mode` with `auto` resolved against stderr.
    init(mode: ProgressMode) {
        self.mode = mode == .auto ? (Terminal.shared.stderrIsTTY ? .tty : .plain) : mode
    }

    /// The engine's callback, or nil when nothing is shown.
    var callback: TransferProgress? {
        guard mode != .none else { return nil }
        return { @Sendable [self] event in self.handle(event) }
    }

    func handle(_ event: TransferEvent) {
        lock.lock()
        let now = ContinuousClock.now
        let index =
            transfers.firstIndex { $0.name == event.destination }
            ?? {
                transfers.append((event.destination, Transfer(total: 0)))
                return transfers.count - 1
            }()
        var plainLine: String?
        switch event {
        case .started(_, let total): transfers[index].transfer.total = total
        case .skipped(_, let bytes): transfers[index].transfer.done += bytes
        case .sent(_, let bytes):
            transfers[index].transfer.done += bytes
            transfers[index].transfer.sent += bytes
        case .finished: transfers[index].transfer.finished = true
        }
        var transfer = transfers[index].transfer
        if mode == .plain {
            let percent = Self.percent(transfer)
            let due =
                now - transfer.lastPlain >= Self.plainInterval && percent - transfer.lastPlainPercent >= Self.plainStep
            if transfer.finished || due {
                transfer.lastPlain = now
                transfer.lastPlainPercent = percent
                transfers[index].transfer = transfer
                plainLine = "pier: \(Self.line(event.destination, transfer, now: now))"
            }
        }
        var lines: [String]?
        if mode == .tty, now - lastDraw >= Self.redrawInterval || transfer.finished {
            lastDraw = now
            lines = transfers.map { "↑ " + Self.line($0.name, $0.transfer, now: now) }
        }
        lock.unlock()
        if let plainLine { Terminal.shared.log(plainLine) }
        if let lines { Terminal.shared.progress(lines) }
    }

    static func percent(_ transfer: Transfer) -> Int {
        transfer.total > 0 ? Int(min(100, Double(transfer.done) / Double(transfer.total) * 100)) : 100
    }

    /// `ghcr.io/org/app 120.0 MB / 335.0 MB (35%) 12.0 MB/s ETA 18s`, or `… done in 11.2s`.
    static func line(_ name: String, _ transfer: Transfer, now: ContinuousClock.Instant) -> String {
        let elapsed = max(0.001, (now - transfer.started).seconds)
        var text = "\(name) \(format(transfer.done)) / \(format(transfer.total)) (\(percent(transfer))%)"
        let rate = Double(transfer.sent) / elapsed
        if transfer.finished { return text + String(format: " done in %.1fs", elapsed) }
        if transfer.sent > 0 {
            text += " \(format(Int64(rate)))/s"
            let remaining = Double(max(0, transfer.total - transfer.done)) / max(rate, 1)
            if remaining.isFinite, remaining < 360_000 { text += " ETA \(duration(Int(remaining.rounded(.up))))" }
        }
        return text
    }

    /// `45s`, `3m05s`, `2h10m`.
    static func duration(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return String(format: "%dm%02ds", seconds / 60, seconds % 60) }
        return String(format: "%dh%02dm", seconds / 3600, seconds / 60 % 60)
    }

    static func format(_ bytes: Int64) -> String { ByteCount.format(bytes) }
}
