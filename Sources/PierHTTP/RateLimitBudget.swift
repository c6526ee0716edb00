import Foundation
import NIOHTTP1

/// What a server said of its request budget, and what pier does before the next request that spends it: go, slow
/// down, wait for the reset, or stop before sending a request the server would refuse.
///
/// Read from every answer:
/// - GitHub's REST API: `x-ratelimit-remaining`, `x-ratelimit-limit` and `x-ratelimit-reset` (epoch seconds)
///   (docs.github.com, "Rate limits for the REST API"). Every request spends it.
/// - Docker Hub's registry: `ratelimit-remaining: 76;w=21600` and `ratelimit-limit: 100;w=21600`, a sliding
///   window of `w` seconds without a reset time (docs.docker.com, "Docker Hub usage and limits"). Only a manifest
///   GET spends it; a HEAD is free, which is why pier HEADs first.
/// - The IETF draft's `RateLimit-Reset` (delta seconds), when a server sends it beside `ratelimit-remaining`.
///
/// The budget is counted down locally between answers, so requests in flight together do not all spend the last
/// unit. Every number is range-checked; a value out of range is ignored, as if the header were absent.
public actor RateLimitBudget {
    /// One reading of the headers.
    public struct Reading: Sendable, Equatable {
        /// Requests left in the window.
        public var remaining: Int
        /// Requests per window, when the server says.
        public var limit: Int?
        /// When the window resets, when the server says.
        public var reset: Date?
        /// The window's length in seconds (Docker Hub's `w=`), when the server says.
        public var window: Int?

        public init(remaining: Int, limit: Int? = nil, reset: Date? = nil, window: Int? = nil) {
            self.remaining = remaining
            self.limit = limit
            self.reset = reset
            self.window = window
        }

        /// "76 remaining of 100 per 21600 s", for reports.
        public var summary: String {
            var text = "\(remaining) remaining"
            if let limit { text += " of \(limit)" }
            if let window { text += " per \(window) s" }
            return text
        }
    }

    /// What to do before the next request that spends the budget.
    public enum Admission: Sendable, Equatable {
        /// Send it.
        case go
        /// Wait this long first: the budget is low (pacing) or spent with a reset soon enough to wait for.
        case wait(Duration)
        /// The budget is spent and the reset is unknown or further away than pier waits: stop, before a request the
        /// server would refuse. `reset` is when it resets, if known.
        case exhausted(reset: Date?)
    }

    /// Below this many requests left (with a known reset), pier spreads the rest over the time to the reset
    /// instead of spending them at once and then waiting: a slower run that finishes beats a fast one that stops.
    public static let pacingThreshold = 10
    /// The longest pause between two paced requests: pacing slows a run down, it does not stall it.
    public static let longestPace: Duration = .seconds(10)
    /// The largest count or limit read: no service grants more requests per window.
    public static let largestCount = 100_000_000
    /// The latest reset read, from now: GitHub's hourly and Docker Hub's six-hour windows are well inside a day.
    public static let latestReset: TimeInterval = 86_400
    /// The longest window read (Docker Hub's `w=`): a week.
    public static let longestWindow = 604_800

    private var reading: Reading?

    public init() {}

    /// The last reading, as counted down since.
    public var current: Reading? { reading }

    /// Reads the budget headers of an answer, if it has them.
    public func observe(_ headers: HTTPHeaders, now: Date = Date()) {
        if let fresh = Self.reading(from: headers, now: now) { reading = fresh }
    }

    /// Decides about the next request that spends the budget, and counts it as spent when it goes.
    /// `longestWait` is the longest wait for a reset pier takes (the retry policy's `maxServerWait`).
    public func admit(now: Date = Date(), longestWait: Duration) -> Admission {
        guard var reading else { return .go }
        if let reset = reading.reset, reset <= now {
            // The window has reset since the reading; the next answer tells the new budget.
            self.reading = nil
            return .go
        }
        let untilReset = reading.reset.map { $0.timeIntervalSince(now) }
        if reading.remaining <= 0 {
            guard let untilReset, untilReset <= Double(longestWait.components.seconds) else {
                return .exhausted(reset: reading.reset)
            }
            // Every request waits for the reset (a second more for clocks that differ); the first one after it
            // learns the new budget.
            return .wait(.seconds(Int64(untilReset.rounded(.up)) + 1))
        }
        reading.remaining -= 1
        self.reading = reading
        guard reading.remaining < Self.pacingThreshold, let untilReset else { return .go }
        let pace = min(untilReset / Double(reading.remaining + 1), Double(Self.longestPace.components.seconds))
        return pace > 0 ? .wait(.milliseconds(Int64(pace * 1000))) : .go
    }

    /// The reading in `headers`, nil when they carry none (or none in range).
    public static func reading(from headers: HTTPHeaders, now: Date = Date()) -> Reading? {
        if let remaining = count(headers.first(name: "x-ratelimit-remaining")) {
            let reset = headers.first(name: "x-ratelimit-reset").flatMap { Int64($0) }.flatMap { epoch in
                Self.future(Date(timeIntervalSince1970: TimeInterval(epoch)), now: now)
            }
            return Reading(remaining: remaining, limit: count(headers.first(name: "x-ratelimit-limit")), reset: reset)
        }
        guard let remaining = count(headers.first(name: "ratelimit-remaining")) else { return nil }
        let reset = headers.first(name: "ratelimit-reset").flatMap { Int64($0) }.flatMap { delta in
            Self.future(now.addingTimeInterval(TimeInterval(delta)), now: now)
        }
        return Reading(
            remaining: remaining, limit: count(headers.first(name: "ratelimit-limit")), reset: reset,
            window: window(headers.first(name: "ratelimit-remaining") ?? headers.first(name: "ratelimit-limit")))
    }

    /// The count before any `;` parameter (`76;w=21600` → 76), within 0…`largestCount`.
    static func count(_ value: String?) -> Int? {
        guard let text = value?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces),
            let number = Int(text), (0...largestCount).contains(number)
        else { return nil }
        return number
    }

    /// The `w=` parameter (`76;w=21600` → 21600), within 1…`longestWindow`.
    static func window(_ value: String?) -> Int? {
        guard let value else { return nil }
        for parameter in value.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0] == "w", let seconds = Int(pair[1]), (1...longestWindow).contains(seconds) {
                return seconds
            }
        }
        return nil
    }

    /// `date` when it lies between now and `latestReset` ahead; nil otherwise (a past reset is no reset).
    static func future(_ date: Date, now: Date) -> Date? {
        let ahead = date.timeIntervalSince(now)
        return ahead > 0 && ahead <= latestReset ? date : nil
    }
}
