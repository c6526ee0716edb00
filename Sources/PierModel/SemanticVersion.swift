/// A semantic version (semver.org 2.0.0), read from a git tag such as `v1.2.3` or `1.3.0-rc.1+build.5`.
public struct SemanticVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int
    /// Dot-separated pre-release identifiers (`rc.1`); empty for a stable release.
    public var prerelease: [String]
    public var build: String?

    public init(major: Int, minor: Int, patch: Int, prerelease: [String] = [], build: String? = nil) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
        self.build = build
    }

    /// Parses `1.2.3`, `v1.2.3`, `1.2.3-rc.1`, `1.2.3+meta` (semver.org 2.0.0 §2, §9, §10, with an optional
    /// leading `v`); nil for anything else: no leading zeros in numbers and numeric pre-release identifiers,
    /// identifiers non-empty and of `[0-9A-Za-z-]` only, nothing before or after (no whitespace, no newline).
    public init?(_ text: String) {
        var rest = Substring(text)
        if rest.hasPrefix("v") || rest.hasPrefix("V") { rest = rest.dropFirst() }
        var build: String?
        if let plus = rest.firstIndex(of: "+") {
            let identifiers = rest[rest.index(after: plus)...].split(separator: ".", omittingEmptySubsequences: false)
            guard identifiers.allSatisfy(Self.isIdentifier) else { return nil }
            build = String(rest[rest.index(after: plus)...])
            rest = rest[..<plus]
        }
        var prerelease: [String] = []
        if let dash = rest.firstIndex(of: "-") {
            let identifiers = rest[rest.index(after: dash)...].split(separator: ".", omittingEmptySubsequences: false)
            // §9: numeric identifiers must not include leading zeroes.
            guard
                identifiers.allSatisfy({
                    Self.isIdentifier($0) && !(Self.isNumeric($0) && $0.count > 1 && $0.hasPrefix("0"))
                })
            else { return nil }
            prerelease = identifiers.map(String.init)
            rest = rest[..<dash]
        }
        let numbers = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard numbers.count == 3 else { return nil }
        var values: [Int] = []
        for number in numbers {
            guard Self.isNumeric(number), let value = Int(number), number == "0" || !number.hasPrefix("0") else {
                return nil
            }
            values.append(value)
        }
        self.init(major: values[0], minor: values[1], patch: values[2], prerelease: prerelease, build: build)
    }

    /// §9/§10: an identifier is one or more of `[0-9A-Za-z-]`.
    static func isIdentifier(_ text: Substring) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "-")
            }
    }

    static func isNumeric(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    public var isStable: Bool { prerelease.isEmpty }

    /// `1.2.3` or `1.2.3-rc.1` (build metadata is not part of a tag: `+` is not allowed there).
    public var description: String {
        "\(major).\(minor).\(patch)" + (prerelease.isEmpty ? "" : "-" + prerelease.joined(separator: "."))
    }

    /// semver §11: numbers numerically, a pre-release before its release, identifiers field by field.
    public static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        if lhs.major != rhs.major { return lhs.major < rhs.major }
        if lhs.minor != rhs.minor { return lhs.minor < rhs.minor }
        if lhs.patch != rhs.patch { return lhs.patch < rhs.patch }
        if lhs.prerelease.isEmpty || rhs.prerelease.isEmpty { return !lhs.prerelease.isEmpty && rhs.prerelease.isEmpty }
        for (a, b) in zip(lhs.prerelease, rhs.prerelease) where a != b {
            switch (Int(a), Int(b)) {
            case let (x?, y?): return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return a < b
            }
        }
        return lhs.prerelease.count < rhs.prerelease.count
    }

    public static func == (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        lhs.major == rhs.major && lhs.minor == rhs.minor && lhs.patch == rhs.patch && lhs.prerelease == rhs.prerelease
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(major)
        hasher.combine(minor)
        hasher.combine(patch)
        hasher.combine(prerelease)
    }
}
