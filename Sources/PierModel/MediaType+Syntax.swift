extension MediaType {
    /// Whether `text` has a media type's shape, `type/subtype` (RFC 6838 §4.2: two non-empty names, no spaces), as
    /// an `artifactType` must be (image-spec manifest.md). `spdx` is not; `application/spdx+json` is.
    public static func isMediaType(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && !$0.contains(where: \.isWhitespace) }
    }

    /// What to suggest when an artifact type is not a media type.
    public static let artifactTypeExamples = "for example application/spdx+json or application/vnd.cyclonedx+json"
}
