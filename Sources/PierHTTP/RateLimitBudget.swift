import Foundation
import NIOHTTP1

/// Pacing by the rate limits a server announces, so a long run (an organisation-wide sync) slows down before the
/// budget runs out instead of failing halfway through:
/// - Docker Hub: `ratelimit-remaining: 76;w=21600` (pulls left in a window of `w` seconds; docker docs, "Usage and
///   limits"). HEAD requests do not count, which is why pier HEADs first everywhere.
/// - GitHub: `x-ratelimit-remaining` and `x-ratelimit-reset` (an epoch; docs.github.com "Rate limits for the REST
///   API").
/// While more than `reserve` requests remain nothing changes. Below that, each request waits for its share of the
/// time left (the reset, else the window) divided by the requests left, at most `maximumPause`; with none left
/// and a reset named, it waits for the reset (at most `maximumPause`; the retry policy handles the refusal after).
public enum RateLimitBudget {
    /// Requests left below which pier starts pacing.
    public static let reserve = 20
    /// The longest pause pier takes before one request.
    public static let maximumPause: Duration = .seconds(60)
    /// Windows and resets are read up to a week ahead; anything else is ignored as malformed.
    static let maximumWindowSeconds = 7 * 86_400
    /// Remaining counts above this are no limit worth pacing for (and keep the arithmetic small).
    static let maximumRemaining = 1_000_000_000

    /// What a response announced.
    public struct Reading: Sendable, Equatable {
        public var remaining: Int
        /// Seconds until the budget is whole again, when the server says.
        public var secondsToReset: Int?

        public init(remaining: Int, secondsToReset: Int? = nil) {
            self.remaining = remaining
            self.secondsToReset = secondsToReset
        }
    }

    /// Reads Docker Hub's or GitHub's headers; nil when neither is present or parses. Every number is range-checked.
    public static func reading(_ headers: HTTPHeaders, now: Date = Date()) -> Reading? {
        if let value = headers.first(name: "x-ratelimit-remaining"), let remaining = count(value) {
            var reading = Reading(remaining: remaining)
            if let text = headers.first(name: "x-ratelimit-reset"), let reset = Int64(text), reset > 0 {
                let seconds = Double(reset) - now.timeIntervalSince1970
                if seconds.isFinite, seconds >= 0, seconds <= Double(maximumWindowSeconds) {
                    reading.secondsToReset = Int(seconds.rounded(.up))
                }
            }
            return reading
        }
        if let value = headers.first(name: "ratelimit-remaining") {
            // `76;w=21600`: the count, then parameters.
            let parts = value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = parts.first, let remaining = count(first) else { return nil }
            var reading = Reading(remaining: remaining)
            for part in parts.dropFirst() where part.hasPrefix("w=") {
                if let window = count(String(part.dropFirst(2))), (1...maximumWindowSeconds).contains(window) {
                    reading.secondsToReset = window
                }
            }
            return reading
        }
        return nil
    }

    /// The pause before the next request, nil when there is budget enough.
    public static func pause(after reading: Reading) -> Duration? {
        guard reading.remaining < reserve, let seconds = reading.secondsToReset, seconds > 0 else { return nil }
        let share = Double(seconds) / Double(reading.remaining + 1)
        let capped = min(share, Double(maximumPause.components.seconds))
        return capped < 0.001 ? nil : .milliseconds(Int64(capped * 1000))
    }

    static func count(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 10, trimmed.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = Int(trimmed), value <= maximumRemaining
        else { return nil }
        return value
    }
}
