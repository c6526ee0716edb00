import Foundation
import PierModel
import PierRegistry
import PierTestSupport
import Testing

/// Uploads to a plain-HTTP registry go out with sendfile (`FileRegionUpload`, in 8 MiB parts); over TLS they stream
/// through pier's buffers (`FileByteStream`, 1 MiB reads). Both leave the same bytes on a real registry.
@Suite(.serialized) struct FileRegionUploadTests {
    /// 20 MiB and 123 bytes, not a multiple of either part size.
    static let bytes: [UInt8] = {
        let random = FileHandle(forReadingAtPath: "/dev/urandom")!
        defer { try? random.close() }
        return Array(random.readData(ofLength: (20 << 20) + 123))
    }()

    /// Uploads `bytes` from a file, then downloads them again; the sizes progress was told of.
    func roundTrip(_ registry: TestRegistry, caFile: String? = nil) async throws -> [Int] {
        let store = try Harness.store(caFile: caFile)
        defer { Task { await store.pool.shutdown() } }
        let client = await store.client(for: registry.host)
        let directory = Tools.temporaryDirectory("pier-upload")
        let file = directory + "/blob"
        try Data(Self.bytes).write(to: URL(fileURLWithPath: file))
        let digest = Digest.sha256(of: Self.bytes)
        let parts = Locked<[Int]>([])
        try await client.uploadBlob(
            repository: "app", digest: digest, size: Int64(Self.bytes.count), file: file,
            progress: { part in parts.withLock { $0.append(part) } })
        #expect(try await client.blobSize(repository: "app", digest: digest) == Int64(Self.bytes.count))
        let back = directory + "/back"
        try await client.downloadBlob(repository: "app", digest: digest, size: Int64(Self.bytes.count), to: back)
        #expect(try Data(contentsOf: URL(fileURLWithPath: back)) == Data(Self.bytes))
        return parts.withLock { $0 }
    }

    @Test func aPlainHTTPUploadIsSentFromTheFileInParts() async throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let parts = try await roundTrip(registry)
        #expect(parts == [8 << 20, 8 << 20, (4 << 20) + 123])
    }

    @Test func aTLSUploadStreamsThroughPiersBuffers() async throws {
        let certificates = try Certificates()
        let registry = try TestRegistry(tls: certificates)
        defer { registry.stop() }
        let parts = try await roundTrip(registry, caFile: certificates.caCert)
        #expect(parts.count == 21 && parts.allSatisfy { $0 <= 1 << 20 }, "\(parts)")
        #expect(parts.reduce(0, +) == Self.bytes.count)
    }

    @Test func aFileShorterThanItsSizeFailsBeforeAnythingIsSent() async throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let store = try Harness.store()
        defer { Task { await store.pool.shutdown() } }
        let client = await store.client(for: registry.host)
        let file = Tools.temporaryDirectory("pier-upload") + "/short"
        try Data(Self.bytes.prefix(1000)).write(to: URL(fileURLWithPath: file))
        let digest = Digest.sha256(of: Array(Self.bytes.prefix(5000)))
        let started = ContinuousClock.now
        do {
            try await client.uploadBlob(repository: "app", digest: digest, size: 5000, file: file)
            Issue.record("a short file was uploaded")
        } catch {
            #expect(error.kind == .invalidInput, "\(error)")
            #expect(error.message.contains("fewer than the 5000 bytes"), "\(error)")
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(try await client.blobSize(repository: "app", digest: digest) == nil)
    }
}
