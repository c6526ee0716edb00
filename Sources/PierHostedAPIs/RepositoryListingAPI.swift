import PierModel

/// A hosted API that lists the repositories of a namespace (a GitHub owner's container packages, a GitLab group's
/// registry repositories, an ECR registry's repositories), for `organisation.discover` where the registry refuses
/// `/v2/_catalog`.
public protocol RepositoryListingAPI: Sendable {
    /// A name for messages: "GitHub packages API", …
    var name: String { get }
    /// Every repository path on `registry` (as `org/team/app`, the registry path without the host) under
    /// `namespace` (the path of the organisation's primary prefix, possibly empty), as the API spelled them: the
    /// caller checks each as a repository path. A listing that loops, does not end, or holds more than
    /// `RepositoryListingLimits.maximumRepositories` is an error, never a partial list.
    func listRepositories(registry: String, under namespace: String) async throws(PierError) -> [String]
}

/// Bounds on what one repository listing reads from a hosted API.
public enum RepositoryListingLimits {
    /// Repositories one listing returns: an organisation's container repositories are hundreds, rarely thousands.
    public static let maximumRepositories = 10_000
    /// Pages one listing follows: `maximumRepositories` at the smallest page size any of the APIs is asked for
    /// (100), so a listing that has not ended by then is broken.
    public static let maximumPages = maximumRepositories / APIClient.pageSize

    /// The error for a listing past `maximumRepositories`.
    static func tooMany(_ service: String, operation: String, registry: String?) -> PierError {
        PierError(
            .invalidInput, operation: operation,
            message: "\(service) lists more than \(maximumRepositories) repositories", registry: registry,
            hint: "narrow organisation.primary to a smaller namespace; pier will not act on a partial list")
    }
}
