/// What `pier --version` prints. scripts/package.sh writes the release version and commit here for the build it
/// packages and puts this file back afterwards; any other build is a development build.
enum BuildInfo {
    static let version = "0.1.0"
    static let commit = ""

    /// `0.1.0 (commit 0123456789ab)`, or `0.1.0 (development build)`.
    static var description: String { "\(version) (\(commit.isEmpty ? "development build" : "commit \(commit)"))" }
}
