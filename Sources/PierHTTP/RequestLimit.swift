/// A cap on requests awaiting an answer: a counting semaphore, FIFO. One per registry (`--concurrency`, pier.yml
/// `registries[].concurrency`) and one for the run, across every registry and hosted API (`--max-requests`,
/// `PIER_MAX_REQUESTS`, pier.yml `max_requests`). Registry clients take their registry's slot first, so a request
/// queued behind a busy registry holds no slot of the run's.
public actor RequestLimit {
    /// Requests in flight at most.
    public nonisolated let limit: Int
    private var holders = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(limit: Int) { self.limit = max(1, limit) }

    private func acquire() async {
        if holders < limit {
            holders += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            holders -= 1
        } else {
            // The slot goes straight to the next waiter; `holders` stays the same.
            waiters.removeFirst().resume()
        }
    }

    /// Runs `body` (one request until its answer's head) while holding a slot.
    public nonisolated func withPermit<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let value = try await body()
            await release()
            return value
        } catch {
            await release()
            throw error
        }
    }
}
