import ArgumentParser
import Foundation
import PierEngine
import PierLayout
import PierModel
import PierRegistry

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

    @Option(help: "The image: oci:DIR[:tag], oci-archive:FILE, docker-archive:FILE or a registry reference (also PIER_SOURCE).")
    var source: String?
    @Flag(name: .customLong("build"), help: "Build the image first (pier build's flags; pier.yml build: section), then publish it. Implied by a build: section when no source is given.")
    var buildFirst = false
    @Option(name: .customLong("context"), help: "With --build: the build context (default .).") var buildContext: String?
    @OptionGroup(title: "Build (with --build)") var buildOptions: BuildOptions
    @OptionGroup var release: ReleaseOptions
    @Option(name: .customLong("on-conflict"), help: "fail, overwrite, or backup (copy the old image to bkup-<tag>-<time> first).")
    var onConflict: ConflictPolicy?
    @Flag(name: .customLong("fail-fast"), help: "Stop every registry when one fails.") var failFast = false
    @Flag(name: .customLong("dry-run"), help: "Print the plan (tags × registries, blobs to upload) and write nothing.")
    var dryRun = false
    @Flag(name: .customLong("push-on-pr"), help: "Push on pull/merge request builds too.") var pushOnPR = false
    @Flag(help: "Print the report as JSON (schema: docs/publish-report.md).") var json = false
    @Flag(help: "Add org.opencontainers.image.{version,revision,source,created} annotations to the root manifest or index. This changes the image digest.")
    var annotate = false
    @Option(name: .customLong("annotation"), help: "With --annotate, an extra KEY=VALUE (title=…, description=…; repeatable).")
    var annotationPairs: [String] = []
    @Option(name: .customLong("notes"), help: "Also write release notes (Markdown) to this file.") var notesFile: String?
    @Option(name: .customLong("notes-template"), help: "Mustache template for --notes.") var notesTemplate: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let config = try PierConfig.forCommand(release.configPath)
        try await global.withStore(config: config, targets: try release.targetReferences(config).map(\.description)) { store, logger in
            var sourceText = source ?? ProcessInfo.processInfo.environment["PIER_SOURCE"] ?? config.source
            var buildScratch: ScratchDirectory?
            defer { buildScratch?.remove() }
            if buildFirst || (sourceText == nil && config.build != nil) {
                let spec = try buildOptions.spec(config: config, context: buildContext, output: nil)
                let scratch = try ScratchDirectory(prefix: "pier-publish-build")
                buildScratch = scratch
                // pier.yml's build.output keeps the layout (under its tag); without it a temporary one is used.
                var (directory, tag) = (scratch.path, "latest")
                if let text = spec.output, case .ociLayout(let path, let named) = try ImageLocation(parsing: text) {
                    (directory, tag) = (path, named ?? "latest")
                }
                _ = try await ImageBuilder(store: store, logger: logger).build(spec, directory: directory, tag: tag)
                sourceText = "oci:\(directory):\(tag)"
            }
            guard let sourceText else {
                throw PierError(.usage, operation: "publish", message: "no source image", hint: "pass --source or set source in pier.yml")
            }
            var options = Publisher.Options(context: release.context())
            options.rules = release.rules(config)
            options.onConflict = onConflict ?? ProcessInfo.processInfo.environment["PIER_ON_CONFLICT"].flatMap(ConflictPolicy.init)
                ?? config.onConflict ?? .fail
            options.failFast = failFast || (config.failFast ?? false)
            options.dryRun = dryRun
            options.pushOnPullRequest = pushOnPR || (config.pushOnPullRequest ?? false)
            options.concurrency = config.concurrency ?? global.concurrency
            if annotate {
                var extra: [String: String] = [:]
                for pair in annotationPairs {
                    guard let equals = pair.firstIndex(of: "=") else {
                        throw PierError(.usage, operation: "publish", message: "--annotation \(pair) is not KEY=VALUE")
                    }
                    extra[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
                }
                options.annotations = ImageAnnotator.standard(
                    context: options.context, environment: ProcessInfo.processInfo.environment, extra: extra)
            }
            let targets = try release.targetReferences(config)
            let image = try await store.openSource(try ImageLocation(parsing: sourceText))
            let display = ProgressDisplay()
            let publisher = Publisher(store: store, options: options, logger: logger) { display.add($0, $1) }
            let report: PublishReport
            do { report = try await publisher.publish(image, to: targets) } catch {
                await image.close()
                throw error
            }
            if let notesFile, report.status != "failed" {
                // The notes describe what went out: the (possibly annotated) root, read from the primary.
                let primary = targets[0]
                let published = try RegistryImageSource(
                    reference: primary.with(tag: nil, digest: report.digest), client: await store.client(for: primary.registry))
                let root = report.dryRun ? try await image.root() : try await published.root()
                let notes = try await ReleaseNotes.collect(
                    version: report.context.version.map { SemanticVersion($0)?.description ?? $0 } ?? report.tags[0].name,
                    root: root, source: report.dryRun ? image : published, registries: targets, tags: report.tags.map(\.name),
                    changelog: report.context.version.map { Changelog.fromGit(version: $0) } ?? (nil, []))
                await published.close()
                let template = try notesTemplate.map { (path) throws(PierError) in
                    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                        throw PierError(.usage, operation: "read notes template", message: "cannot read \(path)")
                    }
                    return text
                }
                guard FileManager.default.createFile(atPath: notesFile, contents: Data(try notes.render(template: template).utf8)) else {
                    throw PierError(.other, operation: "write notes", message: "cannot write \(notesFile)")
                }
            }
            await image.close()
            Terminal.shared.clearProgress()
            if json { try Terminal.shared.printJSON(report) } else { PublishSummary.print(report) }
            try PublishSummary.exitStatus(report)
        }
    }
}

/// The human rendering of a publish report, and its exit status.
enum PublishSummary {
    static func print(_ report: PublishReport) {
        let out = Terminal.shared
        out.print("\(report.dryRun ? "plan for" : "published") \(report.source) \(report.digest)")
        if !report.platforms.isEmpty { out.print("platforms: \(report.platforms.joined(separator: ", "))") }
        out.print("tags: \(report.tags.map(\.name).joined(separator: ", ")) (from \(report.context.origin))")
        for registry in report.registries {
            let state = registry.error != nil ? "FAILED" : report.dryRun ? "dry run" : registry.verified ? "verified" : "not verified"
            out.print("\(registry.repository) [\(registry.role)]: \(state)")
            for tag in registry.tags {
                var line = "  \(tag.tag): \(tag.action)"
                if let before = tag.before, tag.action != "unchanged" { line += " (was \(before.short))" }
                if let backup = tag.backup { line += ", old image kept as \(backup)" }
                out.print(line)
            }
            if report.dryRun {
                out.print("  would upload \(registry.wouldUpload.count) blob(s)")
            } else if registry.error == nil {
                out.print(String(
                    format: "  blobs: %d uploaded, %d mounted, %d present; %@ in %.1fs", registry.blobsUploaded,
                    registry.blobsMounted, registry.blobsSkipped, ProgressDisplay.format(registry.bytesUploaded), registry.seconds))
            }
            if let rateLimit = registry.rateLimit { out.print("  rate limit: \(rateLimit)") }
        }
    }

    /// 0 when every registry succeeded; the registry's own code when the only registry failed; 75 when some did.
    static func exitStatus(_ report: PublishReport) throws {
        let failures = report.registries.compactMap(\.pierError)
        guard !failures.isEmpty else { return }
        for failure in failures { Terminal.shared.log(ErrorRendering.render(failure)) }
        if failures.count == report.registries.count, let first = failures.first {
            throw ExitCode(ErrorRendering.exitCode(for: failures.allSatisfy { $0.kind == first.kind } ? first.kind : .partial))
        }
        throw ExitCode(ErrorRendering.exitCode(for: .partial))
    }
}
