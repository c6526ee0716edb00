import Foundation
import Logging
import PierModel
import PierRegistry
import PierTestSupport
import Testing

/// The run's request limit (`--max-requests`) holds across registries, below each registry's own limit.
struct RequestLimitTests {
    /// Requests each registry is asked for at once, more than either limit lets through.
    static let requestsPerRegistry = 20

    /// Two registries, 4 requests in flight each, 20 HEADs asked of each at once: with a run's limit of 3 the two
    /// fakes together never answer more than 3 at a time (and do reach 3); with a limit of 64 they reach the
    /// per-registry limits' 8, so the gauge can see more than 3.
    @Test(arguments: [(limit: 3, most: 3), (limit: 64, most: 8)])
    func requestsInFlightNeverExceedTheRunsLimit(_ run: (limit: Int, most: Int)) async throws {
        var quirks = FakeRegistry.Quirks()
        quirks.answerDelay = .milliseconds(40)
        let gauge = RequestGauge()
        let registries = [
            try await FakeRegistry(quirks: quirks, gauge: gauge), try await FakeRegistry(quirks: quirks, gauge: gauge),
        ]
        defer { for registry in registries { registry.stop() } }
        var logger = Logger(label: "pier-test")
        logger.logLevel = .warning
        var options = RegistryOptions(
            concurrency: 4,
            credentials: CredentialChain(
                explicitByHost: [:], dockerConfig: DockerConfig(path: Tools.temporaryDirectory() + "/config.json"),
                environment: [:]),
            logger: logger)
        options.maxRequests = run.limit
        let pool = try RegistryPool(options: options)
        var clients: [RegistryClient] = []
        for registry in registries { clients.append(await pool.client(for: registry.host)) }
        let found = try await withThrowingTaskGroup(of: Bool.self) { group in
            for client in clients {
                for n in 0..<Self.requestsPerRegistry {
                    group.addTask { try await client.manifestHead(repository: "org/app", reference: "t\(n)") != nil }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        await pool.shutdown()
        #expect(found == 0)
        let answered = await registries.asyncMap { await $0.requestLog().count }.reduce(0, +)
        #expect(answered == 2 * (1 + Self.requestsPerRegistry))  // a ping and the HEADs, none lost or repeated
        #expect(await gauge.maximum == run.most)
        #expect(await gauge.current == 0)
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var results: [T] = []
        for element in self { results.append(await transform(element)) }
        return results
    }
}
