import Foundation
import PierModel

/// `pier notes` and the notes of `publish --notes` and `pier release`: what was published, read back from the
/// registry (or from the local image of a dry run), rendered with the built-in or a Mustache template.
public struct NotesOperation: Sendable {
    /// Where the notes come from and how they look.
    public struct Request: Sendable {
        /// The image (a location); default: the primary of `reportPath`'s report at its digest.
        public var image: String?
        /// A `pier publish --json` report.
        public var reportPath: String?
        /// A Mustache template file.
        public var templatePath: String?
        public var includeChangelog = true

        public init(
            image: String? = nil, reportPath: String? = nil, templatePath: String? = nil, includeChangelog: Bool = true
        ) {
            self.image = image
            self.reportPath = reportPath
            self.templatePath = templatePath
            self.includeChangelog = includeChangelog
        }
    }

    public let request: Request
    /// The template's text, read before any network I/O.
    public let template: String?
    /// The report named by `reportPath`, read and decoded before any network I/O.
    public let report: PublishReport?

    /// Reads the template and the report; a missing or unreadable file is a usage error.
    public init(_ request: Request) throws(PierError) {
        self.request = request
        template = try request.templatePath.map { (path) throws(PierError) in try Self.readTemplate(path) }
        report = try request.reportPath.map { (path) throws(PierError) in
            guard let data = FileManager.default.contents(atPath: path),
                let published = try? ReportJSON.decoder().decode(PublishReport.self, from: data)
            else {
                throw PierError(
                    .invalidInput, operation: "read publish report",
                    message: "\(path) is not a pier publish --json report")
            }
            return published
        }
    }

    /// A notes template file's text.
    public static func readTemplate(_ path: String) throws(PierError) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PierError(.usage, operation: "read notes template", message: "cannot read \(path)")
        }
        return text
    }

    /// The version the notes are for: `--version`, else the report's, else the CI or git tag. A version only
    /// detected from CI or git does not override a report's: the report says what was published.
    public func version(in settings: Settings) -> String? {
        let context = settings.release.context
        if context.version != nil, !context.versionIsDetected { return context.version }
        return report?.context.version ?? context.version
    }

    /// Collects the notes. Without a report, the tags are the run's planned tags (from flags, CI or git).
    public func notes(session: Session) async throws(PierError) -> ReleaseNotes {
        let release = session.settings.release
        var targets = release.targets
        var tags: [String]
        var versionTag: String?
        var image = request.image
        if let report {
            if let asked = release.context.version, !release.context.versionIsDetected,
                let published = report.context.version,
                Self.normalized(asked) != Self.normalized(published)
            {
                throw PierError(
                    .usage, operation: "notes",
                    message: "--version \(asked) is not the version the report published (\(published))",
                    hint: "leave out --version: the report says which version it published")
            }
            targets = try report.registries.map { (entry) throws(PierError) in
                try ImageReference(parsing: entry.repository)
            }
            tags = report.tags.map(\.name)
            image = image ?? targets.first.map { "\($0.repositoryName)@\(report.digest)" }
        } else {
            // Without a report the tags are the run's plan (from flags, CI or git); the report's tags win over it.
            let plan = try TagPlanner.plan(context: release.context, rules: release.rules)
            tags = plan.map(\.name)
            versionTag = plan.first { $0.kind == .version }?.name
        }
        guard let image else {
            throw PierError(
                .usage, operation: "notes", message: "no image", hint: "pass --source IMAGE or --report FILE")
        }
        guard let version = version(in: session.settings) else {
            throw PierError(.usage, operation: "notes", message: "no version", hint: "pass --version")
        }
        let location = try ImageLocation(parsing: image)
        let notes = try await session.store.withSource(location) { (source) throws(PierError) in
            try await Self.collect(
                version: version, source: source, registries: targets, tags: tags.isEmpty ? [version] : tags,
                changelog: request.includeChangelog)
        }
        guard report == nil else { return notes }
        // Planned tags are only candidates: list the ones that point at this digest on the registries.
        let published = try await notes.keepingPublishedTags(targets: targets, source: location, store: session.store)
        // The version's own tag, where the primary already has it, must be this image: notes for 1.1.0 that show
        // 1.3.0's digest would be wrong in every line. Asked only when the published tags do not show it.
        var primary = targets.first
        if primary == nil, case .registry(let reference) = location { primary = reference.with(tag: nil) }
        if let versionTag, !published.tags.contains(versionTag), let primary, let digest = try? Digest(notes.digest),
            let head = try await session.store.client(for: primary.registry).manifestHead(
                repository: primary.repository, reference: versionTag),
            head.digest != digest
        {
            throw PierError(
                .verification, operation: "notes",
                message: "\(versionTag) is \(head.digest.short) there, not this image (\(digest.short))",
                registry: primary.registry, repository: primary.repository,
                hint: "pass the version this image was published as, or --report")
        }
        return published
    }

    /// A version as tags compare it: `v1.2.3` and `1.2.3` are the same release.
    static func normalized(_ version: String) -> String { SemanticVersion(version)?.description ?? version }

    /// Collects the notes of `source` as published to `registries` under `tags`.
    static func collect(
        version: String, source: any ImageSource, registries: [ImageReference], tags: [String], changelog: Bool
    ) async throws(PierError) -> ReleaseNotes {
        try await ReleaseNotes.collect(
            version: SemanticVersion(version)?.description ?? version, root: try await source.root(), source: source,
            registries: registries, tags: tags, changelog: changelog ? Changelog.fromGit(version: version) : (nil, []))
    }

    /// The notes as text: the template's, or the built-in Markdown.
    public func render(_ notes: ReleaseNotes) throws(PierError) -> String { try notes.render(template: template) }
}
