import Foundation
import Logging
import PierModel
import PierRegistry

/// `pier sync`: makes backups match the primary for the selected tags: HEAD first, copy only what differs,
/// byte for byte, with publish's conflict policy for full version tags.
public struct Sync: Sendable {
    /// What sync did (or would do) for one tag on one backup; encodes as its JSON string.
    public enum Outcome: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
        /// The backup already has the primary's digest.
        case inSync = "in-sync"
        case copied
        /// A dry run would copy it.
        case wouldCopy = "would-copy"
        /// A full version tag points elsewhere on the backup and the conflict policy is `fail`.
        case conflict
        /// The copy failed; `message` says why.
        case failed
        /// Not copied: the primary holds no valid signature by the verification key for the image.
        case unsigned

        public var description: String { rawValue }
    }
    public struct Action: Sendable, Codable, Equatable {
        public var repository: String
        public var tag: String
        public var digest: Digest
        public var before: Digest?
        public var action: Outcome
        public var backup: String?
        /// Why the tag failed, conflicted or was not copied; for a tag whose image the backup already had, which
        /// referrers were carried (or would be, in a dry run).
        public var message: String?
        /// Referrers carried to the backup (also for a tag already in sync: a signature added since), verified.
        public var referrers: [Referrer]?
    }

    public let store: ImageStore
    public var onConflict: ConflictPolicy = .fail
    public var dryRun = false
    /// The run's time: every `bkup-<tag>-<time>` tag of one sync carries the same one, as in publish.
    public var timestamp = Date()
    public var logger = Logger(label: "pier")
    /// Which referrers go with each tag.
    public var referrers = ReferrerSelection()
    /// With a key, only images with a valid signature by it are copied (`--verify-key`).
    public var verificationKey: VerificationKey?

    public init(store: ImageStore) { self.store = store }

    public func sync(
        from source: ImageReference, to targets: [ImageReference], tags only: String?, semver range: SemverRange?
    ) async throws(PierError) -> [Action] {
        let filter = try only.map { (pattern) throws(PierError) in try RetentionPolicy.regex(pattern, "--tags") }
        let sourceClient = await store.client(for: source.registry)
        // Artifact tags (`sha256-…`) travel with their subjects, unless the pattern asks for them by name.
        let artifactTagsAsked = RetentionPolicy.asksForArtifactTags(only)
        let allTags = try await sourceClient.tags(repository: source.repository)
        let tags = allTags.filter { tag in
            (artifactTagsAsked || !ArtifactTag.isArtifactTag(tag))
                && (filter.map { RetentionPolicy.matches($0, tag) } ?? true)
                && (range.map { r in SemanticVersion(tag).map(r.contains) ?? false } ?? true)
        }.sorted()
        var actions: [Action] = []
        var signatureChecks: [Digest: String] = [:]
        // Images this run copied, by backup (index in `targets`) and digest: their other tags need only a PUT.
        var copied: [Int: [Digest: CopiedImage]] = [:]
        // The same for images already on a backup: the referrers carried for their first tag.
        var carriedInSync: [Int: [Digest: [Referrer]]] = [:]
        for tag in tags {
            guard let head = try await sourceClient.manifestHead(repository: source.repository, reference: tag) else {
                continue
            }
            for (targetIndex, target) in targets.enumerated() {
                let client = await store.client(for: target.registry)
                let before = try await client.manifestHead(repository: target.repository, reference: tag)?.digest
                var action = Action(
                    repository: target.repositoryName, tag: tag, digest: head.digest, before: before, action: .inSync)
                if before == head.digest {
                    if let known = carriedInSync[targetIndex]?[head.digest] {
                        // Another tag of this image, in sync too: its referrers were carried and verified just now.
                        action.referrers = known
                    } else if referrers.carry {
                        do {
                            let carried = try await carryReferrers(
                                source.with(tag: tag), head: head, client: sourceClient, to: target.with(tag: tag),
                                destination: client, sourceTags: allTags)
                            action.referrers = carried
                            carriedInSync[targetIndex, default: [:]][head.digest] = carried
                            Self.noteReferrersOnly(&action, carried: carried, dryRun: dryRun)
                        } catch {
                            action.action = .failed
                            action.message = "referrers: \(error.description)"
                        }
                    }
                    actions.append(action)
                    continue
                }
                if let reason = try await unsignedReason(
                    head.digest, tag: tag, in: source, client: sourceClient, checked: &signatureChecks)
                {
                    action.action = .unsigned
                    action.message = reason
                    actions.append(action)
                    continue
                }
                let isVersion = SemanticVersion(tag) != nil
                if let before, isVersion {
                    switch onConflict {
                    case .fail:
                        action.action = .conflict
                        action.message = "\(tag) is \(before.short) here and \(head.digest.short) on the primary"
                        actions.append(action)
                        continue
                    case .overwrite: break
                    case .backup:
                        let name = ConflictPolicy.backupTag(for: tag, at: timestamp)
                        if !dryRun {
                            let old = try await client.manifest(
                                repository: target.repository, reference: before.description)
                            try await client.putManifest(repository: target.repository, reference: name, manifest: old)
                        }
                        action.backup = name
                    }
                }
                if dryRun {
                    action.action = .wouldCopy
                } else {
                    await copy(
                        &action, from: source.with(tag: tag), client: sourceClient, to: target.with(tag: tag),
                        destination: client, sourceTags: allTags, copied: &copied[targetIndex, default: [:]])
                }
                actions.append(action)
            }
        }
        return actions
    }

    /// An image one sync copied to one backup: its root manifest's bytes and the referrers carried with it.
    struct CopiedImage: Sendable {
        var root: ManifestBlob
        var referrers: [Referrer]
    }

    /// Copies one tag to one backup and records the outcome in `action`. The first tag of a digest copies the image
    /// (blobs, child manifests, the root, referrers, then the tag); every later tag of that digest on that backup
    /// is one manifest PUT of the same bytes (its answer's digest checked), since everything it points at is
    /// already there, and reports the referrers carried with the first.
    func copy(
        _ action: inout Action, from source: ImageReference, client sourceClient: RegistryClient,
        to target: ImageReference, destination client: RegistryClient, sourceTags: [String],
        copied: inout [Digest: CopiedImage]
    ) async {
        do {
            if let image = copied[action.digest] {
                try await client.putManifest(
                    repository: target.repository, reference: action.tag, manifest: image.root)
                logger.info("tagged \(target) (\(action.digest.short)): the image was copied with another tag")
                action.action = .copied
                action.referrers = image.referrers
                return
            }
            let image = try RegistryImageSource(reference: source, client: sourceClient)
            defer { Task { await image.close() } }
            var copier = Copier(logger: logger)
            copier.referrers = referrers
            let (report, root) = try await copier.copyImage(
                from: image, to: RegistryImageDestination(reference: target, client: client), sourceTags: sourceTags)
            copied[root.digest] = CopiedImage(root: root, referrers: report.referrers)
            action.action = .copied
            action.referrers = report.referrers
        } catch {
            action.action = .failed
            action.message = error.description
        }
    }

    /// A tag whose image the backup already has, but not all of its referrers: `copied` once they were carried
    /// (`wouldCopy` in a dry run, which carried nothing), so that a dry run and the real run agree.
    static func noteReferrersOnly(_ action: inout Action, carried: [Referrer], dryRun: Bool) {
        let count = dryRun ? carried.count : carried.filter { $0.written == true }.count
        guard count > 0 else { return }
        action.action = dryRun ? .wouldCopy : .copied
        action.message =
            dryRun
            ? "\(count) referrer(s) to carry; the backup has the image"
            : "\(count) referrer(s) carried; the backup had the image"
    }

    /// Carries the referrers of an image already in sync that the backup lacks, and verifies them there; in a dry
    /// run, only lists them (nothing is written). An image manifest (by the HEAD's media type) has no child
    /// manifests: its digest is the only subject, and its bytes are not read; an index is read for its children's
    /// digests.
    func carryReferrers(
        _ source: ImageReference, head: RegistryClient.ManifestHead, client sourceClient: RegistryClient,
        to target: ImageReference, destination client: RegistryClient, sourceTags: [String]
    ) async throws(PierError) -> [Referrer] {
        let image = try RegistryImageSource(reference: source, client: sourceClient)
        defer { Task { await image.close() } }
        let subjects: [Digest]
        if MediaType.isImageManifest(head.mediaType) {
            subjects = [head.digest]
        } else {
            subjects = try await ImageGraph.load(root: try await image.root(), from: image).manifests.map(\.digest)
        }
        var copier = Copier(logger: logger)
        copier.referrers = referrers
        let destination = RegistryImageDestination(reference: target, client: client)
        if dryRun {
            let carrier = ReferrerCarrier(selection: referrers, copier: copier, logger: logger)
            let found = try await carrier.discover(subjects: subjects, on: image, tags: sourceTags)
            return try await carrier.missing(found, on: destination)
        }
        var carried = try await copier.carryReferrers(
            of: subjects, from: image, to: destination, sourceTags: sourceTags)
        try await ReferrerCarrier.verify(&carried, on: client, repository: target.repository)
        return carried
    }

    /// The error a sync ends with when some tags were not synced: a verification failure when an image was unsigned
    /// (exit 70), a conflict when all of them conflicted (exit 73), else a partial failure (exit 75); nil when
    /// every tag is in sync.
    public static func failure(of actions: [Action]) -> PierError? {
        let bad = actions.filter { $0.action == .conflict || $0.action == .failed || $0.action == .unsigned }
        guard !bad.isEmpty else { return nil }
        let kind: PierError.Kind =
            bad.contains { $0.action == .unsigned }
            ? .verification : bad.allSatisfy { $0.action == .conflict } ? .conflict : .partial
        return PierError(
            kind, operation: "sync",
            message: "\(bad.count) tag(s) not synced", hint: bad.first?.message)
    }
}
