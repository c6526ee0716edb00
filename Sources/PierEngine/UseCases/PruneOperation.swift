import Foundation
import PierModel

/// `pier prune`: plan every repository first, refuse up front what the plan may not do, then delete.
public struct PruneOperation: Sendable {
    /// The rules as the user wrote them: flags (durations still text), an ECR lifecycle policy file, or none
    /// (then pier.yml's `prune:`).
    public struct Request: Sendable {
        public var repositories: [String] = []
        public var keepLast: Int?
        public var keepNewerThan: String?
        public var keep: [String] = []
        public var only: String?
        public var expireOlderThan: String?
        public var untagged = false
        public var ecrPolicyPath: String?
        public var apply = false
        public var allowUntagFallback = false
        /// `--install-policy`: put the `--ecr-policy` file on each ECR repository (PutLifecyclePolicy) and compare
        /// ECR's preview of it with pier's plan.
        public var installECRPolicy = false

        public init() {}
    }

    public let request: Request
    public let policy: RetentionPolicy
    public let repositories: [ImageReference]
    /// The `--ecr-policy` file's bytes, installed as they are.
    let ecrPolicyText: String?

    /// Checks the rules, their ranges and the repositories before any network I/O.
    public init(_ request: Request, settings: Settings) throws(PierError) {
        self.request = request
        policy = try Self.policy(request, config: settings.config)
        if request.installECRPolicy {
            guard let path = request.ecrPolicyPath,
                let text = FileManager.default.contents(atPath: path).flatMap({ String(data: $0, encoding: .utf8) })
            else {
                throw PierError(
                    .usage, operation: "prune", message: "--install-policy installs the --ecr-policy file",
                    hint: "pass --ecr-policy FILE")
            }
            ecrPolicyText = text
        } else {
            ecrPolicyText = nil
        }
        let texts = request.repositories.isEmpty ? settings.config.registries.map(\.repository) : request.repositories
        guard !texts.isEmpty else {
            throw PierError(
                .usage, operation: "prune", message: "no repository to prune",
                hint: "name one, or list registries in pier.yml")
        }
        repositories = try texts.map { (text) throws(PierError) in try ImageReference(parsing: text).with(tag: nil) }
    }

    /// The policy from the ECR policy file, else the rule flags, else pier.yml's `prune:` section.
    static func policy(_ request: Request, config: PierConfig) throws(PierError) -> RetentionPolicy {
        if let path = request.ecrPolicyPath { return .ecr(try ECRLifecyclePolicy.load(path)) }
        let noRuleFlag =
            request.keepLast == nil && request.keepNewerThan == nil && request.keep.isEmpty
            && request.expireOlderThan == nil
        if noRuleFlag, var rules = config.prune {
            rules.untagged = rules.untagged || request.untagged
            return .rules(rules)
        }
        func duration(_ text: String?, _ flag: String) throws(PierError) -> TimeInterval? {
            guard let text else { return nil }
            do { return try RetentionPolicy.parseDuration(text) } catch {
                var error = error
                error.message = "--\(flag) " + error.message
                throw error
            }
        }
        let rules = RetentionPolicy.Rules(
            keepLast: request.keepLast, keepNewerThan: try duration(request.keepNewerThan, "keep-newer-than"),
            keep: request.keep, only: request.only,
            expireOlderThan: try duration(request.expireOlderThan, "expire-older-than"), untagged: request.untagged)
        try rules.validate()
        return .rules(rules)
    }

    /// What `run` did: each repository's plan or result, and the warnings met on the way.
    public struct Outcome: Sendable {
        public var results: [Pruner.Result]
        public var failures: [PierError] { results.flatMap(\.failureErrors) }
        /// With `--install-policy`: per repository, the policy installed and ECR's preview beside pier's plan.
        public var ecrComparisons: [ECRPolicyComparison] = []
    }

    /// Plans every repository, so a refusal leaves all of them untouched; with `apply`, then deletes.
    public func run(session: Session) async throws(PierError) -> Outcome {
        var pruner = Pruner(store: session.store, logger: session.logger)
        pruner.allowUntagFallback = request.allowUntagFallback
        var plans: [(Pruner, Pruner.Result)] = []
        for reference in repositories {
            pruner.api = try RegistryAPISelection.choose(for: reference.registry, operation: "prune", session: session)
            let plan = try await pruner.plan(reference, policy: policy, now: session.settings.startedAt)
            for warning in plan.warnings { session.logger.warning("warning: \(plan.repository): \(warning)") }
            plans.append((pruner, plan))
        }
        var comparisons: [ECRPolicyComparison] = []
        if let text = ecrPolicyText {
            for (reference, (pruner, plan)) in zip(repositories, plans) {
                comparisons.append(
                    try await ECRPolicyInstallation.install(
                        text, on: reference, api: pruner.api, plan: plan, session: session))
            }
        }
        if request.apply { try Pruner.requireUntagFallbackAllowed(plans.map(\.1), allowed: request.allowUntagFallback) }
        var results: [Pruner.Result] = []
        for (pruner, plan) in plans { results.append(request.apply ? try await pruner.apply(plan) : plan) }
        return Outcome(results: results, ecrComparisons: comparisons)
    }
}
