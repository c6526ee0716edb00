import PierHostedAPIs
import PierModel
import PierRegistry

/// `pier release github|gitlab`: create or update the forge's release for the version's tag, with pier's notes
/// as its text (and, on GitHub, files attached).
public struct ReleaseOperation: Sendable {
    /// The forge and where on it.
    public enum Forge: Sendable {
        /// `repository` (owner/name) defaults to `GITHUB_REPOSITORY`.
        case github(repository: String?, assets: [String])
        /// `project` (id or path) defaults to `CI_PROJECT_ID`, `apiURL` to `CI_API_V4_URL`.
        case gitlab(project: String?, apiURL: String?)
    }

    /// What was done, for the CLI to print.
    public struct Outcome: Sendable {
        public var forge: String
        public var tag: String
        public var result: ReleaseResult
    }

    let target: Target
    let notes: NotesOperation

    enum Target: Sendable {
        case github(token: String, repository: String, base: String, assets: [String])
        case gitlab(token: ServiceSettings.GitLabToken, project: String, base: String)
    }

    /// Checks the token, the repository or project and the notes' template and report before any network I/O.
    public init(_ forge: Forge, notes: NotesOperation.Request, settings: Settings) throws(PierError) {
        let services = settings.services
        switch forge {
        case .github(let repository, let assets):
            guard let token = services.githubToken else {
                throw PierError(
                    .auth, operation: "release github", message: "GITHUB_TOKEN is not set",
                    hint: "a token with contents: write (in Actions: permissions: contents: write)")
            }
            guard let repository = repository ?? services.githubRepository else {
                throw PierError(
                    .usage, operation: "release github", message: "no repository", hint: "pass --repo owner/name")
            }
            target = .github(token: token, repository: repository, base: services.githubAPIURL, assets: assets)
        case .gitlab(let project, let apiURL):
            guard let base = apiURL ?? services.gitlabAPIURL else {
                throw PierError(
                    .usage, operation: "release gitlab", message: "no API URL",
                    hint: "pass --api-url or set CI_API_V4_URL")
            }
            guard let project = project ?? services.gitlabProject else {
                throw PierError(.usage, operation: "release gitlab", message: "no project", hint: "pass --project")
            }
            guard let token = services.gitlabToken else {
                throw PierError(.auth, operation: "release gitlab", message: "GITLAB_TOKEN or CI_JOB_TOKEN is not set")
            }
            target = .gitlab(token: token, project: project, base: base)
        }
        self.notes = try NotesOperation(notes)
        guard self.notes.version(in: settings) != nil else {
            throw PierError(
                .usage, operation: "release", message: "no version to release",
                hint: "pass --version, or --report FILE from a tag build")
        }
    }

    /// Writes the release. Its tag is the version as it was given (`v1.2.3` stays `v1.2.3`: the git tag's name).
    public func run(session: Session) async throws(PierError) -> Outcome {
        let collected = try await notes.notes(session: session)
        let tag = notes.version(in: session.settings) ?? collected.version
        let body = try notes.render(collected)
        let transport = session.pool.transport
        switch target {
        case .github(let token, let repository, let base, let assets):
            let api = GitHubReleasesAPI(transport: transport, token: token, repository: repository, base: base)
            let prerelease = !(SemanticVersion(tag)?.isStable ?? true)
            let result = try await api.publish(tag: tag, name: tag, body: body, prerelease: prerelease, assets: assets)
            return Outcome(forge: "GitHub", tag: tag, result: result)
        case .gitlab(let token, let project, let base):
            let api = GitLabReleasesAPI(
                transport: transport, base: base, project: project, privateToken: token.privateToken,
                jobToken: token.jobToken)
            return Outcome(forge: "GitLab", tag: tag, result: try await api.publish(tag: tag, name: tag, body: body))
        }
    }
}
