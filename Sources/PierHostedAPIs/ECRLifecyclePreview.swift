import PierModel

/// ECR's own evaluation of a lifecycle policy (`GetLifecyclePolicyPreview`): the images it would expire, with
/// their tags and the rule that expires each.
public struct ECRLifecyclePreview: Sendable, Equatable {
    /// `IN_PROGRESS`, `COMPLETE`, `EXPIRED` or `FAILED`.
    public var status: String
    /// Digest → the tags ECR lists on it and the priority of the rule expiring it.
    public var expiring: [Digest: (tags: [String], rule: Int?)]

    public init(status: String, expiring: [Digest: (tags: [String], rule: Int?)]) {
        self.status = status
        self.expiring = expiring
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.status == rhs.status && lhs.expiring.keys == rhs.expiring.keys
            && lhs.expiring.allSatisfy { rhs.expiring[$0.key]?.tags == $0.value.tags }
    }
}
