/// Deduplicates work in flight by key: the second caller for a key awaits the first caller's task
/// (go-containerregistry `workers.Do`), so a blob shared by two platforms is uploaded once.
public actor InFlight<Key: Hashable & Sendable, Value: Sendable> {
    private var tasks: [Key: Task<Value, any Error>] = [:]
    public init() {}

    public func run(_ key: Key, _ work: @escaping @Sendable () async throws -> Value) async throws -> Value {
        if let existing = tasks[key] { return try await existing.value }
        let task = Task { try await work() }
        tasks[key] = task
        return try await task.value
    }
}

/// Runs `work` for every element with at most `limit` running at once, returning results in input order.
/// The first error cancels the rest and is rethrown.
public func forEachConcurrently<Element: Sendable, Result: Sendable>(
    _ elements: [Element], limit: Int, _ work: @escaping @Sendable (Element) async throws -> Result
) async throws -> [Result] {
    try await withThrowingTaskGroup(of: (Int, Result).self) { group in
        var results = [Result?](repeating: nil, count: elements.count)
        var next = 0
        func startNext() {
            let index = next
            let element = elements[index]
            group.addTask { (index, try await work(element)) }
            next += 1
        }
        while next < min(limit, elements.count) { startNext() }
        while let (index, result) = try await group.next() {
            results[index] = result
            if next < elements.count { startNext() }
        }
        return results.map { $0! }
    }
}
