import PierModel
import PierRegistry

/// `pier status`: tags × registries by HEAD only (HEAD does not count against Docker Hub's pull limit).
public struct RegistryStatus: Sendable, Codable {
    /// A tag's state across the repositories; encodes as its JSON string.
    public enum State: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
        /// Present everywhere with one digest.
        case ok
        /// Absent from some repository.
        case missing
        /// Present everywhere, with different digests.
        case diverged

        public var description: String { rawValue }
    }
    public struct Row: Sendable, Codable, Equatable {
        public var tag: String
        /// Digest per repository, nil where the tag is missing.
        public var digests: [String: Digest?]
        public var state: State
    }
    public var repositories: [String]
    public var rows: [Row]
    public var drift: Bool { rows.contains { $0.state != .ok } }

    public static func collect(_ targets: [ImageReference], store: ImageStore, only: String? = nil) async throws(PierError) -> RegistryStatus {
        let filter = try only.map { (pattern) throws(PierError) in try RetentionPolicy.regex(pattern, "--tags") }
        var tagsByRepo: [String: Set<String>] = [:]
        for target in targets {
            let client = await store.client(for: target.registry)
            do { tagsByRepo[target.repositoryName] = Set(try await client.tags(repository: target.repository)) } catch {
                if error.kind != .notFound { throw error }
                tagsByRepo[target.repositoryName] = []
            }
        }
        let allTags = tagsByRepo.values.reduce(into: Set<String>()) { $0.formUnion($1) }
            .filter { tag in filter.map { RetentionPolicy.matches($0, tag) } ?? true }.sorted()
        var rows: [Row] = []
        for tag in allTags {
            var digests: [String: Digest?] = [:]
            for target in targets {
                if tagsByRepo[target.repositoryName]?.contains(tag) == true {
                    let client = await store.client(for: target.registry)
                    digests[target.repositoryName] = try await client.manifestHead(repository: target.repository, reference: tag)?.digest
                } else {
                    digests[target.repositoryName] = .some(nil)
                }
            }
            let present = digests.values.compactMap { $0 }
            let state: State = present.count < targets.count ? .missing : Set(present).count > 1 ? .diverged : .ok
            rows.append(Row(tag: tag, digests: digests, state: state))
        }
        return RegistryStatus(repositories: targets.map(\.repositoryName), rows: rows)
    }
}
