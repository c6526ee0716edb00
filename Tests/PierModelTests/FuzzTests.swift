import Foundation
import PierModel
import Testing

@testable import PierLayout
@testable import PierRegistry

/// Property tests over seeded random inputs, bounded in count so CI time stays fixed: parsers never crash, only
/// throw `PierError`, and what parses round-trips. (`PIER_FUZZ_ITERATIONS` raises the count for a longer run.)
struct FuzzTests {
    static let iterations = Int(ProcessInfo.processInfo.environment["PIER_FUZZ_ITERATIONS"] ?? "") ?? 20_000

    /// SplitMix64: a small seeded generator, so a failure is reproducible from its seed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randomText(_ rng: inout Generator, alphabet: [Character], maxLength: Int) -> String {
        String((0..<Int.random(in: 0...maxLength, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
    }

    @Test func referencesRoundTrip() {
        var rng = Generator(state: 1)
        let alphabet = Array("abcXYZ019._-/:@ sha256") + ["é", "\u{0}", "[", "]"]
        var parsed = 0
        for _ in 0..<Self.iterations {
            let text = Self.randomText(&rng, alphabet: alphabet, maxLength: 40)
            do {
                let reference = try ImageReference(parsing: text)
                parsed += 1
                let again = try ImageReference(parsing: reference.description)
                #expect(again == reference.with(tag: reference.tagOrDefault, digest: reference.digest), "\(text)")
            } catch {
                #expect(!error.message.isEmpty)
            }
        }
        #expect(parsed > 0)
    }

    @Test func challengesNeverCrash() {
        var rng = Generator(state: 2)
        let alphabet = Array("Bearer Basic realm=\"service,scope:=\\ \t")
        for _ in 0..<Self.iterations {
            let challenges = AuthChallenge.parse(Self.randomText(&rng, alphabet: alphabet, maxLength: 80))
            #expect(challenges.allSatisfy { $0.scheme == $0.scheme.lowercased() })
        }
    }

    @Test func mutatedManifestsThrowOrDecode() {
        var rng = Generator(state: 3)
        let valid = Array(
            #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":2,"platform":{"os":"linux","architecture":"amd64"}}]}"#
                .utf8)
        var decoded = 0
        for _ in 0..<Self.iterations {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let index = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0...2, using: &rng) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 32...126, using: &rng), at: index)
                }
                if bytes.isEmpty { bytes = [0x7b] }
            }
            if let blob = try? ManifestBlob(bytes: bytes, mediaType: nil, source: "fuzz") {
                decoded += 1
                #expect(blob.digest == Digest.sha256(of: bytes))
            }
        }
        #expect(decoded > 0)
    }

    @Test func versionsRoundTrip() {
        var rng = Generator(state: 4)
        let alphabet = Array("v0123456789.-+rcalph")
        for _ in 0..<Self.iterations {
            let text = Self.randomText(&rng, alphabet: alphabet, maxLength: 14)
            if let version = SemanticVersion(text) {
                #expect(SemanticVersion(version.description) == version, "\(text)")
            }
        }
    }

    @Test func mutatedArchivesThrowOrExtract() throws {
        var rng = Generator(state: 5)
        let dir = NSTemporaryDirectory() + "pier-fuzz-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/in/blobs", withIntermediateDirectories: true)
        try Data("index".utf8).write(to: URL(fileURLWithPath: dir + "/in/index.json"))
        try Data(repeating: 9, count: 3000).write(to: URL(fileURLWithPath: dir + "/in/blobs/b"))
        try TarArchive.create(dir + "/good.tar", from: dir + "/in")
        let good = try Data(contentsOf: URL(fileURLWithPath: dir + "/good.tar"))
        for round in 0..<min(Self.iterations / 20, 1000) {
            var bytes = [UInt8](good)
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) { bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng))) }
            let path = dir + "/m.tar"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do { try TarArchive.extract(path, into: dir + "/out\(round % 4)") } catch {
                #expect(!error.message.isEmpty)
            }
        }
        try? FileManager.default.removeItem(atPath: dir)
    }
}
