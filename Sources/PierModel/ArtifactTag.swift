/// A tag that holds artifacts about an image rather than a release of it, named after its subject's digest:
/// the referrers tag schema's fallback index `sha256-<hex>` (distribution-spec §Referrers tag schema) and
/// cosign's `sha256-<hex>.sig`, `.att` and `.sbom` (sigstore/cosign specs/SIGNATURE_SPEC.md).
///
/// Retention never counts these as releases; they live and die with their subject.
public struct ArtifactTag: Sendable, Hashable, CustomStringConvertible {
    /// The manifest the artifacts are about.
    public var subject: Digest
    /// nil for the referrers fallback index; `sig`, `att`, `sbom` (or another suffix) for a cosign-style tag.
    public var suffix: String?

    /// cosign's suffixes: signatures, attestations, SBOMs.
    public static let cosignSuffixes = ["sig", "att", "sbom"]
    /// The longest suffix accepted as an artifact tag's (cosign's are three or four letters).
    static let maximumSuffixLength = 16

    public init(subject: Digest, suffix: String? = nil) {
        self.subject = subject
        self.suffix = suffix
    }

    /// Parses `sha256-<64 hex>` or `sha256-<64 hex>.<suffix>` (suffix: lowercase letters); nil for any other tag.
    public init?(_ tag: String) {
        let prefix = "sha256-"
        guard tag.hasPrefix(prefix) else { return nil }
        let rest = tag.dropFirst(prefix.count)
        let hex = rest.prefix(64)
        guard hex.count == 64, let subject = try? Digest("sha256:\(hex)") else { return nil }
        let tail = rest.dropFirst(64)
        if tail.isEmpty {
            self.init(subject: subject)
            return
        }
        let suffix = tail.dropFirst()
        guard tail.first == ".", !suffix.isEmpty, suffix.count <= Self.maximumSuffixLength,
            suffix.allSatisfy({ $0.isASCII && $0.isLowercase })
        else { return nil }
        self.init(subject: subject, suffix: String(suffix))
    }

    /// `sha256-<hex>[.<suffix>]`: the subject's algorithm and encoded digest joined by `-` (the spec's
    /// `<alg>-<ref>`), which is a valid tag for every sha256 digest.
    public var tag: String {
        "\(subject.algorithm)-\(subject.encoded)" + (suffix.map { ".\($0)" } ?? "")
    }

    public var description: String { tag }

    /// Whether `tag` names artifacts rather than a release.
    public static func isArtifactTag(_ tag: String) -> Bool { ArtifactTag(tag) != nil }
}
