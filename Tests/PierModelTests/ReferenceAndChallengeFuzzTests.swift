import Foundation
import PierModel
import Testing

@testable import PierRegistry

/// Seeded property tests with an oracle: inputs are generated from the grammar (and then broken on purpose), so a
/// valid input must parse to exactly the parts it was built from, and anything else must throw a `PierError`
/// (never crash). At least 100,000 cases each (`PIER_FUZZ_ITERATIONS` raises the count).
struct ReferenceAndChallengeFuzzTests {
    static let cases = max(100_000, Int(ProcessInfo.processInfo.environment["PIER_FUZZ_ITERATIONS"] ?? "") ?? 0)

    typealias Generator = FuzzTests.Generator

    static func pick<T>(_ options: [T], _ rng: inout Generator) -> T {
        options[Int.random(in: 0..<options.count, using: &rng)]
    }

    static func word(_ rng: inout Generator, _ alphabet: String, _ lengths: ClosedRange<Int>) -> String {
        let characters = Array(alphabet)
        return String((0..<Int.random(in: lengths, using: &rng)).map { _ in pick(characters, &rng) })
    }

    /// A path component from the grammar: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
    static func component(_ rng: inout Generator) -> String {
        var text = word(&rng, "abcz0189", 1...4)
        for _ in 0..<Int.random(in: 0...2, using: &rng) {
            text += pick([".", "_", "__", "-", "--"], &rng) + word(&rng, "abcz0189", 1...3)
        }
        return text
    }

    @Test func referencesParseToTheirParts() throws {
        var rng = Generator(state: 0x5EED_0001)
        var valid = 0
        for _ in 0..<Self.cases {
            let registry = Self.pick(
                [
                    nil, "docker.io", "index.docker.io", "ghcr.io", "registry.example.com", "localhost:5000",
                    "127.0.0.1:\(Int.random(in: 1...65_535, using: &rng))", "[::1]:5000",
                ],
                &rng)
            var components = (0..<Int.random(in: 1...3, using: &rng)).map { _ in Self.component(&rng) }
            // Without a registry, a first component with a '.' would be read as one (docker's splitDockerDomain).
            if registry == nil, components.count > 1 {
                components[0] = components[0].replacingOccurrences(of: ".", with: "-")
            }
            let path = components.joined(separator: "/")
            let tag: String? =
                Bool.random(using: &rng)
                ? Self.word(&rng, "abcXYZ019_", 1...1) + Self.word(&rng, "aZ09_.-", 0...12) : nil
            let digest: String? =
                Int.random(in: 0...3, using: &rng) == 0 ? "sha256:" + Self.word(&rng, "0123456789abcdef", 64...64) : nil
            var text = (registry.map { $0 + "/" } ?? "") + path
            if let tag { text += ":" + tag }
            if let digest { text += "@" + digest }
            // One case in four is broken: a byte replaced, inserted or removed.
            let broken = Int.random(in: 0...3, using: &rng) == 0
            if broken {
                var bytes = Array(text.utf8)
                let index = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0...2, using: &rng) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.insert(Self.pick(Array("@:/.-_ A\u{0}[]".utf8), &rng), at: index)
                default: bytes.remove(at: index)
                }
                text = String(decoding: bytes, as: UTF8.self)
            }
            let reference: ImageReference
            do { reference = try ImageReference(parsing: text) } catch {
                #expect(broken || text.utf8.count > 255, "valid reference refused: \(text): \(error)")
                #expect(!error.message.isEmpty)
                continue
            }
            // Whatever parses prints back to itself.
            #expect(
                try ImageReference(parsing: reference.description)
                    == reference.with(tag: reference.tagOrDefault, digest: reference.digest), "\(text)")
            guard !broken else { continue }
            valid += 1
            let expectedRegistry = registry.map { $0 == "index.docker.io" ? "docker.io" : $0 } ?? "docker.io"
            #expect(reference.registry == expectedRegistry, "\(text)")
            let expectedPath = expectedRegistry == "docker.io" && !path.contains("/") ? "library/" + path : path
            #expect(reference.repository == expectedPath, "\(text)")
            #expect(reference.tag == tag, "\(text)")
            #expect(reference.digest?.description == digest, "\(text)")
        }
        #expect(valid > Self.cases / 2)
    }

    /// A quoted-string (RFC 9110 §5.6.4) holding `value`.
    static func quoted(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    @Test func challengesParseToTheirParts() {
        var rng = Generator(state: 0x5EED_0002)
        for _ in 0..<Self.cases {
            var expected: [AuthChallenge] = []
            var parts: [String] = []
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let scheme = Self.pick(["Bearer", "Basic", "bearer", "BASIC", "Negotiate"], &rng)
                var parameters: [String: String] = [:]
                var written: [String] = []
                let names = ["realm", "service", "scope", "error", "Realm", "x-y"].shuffled(using: &rng).prefix(
                    Int.random(in: 0...4, using: &rng))
                for name in names where parameters[name.lowercased()] == nil {
                    let value = Self.word(&rng, "ab:/.,= \"\\\t_-+é", 0...24)
                    parameters[name.lowercased()] = value
                    let space = Self.pick(["", " ", "\t"], &rng)
                    written.append(name + space + "=" + space + Self.quoted(value))
                }
                expected.append(AuthChallenge(scheme: scheme, parameters: parameters))
                parts.append(
                    scheme
                        + (written.isEmpty
                            ? "" : " " + written.joined(separator: Self.pick([",", ", ", " ,  "], &rng))))
            }
            let header = parts.joined(separator: ", ")
            let parsed = AuthChallenge.parse(header)
            #expect(parsed == expected, "\(header)")

            // Broken headers: never a crash, schemes stay lowercased tokens.
            var bytes = Array(header.utf8)
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            let mutated = AuthChallenge.parse(String(decoding: bytes, as: UTF8.self))
            #expect(mutated.allSatisfy { !$0.scheme.isEmpty && $0.scheme == $0.scheme.lowercased() })
        }
    }
}
