import Foundation
import PierEngine
import PierModel
import Testing

/// Artifact tags (`sha256-<hex>`, `.sig`, `.att`, `.sbom`) are not releases: they follow their subjects.
struct ArtifactTagRetentionTests {
    static func digest(_ n: Int) -> Digest { try! Digest("sha256:" + String(format: "%064x", n)) }
    static let day: TimeInterval = 86400
    let now = Date(timeIntervalSince1970: 2_000_000_000)

    func info(_ tag: String, _ image: Int, ageDays: Double?) -> TagInfo {
        TagInfo(
            tag: tag, digest: Self.digest(image),
            date: ImageDate(
                date: ageDays.map { now.addingTimeInterval(-$0 * Self.day) },
                source: ageDays == nil ? .undated : .config),
            order: image)
    }

    static func tag(_ subject: Int, _ suffix: String? = nil) -> String {
        ArtifactTag(subject: digest(subject), suffix: suffix).tag
    }

    @Test func parsesOnlyTheArtifactForms() {
        let hex = String(repeating: "ab", count: 32)
        #expect(ArtifactTag("sha256-\(hex)")?.suffix == nil)
        #expect(ArtifactTag("sha256-\(hex).sig")?.subject.description == "sha256:\(hex)")
        #expect(ArtifactTag("sha256-\(hex).att")?.tag == "sha256-\(hex).att")
        for tag in [
            "sha-\(hex)", "sha256-\(hex.dropLast())", "sha256-\(hex).", "sha256-\(hex).SIG", "sha256-\(hex)x", "v1.0",
        ] {
            #expect(ArtifactTag(tag) == nil, "\(tag)")
        }
    }

    @Test func artifactTagsAreNotCountedAndFollowTheirSubjects() throws {
        // Image 1 (old) and 2 (new); their artifacts are the newest of all, or undated. Image 10 is image 1's
        // fallback index, listing SBOM 11, whose signature is tagged sha256-<11>.sig.
        let tags = [
            info("sha-01", 1, ageDays: 20), info("sha-02", 2, ageDays: 10),
            info(Self.tag(1), 10, ageDays: 1), info(Self.tag(1, "sig"), 12, ageDays: nil),
            info(Self.tag(11, "sig"), 13, ageDays: 0), info(Self.tag(2, "sig"), 14, ageDays: 0),
            info(Self.tag(99, "sig"), 15, ageDays: 500),
        ]
        let decisions = try RetentionPolicy.rules(.init(keepLast: 1)).decide(
            tags, now: now, artifactMembers: [Self.digest(10): [Self.digest(11)]]
        ) { _ in [] }
        let result = Dictionary(uniqueKeysWithValues: decisions.map { ($0.tag, $0.action) })
        #expect(
            result == [
                "sha-01": .delete, "sha-02": .keep, Self.tag(1): .delete, Self.tag(1, "sig"): .delete,
                Self.tag(11, "sig"): .delete, Self.tag(2, "sig"): .keep,
                // Its subject is no image here: never deleted by a rule.
                Self.tag(99, "sig"): .keep,
            ])
        // --only does not select artifact tags; a pattern that starts with sha256- asks for them.
        let only = try RetentionPolicy.rules(.init(keepLast: 0, only: "sha-.*")).decide(tags, now: now) { _ in [] }
        #expect(only.first { $0.tag == Self.tag(99, "sig") }?.action == .keep)
        #expect(only.first { $0.tag == Self.tag(2, "sig") }?.action == .delete)
        let asked = try RetentionPolicy.rules(.init(keepLast: 0, only: "sha256-.*\\.sig")).decide(tags, now: now) { _ in
            []
        }
        #expect(asked.first { $0.tag == Self.tag(99, "sig") }?.action == .delete)
        #expect(asked.first { $0.tag == "sha-02" }?.action == .keep)
    }
}
