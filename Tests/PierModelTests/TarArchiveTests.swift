import Foundation
import PierModel
import Testing

@testable import PierLayout

struct TarArchiveTests {
    @Test func roundTripWithLongNames() throws {
        let source = NSTemporaryDirectory() + "pier-tar-src-\(UUID().uuidString)"
        let target = NSTemporaryDirectory() + "pier-tar-dst-\(UUID().uuidString)"
        let long = String(repeating: "d", count: 120)
        try FileManager.default.createDirectory(atPath: source + "/blobs/sha256", withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: URL(fileURLWithPath: source + "/blobs/sha256/a"))
        try Data(repeating: 7, count: 1_000_003).write(to: URL(fileURLWithPath: source + "/\(long)"))
        let archive = source + ".tar"
        try TarArchive.create(archive, from: source)
        // GNU tar reads what pier writes.
        let listing = Process()
        listing.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        listing.arguments = ["tar", "-tf", archive]
        let pipe = Pipe()
        listing.standardOutput = pipe
        try listing.run()
        let names = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        listing.waitUntilExit()
        #expect(names.contains(long))
        try TarArchive.extract(archive, into: target)
        #expect(try Data(contentsOf: URL(fileURLWithPath: target + "/blobs/sha256/a")) == Data("hello".utf8))
        #expect(try Data(contentsOf: URL(fileURLWithPath: target + "/\(long)")).count == 1_000_003)
    }

    @Test func refusesEscapingAndTruncatedArchives() throws {
        let dir = NSTemporaryDirectory() + "pier-tar-bad-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/in/file"))
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-cf", dir + "/evil.tar", "-C", dir + "/in", "--transform", "s,^,../,", "file"]
        try tar.run()
        tar.waitUntilExit()
        #expect { try TarArchive.extract(dir + "/evil.tar", into: dir + "/out") } throws: {
            ($0 as? PierError)?.message.contains("escapes") ?? false
        }
        let good = dir + "/good.tar"
        try TarArchive.create(good, from: dir + "/in")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        try bytes.prefix(700).write(to: URL(fileURLWithPath: dir + "/cut.tar"))
        #expect { try TarArchive.extract(dir + "/cut.tar", into: dir + "/out2") } throws: {
            ($0 as? PierError)?.kind == .invalidInput
        }
        try Data(repeating: 0x41, count: 512).write(to: URL(fileURLWithPath: dir + "/junk.tar"))
        #expect { try TarArchive.extract(dir + "/junk.tar", into: dir + "/out3") } throws: {
            ($0 as? PierError)?.kind == .invalidInput
        }
    }

    @Test func gzipIsDeterministicAndReadableByGunzip() throws {
        let dir = NSTemporaryDirectory() + "pier-gz-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var bytes = [UInt8]()
        for i in 0..<3_000_000 { bytes.append(UInt8(truncatingIfNeeded: i * 7 + i / 1000)) }
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/in"))
        let first = try Gzip.compress(dir + "/in", to: dir + "/a.gz")
        let second = try Gzip.compress(dir + "/in", to: dir + "/b.gz")
        #expect(first.digest == second.digest)
        #expect(first.uncompressedDigest == Digest.sha256(of: bytes))
        let header = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.gz")).prefix(10)
        #expect(Array(header) == [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])
        let gunzip = Process()
        gunzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gunzip.arguments = ["gunzip", "-k", dir + "/a.gz"]
        try gunzip.run()
        gunzip.waitUntilExit()
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/a")) == Data(bytes))
    }
}
