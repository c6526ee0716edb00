import Foundation
import PierModel
import PierRegistry

/// `pier rollback`: points `latest` and the moving tags a version owns back at that version's digest, on every
/// registry, by manifest only (no blob moves).
public struct Rollback: Sendable {
    public struct Change: Sendable, Codable, Equatable {
        /// What the change does to its tag, as the plan prints it (not encoded: the JSON has `before`, `after`
        /// and `applied`).
        public enum State: String, Sendable, CaseIterable, CustomStringConvertible {
            /// The tag already points at the version.
            case unchanged
            case moved
            /// A plan without `--apply`.
            case wouldMove = "would move"

            public var description: String { rawValue }
        }
        public var repository: String
        public var tag: String
        public var before: Digest?
        public var after: Digest
        public var applied: Bool

        public var state: State { before == after ? .unchanged : applied ? .moved : .wouldMove }
    }
    public struct Plan: Sendable, Codable {
        /// The version's tag as found on the registries (`1.2.3` or `v1.2.3`).
        public var version: String
        public var digest: Digest
        public var changes: [Change]
    }

    public let store: ImageStore
    public var rules = TagRules()
    /// With a key, the version's image must carry a valid signature by it (`--verify-key`).
    public var verificationKey: VerificationKey?

    public init(store: ImageStore) { self.store = store }

    /// The moving tags `version` owns once every newer version is set aside: the same rules publish uses.
    public func ownedTags(version: String, existing: [String]) throws(PierError) -> [String] {
        guard let target = SemanticVersion(version), target.isStable else {
            throw PierError(
                .usage, operation: "rollback", message: "\"\(version)\" is not a stable semantic version",
                hint: "rollback moves latest, MAJOR and MAJOR.MINOR back to a released version such as 1.2.3")
        }
        let older = existing.filter { tag in SemanticVersion(tag).map { $0 <= target } ?? false }
        var context = TagContext(version: version, event: .tag)
        context.gitSHA = nil
        var rules = self.rules
        rules.sha = false
        rules.buildNumber = false
        rules.raw = []
        rules.dateTemplate = nil
        return try TagPlanner.plan(context: context, rules: rules, existingTags: older).filter { $0.kind == .moving }
            .map(\.name)
    }

    /// The tags `version` may have been published under, whichever way it is written (publish accepts both
    /// forms and tags `v1.2.3` only with `v_prefix`): `1.2.3`, then `v1.2.3`, with the rules' prefix and suffix.
    public func versionTags(_ version: String) throws(PierError) -> [String] {
        guard let parsed = SemanticVersion(version) else {
            throw PierError(
                .usage, operation: "rollback", message: "\"\(version)\" is not a semantic version",
                hint: "name a released version such as 1.2.3 or v1.2.3")
        }
        return [parsed.description, "v" + parsed.description].map { rules.prefix + $0 + rules.suffix }
    }

    public func plan(version: String, targets: [ImageReference], trust: ImageReference?) async throws(PierError) -> Plan
    {
        let candidates = try versionTags(version)
        var digests: [(ImageReference, Digest)] = []
        var found: String?
        for target in targets {
            let client = await store.client(for: target.registry)
            var head: Digest?
            // The first registry decides the form; every other one must have the version under the same tag.
            for tag in found.map({ [$0] }) ?? candidates where head == nil {
                head = try await client.manifestHead(repository: target.repository, reference: tag)?.digest
                if head != nil { found = tag }
            }
            guard let head else {
                throw PierError(
                    .notFound, operation: "rollback",
                    message:
                        "\(version) is not in \(target.repositoryName) (looked for \((found.map { [$0] } ?? candidates).joined(separator: ", ")))",
                    registry: target.registry, repository: target.repository, reference: candidates[0])
            }
            digests.append((target, head))
        }
        let versionTag = found ?? candidates[0]
        let distinct = Set(digests.map(\.1))
        let digest: Digest
        if distinct.count == 1 {
            digest = digests[0].1
        } else if let trust, let trusted = digests.first(where: { $0.0.repositoryName == trust.repositoryName }) {
            digest = trusted.1
        } else {
            throw PierError(
                .conflict, operation: "rollback",
                message: "\(version) has different digests on different registries: "
                    + digests.map { "\($0.0.repositoryName)=\($0.1.short)" }.joined(separator: ", "),
                hint: "name the registry to follow with --trust REPO")
        }
        if let verificationKey {
            try await requireSignature(digest, targets: targets, trust: trust, key: verificationKey)
        }
        var changes: [Change] = []
        for target in targets {
            let client = await store.client(for: target.registry)
            let existing = try await client.tags(repository: target.repository)
            for tag in try ownedTags(version: version, existing: existing) {
                let before = try await client.manifestHead(repository: target.repository, reference: tag)?.digest
                changes.append(
                    Change(repository: target.repositoryName, tag: tag, before: before, after: digest, applied: false))
            }
        }
        return Plan(version: versionTag, digest: digest, changes: changes)
    }

    /// Writes the plan: GET the version's manifest bytes from each registry (or the trusted one) and PUT them
    /// under each moving tag.
    public func apply(_ plan: Plan, targets: [ImageReference], trust: ImageReference?) async throws(PierError) -> Plan {
        var result = plan
        var manifest: ManifestBlob?
        if let trust {
            manifest = try await store.client(for: trust.registry).manifest(
                repository: trust.repository, reference: plan.digest.description)
        }
        for target in targets {
            let client = await store.client(for: target.registry)
            let bytes: ManifestBlob
            if let local = try? await client.manifest(repository: target.repository, reference: plan.digest.description)
            {
                bytes = local
            } else if let manifest, let trust {
                // The trusted image is not on this registry: copy it (blobs first), then tag.
                let source = try RegistryImageSource(
                    reference: trust.with(tag: nil, digest: plan.digest),
                    client: await store.client(for: trust.registry))
                _ = try await Copier().copy(
                    from: source, to: RegistryImageDestination(reference: target.with(tag: nil), client: client),
                    tag: plan.version)
                await source.close()
                bytes = manifest
            } else {
                throw PierError(
                    .notFound, operation: "rollback", message: "\(plan.digest.short) is not in \(target.repositoryName)"
                )
            }
            for index in result.changes.indices where result.changes[index].repository == target.repositoryName {
                if result.changes[index].before != plan.digest {
                    try await client.putManifest(
                        repository: target.repository, reference: result.changes[index].tag, manifest: bytes)
                }
                result.changes[index].applied = true
            }
        }
        return result
    }
}
