import PierModel

/// A semver range: space-separated comparators (`>=1.2.0 <2.0.0`), `^1.2`, `~1.2.3`, `1.x`, `1.2.*`, or an exact
/// version. Pre-releases match only comparators that name a pre-release of the same version (npm's rule, simplified:
/// pre-releases are excluded unless the range is exact).
public struct SemverRange: Sendable {
    let test: @Sendable (SemanticVersion) -> Bool
    public let text: String

    public func contains(_ version: SemanticVersion) -> Bool { test(version) }

    public init(_ text: String) throws(PierError) {
        self.text = text
        func fail() -> PierError {
            PierError(
                .usage, operation: "parse semver range", message: "\"\(text)\" is not a semver range",
                hint: "use >=1.2.0 <2.0.0, ^1.2, ~1.2.3, 1.x or 1.2.3")
        }
        func lower(_ part: Substring) -> (SemanticVersion, Int)? {
            // Partial versions: "1" → 1.0.0 (1 part), "1.2" → 1.2.0 (2 parts).
            let pieces = part.split(separator: ".").filter { $0 != "x" && $0 != "*" && $0 != "X" }
            guard (1...3).contains(pieces.count),
                pieces.allSatisfy({ Int($0) != nil }) || SemanticVersion(String(part)) != nil
            else { return nil }
            if let full = SemanticVersion(String(part)) { return (full, 3) }
            let numbers = pieces.map { Int($0)! }
            return (
                SemanticVersion(
                    major: numbers[0], minor: numbers.count > 1 ? numbers[1] : 0,
                    patch: numbers.count > 2 ? numbers[2] : 0), numbers.count
            )
        }
        var tests: [@Sendable (SemanticVersion) -> Bool] = []
        for token in text.split(separator: " ") {
            if token.hasPrefix("^") || token.hasPrefix("~") {
                guard let (base, parts) = lower(token.dropFirst()) else { throw fail() }
                let upper: SemanticVersion
                if token.hasPrefix("^") {
                    upper =
                        base.major > 0 || parts == 1
                        ? SemanticVersion(major: base.major + 1, minor: 0, patch: 0)
                        : SemanticVersion(major: 0, minor: base.minor + 1, patch: 0)
                } else {
                    upper =
                        parts == 1
                        ? SemanticVersion(major: base.major + 1, minor: 0, patch: 0)
                        : SemanticVersion(major: base.major, minor: base.minor + 1, patch: 0)
                }
                tests.append { $0 >= base && $0 < upper && $0.isStable }
                continue
            }
            let ops = [">=", "<=", ">", "<", "="]
            if let op = ops.first(where: { token.hasPrefix($0) }) {
                guard let (version, _) = lower(token.dropFirst(op.count)) else { throw fail() }
                switch op {
                case ">=": tests.append { $0 >= version && $0.isStable }
                case "<=": tests.append { $0 <= version && $0.isStable }
                case ">": tests.append { $0 > version && $0.isStable }
                case "<": tests.append { $0 < version && $0.isStable }
                default: tests.append { $0 == version }
                }
                continue
            }
            guard let (base, parts) = lower(token) else { throw fail() }
            if parts == 3 {
                tests.append { $0 == base }
            } else {
                let upper =
                    parts == 1
                    ? SemanticVersion(major: base.major + 1, minor: 0, patch: 0)
                    : SemanticVersion(major: base.major, minor: base.minor + 1, patch: 0)
                tests.append { $0 >= base && $0 < upper && $0.isStable }
            }
        }
        guard !tests.isEmpty else { throw fail() }
        let all = tests
        test = { version in all.allSatisfy { $0(version) } }
    }
}
