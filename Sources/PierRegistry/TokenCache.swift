/// Bearer tokens by realm, service and scope set, until shortly before they expire; one fetch per key even when
/// many uploads ask at once (regclient `internal/auth`).
actor TokenCache {
    private struct Entry {
        var token: String
        var expires: ContinuousClock.Instant
    }
    private var entries: [String: Entry] = [:]
    private var inFlight: [String: Task<(String, Duration), any Error>] = [:]

    /// Returns a cached token or runs `fetch` (once per key); `fetch` returns the token and its lifetime.
    func token(key: String, fetch: @escaping @Sendable () async throws -> (String, Duration)) async throws -> String {
        if let entry = entries[key], entry.expires > .now { return entry.token }
        if let task = inFlight[key] { return try await task.value.0 }
        let task = Task { try await fetch() }
        inFlight[key] = task
        defer { inFlight[key] = nil }
        let (token, lifetime) = try await task.value
        entries[key] = Entry(token: token, expires: .now + max(lifetime, Self.minimumLifetime) - Self.renewalMargin)
        return token
    }

    /// The shortest lifetime a token is given: distribution-spec token.md says a client should assume 60 s when
    /// `expires_in` is smaller or missing.
    static let minimumLifetime: Duration = .seconds(60)
    /// How long before it expires a token is fetched again, so a request is not sent with a token about to lapse.
    static let renewalMargin: Duration = .seconds(5)

    func invalidate(key: String) { entries[key] = nil }
}
