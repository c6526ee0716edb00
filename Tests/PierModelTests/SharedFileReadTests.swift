import Foundation
import NIOCore
import PierModel
import PierRegistry
import Testing

/// One read of a file shared by concurrent uploads of it (publish to several registries).
@Suite(.timeLimit(.minutes(1))) struct SharedFileReadTests {
    static let blockSize = 64 << 10

    /// A file of `blocks` and a half blocks of seeded bytes, and a pool of `blockSize` buffers to read it with.
    final class Fixture {
        let path: String
        let bytes: [UInt8]
        let pool: BodyBufferPool

        init(blocks: Int, capacity: Int = 16, perStream: Int = 4) throws {
            var generator = FuzzTests.Generator(state: 7)
            let words = (0..<((blocks * blockSize + blockSize / 2) / 8)).map { _ in generator.next() }
            bytes = words.withUnsafeBytes { Array($0) }
            path = NSTemporaryDirectory() + "pier-shared-\(UUID().uuidString)"
            pool = BodyBufferPool(capacity: capacity, bufferSize: blockSize, perStream: perStream)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }

        deinit { unlink(path) }

        /// The whole file as an upload body, with `member`'s place in a shared read.
        func stream(_ member: SharedFileRead.Member) -> FileByteStream {
            FileByteStream(path: path, length: Int64(bytes.count), pool: pool, sharing: member)
        }

        func group(expected: Int, window: Int = 4, lagLimit: Duration) -> SharedFileRead {
            SharedFileRead(expected: expected, pool: pool, window: window, lagLimit: lagLimit)
        }
    }

    /// Everything a stream yields, each buffer dropped once copied (as the HTTP client does).
    static func collect(_ stream: FileByteStream, pause: Duration = .zero) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in stream {
            bytes += buffer.readableBytesView
            if pause > .zero { try await Task.sleep(for: pause) }
        }
        return bytes
    }

    /// The streams read at the same time.
    static func collectTogether(_ streams: [FileByteStream]) async throws -> [[UInt8]] {
        try await withThrowingTaskGroup(of: [UInt8].self) { tasks in
            for stream in streams { tasks.addTask { try await collect(stream) } }
            return try await tasks.reduce(into: []) { $0.append($1) }
        }
    }

    @Test func membersInStepReadEachBlockOnce() async throws {
        let file = try Fixture(blocks: 40)
        let group = file.group(expected: 3, lagLimit: .seconds(30))
        let results = try await Self.collectTogether((0..<3).map { _ in file.stream(group.join()) })
        #expect(results.count == 3 && results.allSatisfy { $0 == file.bytes })
        // 41 blocks: each read from the file once, not three times.
        #expect(group.blocksRead == 41)
    }

    @Test func aStalledMemberIsLeftBehindAndReadsAlone() async throws {
        let file = try Fixture(blocks: 40)
        let group = file.group(expected: 3, lagLimit: .milliseconds(50))
        let iterator = file.stream(group.join()).makeAsyncIterator()
        // The stalled member takes one block, then stops (a registry that stopped reading).
        let first = try await iterator.next()
        #expect(first?.readableBytes == Self.blockSize)
        let clock = ContinuousClock.now
        let results = try await Self.collectTogether((0..<2).map { _ in file.stream(group.join()) })
        #expect(results.allSatisfy { $0 == file.bytes })
        // One wait of the lag limit, not a wait for the stalled member.
        #expect(ContinuousClock.now - clock < .seconds(5))
        #expect(group.membersLeftBehind >= 1)
        // The two that kept going still shared: far fewer reads than two members reading alone.
        #expect(group.blocksRead < 50)
        // The stalled one resumes on its own and still gets every byte.
        var rest: [UInt8] = Array(first!.readableBytesView)
        while let buffer = try await iterator.next() { rest += buffer.readableBytesView }
        #expect(rest == file.bytes)
    }

    @Test func aSteadilySlowerMemberDoesNotPaceTheOthers() async throws {
        let file = try Fixture(blocks: 40)
        // Never a long stall: the slow member takes a block every 5 ms, so only the share of time rule can part them.
        let group = file.group(expected: 2, window: 2, lagLimit: .milliseconds(20))
        let slow = file.stream(group.join())
        let fast = file.stream(group.join())
        async let slowBytes = Self.collect(slow, pause: .milliseconds(5))
        async let fastBytes = Self.collect(fast)
        #expect(try await fastBytes == file.bytes)
        #expect(try await slowBytes == file.bytes)
        // Left behind, to read the rest alone, rather than pacing the fast one to the end.
        #expect(group.membersLeftBehind == 1)
    }

    @Test func aGroupWhoseMembersAllLeftHoldsNoBuffers() async throws {
        let file = try Fixture(blocks: 1, capacity: 2, perStream: 2)
        let group = file.group(expected: 2, window: 8, lagLimit: .seconds(30))
        // The first upload is done before the second one starts.
        #expect(try await Self.collect(file.stream(group.join())) == file.bytes)
        // Its two blocks are not kept for the late member: the pool has both buffers for anything else.
        do {
            var held: [Int] = []
            let first = try await file.pool.take(held: &held, until: .now + .milliseconds(200))
            let second = try await file.pool.take(held: &held, until: .now + .milliseconds(200))
            #expect(first != nil && second != nil)
            for taken in [first, second].compactMap({ $0 }) { file.pool.give(back: taken.buffer, to: taken.slot) }
        }
        // The late member reads on its own.
        #expect(try await Self.collect(file.stream(group.join())) == file.bytes)
    }

    @Test func aReaderOutOfBuffersGivesUpOnAMemberThatNeverCame() async throws {
        // A window wider than the group's buffers: the reader runs out of buffers before it reaches the window's
        // edge, so only the wait for a buffer can notice the member that never comes.
        let file = try Fixture(blocks: 20, capacity: 4)
        let group = file.group(expected: 2, window: 100, lagLimit: .milliseconds(50))
        let clock = ContinuousClock.now
        #expect(try await Self.collect(file.stream(group.join())) == file.bytes)
        #expect(ContinuousClock.now - clock < .seconds(5))
    }

    @Test func aDeclinedMemberIsNotWaitedFor() async throws {
        let file = try Fixture(blocks: 40)
        // A lag limit far beyond the test's bound: waiting once for an absent member would cost 30 s.
        let reads = SharedBlobReads(participants: 3, lagLimit: .seconds(30))
        let digest = try Digest("sha256:" + String(repeating: "a", count: 64))
        // Participant 1 has the blob already; participant 2 stopped before reaching it.
        reads.decline(digest, participant: 1)
        reads.finish(participant: 2)
        let clock = ContinuousClock.now
        #expect(try await Self.collect(file.stream(reads.member(digest, participant: 0))) == file.bytes)
        #expect(ContinuousClock.now - clock < .seconds(10))
        #expect(reads.summary.leftBehind == 0, "nobody was waited for, so nobody was left behind")
    }

    @Test func theOthersStillShareAfterOneDeclinesFirst() async throws {
        let file = try Fixture(blocks: 20)
        let group = file.group(expected: 3, lagLimit: .seconds(30))
        // One registry has the blob already and says so before the other two start.
        group.decline()
        let results = try await Self.collectTogether((0..<2).map { _ in file.stream(group.join()) })
        #expect(results.count == 2 && results.allSatisfy { $0 == file.bytes })
        #expect(group.blocksRead == 21)
    }

    @Test func aRetriedBodyReadsAloneAndCompletely() async throws {
        let file = try Fixture(blocks: 10)
        let group = file.group(expected: 2, lagLimit: .milliseconds(50))
        let stream = file.stream(group.join())
        // First attempt: a few blocks, then the request failed.
        let attempt = stream.makeAsyncIterator()
        _ = try await attempt.next()
        _ = try await attempt.next()
        // The retry iterates the same stream again: every byte, from the file.
        #expect(try await Self.collect(stream) == file.bytes)
        // The other member arriving now is not held back by the one that retried.
        #expect(try await Self.collect(file.stream(group.join())) == file.bytes)
        withExtendedLifetime(attempt) {}
    }
}
