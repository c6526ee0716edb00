import PierEngine
import PierModel

/// `pier prune --install-policy`'s output: pier's plans and, per repository, ECR's preview beside them.
struct ECRPolicyReport: Encodable {
    var results: [Pruner.Result]
    var ecrPolicy: [ECRPolicyComparison]

    /// The comparison as text: one summary line, then the digests only one side expires.
    static func print(_ comparison: ECRPolicyComparison) {
        let verdict =
            comparison.agrees
            ? "they agree"
            : comparison.previewStatus == "COMPLETE" ? "they differ" : "the preview is \(comparison.previewStatus)"
        Terminal.shared.print(
            "ECR lifecycle policy installed on \(comparison.repository): ECR's preview expires \(comparison.ecrExpires.count) images, pier's plan \(comparison.pierExpires.count); \(verdict)"
        )
        for digest in comparison.onlyECR { Terminal.shared.print("  only ECR expires   \(digest)") }
        for digest in comparison.onlyPier { Terminal.shared.print("  only pier expires  \(digest)") }
    }
}
