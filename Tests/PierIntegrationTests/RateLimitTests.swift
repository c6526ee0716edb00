import Foundation
import PierHTTP
import PierHostedAPIs
import PierModel
import PierRegistry
import PierTestSupport
import Testing

/// Request budgets: pier reads what a registry or an API says is left, slows down or waits for a reset it can
/// afford, and stops before sending a request the service would refuse, instead of failing halfway through a run.
struct RateLimitTests {
    /// Docker Hub's pull limit: HEADs are free and tell the budget; with the last pull spent, pier does not send
    /// the next manifest GET (the registry would answer 429), and says why.
    @Test func aSpentPullLimitStopsBeforeTheRequest() async throws {
        let server = try await RateLimitedServer(pulls: 1)
        defer { server.stop() }
        let store = try Harness.store(insecure: [server.host])
        defer { Task { await store.pool.shutdown() } }
        let client = await store.client(for: server.host)
        #expect(try await client.manifestHead(repository: "app", reference: "1.0") != nil)
        #expect(await client.rateLimit() == "1 remaining of 100 per \(RateLimitedServer.window) s")
        _ = try await client.manifest(repository: "app", reference: "1.0")
        await #expect {
            _ = try await client.manifest(repository: "app", reference: "1.1")
        } throws: { error in
            let error = error as? PierError
            return error?.kind == .network && error?.message.contains("pull limit is used up") == true
                && error?.hint?.contains("log in for a higher limit") == true
        }
        #expect(await server.manifestGets() == 1)
        #expect(await server.refused() == 0)
    }

    /// GitHub's API budget: two requests per window of one second. pier paces the last request of a window and
    /// waits for the reset before the next, so the API never has to refuse one (without the budget the third
    /// request is refused and retried).
    @Test func anAPIBudgetIsWaitedOutNotOverrun() async throws {
        let server = try await RateLimitedServer(pulls: 0, apiLimit: 2, apiResetIn: 1)
        defer { server.stop() }
        let transport = try RegistryTransport(caFile: nil, concurrency: 4)
        defer { Task { await transport.shutdown() } }
        let github = GitHubPackagesAPI(transport: transport, token: "t", base: server.base)
        for name in ["a", "b", "c", "d"] {
            #expect(try await github.listImages(repository: "org/\(name)").isEmpty)
        }
        #expect(await server.apiRequests() == 4)
        #expect(await server.refused() == 0)
    }
}
