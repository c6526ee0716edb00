import NIOConcurrencyHelpers
import NIOCore
import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One file read once for several uploads of it at the same time: a publish to three registries sends every blob
/// three times, and uploads that each read the file would copy every page out of the page cache once per registry.
/// Members of the group take the same pooled buffer for each block (ByteBuffer shares storage, so nothing is
/// copied); whichever member is first to want a block reads it.
///
/// The members stay in step within a small window: a member may run at most `window` blocks ahead of the slowest
/// member still reading. One that is slower is left behind and reads the rest on its own: when a member has waited
/// for the others for longer than `lagLimit` at a stretch (a stalled registry), or for longer than `lagLimit` in all
/// and over half of its time (a registry that is steadily slower: at half the speed or less), it detaches the slower
/// members. Waiting less than that costs no time where the network is the limit, since a publish ends with its
/// slowest registry anyway, and is cheaper than reading alone where the CPU is (docs/benchmarks.md, "Shared reads").
/// Members expected but not yet arrived count as the slowest member at block 0, so uploads started a few
/// milliseconds apart still share; one that never arrives is given up on the same way.
public final class SharedFileRead: Sendable {
    public let window: Int
    public let lagLimit: Duration
    let pool: BodyBufferPool
    private let state: NIOLockedValueBox<State>

    struct State {
        /// Members that may still join.
        var pending: Int
        /// Next block each active member wants.
        var members: [Int: Int] = [:]
        /// When each active member last took a block (or joined).
        var lastTaken: [Int: ContinuousClock.Instant] = [:]
        var nextMember = 0
        /// Blocks read and still wanted by some member (or a pending one).
        var blocks: [Int: ByteBuffer] = [:]
        /// The block being read now, if any.
        var reading: Int?
        /// Pool slots the group's reads took.
        var held: [Int] = []
        /// Blocks below this were dropped; a member that wants one reads on its own.
        var dropped = 0
        /// Blocks read from the file, and members left behind, for tests and logs.
        var reads = 0
        var leftBehind = 0
    }

    /// Blocks a member may run ahead of the slowest: enough to absorb the jitter between registries that ingest at
    /// about the same speed, few enough that the blocks held for the slowest member stay within the group's share
    /// of the pool.
    public static let defaultWindow = 8
    /// How long a member waits for slower ones before it leaves them behind: longer than the scheduling jitter of a
    /// busy two-core machine, short against any upload worth sharing.
    public static let defaultLagLimit: Duration = .milliseconds(100)

    /// A group for `expected` uploads of the same bytes.
    public init(
        expected: Int, pool: BodyBufferPool = .shared, window: Int = defaultWindow, lagLimit: Duration = defaultLagLimit
    ) {
        self.pool = pool
        self.window = max(1, window)
        self.lagLimit = lagLimit
        self.state = NIOLockedValueBox(State(pending: max(0, expected)))
    }

    /// Blocks read from the file so far (each served every member that took it).
    public var blocksRead: Int { state.withLockedValue { $0.reads } }
    /// Members detached for being too slow (they read the rest on their own).
    public var membersLeftBehind: Int { state.withLockedValue { $0.leftBehind } }

    /// Joins the group. A member that arrives after the group has moved on reads on its own.
    public func join() -> Member {
        let id: Int? = state.withLockedValue { state in
            if state.pending > 0 { state.pending -= 1 }
            guard state.dropped == 0 else { return nil }
            let id = state.nextMember
            state.nextMember += 1
            state.members[id] = 0
            state.lastTaken[id] = .now
            return id
        }
        return Member(group: self, id: id)
    }

    /// An expected member will not read (its registry already has the blob, or its upload never started).
    public func decline() {
        state.withLockedValue { state in
            if state.pending > 0 { state.pending -= 1 }
            Self.dropUnwanted(&state)
        }
    }

    /// One member's place in the group. Leaving (or being released) frees the blocks only it still wanted.
    public final class Member: Sendable {
        let group: SharedFileRead
        let id: Int?
        private let claimed = NIOLockedValueBox(false)
        /// When this member first asked for a block, and how long it has waited for slower members since.
        private let pace = NIOLockedValueBox<(started: ContinuousClock.Instant?, waited: Duration)>((nil, .zero))

        init(group: SharedFileRead, id: Int?) {
            self.group = group
            self.id = id
        }

        deinit { leave() }

        /// The first reader of the member's bytes shares; any later one (a retried request) reads on its own.
        func claim() -> Bool {
            guard id != nil else { return false }
            return claimed.withLockedValue { claimed in
                defer { claimed = true }
                return !claimed
            }
        }

        /// Stops taking part; idempotent.
        public func leave() {
            guard let id else { return }
            group.state.withLockedValue { state in
                state.lastTaken[id] = nil
                guard state.members.removeValue(forKey: id) != nil else { return }
                SharedFileRead.dropUnwanted(&state)
            }
        }

        /// Block `index` (`length` bytes at `offset` of the open file `descriptor`), or nil when this member must read
        /// it on its own (it was detached, or the block is gone).
        func block(_ index: Int, descriptor: Int32, offset: Int64, length: Int) async throws -> ByteBuffer? {
            guard let id else { return nil }
            var pause = BodyBufferPool.firstPause
            var waitingSince: ContinuousClock.Instant?
            let started = pace.withLockedValue { pace in
                if pace.started == nil { pace.started = .now }
                return pace.started!
            }
            // Time spent waiting for slower members, counted when the wait ends.
            func endWait() {
                guard let since = waitingSince else { return }
                let waited = ContinuousClock.now - since
                pace.withLockedValue { $0.waited += waited }
                waitingSince = nil
            }
            defer { endWait() }
            while true {
                let step: Step = group.state.withLockedValue { state in
                    SharedFileRead.step(&state, member: id, block: index, window: group.window)
                }
                switch step {
                case .take(let buffer):
                    return buffer
                case .alone:
                    leave()
                    return nil
                case .read(var held, let limit):
                    let buffer: ByteBuffer
                    do {
                        buffer = try await group.read(
                            descriptor: descriptor, offset: offset, length: length, held: &held, limit: limit,
                            member: id)
                    } catch {
                        group.state.withLockedValue { state in
                            state.reading = nil
                            state.held = held
                        }
                        throw error
                    }
                    group.state.withLockedValue { state in
                        state.reading = nil
                        state.held = held
                        state.reads += 1
                        state.blocks[index] = buffer
                    }
                    pause = BodyBufferPool.firstPause
                    endWait()
                case .wait(let aheadOfOthers):
                    // Only waiting for slower members counts towards the lag limit, not waiting for a read.
                    if aheadOfOthers {
                        let now = ContinuousClock.now
                        let since = waitingSince ?? now
                        waitingSince = since
                        let stretch = now - since
                        let total = pace.withLockedValue { $0.waited } + stretch
                        if stretch > group.lagLimit || (total > group.lagLimit && total * 2 > now - started) {
                            group.state.withLockedValue { state in SharedFileRead.detachSlowest(&state, keeping: id) }
                            endWait()
                            continue
                        }
                    }
                    try await Task.sleep(for: pause)
                    pause = Swift.min(pause * 2, BodyBufferPool.longestPause)
                }
            }
        }
    }

    enum Step {
        case take(ByteBuffer)
        case read(held: [Int], limit: Int)
        case wait(aheadOfOthers: Bool)
        case alone
    }

    /// What member `id` does next for block `index`.
    static func step(_ state: inout State, member id: Int, block index: Int, window: Int) -> Step {
        guard state.members[id] != nil, index >= state.dropped else { return .alone }
        if let buffer = state.blocks[index] {
            state.members[id] = index + 1
            state.lastTaken[id] = .now
            dropUnwanted(&state)
            return .take(buffer)
        }
        if state.reading != nil { return .wait(aheadOfOthers: false) }
        // The slowest reader (a pending member counts as being at block 0) bounds how far ahead a read may go.
        let slowest = state.pending > 0 ? 0 : (state.members.values.min() ?? index)
        if index - slowest >= window { return .wait(aheadOfOthers: true) }
        state.reading = index
        let held = state.held
        state.held = []
        // The group holds the buffers of all its members' uploads: one stream's share each.
        return .read(held: held, limit: state.members.count)
    }

    /// Drops the blocks no active or pending member wants any more.
    static func dropUnwanted(_ state: inout State) {
        guard let slowest = state.members.values.min() else {
            // Before anyone joins there is nothing to drop. Once every member has left, the group is over: blocks kept
            // for members still to come would hold pool buffers that uploads of other blobs may be waiting for (and
            // those could be the very uploads that hold the late members back). A late member reads on its own.
            guard state.nextMember > 0 || state.pending == 0 else { return }
            state.blocks.removeAll()
            state.dropped = Int.max
            state.pending = 0
            return
        }
        guard state.pending == 0 else { return }
        for index in state.blocks.keys where index < slowest { state.blocks[index] = nil }
        state.dropped = Swift.max(state.dropped, slowest)
    }

    /// Gives up on the members (and pending arrivals) holding `keeping` back: they read the rest on their own.
    static func detachSlowest(_ state: inout State, keeping id: Int) {
        state.pending = 0
        guard let mine = state.members[id] else { return }
        for (other, next) in state.members where other != id && next < mine {
            state.members[other] = nil
            state.lastTaken[other] = nil
            state.leftBehind += 1
        }
        dropUnwanted(&state)
    }

    /// Gives up on the members that have taken nothing for `limit`, and on those still to come: what a reader
    /// starved of buffers does. Members that are moving are kept; their blocks free themselves as they go.
    static func detachStalled(_ state: inout State, keeping id: Int, limit: Duration) {
        state.pending = 0
        let now = ContinuousClock.now
        for (other, taken) in state.lastTaken where other != id && now - taken > limit {
            state.members[other] = nil
            state.lastTaken[other] = nil
            state.leftBehind += 1
        }
        dropUnwanted(&state)
    }

    /// Reads one block into a pooled buffer (the whole block: short reads are continued).
    func read(descriptor: Int32, offset: Int64, length: Int, held: inout [Int], limit members: Int, member id: Int)
        async throws -> ByteBuffer
    {
        let limit = pool.perStream * Swift.max(1, members)
        var taken = try await pool.take(held: &held, limit: limit, until: .now + lagLimit)
        while taken == nil {
            // No buffer within the lag limit: members of this group, or of others, hold them. Those that move free
            // theirs soon; a stalled one, or one that never came, would hold them forever (and groups waiting on
            // each other's late members would never move), so the lag limit applies here too.
            state.withLockedValue { state in Self.detachStalled(&state, keeping: id, limit: lagLimit) }
            taken = try await pool.take(held: &held, limit: limit, until: .now + lagLimit)
        }
        var (slot, buffer) = taken!
        // The buffer must be its storage's only owner when it is written, or the write copies it into fresh memory
        // (a new mmap of the block, a page fault per 4 KiB and an munmap per block).
        taken = nil
        defer { pool.give(back: buffer, to: slot) }
        var done = 0
        while done < length {
            let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length - done) { pointer in
                Swift.max(0, pread(descriptor, pointer.baseAddress, length - done, off_t(offset + Int64(done))))
            }
            if got == 0 { break }
            done += got
        }
        return buffer
    }
}

/// The shared reads of one fan-out: for each blob, a `SharedFileRead` that every participant (a registry being
/// published to) joins when it uploads the blob, or declines when it needs no upload (present, mounted) or has
/// stopped (failed), so the others never wait for it.
public final class SharedBlobReads: Sendable {
    public let participants: Int
    /// Passed to every shared read (`SharedFileRead.lagLimit`).
    public let lagLimit: Duration
    private let state = NIOLockedValueBox<State>(State())

    struct State {
        var groups: [Digest: (read: SharedFileRead, arrived: Set<Int>)] = [:]
        var finished: Set<Int> = []
    }

    public init(participants: Int, lagLimit: Duration = SharedFileRead.defaultLagLimit) {
        self.participants = participants
        self.lagLimit = lagLimit
    }

    /// `participant`'s place in the read of `digest`.
    public func member(_ digest: Digest, participant: Int) -> SharedFileRead.Member {
        arrive(digest, participant).join()
    }

    /// Blocks read from files for all the shared uploads, and members left behind to read alone (for `-v` logs).
    public var summary: (blocksRead: Int, leftBehind: Int) {
        let reads = state.withLockedValue { $0.groups.values.map(\.read) }
        return (reads.map(\.blocksRead).reduce(0, +), reads.map(\.membersLeftBehind).reduce(0, +))
    }

    /// `participant` will not read `digest`.
    public func decline(_ digest: Digest, participant: Int) {
        arrive(digest, participant).decline()
    }

    /// `participant` reads nothing more: every read it has not arrived at stops expecting it.
    public func finish(participant: Int) {
        let waiting: [SharedFileRead] = state.withLockedValue { state in
            guard state.finished.insert(participant).inserted else { return [] }
            var waiting: [SharedFileRead] = []
            for (digest, group) in state.groups where !group.arrived.contains(participant) {
                state.groups[digest]?.arrived.insert(participant)
                waiting.append(group.read)
            }
            return waiting
        }
        for read in waiting { read.decline() }
    }

    private func arrive(_ digest: Digest, _ participant: Int) -> SharedFileRead {
        state.withLockedValue { state in
            if state.groups[digest] == nil {
                state.groups[digest] = (
                    SharedFileRead(expected: participants - state.finished.count, lagLimit: lagLimit), []
                )
            }
            state.groups[digest]!.arrived.insert(participant)
            return state.groups[digest]!.read
        }
    }
}
