import PierHTTP
import PierHostedAPIs
import PierModel

/// `pier prune --ecr-policy FILE --install-policy`: the policy goes onto the ECR repository itself
/// (`PutLifecyclePolicy`), so ECR enforces it between pier's runs, and ECR's own preview of it
/// (`StartLifecyclePolicyPreview`, `GetLifecyclePolicyPreview`) is set beside pier's evaluation of the same file.
enum ECRPolicyInstallation {
    /// Times the preview is asked for before pier reports it unfinished: ECR completes a preview of a few
    /// thousand images in seconds.
    static let previewPolls = 30
    static let previewPollInterval: Duration = .seconds(2)

    static func install(
        _ text: String, on reference: ImageReference, api: RegistryAPIChoice, plan: Pruner.Result, session: Session
    ) async throws(PierError) -> ECRPolicyComparison {
        guard case .native(let native) = api, let ecr = native as? ECRAPI else {
            throw PierError(
                .usage, operation: "install lifecycle policy",
                message: "\(reference.registry) is not ECR: a lifecycle policy can only be installed on ECR",
                repository: reference.repository, hint: "pass --registry-api ecr when the host does not show it")
        }
        try await ecr.putLifecyclePolicy(reference.repository, policy: text)
        session.logger.info(
            "installed the lifecycle policy on ECR repository \(reference.registry)/\(reference.repository)")
        try await ecr.startLifecyclePolicyPreview(reference.repository, policy: text)
        var preview = try await ecr.lifecyclePolicyPreview(reference.repository)
        var polls = 1
        while preview.status == "IN_PROGRESS", polls < previewPolls {
            guard await RetryPolicy.sleep(previewPollInterval) else { break }
            preview = try await ecr.lifecyclePolicyPreview(reference.repository)
            polls += 1
        }
        let pier = Set(plan.decisions.filter { $0.action == .delete }.map(\.digest))
            .union(plan.untagged.filter { $0.action == .delete }.map(\.digest))
        let comparison = ECRPolicyComparison(
            repository: "\(reference.registry)/\(reference.repository)", installed: true,
            previewStatus: preview.status, ecr: Set(preview.expiring.keys), pier: pier)
        if !comparison.agrees {
            session.logger.warning(
                "warning: \(comparison.repository): ECR's preview and pier's plan differ (only ECR expires \(comparison.onlyECR.map(\.short).joined(separator: ", ")); only pier \(comparison.onlyPier.map(\.short).joined(separator: ", ")); preview \(preview.status))"
            )
        }
        return comparison
    }
}
