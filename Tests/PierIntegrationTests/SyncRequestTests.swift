import Foundation
import PierEngine
import PierModel
import PierTestSupport
import Testing

/// What `pier sync` costs in requests, counted by the in-process fake registry.
struct SyncRequestTests {
    /// Two tags of one image and one tag of another on the primary; a sync to an empty backup copies each image
    /// once and writes the second tag of the first as one manifest PUT of the same bytes.
    @Test func twoTagsOfOneImageCopyTheImageOnce() async throws {
        try Harness.requireTools()
        let (primary, backup) = (try await FakeRegistry(), try await FakeRegistry())
        defer {
            primary.stop()
            backup.stop()
        }
        let layout = Tools.temporaryDirectory() + "/images"
        try ImageFixtures.umociImage(at: layout, tag: "one", layers: 2, layerSize: 2000)
        try ImageFixtures.umociImage(at: layout, tag: "two", layers: 2, layerSize: 3000)
        let store = try Harness.store()
        for (image, tag) in [("one", "a"), ("one", "b"), ("two", "c")] {
            _ = try await Harness.copy("oci:\(layout):\(image)", "\(primary.host)/org/app:\(tag)", store: store)
        }
        let (primaryBefore, backupBefore) = (await primary.requestLog().count, await backup.requestLog().count)

        let actions = try await Sync(store: store).sync(
            from: ImageReference(registry: primary.host, repository: "org/app"),
            to: [ImageReference(registry: backup.host, repository: "mirror/app")], tags: nil, semver: nil)
        await store.pool.shutdown()

        let one = try Harness.layoutDigest(layout, tag: "one")
        let two = try Harness.layoutDigest(layout, tag: "two")
        #expect(actions.map(\.tag) == ["a", "b", "c"])
        #expect(actions.map(\.action) == [.copied, .copied, .copied])
        #expect(actions.map(\.digest.description) == [one, one, two])
        for tag in ["a", "b", "c"] {
            let bytes = try #require(await backup.manifest("mirror/app", tag))
            #expect(Digest.sha256(of: bytes).description == (tag == "c" ? two : one), "\(tag)")
            #expect(bytes == (await primary.manifest("org/app", tag)), "\(tag)")
        }
        let backupLog = Array(await backup.requestLog().dropFirst(backupBefore))
        let primaryLog = Array(await primary.requestLog().dropFirst(primaryBefore))
        // Tag b: its HEAD (not there yet) and one PUT, nothing else on either registry.
        #expect(
            backupLog.filter { $0.contains("/manifests/b") } == [
                "HEAD /v2/mirror/app/manifests/b", "PUT /v2/mirror/app/manifests/b",
            ])
        #expect(primaryLog.filter { $0.contains("/manifests/b") } == ["HEAD /v2/org/app/manifests/b"])
        // Each blob and each root manifest is checked on the backup once, not once per tag.
        let blobHeads = backupLog.filter { $0.hasPrefix("HEAD /v2/mirror/app/blobs/") }
        #expect(Set(blobHeads).count == blobHeads.count, "\(blobHeads)")
        #expect(backupLog.filter { $0.hasPrefix("HEAD /v2/mirror/app/manifests/sha256:") }.count == 2)
        #expect(backupLog.count == Self.expectedBackupRequests, "\(backupLog)")
        #expect(primaryLog.count == Self.expectedPrimaryRequests, "\(primaryLog)")

        // The rerun finds every tag in sync by HEAD; referrers are looked for once per image, not once per tag.
        let rerunStore = try Harness.store()
        let (primaryMark, backupMark) = (await primary.requestLog().count, await backup.requestLog().count)
        let again = try await Sync(store: rerunStore).sync(
            from: ImageReference(registry: primary.host, repository: "org/app"),
            to: [ImageReference(registry: backup.host, repository: "mirror/app")], tags: nil, semver: nil)
        await rerunStore.pool.shutdown()
        #expect(again.map(\.action) == [.inSync, .inSync, .inSync])
        #expect(again.allSatisfy { ($0.referrers ?? []).isEmpty })
        let primaryRerun = Array(await primary.requestLog().dropFirst(primaryMark))
        #expect(primaryRerun.filter { $0.contains("/manifests/b") } == ["HEAD /v2/org/app/manifests/b"])
        // The ping, the tag list (2 pages), 3 tag HEADs and one referrers query: the HEADs said image manifest, so
        // no manifest is read (an index would be, for its children).
        let expectedRerun: Int = 1 + 2 + 3 + 1
        #expect(primaryRerun.count == expectedRerun, "\(primaryRerun)")
        // The ping and 3 tag HEADs.
        let backupRerun: Int = await backup.requestLog().count - backupMark
        #expect(backupRerun == 4)
    }

    /// The backup: the ping; per image its tag HEAD, 3 blob HEADs, 3 uploads (POST + PUT), the manifest's HEAD and
    /// PUT by digest and the tag's PUT (13); tag b's HEAD and PUT. Copied on its own, b cost 6 (its HEAD, 3 blob
    /// HEADs, the manifest's HEAD by digest, its PUT).
    static let expectedBackupRequests = 1 + 2 * 13 + 2
    /// The primary: the tag list (2 pages on the fake), then per image its tag HEAD, the manifest and 3 blobs (5);
    /// one referrers query (the route is missing, as on docker-registry 2.8: not asked again); tag b's HEAD. Copied
    /// on its own, b cost 5 (its HEAD, the manifest, the tag list again, referrers).
    static let expectedPrimaryRequests = 2 + 2 * 5 + 1 + 1
}
