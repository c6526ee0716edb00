import PierModel

/// Where `organisation.discover` reads the primary registry's repositories (pier.yml `organisation.discover_from`;
/// by default chosen from the primary's registry as prune chooses its API).
public enum RepositoryDiscoverySource: String, Sendable, CaseIterable {
    /// The registry's `/v2/_catalog` (distribution, Harbor, most self-hosted registries).
    case catalog
    /// The owner's container packages through the GitHub REST API (ghcr.io; `GITHUB_TOKEN` with read:packages).
    case github
    /// The group's registry repositories through the GitLab API (`GITLAB_TOKEN` or `CI_JOB_TOKEN`).
    case gitlab
    /// ECR's `DescribeRepositories` (AWS credentials).
    case ecr

    /// The source for a registry managed by `kind` (`RegistryAPISelection.kind`): the hosted API when it can list
    /// repositories, else the catalog.
    public init(managedBy kind: RegistryAPISelection.Kind) {
        switch kind {
        case .ghcr: self = .github
        case .gitlab: self = .gitlab
        case .ecr: self = .ecr
        case .auto, .distribution, .dockerhub, .harbor: self = .catalog
        }
    }

    /// The API that lists repositories for this source; nil for the catalog.
    var apiKind: RegistryAPISelection.Kind? {
        switch self {
        case .catalog: return nil
        case .github: return .ghcr
        case .gitlab: return .gitlab
        case .ecr: return .ecr
        }
    }

    /// For messages: "the catalog", "GitHub packages", …
    public var label: String {
        switch self {
        case .catalog: return "the registry catalog"
        case .github: return "GitHub packages"
        case .gitlab: return "the GitLab API"
        case .ecr: return "ECR DescribeRepositories"
        }
    }

    /// What the source needs, for hints.
    var credentialHint: String {
        switch self {
        case .catalog:
            return "the registry login needs registry:catalog:* (Docker Hub, GHCR and ECR refuse the catalog)"
        case .github: return "GITHUB_TOKEN needs read:packages for the owner's packages"
        case .gitlab: return "GITLAB_TOKEN (read_api) or CI_JOB_TOKEN needs access to the group"
        case .ecr: return "the AWS credentials need ecr:DescribeRepositories"
        }
    }

    /// Other spellings people write for a source (the names of `registries[].api`, the service's name).
    static let aliases: [String: RepositoryDiscoverySource] = [
        "ghcr": .github, "distribution": .catalog, "registry": .catalog, "aws": .ecr, "harbor": .catalog,
    ]

    /// The source `text` most likely meant: an alias, or a name at most two edits away.
    static func suggestion(for text: String) -> RepositoryDiscoverySource? {
        let lowered = text.lowercased()
        if let exact = Self(rawValue: lowered) ?? aliases[lowered] { return exact }
        return allCases.map { ($0, editDistance(lowered, $0.rawValue)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance between short words.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.prefix(64)), b = Array(b.prefix(64))
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
