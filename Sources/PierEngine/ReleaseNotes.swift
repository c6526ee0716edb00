import Foundation
import Mustache
import PierModel
import PierRegistry

/// Release notes written from what pier actually published: digests, pull commands, platforms, sizes, labels,
/// tags, and a changelog from git. Rendered as Markdown through a Mustache template (the built-in one or a team's
/// own), or as JSON.
public struct ReleaseNotes: Sendable, Codable, Equatable {
    public struct Registry: Sendable, Codable, Equatable {
        public var repository: String
        public var pullByTag: String
        public var pullByDigest: String
        public var tags: [String]
    }
    public struct PlatformInfo: Sendable, Codable, Equatable {
        public var platform: String
        public var digest: String
        /// Compressed size of the layers.
        public var size: Int64
        public var sizeText: String
        public var layers: Int
    }
    public struct Label: Sendable, Codable, Equatable {
        public var key: String
        public var value: String
    }
    public struct Change: Sendable, Codable, Equatable {
        public var sha: String
        public var subject: String
        public var scope: String?
        public var breaking: Bool
    }
    public struct ChangeGroup: Sendable, Codable, Equatable {
        public var title: String
        public var changes: [Change]
    }

    public var version: String
    public var digest: String
    public var mediaType: String
    public var registries: [Registry]
    public var platforms: [PlatformInfo]
    public var baseName: String?
    public var baseDigest: String?
    public var source: String?
    public var revision: String?
    public var created: String?
    public var labels: [Label]
    public var tags: [String]
    public var previousVersion: String?
    public var changelog: [ChangeGroup]

    /// Collects the notes for `root` read from `source`, pushed to `registries` under `tags`.
    public static func collect(
        version: String, root: ManifestBlob, source: any ImageSource, registries: [ImageReference], tags: [String],
        changelog: (previous: String?, groups: [ChangeGroup]) = (nil, [])
    ) async throws(PierError) -> ReleaseNotes {
        var platforms: [PlatformInfo] = []
        var config: ImageConfigSummary?
        var images: [(String, ManifestBlob)] = []
        if root.isIndex {
            for entry in root.document.manifests ?? []
            where !(entry.platform?.isUnknown ?? false) && MediaType.isImageManifest(entry.mediaType) {
                images.append((entry.platform?.description ?? "unknown", try await source.manifest(entry)))
            }
        } else {
            images.append(("", root))
        }
        for (index, (platform, manifest)) in images.enumerated() {
            var name = platform
            if let descriptor = manifest.document.config, descriptor.size <= 4 << 20 {
                let file = try await source.blob(descriptor, progress: nil)
                let summary = (try? Data(contentsOf: URL(fileURLWithPath: file.path))).flatMap {
                    try? JSONDecoder().decode(ImageConfigSummary.self, from: $0)
                }
                if index == 0 { config = summary }
                if name.isEmpty, let summary, let os = summary.os {
                    name = [os, summary.architecture ?? "unknown", summary.variant].compactMap { $0 }.joined(
                        separator: "/")
                }
            }
            let layers = manifest.document.layers ?? []
            let size = try Descriptor.totalSize(of: layers, what: "layer", source: source.name)
            platforms.append(
                PlatformInfo(
                    platform: name.isEmpty ? "unknown" : name, digest: manifest.digest.description, size: size,
                    sizeText: Self.format(size), layers: layers.count))
        }
        let annotations = (root.document.annotations ?? [:]).merging(images.first?.1.document.annotations ?? [:]) {
            a, _ in a
        }
        let labels = config?.config?.Labels ?? [:]
        // An empty value says nothing (buildah writes empty base.name and base.digest for FROM scratch).
        func oci(_ key: String) -> String? {
            [annotations["org.opencontainers.image.\(key)"], labels["org.opencontainers.image.\(key)"]]
                .compactMap { $0?.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
        }
        let shownTag = tags.first ?? version
        return ReleaseNotes(
            version: version, digest: root.digest.description, mediaType: root.mediaType,
            registries: registries.map { repo in
                Registry(
                    repository: repo.repositoryName, pullByTag: "\(repo.repositoryName):\(shownTag)",
                    pullByDigest: "\(repo.repositoryName)@\(root.digest)", tags: tags)
            },
            platforms: platforms, baseName: oci("base.name"), baseDigest: oci("base.digest"), source: oci("source"),
            revision: oci("revision"), created: oci("created") ?? config?.created,
            labels: labels.sorted { $0.key < $1.key }.map { Label(key: $0.key, value: $0.value) }, tags: tags,
            previousVersion: changelog.previous, changelog: changelog.groups)
    }

    static func format(_ bytes: Int64) -> String { ByteCount.format(bytes) }

    /// For each registry (by repository name), the tags among `candidates` that point at `digest` there, in
    /// `candidates`' order. Each tag is HEADed (no pull counted on Docker Hub); a 404 or another digest drops it.
    public static func publishedTags(
        _ candidates: [String], on registries: [ImageReference], digest: Digest, store: ImageStore
    ) async throws(PierError) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for registry in registries {
            let client = await store.client(for: registry.registry)
            var kept: [String] = []
            for tag in candidates where !kept.contains(tag) {
                let head: Digest?
                do {
                    head = try await client.manifestHead(repository: registry.repository, reference: tag)?.digest
                } catch {
                    guard error.kind == .notFound else { throw error }
                    head = nil
                }
                if head == digest { kept.append(tag) }
            }
            result[registry.repositoryName] = kept
        }
        return result
    }

    /// Notes written without a publish report claim only what is there: each registry's tags are those that point
    /// at the digest on it (`publishedTags`), and `tags` are the first registry's. The registries are `targets`,
    /// else the source's repository when it is a registry; with neither, the notes are returned as they are.
    public func keepingPublishedTags(targets: [ImageReference], source: ImageLocation, store: ImageStore)
        async throws(PierError) -> ReleaseNotes
    {
        var checked = targets
        if checked.isEmpty, case .registry(let reference) = source { checked = [reference.with(tag: nil)] }
        guard let primary = checked.first, let digest = try? Digest(digest) else { return self }
        let published = try await Self.publishedTags(tags, on: checked, digest: digest, store: store)
        var result = self
        result.tags = published[primary.repositoryName] ?? []
        for index in result.registries.indices {
            let kept = published[result.registries[index].repository] ?? []
            result.registries[index].tags = kept
            result.registries[index].pullByTag =
                kept.first.map { "\(result.registries[index].repository):\($0)" }
                ?? result.registries[index].pullByDigest
        }
        return result
    }

    /// The built-in template. Triple braces: Markdown, not HTML, so nothing is escaped.
    public static let defaultTemplate = """
        # {{{version}}}

        Image digest: `{{{digest}}}`

        ## Pull
        {{#registries}}
        - `docker pull {{{pullByTag}}}`
          `docker pull {{{pullByDigest}}}`
        {{/registries}}

        ## Platforms

        | platform | digest | compressed size | layers |
        |---|---|---|---|
        {{#platforms}}
        | {{{platform}}} | `{{{digest}}}` | {{{sizeText}}} | {{layers}} |
        {{/platforms}}
        {{#baseName}}

        Base image: `{{{baseName}}}`{{#baseDigest}} (`{{{baseDigest}}}`){{/baseDigest}}
        {{/baseName}}
        {{#hasProvenance}}

        ## Provenance
        {{#source}}
        - Source: {{{source}}}
        {{/source}}
        {{#revision}}
        - Revision: `{{{revision}}}`
        {{/revision}}
        {{#created}}
        - Created: {{{created}}}
        {{/created}}
        {{/hasProvenance}}
        {{#hasLabels}}

        ## Labels
        {{#labels}}
        - `{{{key}}}`: {{{value}}}
        {{/labels}}
        {{/hasLabels}}

        ## Tags
        {{#tags}}
        - `{{{.}}}`
        {{/tags}}
        {{#hasChangelog}}

        ## Changes{{#previousVersion}} since {{{previousVersion}}}{{/previousVersion}}
        {{#changelog}}

        ### {{{title}}}
        {{#changes}}
        - {{#scope}}**{{{scope}}}:** {{/scope}}{{{subject}}} ({{{sha}}}){{#breaking}} — **breaking**{{/breaking}}
        {{/changes}}
        {{/changelog}}
        {{/hasChangelog}}

        """

    /// Renders with `template` (Mustache), or the built-in one.
    public func render(template: String? = nil) throws(PierError) -> String {
        let compiled: MustacheTemplate
        do { compiled = try MustacheTemplate(string: template ?? Self.defaultTemplate) } catch {
            throw PierError(
                .invalidInput, operation: "read notes template", message: "the template does not parse",
                cause: "\(error)")
        }
        var context = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(self))) as? [String: Any] ?? [:]
        context["hasProvenance"] = source != nil || revision != nil || created != nil
        context["hasLabels"] = !labels.isEmpty
        context["hasChangelog"] = !changelog.isEmpty
        return compiled.render(context)
    }
}

/// Commits since the previous version tag, grouped by conventional-commit type (conventionalcommits.org 1.0).
public enum Changelog {
    static let titles: [(String, String)] = [
        ("feat", "Features"), ("fix", "Fixes"), ("perf", "Performance"), ("refactor", "Refactoring"),
        ("docs", "Documentation"),
        ("test", "Tests"), ("build", "Build"), ("ci", "CI"), ("chore", "Chores"),
    ]

    /// Groups `(sha, subject)` pairs. Subjects that do not follow the convention go under "Other changes".
    public static func group(_ commits: [(sha: String, subject: String)]) -> [ReleaseNotes.ChangeGroup] {
        var buckets: [String: [ReleaseNotes.Change]] = [:]
        var breaking: [ReleaseNotes.Change] = []
        for (sha, subject) in commits {
            var type = "other"
            var change = ReleaseNotes.Change(sha: String(sha.prefix(7)), subject: subject, scope: nil, breaking: false)
            if let colon = subject.firstIndex(of: ":") {
                var head = String(subject[..<colon])
                let rest = subject[subject.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if head.hasSuffix("!") {
                    change.breaking = true
                    head.removeLast()
                }
                if let open = head.firstIndex(of: "("), head.hasSuffix(")") {
                    change.scope = String(head[head.index(after: open)..<head.index(before: head.endIndex)])
                    head = String(head[..<open])
                }
                if titles.contains(where: { $0.0 == head.lowercased() }), !rest.isEmpty {
                    type = head.lowercased()
                    change.subject = rest
                } else {
                    change.scope = nil
                    change.breaking = false
                }
            }
            if change.breaking { breaking.append(change) }
            buckets[type, default: []].append(change)
        }
        var groups: [ReleaseNotes.ChangeGroup] = []
        if !breaking.isEmpty { groups.append(.init(title: "Breaking changes", changes: breaking)) }
        for (type, title) in titles {
            if let changes = buckets[type] { groups.append(.init(title: title, changes: changes)) }
        }
        if let other = buckets["other"] { groups.append(.init(title: "Other changes", changes: other)) }
        return groups
    }

    /// Reads the commits between the previous version tag and `version` (or HEAD) from the git repository.
    public static func fromGit(version: String, directory: String = FileManager.default.currentDirectoryPath)
        -> (previous: String?, groups: [ReleaseNotes.ChangeGroup])
    {
        func git(_ arguments: [String]) -> String? { Git.run(arguments, in: directory) }
        let end =
            git(["rev-parse", "--verify", "--quiet", "refs/tags/\(version)"]) != nil
            ? version
            : git(["rev-parse", "--verify", "--quiet", "refs/tags/v\(version)"]) != nil ? "v\(version)" : "HEAD"
        guard let current = SemanticVersion(version) ?? SemanticVersion(end) else { return (nil, []) }
        let previous = (git(["tag", "--merged", end])?.split(separator: "\n").map(String.init) ?? [])
            .compactMap { tag in SemanticVersion(tag).map { (tag, $0) } }
            .filter { $0.1 < current && $0.1.isStable }
            .max { $0.1 < $1.1 }?.0
        let range = previous.map { "\($0)..\(end)" } ?? end
        let log = git(["log", "--no-merges", "--format=%H%x1f%s", range]) ?? ""
        let commits = log.split(separator: "\n").compactMap { line -> (sha: String, subject: String)? in
            let parts = line.split(separator: "\u{1f}", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
        return (previous, group(commits))
    }
}

/// Adds annotations to a root manifest or index, keeping every other field as it was. This changes the root
/// digest (the bytes change), which is why publish only does it when asked (`--annotate`).
public enum ImageAnnotator {
    public static func annotate(_ root: ManifestBlob, with annotations: [String: String]) throws(PierError)
        -> ManifestBlob
    {
        guard !annotations.isEmpty else { return root }
        // JSONValue keeps every other field exactly (a boolean stays a boolean, an integer an integer).
        guard var object = try? JSONDecoder().decode(JSONValue.self, from: Data(root.bytes)), object.objectValue != nil
        else {
            throw PierError(.invalidInput, operation: "annotate", message: "the root manifest is not a JSON object")
        }
        var existing = object["annotations"]?.objectValue ?? [:]
        for (key, value) in annotations { existing[key] = .string(value) }
        object["annotations"] = .object(existing)
        return try ManifestBlob(bytes: CanonicalJSON.bytes(object), mediaType: root.mediaType, source: "annotate")
    }

    /// The `org.opencontainers.image.*` annotations a build context gives (image-spec annotations.md).
    public static func standard(context: TagContext, environment: [String: String], extra: [String: String]) -> [String:
        String]
    {
        var result: [String: String] = [:]
        if let version = context.version {
            result["org.opencontainers.image.version"] = SemanticVersion(version)?.description ?? version
        }
        if let sha = context.gitSHA { result["org.opencontainers.image.revision"] = sha }
        if let server = environment["GITHUB_SERVER_URL"], let repo = environment["GITHUB_REPOSITORY"] {
            result["org.opencontainers.image.source"] = "\(server)/\(repo)"
        } else if let url = environment["CI_PROJECT_URL"] {
            result["org.opencontainers.image.source"] = url
        }
        let formatter = ISO8601DateFormatter()
        result["org.opencontainers.image.created"] = formatter.string(from: context.timestamp)
        for (key, value) in extra { result[key.contains(".") ? key : "org.opencontainers.image.\(key)"] = value }
        return result
    }
}
