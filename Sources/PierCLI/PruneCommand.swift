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
            Every tag is resolved to its digest and age first (config `created`, or the \
            org.opencontainers.image.created annotation; else registry order). Keep rules combine with OR; latest is \
            always kept. A digest that a kept tag or a kept index still needs is never deleted: its expired tags are \
            only untagged. --ecr-policy evaluates an ECR lifecycle policy JSON with ECR's semantics against any registry.
            """)

    @Argument(help: "Repositories to prune (default: the registries of pier.yml).") var repositories: [String] = []
    @Option(name: .customLong("keep-last"), help: "Keep the newest N tags.") var keepLast: Int?
    @Option(name: .customLong("keep-newer-than"), help: "Keep tags of images newer than this (90d, 12h, 2w).") var keepNewerThan: String?
    @Option(name: .customLong("keep"), help: "Keep tags matching this regex (repeatable).") var keep: [String] = []
    @Option(name: .customLong("only"), help: "Consider only tags matching this regex.") var only: String?
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

    func run() async throws {
        let config = try PierConfig.forCommand(configPath)
        try await global.withStore(config: config, targets: repositories.isEmpty ? config.registries.map(\.repository) : repositories) { store, logger in
            let policy: RetentionPolicy
            let repositories = self.repositories.isEmpty ? config.registries.map(\.repository) : self.repositories
            guard !repositories.isEmpty else {
                throw PierError(.usage, operation: "prune", message: "no repository to prune", hint: "name one, or list registries in pier.yml")
            }
            if let ecrPolicy {
                policy = .ecr(try ECRLifecyclePolicy.load(ecrPolicy))
            } else if keepLast == nil, keepNewerThan == nil, keep.isEmpty, let rules = config.prune {
                policy = .rules(rules)
            } else {
                policy = .rules(.init(
                    keepLast: keepLast, keepNewerThan: try keepNewerThan.map { (text) throws(PierError) in try RetentionPolicy.parseDuration(text) },
                    keep: keep, only: only))
            }
            var pruner = Pruner(store: store, logger: logger)
            pruner.allowUntagFallback = allowUntagFallback
            var results: [Pruner.Result] = []
            for text in repositories {
                var reference = try ImageReference(parsing: text)
                reference.tag = nil
                pruner.api = try await RegistryAPISelection.choose(registryAPI, registry: reference.registry, apiURL: apiURL, pool: store.pool)
                results.append(try await pruner.prune(reference, policy: policy, apply: apply))
            }
            if json {
                try Terminal.shared.printJSON(results)
            } else {
                for result in results { Self.printTable(result) }
            }
            let failures = results.flatMap(\.failureErrors)
            for failure in failures { Terminal.shared.log(ErrorRendering.render(failure)) }
            if !failures.isEmpty { throw ExitCode(ErrorRendering.exitCode(for: .partial)) }
        }
    }

    static func printTable(_ result: Pruner.Result) {
        let out = Terminal.shared
        out.print("\(result.repository)\(result.applied ? "" : " (dry run: nothing deleted; --apply deletes)")")
        let width = max(3, result.decisions.map(\.tag.count).max() ?? 3)
        out.print("  " + "TAG".padding(toLength: width, withPad: " ", startingAt: 0) + "  DIGEST               AGE     ACTION  RULE")
        let now = Date()
        for decision in result.decisions.sorted(by: { $0.tag < $1.tag }) {
            let ageText: String = decision.created.map { Self.age(now.timeIntervalSince($0)) } ?? "?"
            let tag = decision.tag.padding(toLength: width, withPad: " ", startingAt: 0)
            let ageCell = ageText.padding(toLength: 6, withPad: " ", startingAt: 0)
            let action = decision.action.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
            out.print("  \(tag)  \(decision.digest.short)  \(ageCell)  \(action)  \(decision.rule)")
        }
        let going = result.decisions.filter { $0.action != .keep }.count
        out.print("  \(result.decisions.count - going) kept, \(going) to remove" + (result.applied ? ", \(result.removed.count) removed, \(result.failures.count) failed" : ""))
    }

    static func age(_ seconds: TimeInterval) -> String {
        if seconds >= 86400 { return "\(Int(seconds / 86400))d" }
        if seconds >= 3600 { return "\(Int(seconds / 3600))h" }
        return "\(Int(max(0, seconds) / 60))m"
    }
}
