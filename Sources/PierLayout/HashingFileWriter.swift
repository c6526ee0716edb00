import Foundation
import PierModel

/// Writes a blob's bytes to an open file and hashes them on the way, so its digest and size need no second read.
final class HashingFileWriter {
    let fd: Int32
    let path: String
    private(set) var hasher = DigestHasher()

    /// Writes to `fd` (not closed here); `path` names it in errors.
    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(PierError) {
        guard !bytes.isEmpty else { return }
        hasher.update(bytes)
        try FileSystem.writeAll(fd, bytes, path: path)
    }

    func write(_ bytes: [UInt8]) throws(PierError) {
        hasher.update(bytes)
        try FileSystem.writeAll(fd, bytes, path: path)
    }
}
