import Foundation
import PierModel
import Testing

@testable import PierRegistry

/// The download writer: pieces hashed on one thread and written on another must give the file and the digest of
/// the bytes in order, however the reads cut them.
@Suite(.timeLimit(.minutes(1))) struct BackgroundFileWriterTests {
    /// Seeded bytes: a few times around the ring of pieces, with a partial last piece.
    static func bytes(count: Int) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    @Test(arguments: [1, 65_536, 100_003, 3 << 20])
    func fileAndDigestMatchTheBytes(readSize: Int) throws {
        let size = BackgroundFileWriter.pieceSize * (2 * BackgroundFileWriter.pieceCount + 1) + 12_345
        let data = Self.bytes(count: readSize == 1 ? 300_001 : size)
        let path = NSTemporaryDirectory() + "pier-writer-\(UUID().uuidString)"
        defer { unlink(path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        let writer = BackgroundFileWriter(fd: fd, path: path)
        var offset = 0
        try data.withUnsafeBytes { all in
            while offset < all.count {
                let count = min(readSize, all.count - offset)
                try writer.write(UnsafeRawBufferPointer(rebasing: all[offset..<offset + count]))
                offset += count
            }
        }
        let result = try writer.finish()
        #expect(result.size == Int64(data.count))
        #expect(result.digest == Digest.sha256(of: data))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(data))
    }

    @Test func aFailedWriteIsReportedWithThePath() throws {
        // A descriptor open for reading only: every write fails with EBADF.
        let path = NSTemporaryDirectory() + "pier-writer-\(UUID().uuidString)"
        defer { unlink(path) }
        try Data().write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let writer = BackgroundFileWriter(fd: fd, path: path)
        let data = Self.bytes(count: BackgroundFileWriter.pieceSize * (BackgroundFileWriter.pieceCount + 2))
        var failure: PierError?
        do {
            try data.withUnsafeBytes { all in try writer.write(all) }
            _ = try writer.finish()
        } catch { failure = error as? PierError }
        #expect(failure?.message.contains(path) == true, "\(String(describing: failure))")
    }
}
