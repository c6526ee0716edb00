import Foundation
import NIOHTTP1
import PierModel

/// Which failures pier sends again, how long it waits first and how many times it tries: one policy for the
/// distribution client and the hosted-service APIs.
///
/// Retried: a network failure (no answer); 408, 429 and 5xx; and GitHub's secondary rate limit, 403 or 429 with
/// `retry-after`, or `x-ratelimit-remaining: 0` with `x-ratelimit-reset`, which is a pause, not an auth failure
/// (docs.github.com "Rate limits for the REST API"). The wait is the one the server asks for (`Retry-After`, which
/// distribution-spec says a 429 SHOULD carry, or GitHub's reset time), else exponential backoff with jitter. A
/// server that asks for more than `maxServerWait` is not waited out: the failure is reported with the wait.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    /// The backoff before the second attempt; it doubles for each attempt after.
    public var baseDelay: Duration
    /// The longest backoff pier chooses itself.
    public var maxDelay: Duration
    /// The longest wait pier takes when the server names one; a limit that resets later is reported instead.
    public var maxServerWait: Duration

    /// The default `maxServerWait`: two minutes is a pause a release job can afford; a rate limit that resets
    /// later (Docker Hub's resets over hours) is better reported so the user can rerun.
    public static let defaultMaxServerWait: Duration = .seconds(120)
    /// A server's wait is read up to a day ahead; anything later counts as a day (and so is reported, not waited).
    public static let serverWaitCeiling: Duration = .seconds(86_400)
    /// Doublings of `baseDelay` at most: 2¹⁶ × 300 ms is far past any `maxDelay`, and the shift stays small.
    static let maximumDoublings = 16

    /// Attempts by default: at most 4.5 s of backoff in all with the default delays (0.3 + 0.6 + 1.2 + 2.4 s),
    /// enough to ride out a dropped connection or a registry restarting, short enough that a registry that is down
    /// fails the run soon.
    public static let defaultMaxAttempts = 5
    /// The first backoff by default: long enough that a registry answering 503 under load gets a breath.
    public static let defaultBaseDelay: Duration = .milliseconds(300)
    /// The longest backoff by default, for policies with more attempts: a longer pause is better reported, so the
    /// user can rerun.
    public static let defaultMaxDelay: Duration = .seconds(30)

    public init(
        maxAttempts: Int = defaultMaxAttempts, baseDelay: Duration = defaultBaseDelay,
        maxDelay: Duration = defaultMaxDelay,
        maxServerWait: Duration = defaultMaxServerWait
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxServerWait = maxServerWait
    }

    /// What follows a failed attempt.
    public enum Decision: Sendable, Equatable {
        /// Send again after this pause.
        case retry(after: Duration)
        /// Give up. `serverWait` is the pause the server asked for, if it named one (for the error's hint).
        case stop(serverWait: Duration?)
    }

    /// After attempt `attempt` (counting from 1) got no answer.
    public func afterNetworkFailure(attempt: Int) -> Decision {
        guard attempt < maxAttempts, !Task.isCancelled else { return .stop(serverWait: nil) }
        return .retry(after: backoff(afterAttempt: attempt))
    }

    /// After attempt `attempt` (counting from 1) was answered `status` with `headers`, a status the caller does not
    /// accept.
    public func afterAnswer(status: Int, headers: HTTPHeaders, attempt: Int, now: Date = Date()) -> Decision {
        let serverWait = Self.serverWait(status: status, headers: headers, now: now)
        guard Self.isRetryable(status: status) || serverWait != nil, attempt < maxAttempts, !Task.isCancelled,
            (serverWait ?? .zero) <= maxServerWait
        else { return .stop(serverWait: serverWait) }
        return .retry(after: serverWait ?? backoff(afterAttempt: attempt))
    }

    /// After attempt `attempt` of a whole operation (an upload with its own session, a download into a file)
    /// failed with `error`; `statuses` says whether a retryable status is worth another attempt as well.
    public func afterFailure(_ error: PierError, attempt: Int, statuses: Bool = true) -> Decision {
        guard Self.isRetryable(error, statuses: statuses) else { return .stop(serverWait: nil) }
        return afterNetworkFailure(attempt: attempt)
    }

    /// Runs `body` with the attempt number (from 1) until it returns or `afterFailure` says stop, then throws the
    /// last error. Cancellation during a pause ends the loop with the last error too.
    public func run<T>(statuses: Bool = true, _ body: (Int) async throws(PierError) -> T) async throws(PierError) -> T {
        var attempt = 0
        while true {
            attempt += 1
            do throws(PierError) { return try await body(attempt) } catch {
                guard case .retry(let pause) = afterFailure(error, attempt: attempt, statuses: statuses),
                    await Self.sleep(pause)
                else { throw error }
            }
        }
    }

    /// Sleeps for `duration`; false when the task was cancelled meanwhile.
    public static func sleep(_ duration: Duration) async -> Bool {
        do {
            try await Task.sleep(for: duration)
            return true
        } catch {
            return false
        }
    }

    /// The pause before attempt `attempt + 1` when the server named none: exponential from `baseDelay`, capped at
    /// `maxDelay`, with full jitter between half and all of it so parallel uploads do not retry in lockstep.
    public func backoff(afterAttempt attempt: Int) -> Duration {
        let exponential = baseDelay * (1 << min(max(attempt - 1, 0), Self.maximumDoublings))
        return min(exponential, maxDelay) * Double.random(in: 0.5...1.0)
    }

    /// 408 Request Timeout, 429 Too Many Requests and 5xx: worth the same request again.
    public static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status)
    }

    /// Whether a whole upload or download that failed with `error` is worth another attempt: a network failure or a
    /// retryable status (`statuses`), unless pier refused the answer on purpose.
    public static func isRetryable(_ error: PierError, statuses: Bool = true) -> Bool {
        guard !error.isFinal else { return false }
        return error.kind == .network || (statuses && (error.status.map(isRetryable(status:)) ?? false))
    }

    /// The pause an answer asks for: `Retry-After` on 403 (GitHub), 408, 429 and 5xx, or, when
    /// `x-ratelimit-remaining` is 0, the `x-ratelimit-reset` epoch. Nil when it names none. Values are range-checked:
    /// unparsable ones are ignored, past ones are no wait, and anything beyond `serverWaitCeiling` counts as that.
    public static func serverWait(status: Int, headers: HTTPHeaders, now: Date = Date()) -> Duration? {
        guard status == 403 || isRetryable(status: status) else { return nil }
        if let retryAfter = parseRetryAfter(headers.first(name: "Retry-After"), now: now) { return retryAfter }
        guard headers.first(name: "x-ratelimit-remaining") == "0",
            let text = headers.first(name: "x-ratelimit-reset"), let reset = Int64(text), reset >= 0
        else { return nil }
        return clamped(seconds: Double(reset) - now.timeIntervalSince1970)
    }

    /// Parses `Retry-After`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3), as a wait from `now` between zero
    /// and `serverWaitCeiling`; nil when it is neither.
    public static func parseRetryAfter(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int64(value) { return clamped(seconds: Double(seconds)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return clamped(seconds: date.timeIntervalSince(now))
    }

    /// Whole seconds, rounded up, between zero and `serverWaitCeiling`.
    static func clamped(seconds: Double) -> Duration {
        let ceiling = Double(serverWaitCeiling.components.seconds)
        guard seconds.isFinite else { return seconds > 0 ? serverWaitCeiling : .zero }
        return .seconds(Int64(min(max(seconds, 0), ceiling).rounded(.up)))
    }
}
