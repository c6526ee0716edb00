import Foundation
import PierEngine
import PierModel
import PierRegistry
import PierTestSupport
import Testing

/// Registry behaviour docker-registry does not show, from the in-process fake registry.
struct QuirkTests {
    /// Copies a fresh umoci image into the fake registry and checks that every blob and the manifest arrived
    /// byte for byte.
    func copyAndCheck(_ quirks: FakeRegistry.Quirks, layerSize: Int = 100_000) async throws -> (
        FakeRegistry, CopyReport
    ) {
        try Harness.requireTools()
        let fake = try await FakeRegistry(quirks: quirks)
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 2, layerSize: layerSize)
        let store = try Harness.store()
        let report = try await Harness.copy("oci:\(layout):1.0", "\(fake.host)/quirk/app:1.0", store: store)
        await store.pool.shutdown()
        let manifestPath = layout + "/blobs/sha256/" + (try Harness.layoutDigest(layout, tag: "1.0")).dropFirst(7)
        let manifestBytes = try Data(contentsOf: URL(fileURLWithPath: manifestPath))
        #expect(await fake.manifest("quirk/app", "1.0") == Array(manifestBytes))
        let manifest = try JSONSerialization.jsonObject(with: manifestBytes) as! [String: Any]
        let blobs = [manifest["config"] as! [String: Any]] + (manifest["layers"] as! [[String: Any]])
        for blob in blobs {
            let digest = blob["digest"] as! String
            let expected = try Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + digest.dropFirst(7)))
            #expect(await fake.blob(digest) == Array(expected), "blob \(digest)")
        }
        return (fake, report)
    }

    @Test func relativeLocationIsResolved() async throws {
        var quirks = FakeRegistry.Quirks()
        quirks.relativeLocation = true
        let (fake, report) = try await copyAndCheck(quirks)
        #expect(report.blobsUploaded == 3)
        await fake.shutdown()
    }

    @Test func missingDockerContentDigestIsTolerated() async throws {
        var quirks = FakeRegistry.Quirks()
        quirks.omitDigestHeader = true
        let (fake, _) = try await copyAndCheck(quirks)
        // Verification falls back to GET + hash when HEAD has no digest header.
        let store = try Harness.store()
        let client = await store.client(for: fake.host)
        let head = try await client.manifestHead(repository: "quirk/app", reference: "1.0")
        #expect(head?.digest == Digest.sha256(of: await fake.manifest("quirk/app", "1.0")!))
        await store.pool.shutdown()
        await fake.shutdown()
    }

    @Test func rateLimitWithRetryAfterIsHonoured() async throws {
        var quirks = FakeRegistry.Quirks()
        quirks.rateLimitFirst = 2
        let started = ContinuousClock.now
        let (fake, _) = try await copyAndCheck(quirks)
        // Two 429s with Retry-After: 1 mean at least about two seconds of waiting (they may overlap: ≥ 1 s).
        #expect(ContinuousClock.now - started >= .seconds(1))
        await fake.shutdown()
    }

    @Test func serverErrorsAreRetried() async throws {
        var quirks = FakeRegistry.Quirks()
        quirks.failFirst = 3
        let (fake, _) = try await copyAndCheck(quirks)
        await fake.shutdown()
    }

    @Test func chunkedUploadHonoursMinimumChunkLength() async throws {
        var quirks = FakeRegistry.Quirks()
        quirks.chunkMinLength = 64 * 1024
        let (fake, report) = try await copyAndCheck(quirks, layerSize: 300_000)
        #expect(report.blobsUploaded == 3)
        let log = await fake.requestLog()
        #expect(log.contains { $0.hasPrefix("PATCH /upload/") })
        await fake.shutdown()
    }

    @Test func mountAnswered202FallsBackToUpload() async throws {
        var quirks = FakeRegistry.Quirks()
        quirks.mountAnswers202 = true
        let (fake, _) = try await copyAndCheck(quirks)
        let store = try Harness.store()
        let report = try await Harness.copy("\(fake.host)/quirk/app:1.0", "\(fake.host)/other/app:1.0", store: store)
        #expect(report.blobsMounted == 0 && report.blobsUploaded == 3)
        // The upload used the session the 202 opened: one POST per blob (the mount), none after it.
        let posts = await fake.requestLog().filter { $0.hasPrefix("POST /v2/other/app/blobs/uploads") }
        #expect(posts.count == 3)
        #expect(await fake.manifest("other/app", "1.0") == (await fake.manifest("quirk/app", "1.0")))
        await store.pool.shutdown()
        await fake.shutdown()
    }

    @Test func wrongManifestDigestHeaderIsAVerificationError() async throws {
        var quirks = FakeRegistry.Quirks()
        quirks.wrongManifestDigest = true
        let (fake, _) = try await copyAndCheck(quirks)
        let store = try Harness.store()
        let client = await store.client(for: fake.host)
        await #expect { _ = try await client.manifest(repository: "quirk/app", reference: "1.0") } throws: {
            ($0 as? PierError)?.kind == .verification
        }
        await store.pool.shutdown()
        await fake.shutdown()
    }

    @Test func tagListPaginationFollowsLink() async throws {
        try Harness.requireTools()
        let fake = try await FakeRegistry()
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1, layerSize: 1000)
        let store = try Harness.store()
        for tag in ["a", "b", "c", "d", "e"] {
            _ = try await Harness.copy("oci:\(layout):1.0", "\(fake.host)/paged/app:\(tag)", store: store)
        }
        let tags = try await store.client(for: fake.host).tags(repository: "paged/app")
        #expect(tags == ["a", "b", "c", "d", "e"])
        #expect(await fake.requestLog().filter { $0.contains("/tags/list") }.count == 3)
        await store.pool.shutdown()
        await fake.shutdown()
    }
}
