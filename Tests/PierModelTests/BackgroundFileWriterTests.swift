import Foundation
import NIOCore
import NIOPosix
import PierModel
import Testing

@testable import PierRegistry

/// The download writer: batches hashed on one thread and written on another must give the file and the digest of
/// the bytes in order, however the reads cut them.
@Suite(.timeLimit(.minutes(1))) struct BackgroundFileWriterTests {
    /// Seeded bytes: a few times around the ring of batches, with a partial last batch.
    static func bytes(count: Int) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    @Test(arguments: [1, 65_536, 100_003, 3 << 20])
    func fileAndDigestMatchTheBytes(readSize: Int) async throws {
        let size = BackgroundFileWriter.batchSize * (2 * BackgroundFileWriter.batchCount + 1) + 12_345
        let data = Self.bytes(count: readSize == 1 ? 300_001 : size)
        let path = NSTemporaryDirectory() + "pier-writer-\(UUID().uuidString)"
        defer { unlink(path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        let writer = BackgroundFileWriter(fd: fd, path: path)
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        var offset = 0
        while offset < data.count {
            let count = min(readSize, data.count - offset)
            try await writer.write(ByteBuffer(bytes: data[offset..<offset + count]), on: eventLoop).get()
            offset += count
        }
        let result = try await writer.finish()
        #expect(result.size == Int64(data.count))
        #expect(result.digest == Digest.sha256(of: data))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(data))
    }

    @Test func aFailedWriteIsReportedWithThePath() async throws {
        // A descriptor open for reading only: every write fails with EBADF.
        let path = NSTemporaryDirectory() + "pier-writer-\(UUID().uuidString)"
        defer { unlink(path) }
        try Data().write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let writer = BackgroundFileWriter(fd: fd, path: path)
        let data = Self.bytes(count: BackgroundFileWriter.batchSize * (BackgroundFileWriter.batchCount + 2))
        var failure: PierError?
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        do {
            for piece in stride(from: 0, to: data.count, by: 65_536) {
                try await writer.write(ByteBuffer(bytes: data[piece..<min(data.count, piece + 65_536)]), on: eventLoop)
                    .get()
            }
            _ = try await writer.finish()
        } catch { failure = error as? PierError }
        #expect(failure?.message.contains(path) == true, "\(String(describing: failure))")
    }
}
