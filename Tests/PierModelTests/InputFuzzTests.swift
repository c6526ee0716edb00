import Foundation
import PierModel
import PierTestSupport
import Testing

@testable import PierEngine
@testable import PierLayout

/// Seeded fuzzing of what pier reads from other people: tar headers (ustar fields and PAX records), manifests and
/// image configs, pier.yml. Each target runs `cases` inputs built from a valid seed by structure-aware and byte
/// mutations; a crash fails the whole run, anything else must be a value or a `PierError` with a message.
/// (`PIER_FUZZ_CASES` raises the count for a longer run.)
struct InputFuzzTests {
    static let cases = Int(ProcessInfo.processInfo.environment["PIER_FUZZ_CASES"] ?? "") ?? 100_000
    typealias Generator = FuzzTests.Generator

    /// Outcome counts of one target, merged over its workers.
    typealias Tally = [String: Int]

    /// Runs `cases` cases over four concurrent workers, worker `n` seeded `seed + n`, so a run is the same on every
    /// machine and still uses the cores CI has. `body` runs one case and counts its outcome.
    static func fuzz(
        seed: UInt64, cases: Int = cases, _ body: @escaping @Sendable (inout Generator, inout Tally) -> Void
    ) async -> Tally {
        let workers = 4
        return await withTaskGroup(of: Tally.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var rng = Generator(state: seed &+ UInt64(worker))
                    var tally: Tally = [:]
                    for _ in 0..<(cases / workers) { body(&rng, &tally) }
                    return tally
                }
            }
            var total: Tally = [:]
            for await tally in group { total.merge(tally, uniquingKeysWith: +) }
            return total
        }
    }

    // MARK: Tar headers

    static let hostileRecords = [
        "1 x", "2 \n", "3 =\n", " 5 x=y\n", "6 x=y", "0 size=1\n", "-1 size=1\n", "5 a=\n", "18 size=0x10\n",
        "9223372036854775807 path=a\n", "9223372036854775808 size=1\n", "99999999999999999999 size=1\n",
        "12 size=-1\n", "30 size=9223372036854775807\n", "25 size=1099511627777\n", "1000000 path=a\n",
    ]

    static let hostileSizeFields: [[UInt8]] = [
        Array("77777777777\0".utf8), Array("99999999999\0".utf8), Array("-0000000001\0".utf8),
        Array("  +17 \0\0\0\0\0\0".utf8),
        [0x80, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0],
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        [0x80, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], Array("0x1234\0\0\0\0\0\0".utf8),
    ]

    /// A small archive: maybe a PAX header, maybe a GNU long name, maybe a global header, a file, maybe a directory.
    static func randomArchive(_ rng: inout Generator) -> (bytes: [UInt8], headers: [Int]) {
        var bytes: [UInt8] = []
        var headers: [Int] = []
        func append(name: String, type: UInt8, data: [UInt8]) {
            headers.append(bytes.count)
            bytes += TarFixture.member(name: name, type: type, data: data)
        }
        if Bool.random(using: &rng) {
            var pax = ""
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                switch Int.random(in: 0...4, using: &rng) {
                case 0: pax += hostileRecords.randomElement(using: &rng)!
                case 1:
                    pax += TarFixture.paxRecord(
                        "path",
                        ["a/b", "../up", "/abs", String(repeating: "n", count: 300)].randomElement(using: &rng)!)
                case 2:
                    pax += TarFixture.paxRecord(
                        "size",
                        ["0", "5", "-3", "9223372036854775807", "1e3", " 7", "18446744073709551616"].randomElement(
                            using: &rng)!)
                case 3:
                    pax += TarFixture.paxRecord(
                        ["mtime", "uid", "linkpath", "comment"].randomElement(using: &rng)!, "1")
                default:
                    pax += String(
                        decoding: (0..<Int.random(in: 1...12, using: &rng)).map { _ in
                            UInt8.random(in: 0...127, using: &rng)
                        }, as: UTF8.self)
                }
            }
            append(name: "PaxHeaders/x", type: UInt8(ascii: "x"), data: Array(pax.utf8))
        }
        if Int.random(in: 0...3, using: &rng) == 0 {
            append(
                name: "././@LongLink", type: UInt8(ascii: "L"),
                data: Array((String(repeating: "l", count: 150) + "\0").utf8))
        }
        if Int.random(in: 0...5, using: &rng) == 0 {
            append(name: "global", type: UInt8(ascii: "g"), data: Array(TarFixture.paxRecord("comment", "x").utf8))
        }
        let name = ["blobs/sha256/a", "./index.json", "../evil", "/abs", "a/../../b", "ok"].randomElement(using: &rng)!
        append(
            name: name, type: UInt8(ascii: "0"),
            data: [UInt8](repeating: 7, count: Int.random(in: 0...1500, using: &rng)))
        if Bool.random(using: &rng) { append(name: "dir/", type: UInt8(ascii: "5"), data: []) }
        if Bool.random(using: &rng) { bytes += TarFixture.end }
        return (bytes, headers)
    }

    /// Seed archives, made once; each case mutates a copy of one.
    static let seedArchives: [(bytes: [UInt8], headers: [Int])] = {
        var rng = Generator(state: 10)
        return (0..<256).map { _ in randomArchive(&rng) }
    }()

    @Test func tarHeadersThrowOrRead() async {
        let seeds = Self.seedArchives
        let tally = await Self.fuzz(seed: 11) { rng, tally in
            let seed = seeds.randomElement(using: &rng)!
            var bytes = seed.bytes
            var touched: Set<Int> = []
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                let header = seed.headers.randomElement(using: &rng)!
                touched.insert(header)
                switch Int.random(in: 0...3, using: &rng) {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes[header + Int.random(in: 0..<512, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 2:
                    for (index, byte) in Self.hostileSizeFields.randomElement(using: &rng)!.enumerated() {
                        bytes[header + 124 + index] = byte
                    }
                default:
                    bytes[header + 156] = [0, 0x30, 0x35, 0x37, 0x78, 0x4c, 0x67, 0x4b, 0x32].randomElement(
                        using: &rng)!
                }
            }
            // Most mutants keep a valid checksum, so the parser goes past it.
            if Int.random(in: 0...9, using: &rng) > 0 {
                for offset in touched { TarFixture.fixChecksum(&bytes, at: offset) }
            }
            if Int.random(in: 0...7, using: &rng) == 0 {
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
            }
            var reader = TarReader(.bytes(bytes), archive: "fuzz.tar")
            withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 16) { buffer in
                do throws(PierError) {
                    while let entry = try reader.next() {
                        if (try? TarArchive.components(of: entry.name, reader: reader)) == nil {
                            tally["refused names", default: 0] += 1
                        }
                        while try reader.read(into: buffer, entry: entry) > 0 {}
                        tally["entries", default: 0] += 1
                    }
                } catch {
                    tally[
                        error.message.isEmpty || error.kind != .invalidInput ? "silent errors" : "errors", default: 0] +=
                        1
                }
            }
        }
        #expect(tally["silent errors", default: 0] == 0)
        #expect(
            tally["entries", default: 0] > Self.cases / 2, "the mutants are too broken to reach the entries: \(tally)")
        #expect(tally["refused names", default: 0] > 0 && tally["errors", default: 0] > Self.cases / 20, "\(tally)")
    }

    /// The PAX records the issue named, through a real file: one line, the archive named, no trap.
    @Test(arguments: [
        "1 x", "9223372036854775807 path=a\n", "9223372036854775806 size=1\n", "99999999999999999999 size=1\n",
    ])
    func hostilePaxRecordsAreRefused(record: String) throws {
        let bytes = TarFixture.archive(paxRecords: record, files: [("index.json", Array("{}".utf8))])
        let dir = NSTemporaryDirectory() + "pier-pax-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/bad.tar"))
        do {
            try TarArchive.extract(dir + "/bad.tar", into: dir + "/out")
            Issue.record("\(record.debugDescription) was accepted")
        } catch {
            #expect(error.kind == .invalidInput)
            #expect(error.message.contains("bad.tar") && error.message.contains("PAX"), "\(error.message)")
        }
    }

    // MARK: Manifests and configs

    static let hostileNumbers = [
        "0", "1", "-1", "9223372036854775807", "9223372036854775808", "4611686018427387904", "1e400", "-1e400", "1.5",
        "1e2", "\"12\"", "null", "[]", "{}", "true", "00", "-0", "18446744073709551616",
    ]
    static let hostileStrings = [
        "\"application/vnd.oci.image.layer.v1.tar+gzip\"", "\"\"", "\"\\u001b]0;pwn\\u0007\"", "\"\\ud800\"",
        "\"\\u0000\"",
        "\"x/../../other/manifests/pwn?a=b\"", "\"\u{9B}31m\"", "1", "null",
        "\"" + String(repeating: "a", count: 5000) + "\"",
    ]
    static let digests = [
        "\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"", "\"sha256:E3B0\"", "\"md5:00\"",
        "\"sha512:" + String(repeating: "0", count: 128) + "\"", "\"sha256:../../etc/passwd\"", "7",
    ]

    static func randomManifest(_ rng: inout Generator) -> [UInt8] {
        func descriptor(_ mediaType: String) -> String {
            let type =
                Int.random(in: 0...5, using: &rng) == 0
                ? hostileStrings.randomElement(using: &rng)! : "\"\(mediaType)\""
            var fields = [
                "\"mediaType\":\(type)", "\"digest\":\(digests.randomElement(using: &rng)!)",
                "\"size\":\(hostileNumbers.randomElement(using: &rng)!)",
            ]
            if Bool.random(using: &rng) {
                fields.append(
                    "\"annotations\":{\"org.opencontainers.image.ref.name\":\(hostileStrings.randomElement(using: &rng)!)}"
                )
            }
            if Bool.random(using: &rng) {
                fields.append(
                    "\"platform\":{\"os\":\"linux\",\"architecture\":\(hostileStrings.randomElement(using: &rng)!)}")
            }
            if Int.random(in: 0...9, using: &rng) == 0 { fields.removeAll { _ in Bool.random(using: &rng) } }
            return "{" + fields.shuffled(using: &rng).joined(separator: ",") + "}"
        }
        let text: String
        if Bool.random(using: &rng) {
            let layers = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                descriptor("application/vnd.oci.image.layer.v1.tar+gzip")
            }
            text =
                "{\"schemaVersion\":\(["2", "1", "\"2\"", "99999999999999999999"].randomElement(using: &rng)!),"
                + "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":\(descriptor("application/vnd.oci.image.config.v1+json")),\"layers\":[\(layers.joined(separator: ","))]}"
        } else {
            let entries = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                descriptor("application/vnd.oci.image.manifest.v1+json")
            }
            text =
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[\(entries.joined(separator: ","))]}"
        }
        return mutate(Array(text.utf8), &rng)
    }

    static func randomConfig(_ rng: inout Generator) -> [UInt8] {
        func value() -> String {
            switch Int.random(in: 0...3, using: &rng) {
            case 0: return hostileNumbers.randomElement(using: &rng)!
            case 1: return hostileStrings.randomElement(using: &rng)!
            case 2:
                // Nesting, past JSONDecoder's depth limit (512) once in a thousand, unbalanced one time in ten. (Deep
                // documents are slow under the test library, which records a backtrace for every error thrown.)
                let depth = Int.random(in: 0...(Int.random(in: 0...999, using: &rng) == 0 ? 600 : 3), using: &rng)
                let closing = Int.random(in: 0...9, using: &rng) == 0 ? Int.random(in: 0...depth, using: &rng) : depth
                return "[" + String(repeating: "[", count: depth) + String(repeating: "]", count: closing) + "]"
            default: return "{\"a\":\(hostileStrings.randomElement(using: &rng)!)}"
            }
        }
        let text =
            "{\"architecture\":\(value()),\"os\":\"linux\",\"created\":\(value()),"
            + "\"config\":{\"Env\":[\(value())],\"Entrypoint\":\(value()),\"Labels\":{\"k\":\(value())},\"ExposedPorts\":{\"80/tcp\":\(value())}},"
            + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\(value())]},\"x\":\(value())}"
        return mutate(Array(text.utf8), &rng)
    }

    /// A few random byte edits, most of the time none.
    static func mutate(_ bytes: [UInt8], _ rng: inout Generator) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<max(0, Int.random(in: -3...3, using: &rng)) where !bytes.isEmpty {
            let index = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0...2, using: &rng) {
            case 0: bytes[index] = UInt8.random(in: 0...255, using: &rng)
            case 1: bytes.remove(at: index)
            default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: index)
            }
        }
        return bytes
    }

    /// A fifth of the cases: JSONValue decoding throws once per type it tries, and the test library records a
    /// backtrace for every throw, which makes a config case cost a hundred tar cases.
    @Test func manifestsAndConfigsThrowOrDecode() async {
        let tally = await Self.fuzz(seed: 12, cases: Self.cases / 5) { rng, tally in
            if Bool.random(using: &rng) {
                do throws(PierError) {
                    let blob = try ManifestBlob(bytes: Self.randomManifest(&rng), mediaType: nil, source: "fuzz")
                    tally["manifests", default: 0] += 1
                    // What inspect, notes and copies do with a decoded manifest.
                    if (blob.document.blobs + (blob.document.manifests ?? [])).contains(where: { $0.size < 0 }) {
                        tally["negative sizes", default: 0] += 1
                    }
                    _ = try? Descriptor.totalSize(of: blob.document.layers ?? [], what: "layer", source: "fuzz")
                    _ = try? OCILayout(root: "/nonexistent").refName(
                        of: blob.document.manifests?.first ?? blob.descriptor)
                } catch {
                    if error.message.isEmpty { tally["silent errors", default: 0] += 1 }
                }
            } else {
                let bytes = Data(Self.randomConfig(&rng))
                _ = try? JSONDecoder().decode(ImageConfigSummary.self, from: bytes)
                if let value = try? JSONDecoder().decode(JSONValue.self, from: bytes) {
                    tally["configs", default: 0] += 1
                    // pier re-encodes base configs it edits: what decoded must encode to the same value.
                    if (try? JSONDecoder().decode(JSONValue.self, from: Data(CanonicalJSON.bytes(value)))) != value {
                        tally["configs changed by re-encoding", default: 0] += 1
                    }
                }
            }
        }
        #expect(tally["silent errors", default: 0] == 0 && tally["negative sizes", default: 0] == 0, "\(tally)")
        #expect(tally["configs changed by re-encoding", default: 0] == 0, "\(tally)")
        #expect(
            tally["manifests", default: 0] > Self.cases / 250 && tally["configs", default: 0] > Self.cases / 250,
            "\(tally)")
    }

    // MARK: pier.yml

    static let seedConfig = """
        source: oci:build/layout:1.0
        registries:
          - ghcr.io/org/app
          - repository: 127.0.0.1:5000/app
            insecure: true
            username_env: REG_USER
            password_env: REG_PASS
        tags:
          semver: true
          sha_length: 12
          prefix: v
        on_conflict: fail
        concurrency: 8
        fail_fast: false
        insecure_registries: [localhost:5000]
        build:
          builder: native
          add: [dist:/srv]
          env: {MODE: prod}
          build_args: [A=1]
          platforms: [linux/amd64]
          expose: ["8080"]
          pass_env: [NPM_CONFIG_REGISTRY]
        prune:
          keep_last: 3
          keep: ["^v[0-9]+"]
          only: "^sha-"
        """

    static let hostileScalars = [
        "99999999999999999999", "1:2:3:4:5:6:7:8:9:10:11:12", "99999999999999999:0", "-1:30", "0x7fffffffffffffffff",
        "-0o777777777777777777777", "1_000_000_000_000_000_000_000", ".inf", "-.nan", "~", "null", "[", "{a: b}",
        "*alias",
        "&anchor x", "!!binary aGk=", "'unterminated", "\"\\u001b]0;x\\u0007\"", "\"\\x9b\"",
        "[" + String(repeating: "[", count: 300),
        "<<: *a", "? complex", "|\n  block", "2001-12-14t21:59:43.10-05:00", "yes", "0", "-5", "65",
    ]

    /// The seed's top-level sections, each with its nested lines.
    static let seedSections: [[String]] = {
        var sections: [[String]] = []
        for line in seedConfig.split(separator: "\n").map(String.init) {
            if line.hasPrefix(" ") || line.hasPrefix("-"), !sections.isEmpty {
                sections[sections.count - 1].append(line)
            } else {
                sections.append([line])
            }
        }
        return sections
    }()

    /// One to three sections of the seed (a small document parses fast enough for 100,000 cases), mutated.
    static func randomConfigText(_ rng: inout Generator) -> String {
        var lines = seedSections.shuffled(using: &rng).prefix(Int.random(in: 1...3, using: &rng)).flatMap { $0 }
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let index = Int.random(in: 0..<lines.count, using: &rng)
            switch Int.random(in: 0...4, using: &rng) {
            case 0, 1:
                // Replace the value after the key with a hostile scalar.
                if let colon = lines[index].firstIndex(of: ":") {
                    lines[index] = String(lines[index][...colon]) + " " + hostileScalars.randomElement(using: &rng)!
                }
            case 2: if lines.count > 1 { lines.remove(at: index) }
            case 3: lines.insert(lines[index], at: index)
            default:
                var bytes = Array(lines[index].utf8)
                if !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...127, using: &rng)
                }
                lines[index] = String(decoding: bytes, as: UTF8.self)
            }
        }
        return lines.joined(separator: "\n")
    }

    @Test func pierConfigsThrowOrParse() async {
        let tally = await Self.fuzz(seed: 13) { rng, tally in
            do throws(PierError) {
                let config = try PierConfig.parse(Self.randomConfigText(&rng), file: "pier.yml")
                tally["parsed", default: 0] += 1
                if let concurrency = config.concurrency, !(1...64).contains(concurrency) {
                    tally["out of range", default: 0] += 1
                }
            } catch {
                if error.message.isEmpty || !error.message.contains("pier.yml") {
                    tally["silent errors", default: 0] += 1
                }
            }
        }
        #expect(tally["silent errors", default: 0] == 0 && tally["out of range", default: 0] == 0, "\(tally)")
        #expect(tally["parsed", default: 0] > Self.cases / 20, "\(tally)")
    }
}
