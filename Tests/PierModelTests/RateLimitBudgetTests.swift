import Foundation
import NIOHTTP1
import PierHTTP
import Testing

/// Reading request budgets from headers, and what pier does before the next request.
struct RateLimitBudgetTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func readsGitHubAndDockerHubHeaders() {
        let github = RateLimitBudget.reading(
            from: ["x-ratelimit-remaining": "42", "x-ratelimit-limit": "5000", "x-ratelimit-reset": "1800000600"],
            now: now)
        #expect(github == .init(remaining: 42, limit: 5000, reset: now.addingTimeInterval(600)))
        let hub = RateLimitBudget.reading(
            from: ["ratelimit-remaining": "76;w=21600", "ratelimit-limit": "100;w=21600"], now: now)
        #expect(hub == .init(remaining: 76, limit: 100, reset: nil, window: 21_600))
        #expect(hub?.summary == "76 remaining of 100 per 21600 s")
    }

    /// Out-of-range numbers are ignored as if absent: no negative budget, no reset in the past or next year.
    @Test func outOfRangeValuesAreIgnored() {
        #expect(RateLimitBudget.reading(from: ["x-ratelimit-remaining": "-1"], now: now) == nil)
        #expect(RateLimitBudget.reading(from: ["ratelimit-remaining": "1e9"], now: now) == nil)
        #expect(RateLimitBudget.reading(from: ["ratelimit-remaining": "999999999999"], now: now) == nil)
        let past = RateLimitBudget.reading(
            from: ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000000"], now: now)
        #expect(past?.reset == nil)
        let far = RateLimitBudget.reading(
            from: ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "1900000000"], now: now)
        #expect(far?.reset == nil)
        #expect(RateLimitBudget.reading(from: ["ratelimit-remaining": "5;w=0"], now: now)?.window == nil)
    }

    @Test func admissionGoesPacesWaitsAndStops() async {
        let budget = RateLimitBudget()
        #expect(await budget.admit(now: now, longestWait: .seconds(120)) == .go)
        await budget.observe(
            ["x-ratelimit-remaining": "50", "x-ratelimit-reset": "\(Int(now.timeIntervalSince1970) + 100)"], now: now)
        #expect(await budget.admit(now: now, longestWait: .seconds(120)) == .go)
        #expect(await budget.current?.remaining == 49)
        // Few left: the rest is spread over the time to the reset (100 s / 5 = 20 s, at most 10 s).
        await budget.observe(
            ["x-ratelimit-remaining": "5", "x-ratelimit-reset": "\(Int(now.timeIntervalSince1970) + 100)"], now: now)
        #expect(await budget.admit(now: now, longestWait: .seconds(120)) == .wait(RateLimitBudget.longestPace))
        // Spent, reset in 30 s: wait for it (and a second).
        await budget.observe(
            ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "\(Int(now.timeIntervalSince1970) + 30)"], now: now)
        #expect(await budget.admit(now: now, longestWait: .seconds(120)) == .wait(.seconds(31)))
        // Spent, reset later than pier waits: stop.
        #expect(
            await budget.admit(now: now, longestWait: .seconds(10))
                == .exhausted(reset: now.addingTimeInterval(30)))
        // After the reset, go and learn the new budget.
        #expect(await budget.admit(now: now.addingTimeInterval(31), longestWait: .seconds(10)) == .go)
        #expect(await budget.current == nil)
        // Docker Hub: spent, no reset time: stop.
        await budget.observe(["ratelimit-remaining": "0;w=21600"], now: now)
        #expect(await budget.admit(now: now, longestWait: .seconds(120)) == .exhausted(reset: nil))
    }
}
