/// Names cosign uses to store signatures in a registry (sigstore/cosign specs/SIGNATURE_SPEC.md).
public enum CosignConvention {
    /// Media type of the layer holding the signed payload (§Simple Signing).
    public static let payloadMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
    /// Layer annotation holding the base64 signature over the payload bytes (§Signature).
    public static let signatureAnnotation = "dev.cosignproject.cosign/signature"
    /// `critical.type` of a cosign image signature (§Simple Signing).
    public static let signatureType = "cosign container image signature"
    /// `artifactType` of a signature stored as an OCI 1.1 referrer (cosign's `--registry-referrers-mode=oci-1-1`).
    public static let signatureArtifactType = "application/vnd.dev.cosign.artifact.sig.v1+json"

    /// The tag that holds an image's signatures (§Tag-based Discovery): the digest with `:` replaced by `-`, then
    /// `.sig`, in the image's repository: `sha256-<hex>.sig`.
    public static func signatureTag(for digest: Digest) -> String { "\(digest.algorithm)-\(digest.encoded).sig" }

    /// Suffixes of the tags cosign stores an image's signatures, attestations and SBOMs under.
    public static let artifactTagSuffixes = [".sig", ".att", ".sbom"]

    /// True for `sha256-<hex>.sig`, `.att`, `.sbom`: a tag holding an artifact about an image, not an image.
    public static func isArtifactTag(_ tag: String) -> Bool {
        guard let suffix = artifactTagSuffixes.first(where: { tag.hasSuffix($0) }) else { return false }
        return (try? Digest(String(tag.dropLast(suffix.count)).replacingOccurrences(of: "-", with: ":"))) != nil
    }
}
