import Foundation
import Logging
import PierModel

/// What a build is: the facts tag rules are applied to.
public struct TagContext: Sendable, Codable, Equatable {
    public enum Event: String, Sendable, Codable, CaseIterable {
        case push, tag, pullRequest = "pull_request", schedule
    }
    /// The version tag being released (`v1.2.3`), when the build is for a tag.
    public var version: String?
    /// Whether `version` is a git tag detected from CI or git rather than given (`--version`). With semver tag rules,
    /// a given version must be a semantic version (else a usage error); a detected tag that is not one gets no
    /// version tags and a warning, as docker/metadata-action's `type=semver` skips it. Not encoded.
    public var versionIsDetected = false
    public var gitSHA: String?
    public var branch: String?
    public var defaultBranch: String?
    public var buildNumber: String?
    public var pullRequest: String?
    public var event: Event
    /// Where the facts came from: "flags", "github-actions", "gitlab-ci", "git".
    public var origin: String
    public var timestamp: Date

    enum CodingKeys: String, CodingKey {
        case version, gitSHA, branch, defaultBranch, buildNumber, pullRequest, event, origin, timestamp
    }

    public init(
        version: String? = nil, gitSHA: String? = nil, branch: String? = nil, defaultBranch: String? = nil,
        buildNumber: String? = nil, pullRequest: String? = nil, event: Event = .push, origin: String = "flags",
        timestamp: Date = Date()
    ) {
        self.version = version
        self.gitSHA = gitSHA
        self.branch = branch
        self.defaultBranch = defaultBranch
        self.buildNumber = buildNumber
        self.pullRequest = pullRequest
        self.event = event
        self.origin = origin
        self.timestamp = timestamp
    }

    public var isDefaultBranch: Bool {
        guard let branch else { return false }
        return branch == (defaultBranch ?? "main")
    }

    /// Flag values; each one set wins over whatever was detected.
    public struct Overrides: Sendable {
        public var version: String?
        public var gitSHA: String?
        public var branch: String?
        public var buildNumber: String?
        public var event: Event?
        public init(
            version: String? = nil, gitSHA: String? = nil, branch: String? = nil, buildNumber: String? = nil,
            event: Event? = nil
        ) {
            self.version = version
            self.gitSHA = gitSHA
            self.branch = branch
            self.buildNumber = buildNumber
            self.event = event
        }
    }

    /// Detects the context: GitHub Actions variables, else GitLab CI variables, else the git repository in
    /// `directory`; then applies the flag overrides.
    public static func detect(
        overrides: Overrides = Overrides(), environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String = FileManager.default.currentDirectoryPath, now: Date = Date(),
        logger: Logger = Logger(label: "pier")
    ) -> TagContext {
        var context: TagContext
        if environment["GITHUB_ACTIONS"] == "true" || environment["GITHUB_REF"] != nil {
            context = fromGitHub(environment)
        } else if environment["GITLAB_CI"] == "true" || environment["CI_COMMIT_SHA"] != nil {
            context = fromGitLab(environment)
        } else {
            context = fromGit(directory: directory)
        }
        context.timestamp = now
        if let version = overrides.version {
            context.version = version
            context.versionIsDetected = false
            if overrides.event == nil { context.event = .tag }
        } else if context.versionIsDetected, let tag = context.version, SemanticVersion(tag) == nil {
            logger.warning(
                """
                the git tag "\(TerminalText.escaped(tag))" (\(context.origin)) is not a semantic version (semver.org): \
                it gets no version tags, as docker/metadata-action's type=semver skips it; \
                pass --version for a version or --tag for a raw tag
                """)
        }
        if let sha = overrides.gitSHA { context.gitSHA = sha }
        if let branch = overrides.branch { context.branch = branch }
        if let number = overrides.buildNumber { context.buildNumber = number }
        if let event = overrides.event { context.event = event }
        if overrides.version != nil || overrides.gitSHA != nil || overrides.branch != nil || overrides.event != nil {
            context.origin = ["flags", "none"].contains(context.origin) ? "flags" : "flags+\(context.origin)"
        }
        return context
    }

    /// GitHub Actions default environment variables (docs: "Variables reference").
    static func fromGitHub(_ env: [String: String]) -> TagContext {
        var context = TagContext(origin: "github-actions")
        context.gitSHA = env["GITHUB_SHA"]
        context.buildNumber = env["GITHUB_RUN_NUMBER"]
        let refType = env["GITHUB_REF_TYPE"]
        let ref = env["GITHUB_REF"] ?? ""
        let refName = env["GITHUB_REF_NAME"]
        if refType == "tag" || ref.hasPrefix("refs/tags/") {
            context.version = refName ?? String(ref.dropFirst("refs/tags/".count))
            context.versionIsDetected = true
            context.event = .tag
        } else if refType == "branch" || ref.hasPrefix("refs/heads/") {
            context.branch = refName ?? String(ref.dropFirst("refs/heads/".count))
        }
        switch env["GITHUB_EVENT_NAME"] {
        case "pull_request", "pull_request_target":
            context.event = .pullRequest
            context.branch = env["GITHUB_HEAD_REF"] ?? context.branch
            // refs/pull/123/merge
            let parts = ref.split(separator: "/")
            if parts.count >= 3, parts[1] == "pull" { context.pullRequest = String(parts[2]) }
        case "schedule": context.event = .schedule
        default: break
        }
        // The default branch is only in the event payload.
        if let path = env["GITHUB_EVENT_PATH"], let data = FileManager.default.contents(atPath: path),
            let payload = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let repository = payload["repository"] as? [String: Any],
            let branch = repository["default_branch"] as? String
        {
            context.defaultBranch = branch
        }
        return context
    }

    /// GitLab CI predefined variables.
    static func fromGitLab(_ env: [String: String]) -> TagContext {
        var context = TagContext(origin: "gitlab-ci")
        context.gitSHA = env["CI_COMMIT_SHA"]
        context.buildNumber = env["CI_PIPELINE_IID"]
        context.defaultBranch = env["CI_DEFAULT_BRANCH"]
        if let tag = env["CI_COMMIT_TAG"], !tag.isEmpty {
            context.version = tag
            context.versionIsDetected = true
            context.event = .tag
        }
        context.branch = env["CI_COMMIT_BRANCH"] ?? env["CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"]
        if let mr = env["CI_MERGE_REQUEST_IID"], !mr.isEmpty {
            context.event = .pullRequest
            context.pullRequest = mr
        } else if env["CI_PIPELINE_SOURCE"] == "schedule" {
            context.event = .schedule
        }
        return context
    }

    /// The local git repository: HEAD, an exact version tag on HEAD, the branch.
    static func fromGit(directory: String) -> TagContext {
        var context = TagContext(origin: "git")
        func git(_ arguments: [String]) -> String? {
            Git.run(arguments, in: directory)?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        }
        context.gitSHA = git(["rev-parse", "HEAD"])
        // Not a repository (or no git): nothing came from git.
        if context.gitSHA == nil { context.origin = "none" }
        if let tags = git(["tag", "--points-at", "HEAD"]) {
            let versions = tags.split(separator: "\n").map(String.init).filter { SemanticVersion($0) != nil }
            if let highest = versions.max(by: { SemanticVersion($0)! < SemanticVersion($1)! }) {
                context.version = highest
                context.versionIsDetected = true
                context.event = .tag
            }
        }
        if let branch = git(["rev-parse", "--abbrev-ref", "HEAD"]), branch != "HEAD" { context.branch = branch }
        if let head = git(["symbolic-ref", "--short", "refs/remotes/origin/HEAD"]) {
            context.defaultBranch = String(head.dropFirst("origin/".count))
        }
        return context
    }
}

/// Runs git in a directory; nil when git is missing or fails (no repository, unknown ref).
enum Git {
    static func run(_ arguments: [String], in directory: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        guard (try? process.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
