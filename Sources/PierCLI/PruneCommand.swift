import ArgumentParser
import Foundation
import PierEngine
import PierModel

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
    @Option(name: .customLong("keep-last"), help: "Keep the newest N images (distinct digests) and every tag on them.")
    var keepLast: Int?
    @Option(name: .customLong("keep-newer-than"), help: "Keep images newer than this (90d, 12h, 2w).")
    var keepNewerThan: String?
    @Option(name: .customLong("keep"), help: "Keep tags matching this regex (repeatable; matches the whole tag).")
    var keep: [String] = []
    @Option(
        name: .customLong("expire-older-than"),
        help:
            "Remove images older than this even among the newest N (not latest, not --keep matches, never undated images)."
    )
    var expireOlderThan: String?
    @Flag(
        help:
            "Also delete untagged manifests that nothing staying reaches, where the registry's API lists them (GHCR, ECR, Harbor); a day's grace."
    )
    var untagged = false
    @Option(name: .customLong("only"), help: "Consider only tags matching this regex (matches the whole tag: sha-.*).")
    var only: String?
    @Option(
        name: .customLong("ecr-policy"), help: "An ECR lifecycle policy JSON file to evaluate instead of the flags.")
    var ecrPolicy: String?
    @Flag(
        name: .customLong("install-policy"),
        help: ArgumentHelp(
            "Install the --ecr-policy file on each ECR repository (PutLifecyclePolicy) and show ECR's preview beside pier's plan.",
            discussion:
                "Installs even without --apply. With --json the output is {\"results\": [...], \"ecrPolicy\": [...]}."))
    var installPolicy = false
    @Flag(help: "Delete. Without it, pier only prints the plan.") var apply = false
    @Flag(
        name: .customLong("allow-untag-fallback"),
        help:
            "Where the registry cannot delete a tag alone, untag it through a unique dummy manifest (deleted again at once)."
    )
    var allowUntagFallback = false
    @Option(
        name: .customLong("registry-api"),
        help:
            "Delete through: auto (by host; the default, or pier.yml registries[].api), distribution, dockerhub, ghcr, ecr, gitlab, harbor."
    )
    var registryAPI: RegistryAPISelection.Kind?
    @Option(
        name: .customLong("api-url"),
        help: "Base URL of the management API (GitLab's /api/v4, Harbor, GitHub Enterprise, an ECR endpoint).")
    var apiURL: String?
    @Flag(help: "Print the plan and results as JSON.") var json = false
    @Option(
        name: .customLong("config"),
        help:
            "Config file whose prune: section and registries apply when no rule flag and no repository are given (default pier.yml when present; also PIER_CONFIG)."
    )
    var configPath: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        var flags = SettingsFlags()
        flags.configPath = configPath
        flags.targetLocations = repositories.isEmpty ? nil : repositories
        flags.registryAPI = registryAPI
        flags.apiURL = apiURL
        var request = PruneOperation.Request()
        request.repositories = repositories
        (request.keepLast, request.keepNewerThan, request.keep, request.only) = (keepLast, keepNewerThan, keep, only)
        (request.expireOlderThan, request.untagged, request.ecrPolicyPath) = (expireOlderThan, untagged, ecrPolicy)
        (request.apply, request.allowUntagFallback) = (apply, allowUntagFallback)
        request.installECRPolicy = installPolicy
        try await global.run(flags, prepare: { settings in try PruneOperation(request, settings: settings) }) {
            operation, session in
            let outcome = try await operation.run(session: session)
            if json, installPolicy {
                try Terminal.shared.printJSON(
                    ECRPolicyReport(results: outcome.results, ecrPolicy: outcome.ecrComparisons))
            } else if json {
                try Terminal.shared.printJSON(outcome.results)
            } else {
                for result in outcome.results { PruneTable.print(result, allowUntagFallback: allowUntagFallback) }
                for comparison in outcome.ecrComparisons { ECRPolicyReport.print(comparison) }
            }
            for failure in outcome.failures { Terminal.shared.log(ErrorRendering.render(failure)) }
            if !outcome.failures.isEmpty { throw ExitCode(ErrorRendering.exitCode(for: .partial)) }
        }
    }
}
