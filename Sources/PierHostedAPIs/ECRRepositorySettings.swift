/// How pier creates an ECR repository that does not exist (pier.yml `registries[].ecr`), as `CreateRepository`
/// takes them.
public struct ECRRepositorySettings: Sendable, Equatable {
    /// `imageScanningConfiguration.scanOnPush`.
    public var scanOnPush = false
    /// `imageTagMutability`.
    public var tagMutability: TagMutability = .mutable
    /// `encryptionConfiguration.encryptionType`; `kmsKey` only with `.kms`.
    public var encryption: Encryption = .aes256
    public var kmsKey: String?

    public enum TagMutability: String, Sendable, CaseIterable {
        case mutable = "MUTABLE"
        case immutable = "IMMUTABLE"
    }

    public enum Encryption: String, Sendable, CaseIterable {
        case aes256 = "AES256"
        case kms = "KMS"
    }

    public init() {}

    /// The `CreateRepository` fields these settings give.
    var payload: [String: Any] {
        var encryption: [String: Any] = ["encryptionType": self.encryption.rawValue]
        if self.encryption == .kms, let kmsKey { encryption["kmsKey"] = kmsKey }
        return [
            "imageScanningConfiguration": ["scanOnPush": scanOnPush],
            "imageTagMutability": tagMutability.rawValue,
            "encryptionConfiguration": encryption,
        ]
    }
}
