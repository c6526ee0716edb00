import Foundation
import Logging
import PierModel
import PierRegistry

/// What a copy did, for the human summary and `--json`.
public struct CopyReport: Sendable, Codable {
    public var source: String
    public var destination: String
    public var digest: Digest
    public var mediaType: String
    public var tag: String?
    public var blobsUploaded = 0
    public var blobsMounted = 0
    public var blobsSkipped = 0
    public var bytesUploaded: Int64 = 0
    public var manifestsPushed = 0
    /// Signatures, SBOMs and attestations carried with the image, each verified on the destination.
    public var referrers: [Referrer] = []
    public var seconds: Double = 0
}

/// Copies an image byte for byte from a source to a destination: blobs (skipped when present, mounted when on
/// the same registry), then child manifests by digest, then the root, then (registry to registry) its referrers
/// (`ReferrerCarrier`), then the tag. The destination digest equals the source digest.
public struct Copier: Sendable {
    public var concurrency: Int
    public var logger: Logger
    /// Called as blob bytes move: (digest, bytes).
    public var progress: TransferProgress?
    /// Registry-to-registry blobs are piped GET → PUT (one destination per copy). Publish, which sends one source
    /// to several registries, reads once into a spool file instead.
    public var streamBetweenRegistries = true
    /// Publish to several registries: this copy's place among the uploads that share each blob's reads.
    public var sharedReads: (reads: SharedBlobReads, participant: Int)?
    /// Which referrers travel with the image (registry to registry only).
    public var referrers = ReferrerSelection()

    public init(concurrency: Int = 4, logger: Logger = Logger(label: "pier"), progress: TransferProgress? = nil) {
        self.concurrency = max(1, concurrency)
        self.logger = logger
        self.progress = progress
    }

    /// Copies `source` to `destination`. With `platform`, only that platform's manifest is copied (its digest
    /// then differs from the source index's). `tag` overrides the destination's own tag.
    /// Opens `from` and `to` in `store`, copies, and closes the source whatever happens.
    public func copy(
        from: ImageLocation, to: ImageLocation, platform: Platform?, store: ImageStore
    ) async throws(PierError) -> CopyReport {
        try await store.withSource(from) { (source) throws(PierError) in
            try await copy(from: source, to: try await store.openDestination(to), platform: platform)
        }
    }

    public func copy(
        from source: any ImageSource, to destination: any ImageDestination, platform: Platform? = nil,
        tag: String? = nil
    ) async throws(PierError) -> CopyReport {
        try await copyImage(from: source, to: destination, platform: platform, tag: tag).report
    }

    /// `copy`, also returning the root manifest it wrote (its bytes), so that more tags of the same image can be
    /// written as manifest PUTs of those bytes without copying the image again. `sourceTags` is the source
    /// repository's tag list when the caller has it (referrer discovery then does not list it again).
    func copyImage(
        from source: any ImageSource, to destination: any ImageDestination, platform: Platform? = nil,
        tag: String? = nil, sourceTags: [String]? = nil
    ) async throws(PierError) -> (report: CopyReport, root: ManifestBlob) {
        let clock = ContinuousClock.now
        var root = try await source.root()
        if let platform { root = try await ImageGraph.select(platform, in: root, from: source) }
        let graph = try await ImageGraph.load(root: root, from: source)
        let targetTag =
            tag ?? destination.tag ?? (platform == nil ? source.tag : nil) ?? source.tag ?? ImageReference.defaultTag
        var report = CopyReport(
            source: source.name, destination: destination.name, digest: root.digest, mediaType: root.mediaType,
            tag: targetTag)

        let stats = try await copyBlobs(graph.blobs, from: source, to: destination)
        report.blobsUploaded = stats.uploaded
        report.blobsMounted = stats.mounted
        report.blobsSkipped = stats.skipped
        report.bytesUploaded = stats.bytes

        // Children by digest, leaves first; then the root by digest; the tag last.
        for manifest in graph.manifests {
            if try await destination.hasManifest(manifest.digest) { continue }
            try await destination.putManifest(manifest)
            report.manifestsPushed += 1
        }
        // Referrers after their subjects, before the tag.
        let registries = (source as? RegistryImageSource, destination as? RegistryImageDestination)
        if case (let from?, let to?) = registries {
            report.referrers = try await carryReferrers(
                of: graph.manifests.map(\.digest), from: from, to: to, sourceTags: sourceTags)
        }
        try await destination.tag(targetTag, to: root)
        try await destination.commit()
        if let to = registries.1, !report.referrers.isEmpty {
            try await ReferrerCarrier.verify(&report.referrers, on: to.client, repository: to.reference.repository)
        }
        report.seconds = (ContinuousClock.now - clock).seconds
        logger.info(
            "copied \(source.name) to \(destination.name):\(targetTag) (\(root.digest.short)): \(stats.uploaded) uploaded, \(stats.mounted) mounted, \(stats.skipped) present"
        )
        return (report, root)
    }

    /// Discovers the referrers of `subjects` on the source and carries them (nothing within one repository, where
    /// they already are, or with `--no-referrers`).
    /// `sourceTags` is the source repository's tag list when the caller has it.
    public func carryReferrers(
        of subjects: [Digest], from source: RegistryImageSource, to destination: RegistryImageDestination,
        sourceTags: [String]? = nil
    ) async throws(PierError) -> [Referrer] {
        guard referrers.carry,
            source.reference.registry != destination.reference.registry
                || source.reference.repository != destination.reference.repository
        else { return [] }
        let carrier = ReferrerCarrier(selection: referrers, copier: self, logger: logger)
        let found = try await carrier.discover(subjects: subjects, on: source, tags: sourceTags)
        return try await carrier.carry(found, from: source, to: destination)
    }

    struct BlobStats: Sendable {
        var uploaded = 0
        var mounted = 0
        var skipped = 0
        var bytes: Int64 = 0
    }

    enum BlobOutcome: Sendable {
        case skipped, mounted, uploaded(Int64)
    }

    /// One blob: present → skip; same registry → mount; else stream from the source's file.
    func copyBlob(
        _ blob: Descriptor, from source: any ImageSource, to destination: any ImageDestination, mountFrom: String?
    )
        async throws(PierError) -> BlobOutcome
    {
        // A blob this destination does not upload: the other registries' shared read stops expecting it.
        func declineSharedRead() {
            if let sharedReads { sharedReads.reads.decline(blob.digest, participant: sharedReads.participant) }
        }
        if try await destination.hasBlob(blob) {
            declineSharedRead()
            progress?(.skipped(destination: destination.name, bytes: blob.size))
            return .skipped
        }
        if let mountFrom, try await destination.mountBlob(blob, from: mountFrom) {
            declineSharedRead()
            progress?(.skipped(destination: destination.name, bytes: blob.size))
            return .mounted
        }
        let name = destination.name
        var report: (@Sendable (Int) -> Void)?
        if let progress { report = { progress(.sent(destination: name, bytes: Int64($0))) } }
        // Registry to registry: pipe the download into the upload, no spool file. If the destination refuses a
        // single PUT (it wants chunks), fall back to the spooled path, which can chunk.
        if let from = source as? RegistryImageSource, let to = destination as? RegistryImageDestination,
            streamBetweenRegistries
        {
            do {
                try await to.copyBlob(blob, from: from)
                progress?(.sent(destination: name, bytes: blob.size))
                return .uploaded(blob.size)
            } catch  where ![.network, .auth, .verification].contains(error.kind) {
                logger.debug("streaming copy of \(blob.digest.short) refused (\(error.description)); spooling instead")
            }
        }
        // Registry to a layout: download into the layout itself, no spool file copied in again.
        if let from = source as? RegistryImageSource, let to = destination as? LayoutImageDestination {
            try await to.downloadBlob(blob, from: from, progress: report)
            return .uploaded(blob.size)
        }
        var file = try await source.blob(blob, progress: nil)
        if let sharedReads {
            file.sharing = sharedReads.reads.member(blob.digest, participant: sharedReads.participant)
        }
        try await destination.putBlob(blob, file: file, progress: report)
        return .uploaded(blob.size)
    }

    /// Moves every blob with bounded concurrency.
    func copyBlobs(_ blobs: [Descriptor], from source: any ImageSource, to destination: any ImageDestination)
        async throws(PierError) -> BlobStats
    {
        // A source repository on the destination's registry, from which blobs can be mounted.
        var mountFrom: String?
        if let from = source.registryRepository, let to = destination.registryRepository, from.registry == to.registry {
            // Same repository: every blob is there by definition; only manifests move.
            if from.repository == to.repository { return BlobStats(skipped: blobs.count) }
            mountFrom = from.repository
        }
        let mountSource = mountFrom
        let total = blobs.reduce(Int64(0)) { sum, blob in
            let (next, overflow) = sum.addingReportingOverflow(max(0, blob.size))
            return overflow ? .max : next
        }
        progress?(.started(destination: destination.name, totalBytes: total))
        let outcomes: [BlobOutcome]
        do {
            outcomes = try await forEachConcurrently(blobs, limit: concurrency) {
                (blob: Descriptor) async throws -> BlobOutcome in
                try await self.copyBlob(blob, from: source, to: destination, mountFrom: mountSource)
            }
        } catch let error as PierError {
            throw error
        } catch {
            throw PierError(.other, operation: "copy blobs", message: "\(error)")
        }
        progress?(.finished(destination: destination.name))
        var stats = BlobStats()
        for outcome in outcomes {
            switch outcome {
            case .skipped: stats.skipped += 1
            case .mounted: stats.mounted += 1
            case .uploaded(let size):
                stats.uploaded += 1
                // Sizes come from manifests; a total past Int64.max only saturates the report.
                let (sum, overflow) = stats.bytes.addingReportingOverflow(size)
                stats.bytes = overflow ? .max : sum
            }
        }
        return stats
    }
}

extension Duration {
    /// Seconds as a Double, for reports.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
