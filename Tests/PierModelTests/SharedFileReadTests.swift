import Foundation
import NIOCore
import PierModel
import PierRegistry
import Testing

/// One read of a file shared by concurrent uploads of it (publish to several registries).
@Suite(.timeLimit(.minutes(1))) struct SharedFileReadTests {
    static let blockSize = 64 << 10

    /// A file of `blocks` and a half blocks of seeded bytes.
    static func file(blocks: Int, seed: UInt64 = 7) throws -> (path: String, bytes: [UInt8]) {
        var generator = FuzzTests.Generator(state: seed)
        let words = (0..<((blocks * blockSize + blockSize / 2) / 8)).map { _ in generator.next() }
        let bytes = words.withUnsafeBytes { Array($0) }
        let path = NSTemporaryDirectory() + "pier-shared-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, bytes)
    }

    static func pool() -> BodyBufferPool { BodyBufferPool(capacity: 16, bufferSize: blockSize, perStream: 4) }

    /// Everything a stream yields, each buffer dropped once copied (as the HTTP client does).
    static func collect(_ stream: FileByteStream, pause: Duration = .zero) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in stream {
            bytes += buffer.readableBytesView
            if pause > .zero { try await Task.sleep(for: pause) }
        }
        return bytes
    }

    @Test func membersInStepReadEachBlockOnce() async throws {
        let (path, bytes) = try Self.file(blocks: 40)
        defer { unlink(path) }
        let pool = Self.pool()
        let group = SharedFileRead(expected: 3, pool: pool, window: 4, lagLimit: .seconds(30))
        let streams = (0..<3).map { _ in
            FileByteStream(path: path, length: Int64(bytes.count), pool: pool, sharing: group.join())
        }
        let results = try await withThrowingTaskGroup(of: [UInt8].self) { tasks in
            for stream in streams { tasks.addTask { try await Self.collect(stream) } }
            return try await tasks.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 3 && results.allSatisfy { $0 == bytes })
        // 41 blocks: each read from the file once, not three times.
        #expect(group.blocksRead == 41)
    }

    @Test func aStalledMemberIsLeftBehindAndReadsAlone() async throws {
        let (path, bytes) = try Self.file(blocks: 40)
        defer { unlink(path) }
        let pool = Self.pool()
        let group = SharedFileRead(expected: 3, pool: pool, window: 4, lagLimit: .milliseconds(50))
        let stalled = FileByteStream(path: path, length: Int64(bytes.count), pool: pool, sharing: group.join())
        let iterator = stalled.makeAsyncIterator()
        // The stalled member takes one block, then stops (a registry that stopped reading).
        let first = try await iterator.next()
        #expect(first?.readableBytes == Self.blockSize)
        let clock = ContinuousClock.now
        let fast = (0..<2).map { _ in FileByteStream(path: path, length: Int64(bytes.count), pool: pool, sharing: group.join()) }
        let results = try await withThrowingTaskGroup(of: [UInt8].self) { tasks in
            for stream in fast { tasks.addTask { try await Self.collect(stream) } }
            return try await tasks.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 == bytes })
        // One wait of the lag limit, not a wait for the stalled member.
        #expect(ContinuousClock.now - clock < .seconds(5))
        #expect(group.membersLeftBehind >= 1)
        // The two that kept going still shared: far fewer reads than two members reading alone.
        #expect(group.blocksRead < 50)
        // The stalled one resumes on its own and still gets every byte.
        var rest: [UInt8] = Array(first!.readableBytesView)
        while let buffer = try await iterator.next() { rest += buffer.readableBytesView }
        #expect(rest == bytes)
    }

    @Test func aSteadilySlowerMemberDoesNotPaceTheOthers() async throws {
        let (path, bytes) = try Self.file(blocks: 40)
        defer { unlink(path) }
        let pool = Self.pool()
        // Never a long stall: the slow member takes a block every 5 ms, so only the share of time rule can part them.
        let group = SharedFileRead(expected: 2, pool: pool, window: 2, lagLimit: .milliseconds(20))
        let slow = FileByteStream(path: path, length: Int64(bytes.count), pool: pool, sharing: group.join())
        let fast = FileByteStream(path: path, length: Int64(bytes.count), pool: pool, sharing: group.join())
        async let slowBytes = Self.collect(slow, pause: .milliseconds(5))
        async let fastBytes = Self.collect(fast)
        #expect(try await fastBytes == bytes)
        #expect(try await slowBytes == bytes)
        // Left behind, to read the rest alone, rather than pacing the fast one to the end.
        #expect(group.membersLeftBehind == 1)
    }

    @Test func aGroupWhoseMembersAllLeftHoldsNoBuffers() async throws {
        let (path, bytes) = try Self.file(blocks: 1)
        defer { unlink(path) }
        let pool = BodyBufferPool(capacity: 2, bufferSize: Self.blockSize, perStream: 2)
        let group = SharedFileRead(expected: 2, pool: pool, window: 8, lagLimit: .seconds(30))
        // The first upload is done before the second one starts.
        #expect(try await Self.collect(FileByteStream(path: path, length: Int64(bytes.count), pool: pool, sharing: group.join())) == bytes)
        // Its two blocks are not kept for the late member: the pool has both buffers for anything else.
        do {
            var held: [Int] = []
            let first = try await pool.take(held: &held, until: .now + .milliseconds(200))
            let second = try await pool.take(held: &held, until: .now + .milliseconds(200))
            #expect(first != nil && second != nil)
            for taken in [first, second].compactMap({ $0 }) { pool.give(back: taken.buffer, to: taken.slot) }
        }
        // The late member reads on its own.
        #expect(try await Self.collect(FileByteStream(path: path, length: Int64(bytes.count), pool: pool, sharing: group.join())) == bytes)
    }

    @Test func aReaderOutOfBuffersGivesUpOnAMemberThatNeverCame() async throws {
        let (path, bytes) = try Self.file(blocks: 20)
        defer { unlink(path) }
        // A window wider than the group's buffers: the reader runs out of buffers before it reaches the window's
        // edge, so only the wait for a buffer can notice the member that never comes.
        let pool = BodyBufferPool(capacity: 4, bufferSize: Self.blockSize, perStream: 4)
        let group = SharedFileRead(expected: 2, pool: pool, window: 100, lagLimit: .milliseconds(50))
        let clock = ContinuousClock.now
        #expect(try await Self.collect(FileByteStream(path: path, length: Int64(bytes.count), pool: pool, sharing: group.join())) == bytes)
        #expect(ContinuousClock.now - clock < .seconds(5))
    }

    @Test func aDeclinedMemberIsNotWaitedFor() async throws {
        let (path, bytes) = try Self.file(blocks: 40)
        defer { unlink(path) }
        let pool = Self.pool()
        let reads = SharedBlobReads(participants: 3)
        let digest = try Digest("sha256:" + String(repeating: "a", count: 64))
        // Participant 1 has the blob already; participant 2 stopped before reaching it.
        reads.decline(digest, participant: 1)
        reads.finish(participant: 2)
        let clock = ContinuousClock.now
        let stream = FileByteStream(path: path, length: Int64(bytes.count), pool: pool, sharing: reads.member(digest, participant: 0))
        #expect(try await Self.collect(stream) == bytes)
        // The default lag limit is 100 ms per wait; waiting for an absent member would cost it on the first block
        // that runs past the window, and every block after.
        #expect(ContinuousClock.now - clock < .milliseconds(90))
    }

    @Test func theOthersStillShareAfterOneDeclinesFirst() async throws {
        let (path, bytes) = try Self.file(blocks: 20)
        defer { unlink(path) }
        let pool = Self.pool()
        let group = SharedFileRead(expected: 3, pool: pool, window: 4, lagLimit: .seconds(30))
        // One registry has the blob already and says so before the other two start.
        group.decline()
        let streams = (0..<2).map { _ in FileByteStream(path: path, length: Int64(bytes.count), pool: pool, sharing: group.join()) }
        async let first = Self.collect(streams[0])
        async let second = Self.collect(streams[1])
        #expect(try await first == bytes)
        #expect(try await second == bytes)
        #expect(group.blocksRead == 21)
    }

    @Test func aRetriedBodyReadsAloneAndCompletely() async throws {
        let (path, bytes) = try Self.file(blocks: 10)
        defer { unlink(path) }
        let pool = Self.pool()
        let group = SharedFileRead(expected: 2, pool: pool, window: 4, lagLimit: .milliseconds(50))
        let member = group.join()
        let stream = FileByteStream(path: path, length: Int64(bytes.count), pool: pool, sharing: member)
        // First attempt: a few blocks, then the request failed.
        let attempt = stream.makeAsyncIterator()
        _ = try await attempt.next()
        _ = try await attempt.next()
        // The retry iterates the same stream again: every byte, from the file.
        #expect(try await Self.collect(stream) == bytes)
        // The other member arriving now is not held back by the one that retried.
        let other = FileByteStream(path: path, length: Int64(bytes.count), pool: pool, sharing: group.join())
        #expect(try await Self.collect(other) == bytes)
        withExtendedLifetime(attempt) {}
    }
}
