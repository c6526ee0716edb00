import Dispatch
import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Hashes a stream and writes it to a file in 1 MiB pieces on its own thread, two pieces double-buffered, so the
/// caller (a download's task) only copies what it receives and never waits on the hash or the disk unless they are
/// two pieces behind. A download's body arrives in 64 KiB reads; hashing and writing each on the task put 40 µs
/// of SHA-256 and a syscall per read between one read and the next.
final class BackgroundFileWriter: @unchecked Sendable {
    /// Bytes per write: 256 writes for a 256 MiB layer.
    static let pieceSize = 1 << 20

    let fd: Int32
    let path: String
    private let pieces: [UnsafeMutableRawBufferPointer]
    /// One per piece: signalled while the piece may be filled.
    private let free: [DispatchSemaphore]
    private let queue = DispatchQueue(label: "pier.download-writer")
    private var filling = 0
    private var filled = 0
    /// errno of the first failed write; read only after a piece's semaphore was taken.
    private var failure: Int32 = 0
    /// The bytes written so far, hashed on the writer's queue; read after `finish()`.
    private var hasher = DigestHasher()
    private var drained = false

    /// Writes to `fd` (not closed here); `path` names it in errors. Call `finish()` or `drain()` before closing it.
    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        pieces = (0..<2).map { _ in .allocate(byteCount: Self.pieceSize, alignment: 64) }
        free = (0..<2).map { _ in DispatchSemaphore(value: 1) }
        free[0].wait()
    }

    deinit {
        drain()
        for piece in pieces { piece.deallocate() }
    }

    /// Bytes accepted so far.
    private(set) var count: Int64 = 0

    /// Appends bytes; throws if an earlier write failed.
    func write(_ bytes: UnsafeRawBufferPointer) throws(PierError) {
        count += Int64(bytes.count)
        var offset = 0
        while offset < bytes.count {
            let count = min(bytes.count - offset, Self.pieceSize - filled)
            (pieces[filling].baseAddress! + filled).copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
            filled += count
            offset += count
            if filled == Self.pieceSize { try submit() }
        }
    }

    /// Writes what is left, waits for every write, and returns the digest and size of what was written.
    func finish() throws(PierError) -> (digest: Digest, size: Int64) {
        if filled > 0 { try submit() }
        drain()
        try check()
        return (hasher.finalize(), hasher.count)
    }

    /// Waits for the writes in flight (after an error, before the file is closed or removed).
    func drain() {
        guard !drained else { return }
        drained = true
        queue.sync {}
        // Every semaphore back at its initial value: libdispatch traps on freeing one that is still taken.
        free[filling].signal()
    }

    private func submit() throws(PierError) {
        let index = filling
        let count = filled
        queue.async { [self] in
            let start = UnsafeRawPointer(pieces[index].baseAddress!)
            hasher.update(UnsafeRawBufferPointer(start: start, count: count))
            var written = 0
            while failure == 0, written < count {
                let result = systemWrite(fd, start + written, count - written)
                if result > 0 { written += result } else if errno != EINTR { failure = errno == 0 ? EIO : errno }
            }
            free[index].signal()
        }
        filling = 1 - index
        filled = 0
        free[filling].wait()
        try check()
    }

    private func check() throws(PierError) {
        guard failure != 0 else { return }
        throw PierError(
            .other, operation: "write file", message: "cannot write \(path)", cause: String(cString: strerror(failure)))
    }
}

/// `write(2)`, named apart from the method.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(fd, buffer, count)
    #elseif canImport(Darwin)
        Darwin.write(fd, buffer, count)
    #endif
}
