import ArgumentParser
import Foundation
import PierEngine
import PierModel

extension RegistryAPISelection.Kind: ExpressibleByArgument {}

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete old tags by a retention rule (dry run unless --apply).",
        discussion: """
            Every tag is resolved to its digest and dated: the push time where the registry's API keeps one (ECR, \
            GitHub packages, Docker Hub, GitLab, Harbor), else the org.opencontainers.image.created annotation, else \
            config `created`. A date before 2000, in the future or missing makes the image undated, and pier never \
            deletes an undated image. Rules count images (distinct digests), newest first. Keep rules combine with OR; \
            --expire-older-than removes an image past that age even among the newest N, except latest and --keep \
            matches; latest is always kept. A digest that a kept tag or a kept index still needs is never deleted: its \
            expired tags are only untagged. --ecr-policy evaluates an ECR lifecycle policy JSON with ECR's semantics \
            against any registry. With --apply, a plan that needs the untag fallback without --allow-untag-fallback \
            is refused before anything is deleted (exit 64).
            """)

    @Argument(help: "Repositories to prune (default: the registries of pier.yml).") var repositories: [String] = []
    @Option(name: .customLong("keep-last"), help: "Keep the newest N images (distinct digests) and every tag on them.") var keepLast: Int?
    @Option(name: .customLong("keep-newer-than"), help: "Keep images newer than this (90d, 12h, 2w).") var keepNewerThan: String?
    @Option(name: .customLong("keep"), help: "Keep tags matching this regex (repeatable; matches the whole tag).") var keep: [String] = []
    @Option(name: .customLong("expire-older-than"), help: "Remove images older than this even among the newest N (not latest, not --keep matches, never undated images).")
    var expireOlderThan: String?
    @Flag(help: "Also delete untagged manifests that nothing staying reaches, where the registry's API lists them (GHCR, ECR, Harbor); a day's grace.")
    var untagged = false
    @Option(name: .customLong("only"), help: "Consider only tags matching this regex (matches the whole tag: sha-.*).") var only: String?
    @Option(name: .customLong("ecr-policy"), help: "An ECR lifecycle policy JSON file to evaluate instead of the flags.") var ecrPolicy: String?
    @Flag(help: "Delete. Without it, pier only prints the plan.") var apply = false
    @Flag(name: .customLong("allow-untag-fallback"), help: "Where the registry cannot delete a tag alone, untag it through a unique dummy manifest (deleted again at once).")
    var allowUntagFallback = false
    @Option(name: .customLong("registry-api"), help: "Delete through: auto (by host), distribution, dockerhub, ghcr, ecr, gitlab, harbor.")
    var registryAPI: RegistryAPISelection.Kind = .auto
    @Option(name: .customLong("api-url"), help: "Base URL of the management API (GitLab's /api/v4, Harbor, GitHub Enterprise, an ECR endpoint).")
    var apiURL: String?
    @Flag(help: "Print the plan and results as JSON.") var json = false
    @Option(name: .customLong("config"), help: "Config file whose prune: section and registries apply when no rule flag and no repository are given (default pier.yml when present; also PIER_CONFIG).")
    var configPath: String?
    @OptionGroup var global: GlobalOptions

    /// The policy from the flags, the ECR policy file or pier.yml, checked before any network I/O.
    func policy(_ config: PierConfig) throws(PierError) -> RetentionPolicy {
        if let ecrPolicy { return .ecr(try ECRLifecyclePolicy.load(ecrPolicy)) }
        if keepLast == nil, keepNewerThan == nil, keep.isEmpty, expireOlderThan == nil, var rules = config.prune {
            rules.untagged = rules.untagged || untagged
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
            keepLast: keepLast, keepNewerThan: try duration(keepNewerThan, "keep-newer-than"), keep: keep, only: only,
            expireOlderThan: try duration(expireOlderThan, "expire-older-than"), untagged: untagged)
        try rules.validate()
        return .rules(rules)
    }

    func run() async throws {
        let config = try PierConfig.forCommand(configPath)
        let policy: RetentionPolicy
        do { policy = try self.policy(config) } catch { throw ErrorRendering.exit(for: error) }
        try await global.withStore(config: config, targets: repositories.isEmpty ? config.registries.map(\.repository) : repositories) { store, logger in
            let repositories = self.repositories.isEmpty ? config.registries.map(\.repository) : self.repositories
            guard !repositories.isEmpty else {
                throw PierError(.usage, operation: "prune", message: "no repository to prune", hint: "name one, or list registries in pier.yml")
            }
            var pruner = Pruner(store: store, logger: logger)
            pruner.allowUntagFallback = allowUntagFallback
            // Plan every repository first, so a refusal leaves all of them untouched.
            var plans: [(Pruner, Pruner.Result)] = []
            for text in repositories {
                var reference = try ImageReference(parsing: text)
                reference.tag = nil
                pruner.api = try await RegistryAPISelection.choose(registryAPI, registry: reference.registry, apiURL: apiURL, pool: store.pool)
                let plan = try await pruner.plan(reference, policy: policy)
                for warning in plan.warnings { Terminal.shared.log("pier: warning: \(plan.repository): \(warning)") }
                plans.append((pruner, plan))
            }
            if apply { try Pruner.requireUntagFallbackAllowed(plans.map(\.1), allowed: allowUntagFallback) }
            var results: [Pruner.Result] = []
            for (pruner, plan) in plans { results.append(apply ? try await pruner.apply(plan) : plan) }
            if json {
                try Terminal.shared.printJSON(results)
            } else {
                for result in results { Self.printTable(result, allowUntagFallback: allowUntagFallback) }
            }
            let failures = results.flatMap(\.failureErrors)
            for failure in failures { Terminal.shared.log(ErrorRendering.render(failure)) }
            if !failures.isEmpty { throw ExitCode(ErrorRendering.exitCode(for: .partial)) }
        }
    }

    static func printTable(_ result: Pruner.Result, allowUntagFallback: Bool) {
        let out = Terminal.shared
        out.print("\(result.repository)\(result.applied ? "" : " (dry run: nothing deleted; --apply deletes)")")
        let width = max(3, result.decisions.map(\.tag.count).max() ?? 3)
        out.print("  " + "TAG".padding(toLength: width, withPad: " ", startingAt: 0) + "  DIGEST               AGE      DATED BY          ACTION  RULE")
        let now = Date()
        for decision in result.decisions {
            let ageText: String = decision.date.map { Self.age(now.timeIntervalSince($0)) } ?? "undated"
            let tag = decision.tag.padding(toLength: width, withPad: " ", startingAt: 0)
            let ageCell = ageText.padding(toLength: 7, withPad: " ", startingAt: 0)
            let source = decision.dateSource.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)
            var action = decision.action.rawValue
            switch decision.untagRoute {
            case .fallback: action += "*"
            case .impossible: action += "!"
            case .native, nil: break
            }
            var rule = decision.rule
            if let looked = decision.dateLooked { rule += " (looked at: \(looked.joined(separator: "; ")))" }
            out.print("  \(tag)  \(decision.digest.short)  \(ageCell)  \(source)  \(action.padding(toLength: 6, withPad: " ", startingAt: 0))  \(rule)")
        }
        let going = result.decisions.filter { $0.action != .keep }.count
        var summary = "  \(result.decisions.count - going) kept, \(going) to remove"
        if result.undatedCount > 0 { summary += ", \(result.undatedCount) undated (kept)" }
        if result.applied { summary += ", \(result.removed.count) removed, \(result.failures.count) failed" }
        out.print(summary)
        if !result.untagged.isEmpty {
            let deleting = result.untagged.filter { $0.action == .delete }
            out.print("  untagged manifests: \(deleting.count) to delete, \(result.untagged.count - deleting.count) kept")
            for decision in result.untagged {
                let age = decision.date.map { Self.age(now.timeIntervalSince($0)) } ?? "undated"
                out.print("    \(decision.digest.short)  \(age.padding(toLength: 7, withPad: " ", startingAt: 0))  \(decision.action.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))  \(decision.rule)")
            }
        }
        let fallback = result.needingUntagFallback.count
        if fallback > 0, !result.applied {
            out.print("  * \(fallback) tag(s) can only be untagged through the fallback: --apply needs --allow-untag-fallback"
                + (allowUntagFallback ? " (given)" : ""))
        }
        let impossible = result.decisions.filter { $0.untagRoute == .impossible }.count
        if impossible > 0 { out.print("  ! \(impossible) tag(s) cannot be removed alone on this registry and stay") }
    }

    static func age(_ seconds: TimeInterval) -> String {
        if seconds >= 86400 { return "\(Int(seconds / 86400))d" }
        if seconds >= 3600 { return "\(Int(seconds / 3600))h" }
        return "\(Int(max(0, seconds) / 60))m"
    }
}
