import Foundation
import PierEngine
import PierHostedAPIs
import PierModel
import Testing

/// pier.yml's ECR keys: `create`, `ecr:` per registry and `aws.role_arn`, each checked with its line.
struct ECRConfigTests {
    @Test func ecrKeysAreReadAndChecked() throws {
        let config = try PierConfig.parse(
            """
            aws: {role_arn: "arn:aws:iam::111122223333:role/ci"}
            registries:
              - repository: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app
                create: true
                ecr: {scan_on_push: true, tag_mutability: IMMUTABLE, encryption: KMS, kms_key: alias/ecr}
            """)
        #expect(config.awsRoleARN == "arn:aws:iam::111122223333:role/ci")
        let entry = try #require(config.registries.first)
        #expect(entry.create)
        var expected = ECRRepositorySettings()
        (expected.scanOnPush, expected.tagMutability, expected.encryption, expected.kmsKey) = (
            true, .immutable, .kms, "alias/ecr"
        )
        #expect(entry.ecr == expected)

        for (text, message) in [
            ("ecr: {tag_mutability: sometimes}", "must be one of MUTABLE, IMMUTABLE"),
            ("ecr: {kms_key: k}", "kms_key needs encryption: KMS"),
            ("ecr: {scan: true}", "scan"),
        ] {
            #expect {
                try PierConfig.parse("registries:\n  - repository: r.example/app\n    \(text)")
            } throws: { error in
                (error as? PierError)?.message.contains(message) ?? false
            }
        }
    }

    /// The role ARN from pier.yml is used when AWS_ROLE_ARN is unset, and AWS_ROLE_ARN wins over it.
    @Test func roleFromConfigYieldsToTheEnvironment() throws {
        let path = NSTemporaryDirectory() + "pier-ecr-\(UUID().uuidString).yml"
        try "aws: {role_arn: from-config}\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var flags = SettingsFlags()
        flags.configPath = path
        #expect(try Settings.resolve(flags, environment: [:]).services.aws.sources.roleARN == "from-config")
        #expect(
            try Settings.resolve(flags, environment: ["AWS_ROLE_ARN": "from-env"]).services.aws.sources.roleARN
                == "from-env")
    }
}
