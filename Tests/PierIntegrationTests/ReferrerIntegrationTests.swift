import Foundation
import PierEngine
import PierModel
import PierTestSupport
import Testing

/// Signatures, SBOMs and attestations (OCI 1.1 referrers and cosign tags) carried by copy, sync and publish, and
/// pruned with their images: on the fake registry with the referrers API, and on docker-registry 2.8, which has none
/// (the fallback index tag `sha256-<hex>`). What pier wrote is read back with curl and skopeo.
@Suite(.serialized) struct ReferrerIntegrationTests {
    init() throws { try Harness.requireTools() }

    static let sbomType = "application/spdx+json"
    static let signatureType = "application/vnd.dev.cosign.artifact.sig.v1+json"
    static let scanType = "application/vnd.example.scan+json"

    /// An image and what hangs off it, as the source holds them.
    struct Seeded {
        var root: String
        var arm: String
        var sbom: String
        /// A signature on the SBOM (a referrer of a referrer).
        var sbomSignature: String
        /// A referrer of the arm64 child of the index.
        var scan: String
        /// cosign's `sha256-<root>.sig`.
        var cosignSignature: String
        /// Every referrer's bytes, by digest.
        var bytes: [String: Data]
        var subjects: [String: String]
    }

    /// The manifest bytes at `host/repository:reference`, read with curl (not pier).
    static func raw(_ host: String, _ repository: String, _ reference: String) throws -> Data? {
        let result = try Tools.run(
            "curl",
            [
                "-s", "-f", "-H",
                "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
                "http://\(host)/v2/\(repository)/manifests/\(reference)",
            ], check: false)
        return result.status == 0 ? result.stdoutBytes : nil
    }

    static func entries(_ index: Data?) -> [[String: Any]] {
        guard let index, let object = try? JSONSerialization.jsonObject(with: index) as? [String: Any] else {
            return []
        }
        return object["manifests"] as? [[String: Any]] ?? []
    }

    static func tag(_ digest: String, _ suffix: String? = nil) -> String {
        digest.replacingOccurrences(of: "sha256:", with: "sha256-") + (suffix.map { ".\($0)" } ?? "")
    }

    static func attach(_ image: String, type: String, content: String) throws -> String {
        let outcome = try attachOutcome(image, type: type, content: content)
        #expect(outcome.action == .attached)
        return outcome.digest.description
    }

    static func attachOutcome(_ image: String, type: String, content: String) throws -> AttachOperation.Outcome {
        let file = Tools.temporaryDirectory("pier-attach") + "/artifact.json"
        try content.write(toFile: file, atomically: true, encoding: .utf8)
        let run = try Harness.pier("attach", "--json", image, "--file", file, "--artifact-type", type)
        #expect(run.status == 0, "\(run.stderr)")
        return try JSONDecoder().decode(AttachOperation.Outcome.self, from: run.stdoutBytes)
    }

    /// A cosign-style signature manifest (simple-signing layer) tagged `sha256-<subject>.sig`, pushed with the
    /// engine's client.
    static func pushCosignSignature(host: String, repository: String, subject: String) async throws -> String {
        let store = try Harness.store()
        defer { Task { await store.pool.shutdown() } }
        let client = await store.client(for: host)
        let payload = Data(
            #"{"critical":{"identity":{"docker-reference":"\#(host)/\#(repository)"},"image":{"docker-manifest-digest":"\#(subject)"},"type":"cosign container image signature"},"optional":null}"#
                .utf8)
        let config = Data(#"{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
        let directory = Tools.temporaryDirectory("pier-cosign")
        var descriptors: [[String: Any]] = []
        for (name, bytes) in [("config", config), ("payload", payload)] {
            let path = "\(directory)/\(name)"
            try bytes.write(to: URL(fileURLWithPath: path))
            let digest = try Digest(Harness.sha256(bytes))
            try await client.uploadBlob(repository: repository, digest: digest, size: Int64(bytes.count), file: path)
            descriptors.append(["digest": digest.description, "size": bytes.count])
        }
        let manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": MediaType.ociManifest,
            "config": descriptors[0].merging(["mediaType": MediaType.ociConfig]) { a, _ in a },
            "layers": [
                descriptors[1].merging([
                    "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                    "annotations": ["dev.cosignproject.cosign/signature": "MEUCIQD-not-a-real-signature"],
                ]) { a, _ in a }
            ],
        ]
        let bytes = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys])
        let blob = try ManifestBlob(bytes: Array(bytes), mediaType: MediaType.ociManifest, source: host)
        try await client.putManifest(repository: repository, reference: tag(subject, "sig"), manifest: blob)
        return blob.digest.description
    }

    /// A two-platform image at `host/app:1.0` with an SBOM on the index, a signature on the SBOM, a scan report on
    /// the arm64 child, and a cosign signature tag.
    static func seed(_ host: String) async throws -> Seeded {
        let layout = Tools.temporaryDirectory() + "/multi"
        let root = try ImageFixtures.multiPlatformImage(at: layout, tag: "multi")
        #expect(try Harness.pier("copy", "oci:\(layout):multi", "\(host)/app:1.0").status == 0)
        let arm =
            entries(try raw(host, "app", root))
            .first { ($0["platform"] as? [String: String])?["architecture"] == "arm64" }?["digest"] as! String
        let sbom = try attach("\(host)/app:1.0", type: sbomType, content: #"{"spdxVersion":"SPDX-2.3","name":"app"}"#)
        let sbomSignature = try attach("\(host)/app@\(sbom)", type: signatureType, content: #"{"sig":"on the sbom"}"#)
        let scan = try attach("\(host)/app@\(arm)", type: scanType, content: #"{"findings":[]}"#)
        let cosign = try await pushCosignSignature(host: host, repository: "app", subject: root)
        var bytes: [String: Data] = [:]
        for digest in [sbom, sbomSignature, scan, cosign] { bytes[digest] = try raw(host, "app", digest) }
        return Seeded(
            root: root, arm: arm, sbom: sbom, sbomSignature: sbomSignature, scan: scan, cosignSignature: cosign,
            bytes: bytes, subjects: [sbom: root, sbomSignature: sbom, scan: arm])
    }

    /// What `repository` on `host` must hold after a carry: every referrer byte for byte, each listed by the
    /// referrers API (`api`) or the fallback index tag, and the cosign tag on the signature.
    static func checkCarried(_ seeded: Seeded, host: String, repository: String, api: Bool) throws {
        for (digest, bytes) in seeded.bytes {
            #expect(try raw(host, repository, digest) == bytes, "\(repository)@\(digest)")
        }
        for (digest, subject) in seeded.subjects {
            let listed: [[String: Any]]
            if api {
                let answer = try Tools.run(
                    "curl", ["-s", "-f", "http://\(host)/v2/\(repository)/referrers/\(subject)"])
                listed = entries(answer.stdoutBytes)
            } else {
                listed = entries(try raw(host, repository, tag(subject)))
            }
            #expect(listed.contains { $0["digest"] as? String == digest }, "\(digest) is listed for \(subject)")
        }
        let signature = try raw(host, repository, tag(seeded.root, "sig"))
        #expect(signature.map(Harness.sha256) == seeded.cosignSignature)
    }

    static func checkReport(_ referrers: [Referrer], _ seeded: Seeded, api: Bool, _ what: String) {
        #expect(
            Set(referrers.map(\.digest.description)) == Set(seeded.bytes.keys), "\(what): \(referrers.map(\.digest))")
        #expect(referrers.allSatisfy { $0.verified == true }, "\(what) verified every referrer")
        for referrer in referrers {
            let expected: ReferrerRoute =
                referrer.digest.description == seeded.cosignSignature ? .cosignTag : api ? .api : .fallbackTag
            #expect(referrer.storedAs == expected, "\(what): \(referrer.digest.short) stored as \(expected)")
        }
    }

    @Test(arguments: [true, false]) func copySyncAndPublishCarryReferrersAndVerifyThem(api: Bool) async throws {
        var quirks = FakeRegistry.Quirks()
        quirks.referrersAPI = true
        let fake = api ? try await FakeRegistry(quirks: quirks) : nil
        let real = api ? nil : try TestRegistry()
        let host = fake?.host ?? real!.host
        defer { fake?.stop() }
        let seeded = try await Self.seed(host)
        // The same file with the same type again: reported present, nothing written.
        let again = try Self.attachOutcome(
            "\(host)/app:1.0", type: Self.sbomType, content: #"{"spdxVersion":"SPDX-2.3","name":"app"}"#)
        #expect(again.action == .present && again.digest.description == seeded.sbom)

        // pier referrers lists the tree and where each was found.
        let listed = try JSONDecoder().decode(
            [Referrer].self, from: try Harness.pier("referrers", "--json", "\(host)/app:1.0").stdoutBytes)
        #expect(Set(listed.map(\.digest.description)) == Set(seeded.bytes.keys))
        #expect(listed.first { $0.digest.description == seeded.sbomSignature }?.depth == 2)
        #expect(listed.first { $0.digest.description == seeded.scan }?.subject.description == seeded.arm)
        #expect(
            listed.first { $0.digest.description == seeded.sbom }?.foundBy == (api ? .api : .fallbackTag))

        let table = try Harness.pier("referrers", "\(host)/app:1.0").stdout
        #expect(table.contains("cosign-tag") && table.contains(api ? "referrers-api" : "fallback-tag"), "\(table)")
        #expect(table.split(separator: "\n").count == 5)
        // Columns line up under the header; cosign's tag shows as a cosign signature, not an image config.
        let rows = table.split(separator: "\n").map(String.init)
        let column = rows[0].distance(from: rows[0].startIndex, to: rows[0].range(of: "FOUND-BY")!.lowerBound)
        #expect(
            rows.dropFirst().allSatisfy { row in
                ReferrerRoute.allCases.contains { row.dropFirst(column).hasPrefix($0.rawValue) }
            }, "\(table)")
        #expect(table.contains("cosign signature") && !table.contains("image.config"), "\(table)")
        let copy = try Harness.pier("copy", "--json", "\(host)/app:1.0", "\(host)/copy/app:1.0")
        #expect(copy.status == 0, "\(copy.stderr)")
        Self.checkReport(
            try ReportJSON.decoder().decode(CopyReport.self, from: copy.stdoutBytes).referrers, seeded, api: api, "copy"
        )
        try Self.checkCarried(seeded, host: host, repository: "copy/app", api: api)

        let sync = try Harness.pier("sync", "--json", "\(host)/app", "\(host)/sync/app")
        #expect(sync.status == 0, "\(sync.stderr)")
        let actions = try ReportJSON.decoder().decode([Sync.Action].self, from: sync.stdoutBytes)
        // Artifact tags are not synced as tags of their own: they travel with 1.0.
        #expect(actions.map(\.tag) == ["1.0"])
        Self.checkReport(actions.first?.referrers ?? [], seeded, api: api, "sync")
        try Self.checkCarried(seeded, host: host, repository: "sync/app", api: api)

        let publish = try Harness.pier(
            "publish", "--json", "--source", "\(host)/app:1.0", "--to", "\(host)/primary/app", "--to",
            "\(host)/backup/app", "--version", "1.0.0", "--no-sha-tag")
        #expect(publish.status == 0, "\(publish.stderr)")
        let report = try ReportJSON.decoder().decode(PublishReport.self, from: publish.stdoutBytes)
        #expect(report.registries.count == 2)
        Self.checkReport(report.registries.last?.referrers ?? [], seeded, api: api, "publish to the backup")
        try Self.checkCarried(seeded, host: host, repository: "backup/app", api: api)

        if let fake {
            // With the API, pier writes no fallback index tag.
            #expect(
                !(await fake.requestLog()).contains {
                    $0.hasPrefix("PUT") && $0.contains("/manifests/sha256-") && !$0.contains(".sig")
                })
        } else {
            // skopeo reads the fallback index pier wrote on the backup; a filter carries the SBOM and its signature
            // only; --no-referrers carries nothing.
            let index = try Harness.skopeoRaw("\(host)/backup/app:\(Self.tag(seeded.root))")
            #expect(Self.entries(index).contains { $0["digest"] as? String == seeded.sbom })
            let filtered = try Harness.pier(
                "copy", "--json", "--referrers-type", Self.sbomType, "\(host)/app:1.0", "\(host)/filtered/app:1.0")
            let carried = try ReportJSON.decoder().decode(CopyReport.self, from: filtered.stdoutBytes).referrers
            #expect(Set(carried.map(\.digest.description)) == [seeded.sbom, seeded.sbomSignature])
            // Referrers' blobs stay out of the image's progress: one done line, never more bytes than the total.
            let progress = try Harness.pier(
                "copy", "--progress", "plain", "\(host)/app:1.0", "\(host)/progress/app:1.0")
            let done = progress.stderr.split(separator: "\n").filter { $0.contains(" done") }
            #expect(done.count == 1, "\(progress.stderr)")
            // A sync with nothing to write says nothing about referrers; a type that is not a media type is refused.
            let again = try Harness.pier("sync", "\(host)/app", "\(host)/sync/app")
            #expect(again.status == 0 && !again.stderr.contains("carried"), "\(again.stderr)")
            let spdx = try Harness.pier("copy", "--referrers-type", "spdx", "\(host)/app:1.0", "\(host)/spdx/app:1.0")
            #expect(spdx.status == 64 && spdx.stderr.contains("is not a media type"), "\(spdx.stderr)")
            let none = try Harness.pier("copy", "--json", "--no-referrers", "\(host)/app:1.0", "\(host)/none/app:1.0")
            #expect(try ReportJSON.decoder().decode(CopyReport.self, from: none.stdoutBytes).referrers.isEmpty)
            #expect(try Self.raw(host, "none/app", Self.tag(seeded.root)) == nil)
        }
    }

    /// Another client's entry in the fallback index survives pier's writes, unknown fields and all, and writers
    /// attaching at the same time all end up listed.
    @Test func fallbackIndexKeepsWhatOthersWrote() async throws {
        let registry = try TestRegistry()
        let host = registry.host
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1, layerSize: 100)
        #expect(try Harness.pier("copy", "oci:\(layout):1.0", "\(host)/app:1.0").status == 0)
        let root = Harness.sha256(try Self.raw(host, "app", "1.0")!)
        // Another client: its artifact by digest, and a fallback index listing it with a field pier does not know.
        let other = try Self.attach("\(host)/app:1.0", type: "application/vnd.other+json", content: "{}")
        let store = try Harness.store()
        let client = await store.client(for: host)
        let entry: [String: Any] = [
            "mediaType": MediaType.ociManifest, "digest": other, "size": try Self.raw(host, "app", other)!.count,
            "artifactType": "application/vnd.other+json", "x-other-client": ["kept": true],
        ]
        let index = try JSONSerialization.data(
            withJSONObject: ["schemaVersion": 2, "mediaType": MediaType.ociIndex, "manifests": [entry]],
            options: [.sortedKeys])
        try await client.putManifest(
            repository: "app", reference: Self.tag(root),
            manifest: try ManifestBlob(bytes: Array(index), mediaType: MediaType.ociIndex, source: host))
        await store.pool.shutdown()

        // Three more writers, one after another. (At the same moment, two writers can still lose one entry: the
        // distribution API has no conditional write, and a write between another's check and its PUT is not seen;
        // lostRaceOnTheFallbackIndexIsRetried covers the race pier does detect.)
        var attached: [String] = []
        for writer in 0..<3 {
            attached.append(
                try Self.attach("\(host)/app:1.0", type: Self.scanType, content: #"{"writer":\#(writer)}"#))
        }
        let final = Self.entries(try Harness.skopeoRaw("\(host)/app:\(Self.tag(root))"))
        let kept = final.first { $0["digest"] as? String == other }
        #expect((kept?["x-other-client"] as? [String: Bool]) == ["kept": true])
        #expect(Set(final.compactMap { $0["digest"] as? String }) == Set(attached + [other]))
    }

    /// A writer that replaces the fallback index right after pier's write (having read it before) is noticed by
    /// the read after the write: pier merges again, and both entries end up listed.
    @Test func lostRaceOnTheFallbackIndexIsRetried() async throws {
        let foreign = "sha256:" + String(repeating: "e", count: 64)
        let racing = try JSONSerialization.data(
            withJSONObject: [
                "schemaVersion": 2, "mediaType": MediaType.ociIndex,
                "manifests": [["mediaType": MediaType.ociManifest, "digest": foreign, "size": 2]],
            ], options: [.sortedKeys])
        var quirks = FakeRegistry.Quirks()
        quirks.racingReferrersIndex = Array(racing)
        let fake = try await FakeRegistry(quirks: quirks)
        defer { fake.stop() }
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1, layerSize: 100)
        #expect(try Harness.pier("copy", "oci:\(layout):1.0", "\(fake.host)/app:1.0").status == 0)
        let root = Harness.sha256(try Self.raw(fake.host, "app", "1.0")!)
        let sbom = try Self.attach("\(fake.host)/app:1.0", type: Self.sbomType, content: "{}")
        let listed = Self.entries(try Self.raw(fake.host, "app", Self.tag(root))).compactMap { $0["digest"] as? String }
        #expect(Set(listed) == [foreign, sbom])
        let puts = await fake.requestLog().filter { $0.hasPrefix("PUT /v2/app/manifests/\(Self.tag(root))") }
        #expect(puts.count == 2)
    }

    /// prune deletes a deleted image's referrers (fallback index, its entries, cosign tag) and keeps a kept one's;
    /// artifact tags are not counted as releases.
    @Test func pruneDeletesReferrersWithTheirImage() async throws {
        let registry = try TestRegistry()
        let host = registry.host
        let layout = Tools.temporaryDirectory() + "/images"
        var images: [String: (root: String, sbom: String, signature: String)] = [:]
        for day in 1...2 {
            let tag = "sha-0\(day)"
            try ImageFixtures.umociImage(
                at: layout, tag: tag, layers: 1, layerSize: 300, created: "2026-01-0\(day)T00:00:00Z")
            #expect(try Harness.pier("copy", "oci:\(layout):\(tag)", "\(host)/app:\(tag)").status == 0)
            let root = Harness.sha256(try Self.raw(host, "app", tag)!)
            let sbom = try Self.attach("\(host)/app:\(tag)", type: Self.sbomType, content: #"{"day":\#(day)}"#)
            let signature = try await Self.pushCosignSignature(host: host, repository: "app", subject: root)
            images[tag] = (root, sbom, signature)
        }
        let run = try Harness.pier("prune", "--json", "--apply", "--keep-last", "1", "\(host)/app")
        #expect(run.status == 0, "\(run.stderr)")
        let plan = try ReportJSON.decoder().decode([Pruner.Result].self, from: run.stdoutBytes)[0]
        let actions = Dictionary(uniqueKeysWithValues: plan.decisions.map { ($0.tag, $0.action) })
        let (old, new) = (images["sha-01"]!, images["sha-02"]!)
        #expect(actions["sha-01"] == .delete && actions["sha-02"] == .keep)
        // Artifact tags follow their subjects and are never counted as undated; the fallback index's SBOM is listed
        // with its image, as the referrers API's would be.
        #expect(plan.undatedCount == 0)
        #expect(plan.referrers[old.root]?.map(\.description) == [old.sbom])
        #expect(actions[Self.tag(old.root)] == .delete && actions[Self.tag(old.root, "sig")] == .delete)
        #expect(actions[Self.tag(new.root)] == .keep && actions[Self.tag(new.root, "sig")] == .keep)
        let tags = try JSONDecoder().decode(
            [String].self, from: Harness.pier("tags", "--json", "\(host)/app").stdoutBytes)
        #expect(Set(tags) == ["sha-02", Self.tag(new.root), Self.tag(new.root, "sig")])
        for digest in [old.root, old.sbom, old.signature] { #expect(try Self.raw(host, "app", digest) == nil) }
        for digest in [new.root, new.sbom, new.signature] { #expect(try Self.raw(host, "app", digest) != nil) }
    }

    /// On a registry with the referrers API, a deleted image's referrers (no tag names them) are in the plan and go
    /// with it; a kept image's stay, even when the registry lists them under the deleted image too (`misfiled`):
    /// pier deletes a referrer only when its own `subject` is the deleted image.
    @Test(arguments: [false, true]) func pruneDeletesAPIListedReferrersWithTheirImage(misfiled: Bool) async throws {
        var quirks = FakeRegistry.Quirks()
        quirks.referrersAPI = true
        quirks.referrersListedUnderEverySubject = misfiled
        let fake = try await FakeRegistry(quirks: quirks)
        defer { fake.stop() }
        let layout = Tools.temporaryDirectory() + "/images"
        var sboms: [String] = []
        for day in 1...2 {
            try ImageFixtures.umociImage(
                at: layout, tag: "sha-0\(day)", layers: 1, layerSize: 300, created: "2026-01-0\(day)T00:00:00Z")
            #expect(try Harness.pier("copy", "oci:\(layout):sha-0\(day)", "\(fake.host)/app:sha-0\(day)").status == 0)
            sboms.append(
                try Self.attach("\(fake.host)/app:sha-0\(day)", type: Self.sbomType, content: #"{"d":\#(day)}"#))
        }
        let old = Harness.sha256(try Self.raw(fake.host, "app", "sha-01")!)
        let run = try Harness.pier("prune", "--json", "--apply", "--keep-last", "1", "\(fake.host)/app")
        #expect(run.status == 0, "\(run.stderr)")
        let plan = try ReportJSON.decoder().decode([Pruner.Result].self, from: run.stdoutBytes)[0]
        #expect(plan.referrers[old]?.map(\.description) == [sboms[0]])
        #expect(try Self.raw(fake.host, "app", sboms[0]) == nil)
        #expect(try Self.raw(fake.host, "app", sboms[1]) != nil)
    }

    /// A copy carries only the referrers whose own `subject` is the image: a registry that lists another image's
    /// SBOM under this one does not get it into this image's fallback index on the destination.
    @Test func copyCarriesOnlyReferrersAboutTheImage() async throws {
        var quirks = FakeRegistry.Quirks()
        quirks.referrersAPI = true
        quirks.referrersListedUnderEverySubject = true
        let fake = try await FakeRegistry(quirks: quirks)
        defer { fake.stop() }
        let registry = try TestRegistry()
        let layout = Tools.temporaryDirectory() + "/images"
        var sboms: [String] = []
        for day in 1...2 {
            try ImageFixtures.umociImage(at: layout, tag: "sha-0\(day)", layers: 1, layerSize: 300)
            #expect(try Harness.pier("copy", "oci:\(layout):sha-0\(day)", "\(fake.host)/app:sha-0\(day)").status == 0)
            sboms.append(
                try Self.attach("\(fake.host)/app:sha-0\(day)", type: Self.sbomType, content: #"{"d":\#(day)}"#))
        }
        let image = Harness.sha256(try Self.raw(fake.host, "app", "sha-01")!)
        let copied = try Harness.pier("copy", "\(fake.host)/app:sha-01", "\(registry.host)/app:sha-01")
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(copied.stderr.contains("skipped"))
        let index = try #require(try Self.raw(registry.host, "app", Self.tag(image)))
        let listed = try JSONSerialization.jsonObject(with: index) as! [String: Any]
        #expect((listed["manifests"] as? [[String: Any]])?.compactMap { $0["digest"] as? String } == [sboms[0]])
        #expect(try Self.raw(registry.host, "app", sboms[1]) == nil)
    }
}
