import Foundation
import PierHostedAPIs
import PierLayout
import PierModel

/// `pier publish`: build first when asked, read the image once, publish it to every target (Publisher), and
/// write release notes of what went out.
public struct PublishOperation: Sendable {
    public struct Request: Sendable {
        /// Build first with this spec (pier build's flags over pier.yml's `build:`).
        public var build: BuildSpec?
        public var dryRun = false
        /// Add the `org.opencontainers.image.*` annotations, and these `KEY=VALUE` pairs.
        public var annotate = false
        public var annotationPairs: [String] = []
        /// Write release notes (Markdown) to this file.
        public var notesFile: String?
        public var notes = NotesOperation.Request()
        /// `--fail-on-severity`: wait for ECR's scan of the published digest (it is read either way).
        public var failOnSeverity: String?

        public init() {}
    }

    public let request: Request
    public let settings: Settings
    let annotations: [String: String]
    let notes: NotesOperation?
    let signingKey: SigningKey?

    /// Checks everything that needs no network: the source or build, the targets, the tag plan, the annotations and
    /// the notes template. A mistake here is a usage error before any registry is asked anything.
    public init(_ request: Request, settings: Settings) throws(PierError) {
        self.request = request
        self.settings = settings
        let release = settings.release
        guard request.build != nil || release.source != nil else {
            throw PierError(
                .usage, operation: "publish", message: "no source image",
                hint: "pass --source or set source in pier.yml")
        }
        if request.build == nil, let source = release.source { _ = try ImageLocation(parsing: source) }
        if !release.mergeSources.isEmpty {
            guard request.build == nil else {
                throw PierError(
                    .usage, operation: "publish", message: "--build and several --source images do not go together",
                    hint: "build each platform on its runner, then publish --source A --source B")
            }
            _ = try MergeOperation(sources: release.mergeSources, output: "oci:unused")
        }
        guard !release.targets.isEmpty else {
            throw PierError(
                .usage, operation: "publish", message: "no registries to publish to",
                hint: "pass --to REPO (repeatable) or list registries in pier.yml")
        }
        _ = try TagPlanner.plan(context: release.context, rules: release.rules)
        var extra: [String: String] = [:]
        for pair in request.annotationPairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw PierError(.usage, operation: "publish", message: "--annotation \(pair) is not KEY=VALUE")
            }
            extra[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        annotations =
            request.annotate
            ? ImageAnnotator.standard(context: release.context, environment: settings.environment, extra: extra) : [:]
        notes = request.notesFile == nil ? nil : try NotesOperation(request.notes)
        signingKey = try settings.signingKey(flag: "--sign-key")
    }

    /// Publishes. Never throws for one registry's failure (that is in the report); throws when nothing could
    /// start or the notes could not be written.
    public func run(session: Session, progress: TransferProgress?) async throws(PierError) -> PublishReport {
        let release = settings.release
        let scratch = request.build == nil ? nil : try ScratchDirectory(prefix: "pier-publish-build")
        defer { scratch?.remove() }
        var sourceText = release.source ?? ""
        if let spec = request.build, let scratch {
            sourceText = try await Self.build(spec, scratch: scratch, session: session)
        }
        var options = Publisher.Options(context: release.context)
        options.rules = release.rules
        options.onConflict = release.onConflict
        options.failFast = release.failFast
        options.dryRun = request.dryRun
        options.pushOnPullRequest = release.pushOnPullRequest
        options.concurrency = settings.network.concurrency
        options.annotations = annotations
        options.referrers = settings.referrers
        options.signingKey = signingKey
        let publish = { (image: any ImageSource) async throws(PierError) -> PublishReport in
            let publisher = Publisher(
                store: session.store, options: options, logger: session.logger, progress: progress)
            let created =
                request.dryRun ? [] : try await ECRRepositoryCreation.createMissing(release.targets, session: session)
            var report = try await publisher.publish(image, to: release.targets)
            if !created.isEmpty { report.createdRepositories = created }
            if !request.dryRun { report.scans = await scans(of: report, session: session) }
            if let notes, let path = request.notesFile, report.status != .failed {
                try await writeNotes(notes, to: path, report: report, localImage: image, session: session)
            }
            return report
        }
        if !release.mergeSources.isEmpty {
            let locations = try release.mergeSources.map { (text) throws(PierError) in try ImageLocation(parsing: text)
            }
            return try await session.store.withMergedSource(locations) { (merged) throws(PierError) in
                try await publish(merged)
            }
        }
        return try await session.store.withSource(try ImageLocation(parsing: sourceText)) { (image) throws(PierError) in
            try await publish(image)
        }
    }

    /// ECR's scan of the published digest in each ECR target written; nil when no target is ECR. A scan that
    /// cannot be read is `UNAVAILABLE` (a release gate fails on it) and logged.
    func scans(of report: PublishReport, session: Session) async -> [String: ECRScanFindings]? {
        var scans: [String: ECRScanFindings] = [:]
        for target in settings.release.targets {
            guard report.registries.contains(where: { $0.repository == target.repositoryName && $0.error == nil })
            else { continue }
            do {
                if let found = try await ECRScanGate.findings(
                    target, digest: report.digest, session: session, wait: request.failOnSeverity != nil)
                {
                    scans[target.repositoryName] = found
                }
            } catch {
                // Pushed with a docker login or credential helper and no AWS credentials: nothing to read scans
                // with, which only a release gate needs to hear about.
                if request.failOnSeverity == nil, error.kind == .auth, error.status == nil {
                    session.logger.debug("no AWS credentials to read ECR's scan of \(target.repositoryName)")
                    continue
                }
                session.logger.warning("warning: cannot read ECR's scan of \(target.repositoryName): \(error.message)")
                scans[target.repositoryName] = ECRScanFindings(status: "UNAVAILABLE", countsBySeverity: [:])
            }
        }
        return scans.isEmpty ? nil : scans
    }

    /// Builds into pier.yml's `build.output` layout when it names one, else into `scratch`; returns the source.
    static func build(_ spec: BuildSpec, scratch: ScratchDirectory, session: Session) async throws(PierError) -> String
    {
        var (directory, tag) = (scratch.path, "latest")
        if let text = spec.output, case .ociLayout(let path, let named) = try ImageLocation(parsing: text) {
            (directory, tag) = (path, named ?? "latest")
        }
        _ = try await ImageBuilder(
            store: session.store, logger: session.logger, environment: session.settings.environment
        )
        .build(spec, directory: directory, tag: tag)
        return "oci:\(directory):\(tag)"
    }

    /// The notes describe what went out: the (possibly annotated) root as the primary holds it; for a dry run, the
    /// local image.
    func writeNotes(
        _ notes: NotesOperation, to path: String, report: PublishReport, localImage: any ImageSource, session: Session
    ) async throws(PierError) {
        let targets = settings.release.targets
        let published = try RegistryImageSource(
            reference: targets[0].with(tag: nil, digest: report.digest),
            client: await session.store.client(for: targets[0].registry))
        let version = report.context.version ?? report.tags.first?.name ?? "latest"
        let collected: ReleaseNotes
        do {
            collected = try await NotesOperation.collect(
                version: version, source: report.dryRun ? localImage : published, registries: targets,
                tags: report.tags.map(\.name),
                changelog: report.context.version != nil && notes.request.includeChangelog)
        } catch {
            await published.close()
            throw error
        }
        await published.close()
        guard FileManager.default.createFile(atPath: path, contents: Data(try notes.render(collected).utf8)) else {
            throw PierError(.other, operation: "write notes", message: "cannot write \(path)")
        }
    }
}
