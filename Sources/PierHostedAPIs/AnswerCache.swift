import PierModel

/// Answers worth asking for once per run, keyed: a Docker Hub login's JWT, a GitLab repository's project and id.
/// Concurrent askers for the same key share one request; a failed request is not kept, so the next asker tries again.
actor AnswerCache<Key: Hashable & Sendable, Value: Sendable> {
    private var answers: [Key: Task<Value, any Error>] = [:]

    init() {}

    /// The answer for `key`, asking `make` only when there is none yet (or the last one failed).
    func value(for key: Key, _ make: @escaping @Sendable () async throws(PierError) -> Value) async throws(PierError)
        -> Value
    {
        let task: Task<Value, any Error>
        if let pending = answers[key] {
            task = pending
        } else {
            task = Task { () async throws(any Error) -> Value in try await make() }
            answers[key] = task
        }
        do {
            return try await task.value
        } catch {
            if answers[key] == task { answers[key] = nil }
            throw error as? PierError ?? PierError(.other, operation: "ask once", message: "\(error)")
        }
    }

    /// Forgets the answer for `key` (a token the server no longer takes).
    func forget(_ key: Key) { answers[key] = nil }
}
