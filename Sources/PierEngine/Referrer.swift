import PierModel

/// A manifest about another manifest (a signature, an SBOM, an attestation), as found on a registry or as carried
/// to one. Encodes as the `referrers` entries of the copy, publish and sync reports and of `pier referrers --json`.
public struct Referrer: Sendable, Codable, Equatable {
    public var digest: Digest
    public var mediaType: String
    /// The manifest's `artifactType`, else its config media type when that is not the empty descriptor's
    /// (image-spec manifest.md §artifactType); nil when neither says.
    public var artifactType: String?
    public var size: Int64
    /// The manifest it is about.
    public var subject: Digest
    /// How it was found on the source.
    public var foundBy: ReferrerRoute
    /// How it is stored on a destination (set when carried).
    public var storedAs: ReferrerRoute?
    /// The cosign-style tag that names it, for `cosign-tag`.
    public var tag: String?
    /// 1 for a referrer of the image, 2 for a referrer of a referrer, and so on.
    public var depth: Int
    /// Checked on the destination after the push: present by digest and reachable the way it was stored.
    public var verified: Bool?
    /// Set when carried: written to the destination by this run (false: it was already there and listed).
    public var written: Bool?

    public init(
        manifest: ManifestBlob, subject: Digest, foundBy: ReferrerRoute, tag: String? = nil, depth: Int
    ) {
        digest = manifest.digest
        mediaType = manifest.mediaType
        artifactType = Self.artifactType(of: manifest)
        size = Int64(manifest.bytes.count)
        self.subject = subject
        self.foundBy = foundBy
        self.tag = tag
        self.depth = depth
    }

    /// What a table shows as its type: `artifactType`, unless that is only an image config's media type (cosign
    /// stores `.sig`, `.att` and `.sbom` tags as images); then `cosign signature`, `cosign attestation` or
    /// `cosign sbom` for a cosign-style tag; `-` when nothing says.
    public var displayType: String {
        if let type = artifactType, type != MediaType.ociConfig, type != MediaType.dockerConfig { return type }
        if let suffix = tag.flatMap({ ArtifactTag($0)?.suffix }) {
            return Self.cosignKinds[suffix] ?? "cosign \(suffix)"
        }
        return artifactType ?? "-"
    }

    /// cosign's tag suffixes, named (sigstore/cosign specs/SIGNATURE_SPEC.md, ATTESTATION_SPEC.md).
    static let cosignKinds = ["sig": "cosign signature", "att": "cosign attestation", "sbom": "cosign sbom"]

    /// image-spec manifest.md: `artifactType`, else `config.mediaType` unless that is the empty descriptor's.
    public static func artifactType(of manifest: ManifestBlob) -> String? {
        if let type = manifest.document.artifactType, !type.isEmpty { return type }
        if let config = manifest.document.config?.mediaType, config != MediaType.ociEmpty { return config }
        return nil
    }
}

/// Where a referrer is listed: the OCI 1.1 referrers API, the referrers tag schema's fallback index
/// (`sha256-<hex>`), or a cosign-style tag (`sha256-<hex>.sig`, `.att`, `.sbom`).
public enum ReferrerRoute: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case api = "referrers-api"
    case fallbackTag = "fallback-tag"
    case cosignTag = "cosign-tag"

    public var description: String { rawValue }
}

/// Which referrers copy, publish and sync carry (`--no-referrers`, `--referrers-type`, pier.yml `referrers:`).
public struct ReferrerSelection: Sendable, Equatable {
    /// Carry referrers at all (default on).
    public var carry = true
    /// Only these artifact types among an image's own referrers (empty: all). What hangs off a selected referrer
    /// (a signature on a selected SBOM) comes with it. A cosign-style tag matches by its layers' media types too.
    public var artifactTypes: [String] = []

    public init(carry: Bool = true, artifactTypes: [String] = []) {
        self.carry = carry
        self.artifactTypes = artifactTypes
    }

    /// Whether a referrer of the image (depth 1) is selected.
    public func selects(_ manifest: ManifestBlob, descriptor: Descriptor? = nil) -> Bool {
        guard !artifactTypes.isEmpty else { return true }
        var types = Set([Referrer.artifactType(of: manifest), descriptor?.artifactType].compactMap { $0 })
        types.formUnion((manifest.document.layers ?? []).map(\.mediaType))
        return artifactTypes.contains { types.contains($0) }
    }
}
