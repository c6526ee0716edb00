import PierModel
import Testing

/// Cases from docker's distribution/reference `normalize_test.go` and `reference_test.go`.
struct ImageReferenceTests {
    @Test(arguments: [
        ("nginx", "docker.io", "library/nginx", nil as String?, nil as String?),
        ("nginx:1.25", "docker.io", "library/nginx", "1.25", nil),
        ("docker.io/nginx", "docker.io", "library/nginx", nil, nil),
        ("index.docker.io/library/nginx:latest", "docker.io", "library/nginx", "latest", nil),
        ("user/app", "docker.io", "user/app", nil, nil),
        ("ghcr.io/org/app:1.2.3", "ghcr.io", "org/app", "1.2.3", nil),
        ("localhost/app", "localhost", "app", nil, nil),
        ("localhost:5000/app:dev", "localhost:5000", "app", "dev", nil),
        ("127.0.0.1:5000/a/b/c", "127.0.0.1:5000", "a/b/c", nil, nil),
        ("[::1]:5000/app:v1", "[::1]:5000", "app", "v1", nil),
        ("Example.com/app", "Example.com", "app", nil, nil),
        ("foo-bar.com:8080/a__b/c-d--e/f.g", "foo-bar.com:8080", "a__b/c-d--e/f.g", nil, nil),
        (
            "localhost:5000/app@sha256:" + String(repeating: "a", count: 64), "localhost:5000", "app", nil,
            "sha256:" + String(repeating: "a", count: 64)
        ),
        (
            "ghcr.io/o/app:1.0@sha256:" + String(repeating: "b", count: 64), "ghcr.io", "o/app", "1.0",
            "sha256:" + String(repeating: "b", count: 64)
        ),
    ])
    func parses(text: String, registry: String, repository: String, tag: String?, digest: String?) throws {
        let reference = try ImageReference(parsing: text)
        #expect(reference.registry == registry)
        #expect(reference.repository == repository)
        #expect(reference.tag == tag)
        #expect(reference.digest?.description == digest)
    }

    @Test func dockerHubDefaults() throws {
        let reference = try ImageReference(parsing: "nginx")
        #expect(reference.endpointHost == "registry-1.docker.io")
        #expect(reference.description == "docker.io/library/nginx:latest")
        #expect(reference.tagOrDefault == "latest")
    }

    @Test(arguments: [
        ("", "empty"),
        ("Nginx", "lowercase"),
        ("docker.io/User/app", "lowercase"),
        ("app:-bad", "bad tag"),
        ("app:" + String(repeating: "x", count: 129), "bad tag"),
        ("app@sha256:abc", "64 lowercase hex"),
        ("app@md5:" + String(repeating: "a", count: 32), "unsupported digest algorithm"),
        // sha512 is optional in image-spec and pier does not verify it: refused, never trusted unchecked.
        ("app@sha512:" + String(repeating: "a", count: 128), "unsupported digest algorithm"),
        ("a//b", "bad repository"),
        ("a/b_", "bad repository"),
        ("-host.com/app", "bad registry"),
        ("host.com:port/app", "bad registry"),
        ("app:tag:extra", "bad repository"),
    ])
    func rejects(text: String, why: String) {
        #expect {
            _ = try ImageReference(parsing: text)
        } throws: { error in
            guard let error = error as? PierError else { return false }
            return error.kind == .usage && error.message.contains(why)
        }
    }

    @Test func loopbackHosts() {
        #expect(ImageReference.isLoopback(host: "127.0.0.1:5000"))
        #expect(ImageReference.isLoopback(host: "127.1.2.3"))
        #expect(ImageReference.isLoopback(host: "localhost:443"))
        #expect(ImageReference.isLoopback(host: "[::1]:5000"))
        #expect(!ImageReference.isLoopback(host: "128.0.0.1"))
        #expect(!ImageReference.isLoopback(host: "127.example.com"))
        #expect(!ImageReference.isLoopback(host: "ghcr.io"))
    }
}

struct DigestAndManifestTests {
    @Test func digestOfBytes() throws {
        #expect(
            Digest.sha256(of: Array("".utf8)).description
                == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(try Digest("sha256:" + String(repeating: "0", count: 64)).short == "sha256:000000000000")
    }

    @Test func manifestKeepsBytesAndHashesThem() throws {
        // Whitespace and key order are part of the bytes: re-serialising would change the digest.
        let text =
            #"{ "schemaVersion": 2,  "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "size": 0}, "layers": [] }"#
        let blob = try ManifestBlob(bytes: Array(text.utf8), mediaType: nil, source: "test")
        #expect(blob.bytes == Array(text.utf8))
        #expect(blob.digest == Digest.sha256(of: Array(text.utf8)))
        #expect(blob.mediaType == MediaType.ociManifest)
        #expect(blob.document.blobs.count == 1)
    }

    @Test func manifestDigestMismatchIsRefused() {
        let bytes = Array(#"{"schemaVersion":2,"manifests":[]}"#.utf8)
        let wrong = try! Digest("sha256:" + String(repeating: "1", count: 64))
        #expect(throws: PierError.self) { try ManifestBlob(bytes: bytes, mediaType: nil, expected: wrong, source: "t") }
    }

    @Test func indexIsDetectedWithoutMediaType() throws {
        let blob = try ManifestBlob(
            bytes: Array(#"{"schemaVersion":2,"manifests":[]}"#.utf8), mediaType: nil, source: "t")
        #expect(blob.isIndex)
    }

    @Test(arguments: [
        #"not json"#, #"{"schemaVersion":1,"fsLayers":[]}"#, #"{"schemaVersion":2,"layers":"nope"}"#,
        #"{"schemaVersion":2,"config":{"digest":"sha256:short","size":1,"mediaType":"x"}}"#,
    ])
    func malformedManifestsAreInvalidInput(text: String) {
        #expect {
            _ = try ManifestBlob(bytes: Array(text.utf8), mediaType: nil, source: "t")
        } throws: { ($0 as? PierError)?.kind == .invalidInput }
    }

    @Test func oversizedManifestIsRefused() {
        let bytes = [UInt8](repeating: 32, count: ManifestBlob.maximumSize + 1)
        #expect { _ = try ManifestBlob(bytes: bytes, mediaType: nil, source: "t") } throws: {
            ($0 as? PierError)?.message.contains("4 MiB") ?? false
        }
    }

    @Test func platformMatching() throws {
        let arm64 = Platform(os: "linux", architecture: "arm64")
        #expect(try Platform(parsing: "linux/arm64/v8").matches(arm64))
        #expect(
            try Platform(parsing: "linux/arm64").matches(Platform(os: "linux", architecture: "arm64", variant: "v8")))
        #expect(
            !(try Platform(parsing: "linux/arm/v7").matches(Platform(os: "linux", architecture: "arm", variant: "v6"))))
        #expect(throws: PierError.self) { try Platform(parsing: "linux") }
    }
}
