import PierModel

/// An ECR lifecycle policy installed on a repository, and ECR's own preview of it beside pier's evaluation: the
/// images each would expire, and those only one of them would.
public struct ECRPolicyComparison: Sendable, Codable, Equatable {
    public var repository: String
    /// True once `PutLifecyclePolicy` succeeded: ECR enforces the policy from then on, between pier's runs.
    public var installed: Bool
    /// The preview's last status (`COMPLETE`, or `IN_PROGRESS` when it did not finish in time).
    public var previewStatus: String
    /// Digests ECR's preview expires, and digests pier's plan deletes.
    public var ecrExpires: [Digest]
    public var pierExpires: [Digest]
    /// The difference, both ways; empty when the two agree.
    public var onlyECR: [Digest]
    public var onlyPier: [Digest]

    public var agrees: Bool { previewStatus == "COMPLETE" && onlyECR.isEmpty && onlyPier.isEmpty }

    public init(repository: String, installed: Bool, previewStatus: String, ecr: Set<Digest>, pier: Set<Digest>) {
        self.repository = repository
        self.installed = installed
        self.previewStatus = previewStatus
        ecrExpires = ecr.sorted { $0.description < $1.description }
        pierExpires = pier.sorted { $0.description < $1.description }
        onlyECR = ecr.subtracting(pier).sorted { $0.description < $1.description }
        onlyPier = pier.subtracting(ecr).sorted { $0.description < $1.description }
    }
}
