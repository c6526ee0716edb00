import Foundation
import PierModel

/// One image as a registry's management API lists it: its digest, its tags (none for an untagged manifest) and
/// the push time the registry keeps.
public struct ListedImage: Sendable, Equatable {
    public var digest: Digest
    public var tags: [String]
    public var pushed: Date?
    public init(digest: Digest, tags: [String], pushed: Date?) {
        self.digest = digest
        self.tags = tags
        self.pushed = pushed
    }
}
