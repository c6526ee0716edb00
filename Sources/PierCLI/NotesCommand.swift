import ArgumentParser
import Foundation
import PierEngine
import PierHostedAPIs
import PierModel
import PierRegistry

/// Options that say where release notes come from and how they look.
struct NotesOptions: ParsableArguments {
    @Option(help: "A publish report (pier publish --json > report.json) to write the notes from.") var report: String?
    @Option(help: "Mustache template for the notes (default: the built-in Markdown).") var template: String?
    @Flag(name: .customLong("no-changelog"), help: "Leave out the changelog from git.") var noChangelog = false

    func templateText() throws(PierError) -> String? {
        guard let template else { return nil }
        guard let text = try? String(contentsOfFile: template, encoding: .utf8) else {
            throw PierError(.usage, operation: "read notes template", message: "cannot read \(template)")
        }
        return text
    }

    /// The notes and the tag for a release command: context from flags/CI, targets and tags from the config.
    func releaseNotes(store: ImageStore, image: String?, release: ReleaseOptions) async throws -> (tag: String, body: String, notes: ReleaseNotes) {
        let config = try release.config()
        let context = release.context()
        let notes = try await notes(
            store: store, image: image, version: context.version, targets: try release.targetReferences(config),
            tags: try TagPlanner.plan(context: context, rules: release.rules(config)).map(\.name))
        return (context.version ?? notes.version, try notes.render(template: templateText()), notes)
    }

    /// Builds the notes: from a publish report (image read back from its primary registry), or from an image.
    func notes(store: ImageStore, image: String?, version: String?, targets: [ImageReference], tags: [String]) async throws -> ReleaseNotes {
        var sourceText = image
        var version = version
        var targets = targets
        var tags = tags
        if let report {
            guard let data = FileManager.default.contents(atPath: report),
                let published = try? ReportJSON.decoder().decode(PublishReport.self, from: data)
            else {
                throw PierError(.invalidInput, operation: "read publish report", message: "\(report) is not a pier publish --json report")
            }
            version = version ?? published.context.version
            targets = try published.registries.map { (r) throws(PierError) in try ImageReference(parsing: r.repository) }
            tags = published.tags.map(\.name)
            sourceText = sourceText ?? targets.first.map { "\($0.repositoryName)@\(published.digest)" }
        }
        guard let sourceText else {
            throw PierError(.usage, operation: "notes", message: "no image", hint: "pass --source IMAGE or --report FILE")
        }
        guard let version else { throw PierError(.usage, operation: "notes", message: "no version", hint: "pass --version") }
        let source = try await store.openSource(try ImageLocation(parsing: sourceText))
        defer { Task { await source.close() } }
        let root = try await source.root()
        let changelog = noChangelog ? (nil, []) : Changelog.fromGit(version: version)
        return try await ReleaseNotes.collect(
            version: SemanticVersion(version)?.description ?? version, root: root, source: source, registries: targets,
            tags: tags.isEmpty ? [version] : tags, changelog: changelog)
    }
}

struct NotesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notes",
        abstract: "Write Markdown release notes from what was published: digest, pull commands, platforms, sizes, labels, tags, changelog.")

    @Option(help: "The image (default: from --report).") var source: String?
    @OptionGroup var release: ReleaseOptions
    @OptionGroup var notesOptions: NotesOptions
    @Option(name: [.short, .long], help: "Write to this file instead of stdout.") var output: String?
    @Flag(help: "Print the notes' data as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.withStore(targets: source.map { [$0] } ?? []) { store, _ in
            let config = try release.config()
            let context = release.context()
            let targets = try release.targetReferences(config)
            let tags = try TagPlanner.plan(context: context, rules: release.rules(config)).map(\.name)
            let notes = try await notesOptions.notes(
                store: store, image: source, version: context.version, targets: targets, tags: tags)
            if json { return try Terminal.shared.printJSON(notes) }
            let text = try notes.render(template: notesOptions.templateText())
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8)) else {
                    throw PierError(.other, operation: "write notes", message: "cannot write \(output)")
                }
            } else {
                Terminal.shared.printDocument(text)
            }
        }
    }
}

struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Create or update the GitHub or GitLab release for a tag, with pier's notes.",
        subcommands: [GitHubRelease.self, GitLabRelease.self])

    struct GitHubRelease: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "github",
            abstract: "Create or update a GitHub release (GITHUB_TOKEN; GITHUB_API_URL for Enterprise; GITHUB_REPOSITORY).")
        @Option(help: "owner/repo (default: GITHUB_REPOSITORY).") var repo: String?
        @Option(help: "The image (default: from --report).") var source: String?
        @Option(name: .customLong("asset"), help: "A file to attach to the release (repeatable); a same-named asset is replaced.")
        var assets: [String] = []
        @OptionGroup var release: ReleaseOptions
        @OptionGroup var notesOptions: NotesOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await global.withStore(targets: source.map { [$0] } ?? []) { store, _ in
                let env = ProcessInfo.processInfo.environment
                guard let token = env["GITHUB_TOKEN"] else { throw PierError(.auth, operation: "release github", message: "GITHUB_TOKEN is not set") }
                guard let repo = repo ?? env["GITHUB_REPOSITORY"] else {
                    throw PierError(.usage, operation: "release github", message: "no repository", hint: "pass --repo owner/name")
                }
                let (tag, body, _) = try await notesOptions.releaseNotes(store: store, image: source, release: release)
                let api = GitHubReleasesAPI(transport: store.pool.transport, token: token, repository: repo,
                    base: env["GITHUB_API_URL"] ?? "https://api.github.com")
                let result = try await api.publish(tag: tag, name: tag, body: body, prerelease: !(SemanticVersion(tag)?.isStable ?? true),
                    assets: assets)
                Terminal.shared.print("\(result.action) GitHub release \(tag)" + (result.url.map { ": \($0)" } ?? ""))
                for asset in result.assets { Terminal.shared.print("uploaded \(asset)") }
            }
        }
    }

    struct GitLabRelease: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gitlab", abstract: "Create or update a GitLab release (CI_JOB_TOKEN or GITLAB_TOKEN; CI_API_V4_URL; CI_PROJECT_ID).")
        @Option(help: "Project id or path (default: CI_PROJECT_ID).") var project: String?
        @Option(name: .customLong("api-url"), help: "GitLab API root (default: CI_API_V4_URL).") var apiURL: String?
        @Option(help: "The image (default: from --report).") var source: String?
        @OptionGroup var release: ReleaseOptions
        @OptionGroup var notesOptions: NotesOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await global.withStore(targets: source.map { [$0] } ?? []) { store, _ in
                let env = ProcessInfo.processInfo.environment
                guard let base = apiURL ?? env["CI_API_V4_URL"] else {
                    throw PierError(.usage, operation: "release gitlab", message: "no API URL", hint: "pass --api-url or set CI_API_V4_URL")
                }
                guard let project = project ?? env["CI_PROJECT_ID"] else {
                    throw PierError(.usage, operation: "release gitlab", message: "no project", hint: "pass --project")
                }
                let privateToken = env["GITLAB_TOKEN"]
                let jobToken = privateToken == nil ? env["CI_JOB_TOKEN"] : nil
                guard privateToken != nil || jobToken != nil else {
                    throw PierError(.auth, operation: "release gitlab", message: "GITLAB_TOKEN or CI_JOB_TOKEN is not set")
                }
                let (tag, body, _) = try await notesOptions.releaseNotes(store: store, image: source, release: release)
                let api = GitLabReleasesAPI(transport: store.pool.transport, base: base, project: project, privateToken: privateToken, jobToken: jobToken)
                let result = try await api.publish(tag: tag, name: tag, body: body)
                Terminal.shared.print("\(result.action) GitLab release \(tag)")
            }
        }
    }
}

struct DescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Set a Docker Hub repository's short and full description (username + access token, exchanged for a JWT).",
        discussion: "Credentials: DOCKERHUB_USERNAME and DOCKERHUB_TOKEN, else the docker.io login. Limits are checked before sending: short at most 100 characters, full at most 25,000 bytes.")

    @Argument(help: "Docker Hub repository, e.g. org/app.") var repository: String
    @Option(help: "Short description (at most 100 characters).") var short: String?
    @Option(help: "File with the full description (Markdown, at most 25,000 bytes).") var readme: String?
    @Option(name: .customLong("api-url"), help: "Hub API base (default https://hub.docker.com).") var apiURL: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.withStore(targets: [repository]) { store, _ in
            let reference = try ImageReference(parsing: repository)
            let full = try readme.map { (path) throws(PierError) in
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw PierError(.usage, operation: "describe", message: "cannot read \(path)")
                }
                return text
            }
            guard case .native(let api) = try await RegistryAPISelection.choose(.dockerhub, registry: ImageReference.dockerHub, apiURL: apiURL, pool: store.pool),
                let hub = api as? DockerHubAPI
            else { throw PierError(.other, operation: "describe", message: "no Docker Hub API") }
            try await hub.describe(repository: reference.repository, short: short, full: full)
            Terminal.shared.print("updated the description of \(reference.repository)")
        }
    }
}
