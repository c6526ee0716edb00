import Foundation
import PierModel

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
