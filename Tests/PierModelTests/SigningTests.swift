import Foundation
import PierEngine
import PierModel
import PierTestSupport
import Testing

/// cosign's signature format (sigstore/cosign specs/SIGNATURE_SPEC.md) as pier writes it, keys made by openssl.
@Suite struct SigningTests {
    static let digest = try! Digest("sha256:" + String(repeating: "ab", count: 32))

    static func keyPair(sec1: Bool = false) throws -> (privatePath: String, publicPath: String) {
        let pair = try SigningKeyPair.make(sec1: sec1)
        return (pair.key, pair.pub)
    }

    /// The bytes cosign (Go's encoding/json of sigstore's payload.Cosign) writes for the same image.
    @Test func payloadBytesAreCosignsForTheSameImage() throws {
        let bare = SimpleSigningPayload(dockerReference: "ghcr.io/org/app", manifestDigest: Self.digest)
        #expect(
            String(decoding: bare.bytes(), as: UTF8.self)
                == #"{"critical":{"identity":{"docker-reference":"ghcr.io/org/app"},"image":{"docker-manifest-digest":"\#(Self.digest)"},"type":"cosign container image signature"},"optional":null}"#
        )
        let annotated = SimpleSigningPayload(
            dockerReference: "ghcr.io/org/app", manifestDigest: Self.digest,
            annotations: ["z": "1", "build": "<a&b>\n", "Z": "\"q\""])
        #expect(
            String(decoding: annotated.bytes(), as: UTF8.self).hasSuffix(
                #""optional":{"Z":"\"q\"","build":"\u003ca\u0026b\u003e\n","z":"1"}}"#))
        // Every field a verifier reads, read back; keys match without regard to case, as cosign reads them.
        let claims = try #require(SimpleSigningPayload.Claims(parsing: annotated.bytes()))
        #expect(claims.manifestDigest == Self.digest.description)
        #expect(claims.type == CosignConvention.signatureType)
        #expect(claims.dockerReference == "ghcr.io/org/app")
        let specExample = Array(
            #"{"critical":{"image":{"Docker-manifest-digest":"\#(Self.digest)"},"type":"cosign container image signature"}}"#
                .utf8)
        #expect(SimpleSigningPayload.Claims(parsing: specExample)?.manifestDigest == Self.digest.description)
        #expect(SimpleSigningPayload.Claims(parsing: Array("not json".utf8)) == nil)
    }

    /// PKCS#8 and SEC1 keys from openssl sign; openssl verifies the DER signature over the exact payload bytes.
    @Test(arguments: [false, true]) func opensslKeysSignAndOpensslVerifies(sec1: Bool) throws {
        let (keyPath, pubPath) = try Self.keyPair(sec1: sec1)
        let key = try SigningKey(pem: String(contentsOfFile: keyPath, encoding: .utf8), origin: keyPath)
        let pub = try VerificationKey(pem: String(contentsOfFile: pubPath, encoding: .utf8), origin: pubPath)
        #expect(key.verificationKey == pub)
        let signature = try ImageSignature(
            signing: SimpleSigningPayload(dockerReference: "r/app", manifestDigest: Self.digest), with: key)
        let directory = Tools.temporaryDirectory("pier-sig")
        try Data(signature.payload).write(to: URL(fileURLWithPath: directory + "/payload.json"))
        try Data(base64Encoded: signature.signature)!.write(to: URL(fileURLWithPath: directory + "/sig.der"))
        let verified = try Tools.run(
            "openssl",
            ["dgst", "-sha256", "-verify", pubPath, "-signature", directory + "/sig.der", directory + "/payload.json"])
        #expect(verified.stdout.contains("Verified OK"))
        #expect(
            ImageSignature.problem(layer: signature.layer, payload: signature.payload, digest: Self.digest, key: pub)
                == nil)
        // The key never shows in what pier prints about it.
        #expect(!"\(key)".contains("PRIVATE"))
    }

    /// Each check a verifier makes, failing on its own.
    @Test func everyCheckOfASignatureLayerCanFail() throws {
        let (keyPath, _) = try Self.keyPair()
        let key = try SigningKey(pem: String(contentsOfFile: keyPath, encoding: .utf8), origin: keyPath)
        let (otherPath, _) = try Self.keyPair()
        let other = try SigningKey(pem: String(contentsOfFile: otherPath, encoding: .utf8), origin: otherPath)
        let signature = try ImageSignature(
            signing: SimpleSigningPayload(dockerReference: "r/app", manifestDigest: Self.digest), with: key)
        let pub = key.verificationKey
        func problem(_ layer: Descriptor, _ payload: [UInt8]?, _ digest: Digest = Self.digest) -> SignatureProblem? {
            ImageSignature.problem(layer: layer, payload: payload, digest: digest, key: pub)
        }
        #expect(problem(signature.layer, signature.payload) == nil)
        #expect(
            ImageSignature.problem(
                layer: signature.layer, payload: signature.payload, digest: Self.digest, key: other.verificationKey)
                == .signatureInvalid)
        let otherImage = try Digest("sha256:" + String(repeating: "cd", count: 32))
        #expect(problem(signature.layer, signature.payload, otherImage) == .otherImage(Self.digest.description))
        var tampered = signature.payload
        tampered[tampered.count - 3] = UInt8(ascii: "x")
        #expect(problem(signature.layer, tampered) == .payloadMismatch)
        var relabelled = signature.layer
        relabelled.digest = Digest.sha256(of: tampered)
        #expect(problem(relabelled, tampered) == .signatureInvalid)
        var unsigned = signature.layer
        unsigned.annotations = nil
        #expect(problem(unsigned, signature.payload) == .noSignature)
        #expect(problem(signature.layer, nil) == .payloadUnreadable)
        // A payload of another type, validly signed, is still not a cosign image signature.
        let wrongType = Array(
            String(decoding: signature.payload, as: UTF8.self).replacingOccurrences(
                of: CosignConvention.signatureType, with: "atomic container signature"
            ).utf8)
        let signedWrongType = Descriptor(
            mediaType: CosignConvention.payloadMediaType, digest: Digest.sha256(of: wrongType),
            size: Int64(wrongType.count),
            annotations: [
                CosignConvention.signatureAnnotation: Data(try key.signature(for: wrongType)).base64EncodedString()
            ])
        #expect(problem(signedWrongType, wrongType) == .wrongType("atomic container signature"))
    }

    /// The manifest at sha256-<hex>.sig and the referrer: SIGNATURE_SPEC.md's media types and annotation, the
    /// config go-containerregistry writes, the subject.
    @Test func signatureManifestsFollowTheSpec() throws {
        let (keyPath, _) = try Self.keyPair()
        let key = try SigningKey(pem: String(contentsOfFile: keyPath, encoding: .utf8), origin: keyPath)
        let signature = try ImageSignature(
            signing: SimpleSigningPayload(dockerReference: "r/app", manifestDigest: Self.digest), with: key)
        #expect(CosignConvention.signatureTag(for: Self.digest) == "sha256-\(Self.digest.encoded).sig")
        for suffix in [".sig", ".att", ".sbom"] {
            #expect(CosignConvention.isArtifactTag("sha256-\(Self.digest.encoded)\(suffix)"))
        }
        for tag in ["sha256-abc.sig", "1.0.sig", "sha256-\(Self.digest.encoded)", "latest"] {
            #expect(!CosignConvention.isArtifactTag(tag))
        }
        let other = Descriptor(
            mediaType: CosignConvention.payloadMediaType, digest: Self.digest, size: 10,
            annotations: [CosignConvention.signatureAnnotation: "c2ln", "dev.sigstore.cosign/bundle": "{}"])
        let tagged = try SignatureManifest.tagged(layers: [other, signature.layer], source: "test")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(tagged.manifest.bytes)) as? [String: Any])
        #expect(json["mediaType"] as? String == "application/vnd.oci.image.manifest.v1+json")
        #expect(json["schemaVersion"] as? Int == 2)
        let config = try #require(json["config"] as? [String: Any])
        #expect(config["mediaType"] as? String == "application/vnd.oci.image.config.v1+json")
        #expect(config["digest"] as? String == Digest.sha256(of: tagged.config).description)
        let layers = try #require(json["layers"] as? [[String: Any]])
        #expect(layers.count == 2)
        #expect(layers[0]["annotations"] as? [String: String] == other.annotations)
        #expect(layers[1]["mediaType"] as? String == "application/vnd.dev.cosign.simplesigning.v1+json")
        #expect(
            (layers[1]["annotations"] as? [String: String])?["dev.cosignproject.cosign/signature"]
                == signature.signature)
        let configJSON = try #require(try JSONSerialization.jsonObject(with: Data(tagged.config)) as? [String: Any])
        #expect(
            (configJSON["rootfs"] as? [String: Any])?["diff_ids"] as? [String] == [
                Self.digest.description, signature.layer.digest.description,
            ])

        let subject = Descriptor(mediaType: MediaType.ociIndex, digest: Self.digest, size: 321)
        let referrer = try SignatureManifest.referrer(layer: signature.layer, subject: subject, source: "test")
        #expect(referrer.manifest.document.artifactType == "application/vnd.dev.cosign.artifact.sig.v1+json")
        #expect(referrer.manifest.document.subject == subject)
        #expect(referrer.manifest.document.config?.mediaType == MediaType.ociEmpty)
        #expect(referrer.config == Array("{}".utf8))
    }

    /// Keys come from a file or env://NAME; the key itself on the command line, an encrypted key or a public key
    /// where a private one is needed are refused, and no error repeats key material.
    @Test func keyReferencesAndRefusals() throws {
        let (keyPath, pubPath) = try Self.keyPair()
        let pem = try String(contentsOfFile: keyPath, encoding: .utf8)
        var flags = SettingsFlags()
        flags.configPath = Tools.temporaryDirectory("pier-cfg") + "/pier.yml"
        try "signing:\n  key: env://SIGNING_KEY\n  verify_key: \(pubPath)\n".write(
            toFile: flags.configPath!, atomically: true, encoding: .utf8)
        let settings = try Settings.resolve(flags, environment: ["SIGNING_KEY": pem])
        let key = try #require(try settings.signingKey(flag: "--key"))
        #expect(try settings.verificationKey(flag: "--key") == key.verificationKey)

        let body = pem.split(separator: "\n")[1]
        func refusal(_ body: () throws -> Void) -> PierError? {
            do { try body() } catch let error as PierError { return error } catch { return nil }
            return nil
        }
        let inline = refusal { _ = try settings.signingKey(pem, flag: "--key") }
        #expect(inline?.kind == .usage)
        #expect(!(inline.map { "\($0) \($0.hint ?? "")" } ?? "").contains(body))
        let encrypted = refusal {
            _ = try SigningKey(
                pem: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", origin: "k")
        }
        #expect(encrypted?.message.contains("encrypted") == true)
        let publicAsPrivate = refusal {
            _ = try SigningKey(pem: String(contentsOfFile: pubPath, encoding: .utf8), origin: pubPath)
        }
        #expect(publicAsPrivate?.message.contains("public key") == true)
        let privateAsPublic = refusal { _ = try VerificationKey(pem: pem, origin: keyPath) }
        #expect(privateAsPublic?.message.contains("private key") == true)
        #expect(!(privateAsPublic.map { "\($0)" } ?? "").contains(body))
        let unset = refusal { _ = try settings.signingKey("env://NOT_SET_ANYWHERE", flag: "--key") }
        #expect(unset?.message.contains("NOT_SET_ANYWHERE") == true)
        let typo = refusal { _ = try PierConfig.parse("signing:\n  verify-key: pub.pem\n") }
        #expect(typo?.kind == .invalidInput && typo?.message.contains("verify-key") == true)
    }
}
