/// The outcome of ECR's scan of one image (`DescribeImageScanFindings`): its status and the findings counted by
/// severity (`CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `INFORMATIONAL`, `UNDEFINED`).
public struct ECRScanFindings: Sendable, Equatable, Codable {
    /// `IN_PROGRESS`, `COMPLETE`, `FAILED`, `ACTIVE`, `PENDING`, …
    public var status: String
    public var countsBySeverity: [String: Int]

    /// The most findings of one severity accepted from the API; a larger number is not believed.
    public static let maximumCount = 1_000_000

    /// ECR's severities, most severe first.
    public static let severities = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED"]

    public init(status: String, countsBySeverity: [String: Int]) {
        self.status = status
        self.countsBySeverity = countsBySeverity
    }

    /// Findings at `severity` or above.
    public func count(atLeast severity: String) -> Int {
        guard let rank = Self.severities.firstIndex(of: severity.uppercased()) else { return 0 }
        return Self.severities.prefix(rank + 1).reduce(0) { $0 + (countsBySeverity[$1] ?? 0) }
    }
}
