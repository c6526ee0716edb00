import Foundation
import PierEngine
import PierModel
import PierRegistry
import PierTestSupport
import Testing

/// pier sign and verify against real docker-registry instances; signatures read back with skopeo and checked with
/// openssl, payload fields against cosign's SIGNATURE_SPEC.md.
@Suite(.serialized) struct SigningIntegrationTests {
    init() throws { try Harness.requireTools() }

    func keyPair(sec1: Bool = false) throws -> (key: String, pub: String) { try SigningKeyPair.make(sec1: sec1) }

    /// One small image pushed to `reference`; returns its digest.
    func pushImage(_ reference: String, tag: String = "img") throws -> String {
        let layout = Tools.temporaryDirectory() + "/images"
        try ImageFixtures.umociImage(at: layout, tag: tag, layers: 1, layerSize: 300)
        #expect(try Harness.pier("copy", "-q", "oci:\(layout):\(tag)", reference).status == 0)
        return try Harness.layoutDigest(layout, tag: tag)
    }

    func signatureTag(_ digest: String) -> String { digest.replacingOccurrences(of: ":", with: "-") + ".sig" }

    /// The signature manifest's layers as skopeo reads them, and each payload's bytes from the blobs skopeo copied.
    func signatures(_ repository: String, digest: String) throws -> [(layer: [String: Any], payload: Data)] {
        let reference = "\(repository):\(signatureTag(digest))"
        let manifest = try JSONSerialization.jsonObject(with: Harness.skopeoRaw(reference)) as! [String: Any]
        #expect(manifest["mediaType"] as? String == "application/vnd.oci.image.manifest.v1+json")
        #expect((manifest["config"] as? [String: Any])?["mediaType"] as? String == MediaType.ociConfig)
        let layout = Tools.temporaryDirectory("pier-sig-copy")
        try Tools.run("skopeo", ["copy", "-q", "--src-tls-verify=false", "docker://\(reference)", "oci:\(layout):sig"])
        return try (manifest["layers"] as! [[String: Any]]).map { layer in
            let hex = (layer["digest"] as! String).dropFirst("sha256:".count)
            return (layer, try Data(contentsOf: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(hex)")))
        }
    }

    /// openssl's verdict on a layer's signature over its payload bytes.
    func opensslVerifies(_ signature: (layer: [String: Any], payload: Data), pub: String) throws -> Bool {
        let directory = Tools.temporaryDirectory("pier-openssl")
        let annotations = signature.layer["annotations"] as? [String: String] ?? [:]
        let der = try #require(Data(base64Encoded: annotations["dev.cosignproject.cosign/signature"] ?? ""))
        try der.write(to: URL(fileURLWithPath: directory + "/sig.der"))
        try signature.payload.write(to: URL(fileURLWithPath: directory + "/payload.json"))
        return try Tools.run(
            "openssl",
            ["dgst", "-sha256", "-verify", pub, "-signature", directory + "/sig.der", directory + "/payload.json"],
            check: false
        ).stdout.contains("Verified OK")
    }

    @Test func signaturesVerifyWithOpensslAndAnotherSignersSurvive() throws {
        let registry = try TestRegistry()
        let repo = "\(registry.host)/app"
        let digest = try pushImage("\(repo):1.0.0")
        let first = try keyPair()
        let second = try keyPair(sec1: true)
        let unsigned = try Harness.pier("verify", "\(repo):1.0.0", "--key", first.pub)
        #expect(unsigned.status == 70)
        #expect(unsigned.stderr.contains("no signatures"))

        let signed = try Harness.pier("sign", "\(repo):1.0.0", "--key", first.key, "-a", "build=42", "--json")
        #expect(signed.status == 0, "\(signed.stderr)")
        var found = try signatures(repo, digest: digest)
        #expect(found.count == 1)
        let layer = found[0].layer
        #expect(layer["mediaType"] as? String == "application/vnd.dev.cosign.simplesigning.v1+json")
        #expect(layer["digest"] as? String == Harness.sha256(found[0].payload))
        #expect(try opensslVerifies(found[0], pub: first.pub))
        #expect(try !opensslVerifies(found[0], pub: second.pub))
        // The payload's fields, as SIGNATURE_SPEC.md §Simple Signing names them.
        let payload = try JSONSerialization.jsonObject(with: found[0].payload) as! [String: Any]
        #expect(Set(payload.keys) == ["critical", "optional"])
        let critical = payload["critical"] as! [String: Any]
        #expect((critical["identity"] as? [String: String])?["docker-reference"] == repo)
        #expect((critical["image"] as? [String: String])?["docker-manifest-digest"] == digest)
        #expect(critical["type"] as? String == "cosign container image signature")
        #expect(payload["optional"] as? [String: String] == ["build": "42"])

        // A second signer, its key in an environment variable: appended, the first signature kept byte for byte.
        let environment = Harness.isolatedEnvironment([
            "RELEASE_KEY": try String(contentsOfFile: second.key, encoding: .utf8)
        ])
        let again = try Harness.pier(["sign", "\(repo)@\(digest)", "--key", "env://RELEASE_KEY"], env: environment)
        #expect(again.status == 0, "\(again.stderr)")
        // The first signer signing the same payload again adds nothing.
        let repeated = try Harness.pier("sign", "\(repo):1.0.0", "--key", first.key, "-a", "build=42")
        #expect(repeated.stdout.contains("already signed"))
        found = try signatures(repo, digest: digest)
        #expect(found.count == 2)
        #expect(NSDictionary(dictionary: found[0].layer).isEqual(to: layer))
        #expect(try opensslVerifies(found[0], pub: first.pub))
        #expect(try opensslVerifies(found[1], pub: second.pub))

        for pub in [first.pub, second.pub] {
            let verified = try Harness.pier("verify", "\(repo):1.0.0", "--key", pub)
            #expect(verified.status == 0, "\(verified.stderr)")
            #expect(verified.stdout.contains("1 of 2 signature(s) valid"))
        }
        let stranger = try keyPair()
        let wrong = try Harness.pier("verify", "\(repo):1.0.0", "--key", stranger.pub, "--json")
        #expect(wrong.status == 70)
        let report = try JSONSerialization.jsonObject(with: wrong.stdoutBytes) as! [String: Any]
        #expect(report["found"] as? Int == 2)
        #expect(report["valid"] as? Int == 0)
        #expect(wrong.stderr.contains("2 signature(s), none valid"))
        // The private key never reaches output, and is refused on the command line without being repeated.
        let pem = try String(contentsOfFile: first.key, encoding: .utf8)
        let secret = pem.split(separator: "\n")[1]
        var outputs = [signed.stdout, signed.stderr, wrong.stdout, wrong.stderr]
        for arguments in [["--key", pem], ["--key=\(pem)"], ["--sign-key", pem]] {
            let inline = try Harness.pier(["sign", "\(repo):1.0.0"] + arguments)
            #expect(inline.status == 64)
            outputs += [inline.stdout, inline.stderr]
        }
        for output in outputs { #expect(!output.contains(secret), "\(output)") }
    }

    /// A payload changed after signing (its blob and the layer digest swapped, the signature kept) fails verify.
    @Test func aTamperedPayloadFailsVerify() async throws {
        let registry = try TestRegistry()
        let repo = "\(registry.host)/app"
        let digest = try pushImage("\(repo):1.0.0")
        let keys = try keyPair()
        #expect(try Harness.pier("sign", "\(repo):1.0.0", "--key", keys.key).status == 0)
        let original = try signatures(repo, digest: digest)[0]

        var tampered = String(decoding: original.payload, as: UTF8.self)
        tampered = tampered.replacingOccurrences(of: #""optional":null"#, with: #""optional":{"approved":"yes"}"#)
        let bytes = Array(tampered.utf8)
        let store = try Harness.store()
        let client = await store.client(for: registry.host)
        let file = Tools.temporaryDirectory() + "/payload.json"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        try await client.uploadBlob(
            repository: "app", digest: Digest.sha256(of: bytes), size: Int64(bytes.count), file: file)
        var manifest = try String(decoding: Harness.skopeoRaw("\(repo):\(signatureTag(digest))"), as: UTF8.self)
        manifest = manifest.replacingOccurrences(
            of: original.layer["digest"] as! String, with: Digest.sha256(of: bytes).description
        )
        .replacingOccurrences(of: #""size":\#(original.payload.count)"#, with: #""size":\#(bytes.count)"#)
        let blob = try ManifestBlob(bytes: Array(manifest.utf8), mediaType: MediaType.ociManifest, source: "test")
        try await client.putManifest(repository: "app", reference: signatureTag(digest), manifest: blob)
        await store.pool.shutdown()

        let verified = try Harness.pier("verify", "\(repo):1.0.0", "--key", keys.pub)
        #expect(verified.status == 70)
        #expect(verified.stdout.contains("does not verify"))
    }

    /// publish --sign-key signs once and both registries hold a signature openssl verifies; rollback and sync with
    /// --verify-key refuse an unsigned image and change nothing.
    @Test func publishSignsEveryRegistryAndRollbackAndSyncRefuseUnsignedImages() throws {
        let primary = try TestRegistry()
        let backup = try TestRegistry()
        let keys = try keyPair()
        let layout = Tools.temporaryDirectory() + "/images"
        var digests: [String: String] = [:]
        for name in ["a", "b", "c"] {
            try ImageFixtures.umociImage(at: layout, tag: name, layers: 1, layerSize: 300)
            digests[name] = try Harness.layoutDigest(layout, tag: name)
        }
        let to = ["--to", "\(primary.host)/app", "--to", "\(backup.host)/app"]
        let unsigned = try Harness.pier(
            ["publish", "-q", "--no-sha-tag", "--source", "oci:\(layout):a", "--version", "1.0.0"] + to)
        #expect(unsigned.status == 0, "\(unsigned.stderr)")
        let published = try Harness.pier(
            [
                "publish", "--no-sha-tag", "--source", "oci:\(layout):b", "--version", "1.1.0", "--sign-key", keys.key,
                "--json",
            ] + to)
        #expect(published.status == 0, "\(published.stderr)")
        let report = try JSONSerialization.jsonObject(with: published.stdoutBytes) as! [String: Any]
        #expect((report["registries"] as! [[String: Any]]).map { $0["signature"] as? String } == ["added", "added"])
        var payloads: Set<Data> = []
        for host in [primary.host, backup.host] {
            let found = try signatures("\(host)/app", digest: digests["b"]!)
            #expect(found.count == 1)
            #expect(try opensslVerifies(found[0], pub: keys.pub))
            payloads.insert(found[0].payload)
            #expect(try Harness.pier("verify", "\(host)/app:1.1.0", "--key", keys.pub).status == 0)
        }
        // Signed once: one payload for the digest on every registry.
        #expect(payloads.count == 1)

        let refused = try Harness.pier(["rollback", "1.0.0", "--apply", "--verify-key", keys.pub] + to)
        #expect(refused.status == 70, "\(refused.stderr)")
        #expect(refused.stderr.contains("no valid signature"))
        for host in [primary.host, backup.host] {
            #expect((try? Harness.skopeoRaw("\(host)/app:latest")).map(Harness.sha256) == digests["b"])
        }
        #expect(try Harness.pier("sign", "\(primary.host)/app:1.0.0", "--key", keys.key).status == 0)
        #expect(try Harness.pier("sign", "\(backup.host)/app:1.0.0", "--key", keys.key).status == 0)
        let rolled = try Harness.pier(["rollback", "1.0.0", "--apply", "--verify-key", keys.pub] + to)
        #expect(rolled.status == 0, "\(rolled.stderr)")
        #expect((try? Harness.skopeoRaw("\(backup.host)/app:latest")).map(Harness.sha256) == digests["a"])

        // sync copies the signed tag and leaves the unsigned one: exit 70, the backup without it.
        #expect(try Harness.pier("copy", "-q", "oci:\(layout):c", "\(primary.host)/app:edge").status == 0)
        #expect(try Harness.pier("copy", "-q", "oci:\(layout):b", "\(primary.host)/app:stable").status == 0)
        let synced = try Harness.pier(
            "sync", "\(primary.host)/app", "\(backup.host)/app", "--tags", "^(edge|stable|sha256-.*)$", "--verify-key",
            keys.pub, "--json")
        #expect(synced.status == 70, "\(synced.stderr)")
        let actions = try JSONSerialization.jsonObject(with: synced.stdoutBytes) as! [[String: Any]]
        // Only edge is refused: cosign's signature tags are not images and are not checked.
        #expect(actions.filter { $0["action"] as? String == "unsigned" }.map { $0["tag"] as? String } == ["edge"])
        #expect((try? Harness.skopeoRaw("\(backup.host)/app:edge")) == nil)
        #expect((try? Harness.skopeoRaw("\(backup.host)/app:stable")).map(Harness.sha256) == digests["b"])
    }

    /// A signature only the backup holds survives a sync that carries the primary's: the backup's `.sig` manifest
    /// gets the primary's signature added to its own; a second sync writes nothing.
    @Test func syncAddsTheSourcesSignaturesToTheDestinations() throws {
        let primary = try TestRegistry()
        let backup = try TestRegistry()
        let digest = try pushImage("\(primary.host)/app:1.0.0")
        #expect(try Harness.pier("copy", "-q", "\(primary.host)/app:1.0.0", "\(backup.host)/app:1.0.0").status == 0)
        let (releaseKey, backupKey) = (try keyPair(), try keyPair())
        #expect(try Harness.pier("sign", "\(primary.host)/app:1.0.0", "--key", releaseKey.key).status == 0)
        #expect(try Harness.pier("sign", "\(backup.host)/app:1.0.0", "--key", backupKey.key).status == 0)
        let backupOnly = try signatures("\(backup.host)/app", digest: digest)
        let before = try Harness.skopeoRaw("\(backup.host)/app:\(signatureTag(digest))")

        // The backup has the image, not the primary's signature: a dry run says it would carry it, writes nothing.
        let planned = try Harness.pier("sync", "--dry-run", "--json", "\(primary.host)/app", "\(backup.host)/app")
        #expect(planned.status == 0, "\(planned.stderr)")
        let plan = try ReportJSON.decoder().decode([Sync.Action].self, from: planned.stdoutBytes)
        #expect(plan.map(\.action) == [.wouldCopy] && plan.first?.before == plan.first?.digest, "\(plan)")
        #expect(
            plan.first?.referrers?.count == 1
                && plan.first?.message == "1 referrer(s) to carry; the backup has the image")
        #expect(try Harness.skopeoRaw("\(backup.host)/app:\(signatureTag(digest))") == before)

        let synced = try Harness.pier("sync", "\(primary.host)/app", "\(backup.host)/app", "--json")
        #expect(synced.status == 0, "\(synced.stderr)")
        let done = try ReportJSON.decoder().decode([Sync.Action].self, from: synced.stdoutBytes)
        #expect(
            done.map(\.action) == [.copied] && done.first?.message == "1 referrer(s) carried; the backup had the image")
        #expect(done.first?.referrers?.map(\.written) == [true] && done.first?.referrers?.map(\.verified) == [true])
        let found = try signatures("\(backup.host)/app", digest: digest)
        #expect(found.count == 2)
        #expect(NSDictionary(dictionary: found[0].layer).isEqual(to: backupOnly[0].layer))
        #expect(try opensslVerifies(found[0], pub: backupKey.pub))
        #expect(try opensslVerifies(found[1], pub: releaseKey.pub))
        for pub in [releaseKey.pub, backupKey.pub] {
            let verified = try Harness.pier("verify", "\(backup.host)/app:1.0.0", "--key", pub)
            #expect(verified.status == 0, "\(verified.stderr)")
        }
        // The backup's `.sig` differs from the primary's by digest and holds all of it: in sync for status.
        let status = try Harness.pier("status", "--check", "\(primary.host)/app", "\(backup.host)/app")
        #expect(status.status == 0, "\(status.stdout) \(status.stderr)")
        let merged = Harness.sha256(try Harness.skopeoRaw("\(backup.host)/app:\(signatureTag(digest))"))
        let again = try Harness.pier("sync", "--json", "\(primary.host)/app", "\(backup.host)/app")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(!again.stderr.contains("carried"))
        let replanned = try Harness.pier("sync", "--dry-run", "--json", "\(primary.host)/app", "\(backup.host)/app")
        #expect(
            try ReportJSON.decoder().decode([Sync.Action].self, from: replanned.stdoutBytes).map(\.action) == [.inSync])
        #expect(try ReportJSON.decoder().decode([Sync.Action].self, from: again.stdoutBytes).map(\.action) == [.inSync])
        #expect(Harness.sha256(try Harness.skopeoRaw("\(backup.host)/app:\(signatureTag(digest))")) == merged)
    }

    /// --referrer on a registry with the referrers API: a manifest with `subject` and cosign's artifact type, pushed
    /// by digest, listed by the API, its signature verified by openssl; no `.sig` tag written.
    @Test func referrerSigningOnARegistryWithTheReferrersAPI() async throws {
        var quirks = FakeRegistry.Quirks()
        quirks.referrersAPI = true
        let registry = try await FakeRegistry(quirks: quirks)
        let repo = "\(registry.host)/app"
        let digest = try pushImage("\(repo):1.0.0")
        let keys = try keyPair()
        let signed = try Harness.pier("sign", "\(repo):1.0.0", "--key", keys.key, "--referrer", "--json")
        #expect(signed.status == 0, "\(signed.stderr)")
        let report = try JSONSerialization.jsonObject(with: signed.stdoutBytes) as! [String: Any]
        #expect(report["outcome"] as? String == "referrer")
        let answer = try Tools.run("curl", ["-fsS", "http://\(registry.host)/v2/app/referrers/\(digest)"]).stdout
        let index = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as! [String: Any]
        let listed = index["manifests"] as? [[String: Any]] ?? []
        #expect(listed.count == 1)
        #expect(listed.first?["artifactType"] as? String == "application/vnd.dev.cosign.artifact.sig.v1+json")
        let referrer = try #require(listed.first?["digest"] as? String)
        #expect(report["location"] as? String == "\(repo)@\(referrer)")
        let manifest =
            try JSONSerialization.jsonObject(with: Harness.skopeoRaw("\(repo)@\(referrer)")) as! [String: Any]
        #expect((manifest["subject"] as? [String: Any])?["digest"] as? String == digest)
        #expect((manifest["config"] as? [String: Any])?["mediaType"] as? String == "application/vnd.oci.empty.v1+json")
        let layer = (manifest["layers"] as! [[String: Any]])[0]
        let store = try Harness.store()
        let payload = try await store.client(for: registry.host).blobBytes(
            repository: "app", digest: try Digest(layer["digest"] as! String))
        await store.pool.shutdown()
        #expect(try opensslVerifies((layer, Data(payload)), pub: keys.pub))
        #expect((try? Harness.skopeoRaw("\(repo):\(signatureTag(digest))")) == nil)
        // verify finds it through the referrers API, and a tag signature beside it.
        #expect(try Harness.pier("sign", "\(repo):1.0.0", "--key", keyPair().key).status == 0)
        let verified = try Harness.pier("verify", "\(repo):1.0.0", "--key", keys.pub, "--json")
        #expect(verified.status == 0, "\(verified.stderr)")
        let checks = try JSONSerialization.jsonObject(with: verified.stdoutBytes) as! [String: Any]
        #expect(checks["found"] as? Int == 2)
        #expect(checks["valid"] as? Int == 1)
        // The same payload signed by the key under the .sig tag too: one line naming both places.
        #expect(try Harness.pier("sign", "\(repo):1.0.0", "--key", keys.key).status == 0)
        let text = try Harness.pier("verify", "\(repo):1.0.0", "--key", keys.pub).stdout
        let valid = text.split(separator: "\n").filter { $0.contains(": valid") }
        #expect(valid.count == 1 && valid.first?.contains(".sig, ") == true, "\(text)")
        await registry.shutdown()
    }

    /// A key's text where a path belongs is refused without being shown, even without PEM armour.
    @Test func keyTextInPlaceOfAPathIsNotEchoed() throws {
        let keys = try keyPair()
        let pem = try String(contentsOfFile: keys.key, encoding: .utf8)
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let refused = try Harness.pier("sign", "127.0.0.1:1/app:1", "--key", body)
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(!refused.stderr.contains(String(body.prefix(24))), "\(refused.stderr)")
    }

    /// --referrer on a registry without the referrers API (docker-registry 2.8): the signature manifest is pushed by
    /// digest and listed in the `sha256-<hex>` fallback index (distribution-spec §Referrers Tag Schema); no `.sig`
    /// tag is written, and verify finds the signature through the index.
    @Test func referrerSigningUsesTheFallbackIndexWithoutTheReferrersAPI() throws {
        let registry = try TestRegistry()
        let repo = "\(registry.host)/app"
        let digest = try pushImage("\(repo):1.0.0")
        let keys = try keyPair()
        let signed = try Harness.pier("sign", "\(repo):1.0.0", "--key", keys.key, "--referrer", "--json")
        #expect(signed.status == 0, "\(signed.stderr)")
        let report = try JSONSerialization.jsonObject(with: signed.stdoutBytes) as! [String: Any]
        let fallback = "sha256-" + digest.dropFirst("sha256:".count)
        let index = try JSONSerialization.jsonObject(with: Harness.skopeoRaw("\(repo):\(fallback)")) as! [String: Any]
        let entries = index["manifests"] as? [[String: Any]] ?? []
        #expect(entries.count == 1)
        #expect(entries.first?["artifactType"] as? String == "application/vnd.dev.cosign.artifact.sig.v1+json")
        #expect(report["location"] as? String == "\(repo)@\(entries.first?["digest"] as? String ?? "")")
        #expect((try? Harness.skopeoRaw("\(repo):\(signatureTag(digest))")) == nil)
        let verified = try Harness.pier("verify", "\(repo):1.0.0", "--key", keys.pub, "--json")
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(try Harness.pier("verify", "\(repo):1.0.0", "--key", try keyPair().pub).status == 70)
        // Every command reading one image says the same when it is missing.
        for command in [["sign", "--key", keys.key], ["verify", "--key", keys.pub], ["referrers"]] {
            let missing = try Harness.pier(command + ["\(repo):nosuch"])
            #expect(
                missing.status == 66 && missing.stderr.contains("\(repo):nosuch does not exist"),
                "\(command): \(missing.status) \(missing.stderr)")
        }
    }
}
