import PierModel

/// `pier merge`: per-architecture builds combined into one index (`ImageMerger`), written to a layout, an archive
/// or a registry.
public struct MergeOperation: Sendable {
    /// What was written.
    public struct Report: Sendable, Codable {
        public var output: String
        public var tag: String
        public var digest: Digest
        public var mediaType: String
        /// The merged images' platforms, in index order.
        public var platforms: [String]
        /// Every index entry: platform images, attestations and artifacts.
        public var entries: Int
    }

    public let sources: [ImageLocation]
    public let output: ImageLocation

    /// Checks the locations before anything is read.
    public init(sources: [String], output: String) throws(PierError) {
        guard sources.count >= 2, sources.count <= ImageMerger.maximumSources else {
            throw PierError(
                .usage, operation: "merge",
                message: "merge takes 2 to \(ImageMerger.maximumSources) --source images, not \(sources.count)",
                hint: "pier merge --source oci:amd64 --source oci:arm64 --output oci:DIR[:tag]")
        }
        self.sources = try sources.map { (text) throws(PierError) in try ImageLocation(parsing: text) }
        self.output = try ImageLocation(parsing: output)
        if case .dockerArchive = self.output {
            throw PierError(
                .usage, operation: "merge", message: "a docker-archive holds one platform; it cannot hold an index",
                hint: "write oci:DIR[:tag], oci-archive:FILE[:tag] or a registry reference")
        }
    }

    public func run(session: Session, progress: TransferProgress?) async throws(PierError) -> Report {
        try await session.store.withMergedSource(sources) { (merged) throws(PierError) in
            let copier = Copier(
                concurrency: session.settings.network.concurrency, logger: session.logger, progress: progress)
            let destination = try await session.store.openDestination(output)
            let copy = try await copier.copy(from: merged, to: destination)
            let root = try await merged.root()
            return Report(
                output: copy.destination, tag: copy.tag ?? ImageReference.defaultTag, digest: copy.digest,
                mediaType: copy.mediaType, platforms: merged.platforms,
                entries: root.document.manifests?.count ?? 0)
        }
    }
}
