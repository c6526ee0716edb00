import Foundation
import NIOHTTP1
import PierHTTP
import Testing

/// Docker Hub's and GitHub's rate-limit headers, read with every number range-checked, and the pacing they give.
@Suite struct RateLimitBudgetTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func reading(_ pairs: [(String, String)]) -> RateLimitBudget.Reading? {
        RateLimitBudget.reading(HTTPHeaders(pairs), now: now)
    }

    @Test func dockerHubAndGitHubHeadersAreRead() {
        #expect(reading([("ratelimit-remaining", "76;w=21600")]) == .init(remaining: 76, secondsToReset: 21600))
        #expect(
            reading([("x-ratelimit-remaining", "3"), ("x-ratelimit-reset", "1800000090")])
                == .init(remaining: 3, secondsToReset: 90))
        #expect(reading([("content-type", "text/plain")]) == nil)
    }

    @Test func hostileNumbersAreIgnored() {
        for value in ["-1", "", "abc", "99999999999", "1e9", " ", "7;w=-5"] {
            let read = reading([("ratelimit-remaining", value)])
            #expect(read == nil || read?.secondsToReset == nil, "\(value)")
        }
        #expect(reading([("ratelimit-remaining", "5;w=99999999")])?.secondsToReset == nil)
        // A reset in the past or more than a week ahead is no reset.
        #expect(reading([("x-ratelimit-remaining", "1"), ("x-ratelimit-reset", "1700000000")])?.secondsToReset == nil)
        #expect(reading([("x-ratelimit-remaining", "1"), ("x-ratelimit-reset", "9999999999")])?.secondsToReset == nil)
    }

    @Test func pacingStartsBelowTheReserveAndIsCapped() {
        #expect(RateLimitBudget.pause(after: .init(remaining: RateLimitBudget.reserve, secondsToReset: 60)) == nil)
        #expect(RateLimitBudget.pause(after: .init(remaining: 5, secondsToReset: nil)) == nil)
        // 59 s left for 5 requests (and the one after): 9.833 s each.
        #expect(RateLimitBudget.pause(after: .init(remaining: 5, secondsToReset: 59)) == .milliseconds(9_833))
        // Nothing left: wait for the reset, at most the cap.
        #expect(RateLimitBudget.pause(after: .init(remaining: 0, secondsToReset: 30)) == .seconds(30))
        #expect(
            RateLimitBudget.pause(after: .init(remaining: 0, secondsToReset: 21600)) == RateLimitBudget.maximumPause)
    }
}
