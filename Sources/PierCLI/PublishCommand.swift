import ArgumentParser
import PierEngine
import PierModel

struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish one image to a primary and backup registries, tagged from git/CI, verified by digest.",
        discussion: """
            The image is read once and pushed to every registry in parallel: blobs, then manifests, then tags, so a \
            tag never points at a half-pushed image; running the same publish again completes it. A full version tag \
            that exists with another digest is a conflict (--on-conflict). Every tag is then HEADed back on every \
            registry and compared with the source digest. Pull/merge request builds plan and validate but push \
            nothing unless --push-on-pr. Exit 75 when some registries failed, 73 on a conflict.
            """)

    @Option(
        help:
            "The image: oci:DIR[:tag], oci-archive:FILE, docker-archive:FILE or a registry reference (also PIER_SOURCE). Repeat it to merge per-architecture builds into one index first (as pier merge)."
    )
    var source: [String] = []
    @Flag(
        name: .customLong("build"),
        help:
            "Build the image first (pier build's flags; pier.yml build: section), then publish it. Implied by a build: section when no source is given."
    )
    var buildFirst = false
    @Option(name: .customLong("context"), help: "With --build: the build context (default .).") var buildContext:
        String?
    @OptionGroup(title: "Build (with --build)") var buildOptions: BuildOptions
    @OptionGroup var release: ReleaseOptions
    @Option(
        name: .customLong("on-conflict"),
        help: "fail, overwrite, or backup (copy the old image to bkup-<tag>-<time> first; also PIER_ON_CONFLICT).")
    var onConflict: ConflictPolicy?
    @Flag(name: .customLong("fail-fast"), help: "Stop every registry when one fails.") var failFast = false
    @Flag(name: .customLong("dry-run"), help: "Print the plan (tags × registries, blobs to upload) and write nothing.")
    var dryRun = false
    @Flag(name: .customLong("push-on-pr"), help: "Push on pull/merge request builds too.") var pushOnPR = false
    @Flag(help: "Print the report as JSON (schema: docs/publish-report.md).") var json = false
    @Flag(
        name: .customLong("create-repository"),
        help: "Create missing ECR repositories (pier.yml ecr: settings; also create: true per registry).")
    var createRepository = false
    @Option(
        name: .customLong("fail-on-severity"),
        help: ArgumentHelp(
            "Release gate: wait for ECR's scan of the published digest and exit 70 on findings at or above this severity (CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED).",
            discussion: "An ECR target without a completed scan, or no ECR target at all, also exits 70."))
    var failOnSeverity: String?
    @Flag(
        help:
            "Add org.opencontainers.image.{version,revision,source,created} annotations to the root manifest or index. This changes the image digest."
    )
    var annotate = false
    @Option(
        name: .customLong("annotation"),
        help: "With --annotate, an extra KEY=VALUE (title=…, description=…; repeatable).")
    var annotationPairs: [String] = []
    @Option(name: .customLong("notes"), help: "Also write release notes (Markdown) to this file.") var notesFile:
        String?
    @Option(name: .customLong("notes-template"), help: "Mustache template for --notes.") var notesTemplate: String?
    @OptionGroup(title: "Referrers") var referrers: ReferrerOptions
    @Option(
        name: .customLong("sign-key"), parsing: .unconditional,
        help:
            "Sign the image (cosign format) with this ECDSA P-256 private key: a PEM file or env://NAME (also pier.yml signing.key). Signed once; the signature goes to every registry and is verified there."
    )
    var signKey: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        var flags = release.settingsFlags()
        referrers.apply(to: &flags)
        flags.source = source.first
        flags.mergeSources = source.count > 1 ? source : []
        flags.onConflict = onConflict
        flags.failFast = failFast
        flags.pushOnPullRequest = pushOnPR
        flags.createRepository = createRepository
        flags.signKey = signKey
        try await global.run(
            flags,
            prepare: { settings in
                var request = PublishOperation.Request()
                if buildFirst || (settings.release.source == nil && settings.config.build != nil) {
                    request.build = try buildOptions.spec(config: settings.config, context: buildContext, output: nil)
                }
                request.dryRun = dryRun
                request.annotate = annotate
                request.annotationPairs = annotationPairs
                request.notesFile = notesFile
                request.notes.templatePath = notesTemplate
                request.failOnSeverity = try failOnSeverity.map { (text) throws(PierError) in
                    try ECRScanGate.checkedSeverity(text)
                }
                return try PublishOperation(request, settings: settings)
            }
        ) { operation, session in
            let display = global.progressDisplay
            let report = try await operation.run(session: session, progress: display.callback)
            Terminal.shared.clearProgress()
            if json { try Terminal.shared.printJSON(report) } else { PublishSummary.print(report) }
            if !json {
                for (repository, scan) in (report.scans ?? [:]).sorted(by: { $0.key < $1.key }) {
                    Terminal.shared.print(
                        "scan \(repository)@\(report.digest.short): \(scan.status), \(ECRScanGate.summary(scan))")
                }
            }
            try PublishSummary.exitStatus(report)
            if let threshold = operation.request.failOnSeverity, !report.dryRun,
                let failure = ECRScanGate.failure(report.scans ?? [:], threshold: threshold)
            {
                throw failure
            }
        }
    }
}
