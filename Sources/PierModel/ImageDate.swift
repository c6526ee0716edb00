import Foundation

/// Where an image's age comes from, best first: the push time a registry's own API keeps, then the
/// `org.opencontainers.image.created` annotation, then the config's `created`.
public enum DateSource: String, Sendable, Codable, CaseIterable {
    case ecrPushed = "ecr-pushed"
    case gitHubPushed = "github-pushed"
    case dockerHubPushed = "dockerhub-pushed"
    case gitLabCreated = "gitlab-created"
    case harborPushed = "harbor-pushed"
    case annotation
    case config
    case undated

    /// The field the date was read from, as the registry or spec names it.
    public var field: String {
        switch self {
        case .ecrPushed: return "ECR imagePushedAt"
        case .gitHubPushed: return "GitHub package version updated_at"
        case .dockerHubPushed: return "Docker Hub tag_last_pushed"
        case .gitLabCreated: return "GitLab tag created_at"
        case .harborPushed: return "Harbor push_time"
        case .annotation: return "annotation org.opencontainers.image.created"
        case .config: return "config created"
        case .undated: return "undated"
        }
    }

    /// A push time kept by the registry (as opposed to a date written into the image by its builder).
    public var isPushTime: Bool {
        switch self {
        case .ecrPushed, .gitHubPushed, .dockerHubPushed, .gitLabCreated, .harborPushed: return true
        case .annotation, .config, .undated: return false
        }
    }
}

/// An image's date and where it came from. A date before `earliestTrusted`, in the future, or missing does not
/// count: such an image is *undated*, and no age rule ever deletes it. Reproducible builds (SOURCE_DATE_EPOCH,
/// ko, Bazel, nix, `buildah --timestamp`, `pier build`) write 1970-01-01 into the config.
public struct ImageDate: Sendable, Codable, Equatable {
    /// 2000-01-01T00:00:00Z: no container image is older; earlier dates are placeholders such as the Unix epoch.
    public static let earliestTrusted = Date(timeIntervalSince1970: 946_684_800)
    /// How far ahead of this machine's clock a date may be and still count: registry and runner clocks differ by
    /// seconds to minutes.
    public static let clockSkewAllowance: TimeInterval = 600

    public var date: Date?
    public var source: DateSource
    /// For an undated image: each place pier looked and what it found there.
    public var looked: [String]

    public init(date: Date?, source: DateSource, looked: [String] = []) {
        self.date = date
        self.source = date == nil ? .undated : source
        self.looked = looked
    }

    public static let undated = ImageDate(date: nil, source: .undated)

    /// The first trustworthy candidate, in the order given; an undated result lists every candidate and why it did
    /// not count.
    public static func best(_ candidates: [(source: DateSource, date: Date?)], now: Date) -> ImageDate {
        var looked: [String] = []
        for candidate in candidates {
            guard let date = candidate.date else {
                looked.append("\(candidate.source.field): none")
                continue
            }
            if date < earliestTrusted {
                looked.append("\(candidate.source.field): \(rfc3339(date)) is before 2000-01-01")
            } else if date > now.addingTimeInterval(clockSkewAllowance) {
                looked.append("\(candidate.source.field): \(rfc3339(date)) is in the future")
            } else {
                return ImageDate(date: date, source: candidate.source)
            }
        }
        return ImageDate(date: nil, source: .undated, looked: looked)
    }

    /// RFC 3339 in UTC, seconds precision.
    public static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// Parses an RFC 3339 date as registries and builders write it: with or without fractional seconds, and Go's
    /// nine fractional digits (ISO8601DateFormatter takes at most three).
    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        if let dot = text.firstIndex(of: "."),
            let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "z" || $0 == "+" || $0 == "-" })
        {
            return formatter.date(from: String(text[..<dot]) + String(text[zone...]))
        }
        return nil
    }
}
