import Foundation
import Logging
import PierModel
import PierRegistry

/// `pier rollback`: points `latest` and the moving tags a version owns back at that version's digest, on every
/// registry, by manifest only (no blob moves).
public struct Rollback: Sendable {
    public struct Change: Sendable, Codable, Equatable {
        public var repository: String
        public var tag: String
        public var before: Digest?
        public var after: Digest
        public var applied: Bool
    }
    public struct Plan: Sendable, Codable {
        public var version: String
        public var digest: Digest
        public var changes: [Change]
    }

    public let store: ImageStore
    public var rules = TagRules()

    public init(store: ImageStore) { self.store = store }

    /// The moving tags `version` owns once every newer version is set aside: the same rules publish uses.
    public func ownedTags(version: String, existing: [String]) throws(PierError) -> [String] {
        guard let target = SemanticVersion(version), target.isStable else {
            throw PierError(.usage, operation: "rollback", message: "\"\(version)\" is not a stable semantic version",
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
        return try TagPlanner.plan(context: context, rules: rules, existingTags: older).filter { $0.kind == .moving }.map(\.name)
    }

    public func plan(version: String, targets: [ImageReference], trust: ImageReference?) async throws(PierError) -> Plan {
        var digests: [(ImageReference, Digest)] = []
        for target in targets {
            let client = await store.client(for: target.registry)
            guard let head = try await client.manifestHead(repository: target.repository, reference: version) else {
                throw PierError(.notFound, operation: "rollback", message: "\(version) is not in \(target.repositoryName)",
                    registry: target.registry, repository: target.repository, reference: version)
            }
            digests.append((target, head.digest))
        }
        let distinct = Set(digests.map(\.1))
        let digest: Digest
        if distinct.count == 1 {
            digest = digests[0].1
        } else if let trust, let trusted = digests.first(where: { $0.0.repositoryName == trust.repositoryName }) {
            digest = trusted.1
        } else {
            throw PierError(
                .conflict, operation: "rollback", message: "\(version) has different digests on different registries: "
                    + digests.map { "\($0.0.repositoryName)=\($0.1.short)" }.joined(separator: ", "),
                hint: "name the registry to follow with --trust REPO")
        }
        var changes: [Change] = []
        for target in targets {
            let client = await store.client(for: target.registry)
            let existing = try await client.tags(repository: target.repository)
            for tag in try ownedTags(version: version, existing: existing) {
                let before = try await client.manifestHead(repository: target.repository, reference: tag)?.digest
                changes.append(Change(repository: target.repositoryName, tag: tag, before: before, after: digest, applied: false))
            }
        }
        return Plan(version: version, digest: digest, changes: changes)
    }

    /// Writes the plan: GET the version's manifest bytes from each registry (or the trusted one) and PUT them
    /// under each moving tag.
    public func apply(_ plan: Plan, targets: [ImageReference], trust: ImageReference?) async throws(PierError) -> Plan {
        var result = plan
        var manifest: ManifestBlob?
        if let trust {
            manifest = try await store.client(for: trust.registry).manifest(repository: trust.repository, reference: plan.digest.description)
        }
        for target in targets {
            let client = await store.client(for: target.registry)
            let bytes: ManifestBlob
            if let local = try? await client.manifest(repository: target.repository, reference: plan.digest.description) {
                bytes = local
            } else if let manifest {
                // The trusted image is not on this registry: copy it (blobs first), then tag.
                let source = try RegistryImageSource(reference: trust!.with(tag: nil, digest: plan.digest), client: await store.client(for: trust!.registry))
                _ = try await Copier().copy(from: source, to: RegistryImageDestination(reference: target.with(tag: nil), client: client), tag: plan.version)
                await source.close()
                bytes = manifest
            } else {
                throw PierError(.notFound, operation: "rollback", message: "\(plan.digest.short) is not in \(target.repositoryName)")
            }
            for index in result.changes.indices where result.changes[index].repository == target.repositoryName {
                if result.changes[index].before != plan.digest {
                    try await client.putManifest(repository: target.repository, reference: result.changes[index].tag, manifest: bytes)
                }
                result.changes[index].applied = true
            }
        }
        return result
    }
}

/// `pier status`: tags × registries by HEAD only (HEAD does not count against Docker Hub's pull limit).
public struct RegistryStatus: Sendable, Codable {
    public struct Row: Sendable, Codable, Equatable {
        public var tag: String
        /// Digest per repository, nil where the tag is missing.
        public var digests: [String: Digest?]
        /// "ok", "missing" (absent somewhere) or "diverged" (different digests).
        public var state: String
    }
    public var repositories: [String]
    public var rows: [Row]
    public var drift: Bool { rows.contains { $0.state != "ok" } }

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
            let state = present.count < targets.count ? "missing" : Set(present).count > 1 ? "diverged" : "ok"
            rows.append(Row(tag: tag, digests: digests, state: state))
        }
        return RegistryStatus(repositories: targets.map(\.repositoryName), rows: rows)
    }
}

/// `pier sync`: makes backups match the primary for the selected tags: HEAD first, copy only what differs,
/// byte for byte, with publish's conflict policy for full version tags.
public struct Sync: Sendable {
    public struct Action: Sendable, Codable, Equatable {
        public var repository: String
        public var tag: String
        public var digest: Digest
        public var before: Digest?
        /// "in-sync", "copied", "would-copy", "conflict", "failed".
        public var action: String
        public var backup: String?
        public var message: String?
    }

    public let store: ImageStore
    public var onConflict: ConflictPolicy = .fail
    public var dryRun = false
    public var logger = Logger(label: "pier")

    public init(store: ImageStore) { self.store = store }

    public func sync(from source: ImageReference, to targets: [ImageReference], tags only: String?, semver range: SemverRange?) async throws(PierError) -> [Action] {
        let filter = try only.map { (pattern) throws(PierError) in try RetentionPolicy.regex(pattern, "--tags") }
        let sourceClient = await store.client(for: source.registry)
        let tags = try await sourceClient.tags(repository: source.repository).filter { tag in
            (filter.map { RetentionPolicy.matches($0, tag) } ?? true) && (range.map { r in SemanticVersion(tag).map(r.contains) ?? false } ?? true)
        }.sorted()
        var actions: [Action] = []
        for tag in tags {
            guard let head = try await sourceClient.manifestHead(repository: source.repository, reference: tag) else { continue }
            for target in targets {
                let client = await store.client(for: target.registry)
                let before = try await client.manifestHead(repository: target.repository, reference: tag)?.digest
                var action = Action(repository: target.repositoryName, tag: tag, digest: head.digest, before: before, action: "in-sync")
                if before == head.digest {
                    actions.append(action)
                    continue
                }
                let isVersion = SemanticVersion(tag) != nil
                if let before, isVersion {
                    switch onConflict {
                    case .fail:
                        action.action = "conflict"
                        action.message = "\(tag) is \(before.short) here and \(head.digest.short) on the primary"
                        actions.append(action)
                        continue
                    case .overwrite: break
                    case .backup:
                        let name = "bkup-\(tag)-\(Publisher.stamp(Date()))"
                        if !dryRun {
                            let old = try await client.manifest(repository: target.repository, reference: before.description)
                            try await client.putManifest(repository: target.repository, reference: name, manifest: old)
                        }
                        action.backup = name
                    }
                }
                if dryRun {
                    action.action = "would-copy"
                } else {
                    do {
                        let image = try RegistryImageSource(reference: source.with(tag: tag), client: sourceClient)
                        defer { Task { await image.close() } }
                        _ = try await Copier(logger: logger).copy(
                            from: image, to: RegistryImageDestination(reference: target.with(tag: tag), client: client))
                        action.action = "copied"
                    } catch {
                        action.action = "failed"
                        action.message = error.description
                    }
                }
                actions.append(action)
            }
        }
        return actions
    }
}

/// A semver range: space-separated comparators (`>=1.2.0 <2.0.0`), `^1.2`, `~1.2.3`, `1.x`, `1.2.*`, or an exact
/// version. Pre-releases match only comparators that name a pre-release of the same version (npm's rule, simplified:
/// pre-releases are excluded unless the range is exact).
public struct SemverRange: Sendable {
    let test: @Sendable (SemanticVersion) -> Bool
    public let text: String

    public func contains(_ version: SemanticVersion) -> Bool { test(version) }

    public init(_ text: String) throws(PierError) {
        self.text = text
        func fail() -> PierError {
            PierError(.usage, operation: "parse semver range", message: "\"\(text)\" is not a semver range",
                hint: "use >=1.2.0 <2.0.0, ^1.2, ~1.2.3, 1.x or 1.2.3")
        }
        func lower(_ part: Substring) -> (SemanticVersion, Int)? {
            // Partial versions: "1" → 1.0.0 (1 part), "1.2" → 1.2.0 (2 parts).
            let pieces = part.split(separator: ".").filter { $0 != "x" && $0 != "*" && $0 != "X" }
            guard (1...3).contains(pieces.count), pieces.allSatisfy({ Int($0) != nil }) || SemanticVersion(String(part)) != nil else { return nil }
            if let full = SemanticVersion(String(part)) { return (full, 3) }
            let numbers = pieces.map { Int($0)! }
            return (SemanticVersion(major: numbers[0], minor: numbers.count > 1 ? numbers[1] : 0, patch: numbers.count > 2 ? numbers[2] : 0), numbers.count)
        }
        var tests: [@Sendable (SemanticVersion) -> Bool] = []
        for token in text.split(separator: " ") {
            if token.hasPrefix("^") || token.hasPrefix("~") {
                guard let (base, parts) = lower(token.dropFirst()) else { throw fail() }
                let upper: SemanticVersion
                if token.hasPrefix("^") {
                    upper = base.major > 0 || parts == 1 ? SemanticVersion(major: base.major + 1, minor: 0, patch: 0)
                        : SemanticVersion(major: 0, minor: base.minor + 1, patch: 0)
                } else {
                    upper = parts == 1 ? SemanticVersion(major: base.major + 1, minor: 0, patch: 0)
                        : SemanticVersion(major: base.major, minor: base.minor + 1, patch: 0)
                }
                tests.append { $0 >= base && $0 < upper && $0.isStable }
                continue
            }
            let ops = [">=", "<=", ">", "<", "="]
            if let op = ops.first(where: { token.hasPrefix($0) }) {
                guard let (version, _) = lower(token.dropFirst(op.count)) else { throw fail() }
                switch op {
                case ">=": tests.append { $0 >= version && $0.isStable }
                case "<=": tests.append { $0 <= version && $0.isStable }
                case ">": tests.append { $0 > version && $0.isStable }
                case "<": tests.append { $0 < version && $0.isStable }
                default: tests.append { $0 == version }
                }
                continue
            }
            guard let (base, parts) = lower(token) else { throw fail() }
            if parts == 3 {
                tests.append { $0 == base }
            } else {
                let upper = parts == 1 ? SemanticVersion(major: base.major + 1, minor: 0, patch: 0)
                    : SemanticVersion(major: base.major, minor: base.minor + 1, patch: 0)
                tests.append { $0 >= base && $0 < upper && $0.isStable }
            }
        }
        guard !tests.isEmpty else { throw fail() }
        let all = tests
        test = { version in all.allSatisfy { $0(version) } }
    }
}
