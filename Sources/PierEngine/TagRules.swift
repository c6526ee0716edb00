import Foundation
import PierModel

/// Which tags a build gets. Defaults follow docker/metadata-action and common practice.
public struct TagRules: Sendable, Codable, Equatable {
    /// When `latest` moves.
    public enum Latest: String, Sendable, Codable, CaseIterable {
        /// Only for a stable release that is the highest version in the repository.
        case auto
        /// Also on every default-branch build.
        case defaultBranch = "default-branch"
        case never
    }
    /// `v1.2.3` → `1.2.3`, `1.2`, `1`.
    public var semver = true
    /// Also `v1.2.3`, `v1.2`, `v1`.
    public var vPrefix = false
    /// Also `1.2` and `1` for major 0 (`0.3`, `0`); off by default, as metadata-action does for `{{major}}` of 0.
    public var majorZero = false
    public var latest: Latest = .auto
    /// `sha-<short>`.
    public var sha = true
    public var shaLength = 7
    /// The full 40-hex sha as a tag.
    public var fullSHA = false
    /// `build-<run number>`.
    public var buildNumber = true
    /// The branch name, made into a valid tag, on branch builds.
    public var branch = true
    /// `pr-<number>` on pull/merge request builds.
    public var pullRequest = true
    /// A date-stamped tag, e.g. `{branch}-{date:yyyyMMdd-HHmmss}`; nil for none.
    public var dateTemplate: String?
    /// Tags added as they are.
    public var raw: [String] = []
    public var prefix = ""
    public var suffix = ""

    public init() {}
}

/// One planned tag.
public struct PlannedTag: Sendable, Codable, Equatable, Hashable {
    public enum Kind: String, Sendable, Codable {
        /// A full version (`1.2.3`, `1.3.0-rc.1`): immutable, a different digest there is a conflict.
        case version
        /// Moves from build to build: `latest`, `1`, `1.2`, branch, date, sha of a rebuilt commit.
        case moving
    }
    public var name: String
    public var kind: Kind
    /// Why it is in the plan: "semver", "latest", "sha", "branch", …
    public var rule: String

    public init(name: String, kind: Kind, rule: String) {
        self.name = name
        self.kind = kind
        self.rule = rule
    }
}
