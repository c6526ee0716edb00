import Foundation
import PierHostedAPIs
import PierModel
import PierRegistry

/// `pier describe`: set a Docker Hub repository's short and full description.
public struct DescribeOperation: Sendable {
    public let repository: ImageReference
    public let short: String?
    public let full: String?

    /// Reads the full description's file and parses the repository before any network I/O.
    public init(repository: String, short: String?, readmePath: String?) throws(PierError) {
        self.repository = try ImageReference(parsing: repository)
        guard self.repository.registry == ImageReference.dockerHub else {
            throw PierError(
                .usage, operation: "describe", message: "\(repository) is not a Docker Hub repository",
                hint: "describe sets descriptions on Docker Hub (docker.io/ORG/NAME)")
        }
        self.short = short
        full = try readmePath.map { (path) throws(PierError) in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw PierError(.usage, operation: "describe", message: "cannot read \(path)")
            }
            return text
        }
    }

    public func run(session: Session) async throws(PierError) {
        guard
            case .native(let api) = try RegistryAPISelection.choose(
                for: ImageReference.dockerHub, operation: "describe", session: session),
            let hub = api as? DockerHubAPI
        else {
            throw PierError(.other, operation: "describe", message: "no Docker Hub API for \(repository.registry)")
        }
        try await hub.describe(repository: repository.repository, short: short, full: full)
    }
}
