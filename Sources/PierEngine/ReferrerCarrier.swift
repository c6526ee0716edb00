import Logging
import PierModel
import PierRegistry

/// Carries an image's referrers from a registry source to a registry destination and checks them there.
///
/// Each referrer goes after its subject: its blobs, its child manifests (for an index), then the referrer itself,
/// pushed with `ReferrerPusher` (the destination's referrers API, else its fallback index tag) or, when it was
/// found under a cosign-style tag, copied by digest and tagged with that tag (a `.sig` tag the destination already
/// holds gets the source's signatures added to its own, `SignatureStore.merge`). Callers write the image's own tags
/// after this, so a release tag appears only when its signatures and SBOMs are in place.
public struct ReferrerCarrier: Sendable {
    public var selection: ReferrerSelection
    public var copier: Copier
    public var logger: Logger

    public init(selection: ReferrerSelection, copier: Copier, logger: Logger) {
        self.selection = selection
        self.copier = copier
        self.logger = logger
    }

    /// The referrers of `subjects` on the source.
    public func discover(subjects: [Digest], on source: RegistryImageSource, tags: [String]? = nil)
        async throws(PierError) -> [ReferrerDiscovery.Found]
    {
        guard selection.carry else { return [] }
        let discovery = ReferrerDiscovery(
            client: source.client, repository: source.reference.repository, selection: selection, logger: logger)
        return try await discovery.discover(subjects: subjects, tags: tags)
    }

    /// Copies `found` (subjects before their referrers, as discovery returns them) to `destination`.
    public func carry(
        _ found: [ReferrerDiscovery.Found], from source: RegistryImageSource, to destination: RegistryImageDestination
    ) async throws(PierError) -> [Referrer] {
        var carried: [Referrer] = []
        var written = 0
        let repository = destination.reference.repository
        let pusher = ReferrerPusher(client: destination.client, repository: repository, logger: logger)
        // A referrer's blobs are not the image's: they stay out of the image's per-destination progress.
        var copier = copier
        copier.progress = nil
        var listings: Listings = [:]
        for item in found {
            var referrer = item.referrer
            // Already there and listed (a sync of a tag in sync): nothing to write.
            if let route = try await Self.storedRoute(of: item, on: destination, listings: &listings) {
                referrer.storedAs = route
                referrer.written = false
                carried.append(referrer)
                continue
            }
            referrer.written = true
            let graph = try await ImageGraph.load(root: item.manifest, from: source)
            _ = try await copier.copyBlobs(graph.blobs, from: source, to: destination)
            for child in graph.children where try await !destination.hasManifest(child.digest) {
                try await destination.putManifest(child)
            }
            if let tag = referrer.tag {
                referrer.storedAs = .cosignTag
                // A signature only the destination holds is kept: cosign appends signers to one `.sig` manifest.
                if ArtifactTag(tag)?.suffix == "sig",
                    let merged = try await SignatureStore(client: destination.client, repository: repository).merge(
                        item.manifest, into: tag)
                {
                    referrer.digest = merged.manifest.digest
                    referrer.size = Int64(merged.manifest.bytes.count)
                    referrer.written = merged.wrote
                    carried.append(referrer)
                    if merged.wrote { written += 1 }
                    continue
                }
                try await destination.tag(tag, to: item.manifest)
            } else {
                referrer.storedAs = try await pusher.push(item.manifest, subject: referrer.subject)
            }
            carried.append(referrer)
            written += 1
        }
        if written > 0 { logger.info("carried \(written) referrer(s) to \(destination.name)") }
        if carried.count > written {
            logger.debug("\(carried.count - written) referrer(s) already there on \(destination.name)")
        }
        return carried
    }

    /// Listings of a destination's referrers read so far, by subject.
    typealias Listings = [Digest: (route: ReferrerRoute, digests: Set<Digest>)]

    /// Of `found`, what the destination lacks (a dry run's plan): each one `carry` would write.
    public func missing(_ found: [ReferrerDiscovery.Found], on destination: RegistryImageDestination)
        async throws(PierError) -> [Referrer]
    {
        var listings: Listings = [:]
        var missing: [Referrer] = []
        for item in found where try await Self.storedRoute(of: item, on: destination, listings: &listings) == nil {
            // A `.sig` tag that already holds each of the source's signatures (merged by an earlier copy) is
            // left as it is by `carry`.
            if let tag = item.referrer.tag, ArtifactTag(tag)?.suffix == "sig",
                try await SignatureStore(client: destination.client, repository: destination.reference.repository)
                    .holdsEverySignature(of: item.manifest, at: tag)
            {
                continue
            }
            missing.append(item.referrer)
        }
        return missing
    }

    /// How `item` is already stored on the destination and listed there (its cosign-style tag pointing at it, or
    /// present by digest and listed by the referrers API or the fallback index), nil when it must be written.
    static func storedRoute(
        of item: ReferrerDiscovery.Found, on destination: RegistryImageDestination, listings: inout Listings
    ) async throws(PierError) -> ReferrerRoute? {
        let repository = destination.reference.repository
        let referrer = item.referrer
        if let tag = referrer.tag {
            let head = try await destination.client.manifestHead(repository: repository, reference: tag)
            return head?.digest == item.manifest.digest ? .cosignTag : nil
        }
        guard try await destination.hasManifest(item.manifest.digest) else { return nil }
        if listings[referrer.subject] == nil {
            listings[referrer.subject] = try await listed(
                referrer.subject, on: destination.client, repository: repository)
        }
        guard let listing = listings[referrer.subject], listing.digests.contains(item.manifest.digest) else {
            return nil
        }
        return listing.route
    }

    /// Checks every carried referrer on `client`'s `repository`: present by digest, and listed where it was stored
    /// (the referrers API, the fallback index tag, or its cosign-style tag pointing at it). Marks each verified;
    /// throws a verification error for the first that is not.
    public static func verify(_ referrers: inout [Referrer], on client: RegistryClient, repository: String)
        async throws(PierError)
    {
        var listings: [String: Set<Digest>] = [:]
        for index in referrers.indices {
            let referrer = referrers[index]
            func fail(_ message: String) -> PierError {
                PierError(
                    .verification, operation: "verify referrer \(referrer.digest.short)", message: message,
                    registry: client.registry, repository: repository, reference: referrer.subject.description)
            }
            guard try await client.manifestHead(repository: repository, reference: referrer.digest.description) != nil
            else { throw fail("is missing after the push") }
            switch referrer.storedAs ?? referrer.foundBy {
            case .cosignTag:
                let tag = referrer.tag ?? ""
                let head = try await client.manifestHead(repository: repository, reference: tag)
                guard head?.digest == referrer.digest else {
                    throw fail("\(tag) points at \(head?.digest.short ?? "nothing"), not the referrer")
                }
            case let route:
                let key = "\(route) \(referrer.subject)"
                if listings[key] == nil {
                    listings[key] = try await listed(
                        referrer.subject, route: route, on: client, repository: repository)
                }
                guard listings[key]?.contains(referrer.digest) == true else {
                    throw fail("is not listed among the referrers of \(referrer.subject.short)")
                }
            }
            referrers[index].verified = true
        }
    }

    /// Where `subject`'s referrers are listed on this registry (its API, else the fallback index tag), and which.
    static func listed(_ subject: Digest, on client: RegistryClient, repository: String) async throws(PierError)
        -> (route: ReferrerRoute, digests: Set<Digest>)
    {
        if case .listed(let descriptors, _) = try await client.referrers(repository: repository, digest: subject) {
            return (.api, Set(descriptors.map(\.digest)))
        }
        return (.fallbackTag, try await listed(subject, route: .fallbackTag, on: client, repository: repository))
    }

    /// The digests listed as referrers of `subject` by the API (`.api`) or the fallback index tag.
    static func listed(_ subject: Digest, route: ReferrerRoute, on client: RegistryClient, repository: String)
        async throws(PierError) -> Set<Digest>
    {
        if route == .api {
            guard case .listed(let descriptors, _) = try await client.referrers(repository: repository, digest: subject)
            else { return [] }
            return Set(descriptors.map(\.digest))
        }
        let tag = ArtifactTag(subject: subject).tag
        guard try await client.manifestHead(repository: repository, reference: tag) != nil else { return [] }
        let index = try await client.manifest(repository: repository, reference: tag)
        return Set((index.document.manifests ?? []).map(\.digest))
    }
}
