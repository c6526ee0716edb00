import Foundation
import PierLayout
import PierModel
import Testing

/// Parallel gzip and zstd layers: the same bytes whatever the number of workers, read back by gzip and zstd.
struct LayerCompressionTests {
    /// Mixed input: incompressible runs, text-like runs and zeros, so chunks both shrink and grow.
    static func input(size: Int, seed: UInt64) -> [UInt8] {
        var state = seed | 1
        var bytes = [UInt8]()
        bytes.reserveCapacity(size)
        while bytes.count < size {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let run = min(size - bytes.count, Int(state >> 50) + 1)
            switch state >> 62 {
            case 0: bytes += [UInt8](repeating: 0, count: run)
            case 1: bytes += (0..<run).map { UInt8(ascii: "a") + UInt8(truncatingIfNeeded: $0 % 26) }
            default:
                for _ in 0..<run {
                    state = state &* 6_364_136_223_846_793_005 &+ 1
                    bytes.append(UInt8(truncatingIfNeeded: state >> 56))
                }
            }
        }
        return bytes
    }

    static func compress(_ bytes: [UInt8], _ compression: LayerCompression, workers: Int, in dir: String) throws
        -> (CompressedLayer, Data)
    {
        let source = dir + "/in-\(bytes.count)"
        let destination = dir + "/out-\(bytes.count)-\(workers)"
        try Data(bytes).write(to: URL(fileURLWithPath: source))
        let layer = try LayerEncoder.compress(source, to: destination, compression: compression, workers: workers)
        return (layer, try Data(contentsOf: URL(fileURLWithPath: destination)))
    }

    static func decompress(_ tool: String, _ data: Data, in dir: String) throws -> Data {
        let path = dir + "/check-\(UUID().uuidString)"
        try data.write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool, "-d", "-c", path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let result = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(tool) -d refused the stream")
        return result
    }

    static func directory() throws -> String {
        let dir = NSTemporaryDirectory() + "pier-compress-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Sizes around the 1 MiB chunk and the 32 KiB dictionary, with 1 to 5 workers: one digest per input, and
    /// GNU gzip restores the input.
    @Test(arguments: [0, 1, 40_000, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 12_345])
    func gzipIsTheSameForEveryWorkerCount(size: Int) throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = Self.input(size: size, seed: UInt64(size) + 7)
        let (single, singleData) = try Self.compress(bytes, .gzip(level: 6), workers: 1, in: dir)
        for workers in [2, 3, 5] {
            let (layer, data) = try Self.compress(bytes, .gzip(level: 6), workers: workers, in: dir)
            #expect(layer == single)
            #expect(data == singleData)
        }
        #expect(single.uncompressedDigest == Digest.sha256(of: bytes))
        #expect(single.digest == Digest.sha256(of: [UInt8](singleData)))
        #expect(single.size == Int64(singleData.count))
        #expect(single.mediaType == MediaType.ociLayerGzip)
        #expect(Array(singleData.prefix(10)) == [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])
        #expect(try Self.decompress("gzip", singleData, in: dir) == Data(bytes))
    }

    /// A source that cannot be read (a directory: read fails with EISDIR) is one error, and no partial output.
    @Test func aFailedCompressionLeavesNoOutput() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let destination = dir + "/layer.gz"
        #expect(throws: PierError.self) { try LayerEncoder.compress(dir, to: destination) }
        #expect(!FileManager.default.fileExists(atPath: destination))
    }

    /// Levels change the bytes (1 and 9 also the XFL header byte) but never the content.
    @Test func gzipLevels() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = Self.input(size: 2 * (1 << 20) + 99, seed: 3)
        let (fast, fastData) = try Self.compress(bytes, .gzip(level: 1), workers: 2, in: dir)
        let (best, bestData) = try Self.compress(bytes, .gzip(level: 9), workers: 2, in: dir)
        #expect(fast.digest != best.digest)
        #expect(fast.uncompressedDigest == best.uncompressedDigest)
        #expect(fastData[8] == 4 && bestData[8] == 2)
        #expect(try Self.decompress("gzip", fastData, in: dir) == Data(bytes))
        #expect(try Self.decompress("gzip", bestData, in: dir) == Data(bytes))
    }

    /// libzstd's workers cut jobs by level, not by count: one digest for 1 and 4 workers; zstd restores the input.
    @Test func zstdIsTheSameForEveryWorkerCount() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = Self.input(size: 9 * (1 << 20) + 5, seed: 11)
        let (one, oneData) = try Self.compress(bytes, .zstd(level: 3), workers: 1, in: dir)
        let (four, fourData) = try Self.compress(bytes, .zstd(level: 3), workers: 4, in: dir)
        #expect(one == four && oneData == fourData)
        #expect(one.mediaType == MediaType.ociLayerZstd)
        #expect(one.uncompressedDigest == Digest.sha256(of: bytes))
        #expect(Array(oneData.prefix(4)) == [0x28, 0xb5, 0x2f, 0xfd])
        #expect(try Self.decompress("zstd", oneData, in: dir) == Data(bytes))
    }

    @Test func levelsAndNamesAreRangeChecked() throws {
        #expect(try LayerCompression(name: nil, level: nil) == .gzip(level: 6))
        #expect(try LayerCompression(name: "zstd", level: nil) == .zstd(level: 3))
        #expect(try LayerCompression(name: "gzip", level: 9) == .gzip(level: 9))
        #expect(try LayerCompression(name: "zstd", level: 19) == .zstd(level: 19))
        for (name, level) in [("gzip", 0), ("gzip", 10), ("zstd", 0), ("zstd", 20), ("gzip", Int.max)] {
            #expect(throws: PierError.self) { try LayerCompression(name: name, level: level) }
        }
        #expect(throws: PierError.self) { try LayerCompression(name: "brotli", level: nil) }
    }
}
