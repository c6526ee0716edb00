/// What a release call did.
public struct ReleaseResult: Sendable, Codable, Equatable {
    /// Whether the release was new or already there.
    public enum Action: String, Sendable, Codable {
        /// No release had the tag: one was created.
        case created
        /// The tag's release was there: its name, notes and prerelease flag were replaced.
        case updated
    }

    public var action: Action
    public var url: String?
    /// Names of the assets uploaded (a same-named asset already on the release is replaced).
    public var assets: [String] = []
}
