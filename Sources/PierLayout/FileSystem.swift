import Foundation
import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Small POSIX file helpers shared by the layout, archive and gzip code: streaming, never whole files in memory.
enum FileSystem {
    static let bufferSize = 1 << 20

    /// Opens for reading or throws a `PierError` naming the path.
    static func openRead(_ path: String, operation: String) throws(PierError) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw PierError(
                code == ENOENT ? .notFound : .invalidInput, operation: operation, message: "cannot open \(path)",
                cause: String(cString: strerror(code)))
        }
        return fd
    }

    static func openWrite(_ path: String, operation: String) throws(PierError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw PierError(
                .other, operation: operation, message: "cannot create \(path)", cause: String(cString: strerror(errno)))
        }
        return fd
    }

    /// Writes all of `bytes` to `fd`.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(PierError) {
        var written = 0
        while written < bytes.count {
            let result = write(fd, bytes.baseAddress! + written, bytes.count - written)
            guard result > 0 else {
                throw PierError(
                    .other, operation: "write file", message: "cannot write \(path)",
                    cause: String(cString: strerror(errno)))
            }
            written += result
        }
    }

    /// Writes all of `bytes` to `fd`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(PierError) {
        let failure: PierError? = bytes.withUnsafeBytes { buffer in
            do throws(PierError) { try writeAll(fd, buffer, path: path) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// Reads up to `count` bytes; fewer only at end of file.
    /// Reads until `count` bytes or the end of the file, retrying reads a signal interrupted (EINTR). Returns the
    /// bytes read, or -1 (errno set) when a read fails before any byte arrived.
    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, count: Int) -> Int {
        var total = 0
        while total < count {
            let got = read(fd, buffer.baseAddress! + total, count - total)
            if got < 0, errno == EINTR { continue }
            if got < 0 { return total > 0 ? total : -1 }
            if got == 0 { break }
            total += got
        }
        return total
    }

    /// Regular file size, refusing symlinks and other kinds (a layout blob that is a link could escape the layout).
    static func regularFileSize(_ path: String) -> Int64? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func makeDirectories(_ path: String) throws(PierError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw PierError(
                .other, operation: "create directory", message: "cannot create \(path)",
                cause: "\(error.localizedDescription)")
        }
    }

    /// Reads a small file whole (manifests, index.json, configs), refusing anything over `limit`.
    static func readSmall(_ path: String, limit: Int, operation: String) throws(PierError) -> [UInt8] {
        guard let size = regularFileSize(path) else {
            throw PierError(
                FileSystem.exists(path) ? .invalidInput : .notFound, operation: operation,
                message: FileSystem.exists(path) ? "\(path) is not a regular file" : "\(path) is missing")
        }
        guard size <= Int64(limit) else {
            throw PierError(
                .invalidInput, operation: operation, message: "\(path) is \(size) bytes, over the \(limit)-byte limit")
        }
        let fd = try openRead(path, operation: operation)
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let got = bytes.withUnsafeMutableBytes { readFully(fd, into: $0, count: Int(size)) }
        return Array(bytes.prefix(max(got, 0)))
    }

    /// Writes `bytes` to `path` through a temporary file and rename, so readers never see half a file.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(PierError) {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = try openWrite(temporary, operation: "write file")
        do { try writeAll(fd, bytes, path: temporary) } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        try rename(temporary, to: path)
    }

    static func rename(_ from: String, to: String) throws(PierError) {
        #if canImport(Glibc)
            let moved = Glibc.rename(from, to)
        #elseif canImport(Darwin)
            let moved = Darwin.rename(from, to)
        #endif
        guard moved == 0 else {
            let code = errno
            unlink(from)
            throw PierError(
                .other, operation: "write file", message: "cannot move into \(to)",
                cause: String(cString: strerror(code)))
        }
    }

    /// Copies a file while hashing it; returns the digest and size of what was copied.
    static func copyHashing(from source: String, to destination: String) throws(PierError) -> (Digest, Int64) {
        try stream(source, to: destination)
    }

    /// Hashes a file.
    static func hash(_ path: String) throws(PierError) -> (Digest, Int64) { try stream(path, to: nil) }

    /// Reads `source` once through a fixed buffer, hashing it and, with a destination, writing a copy.
    private static func stream(_ source: String, to destination: String?) throws(PierError) -> (Digest, Int64) {
        let input = try openRead(source, operation: "read blob")
        defer { close(input) }
        let output = try destination.map { (path) throws(PierError) in try openWrite(path, operation: "copy blob") }
        defer { if let output { close(output) } }
        var hasher = DigestHasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let got = read(input, buffer.baseAddress!, bufferSize)
            if got < 0 {
                throw PierError(
                    .invalidInput, operation: "read blob", message: "cannot read \(source)",
                    cause: String(cString: strerror(errno)))
            }
            if got == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<got])
            hasher.update(chunk)
            if let output, let destination { try writeAll(output, chunk, path: destination) }
        }
        return (hasher.finalize(), hasher.count)
    }

    /// A fresh private directory under the system temporary directory.
    public static func temporaryDirectory(prefix: String) throws(PierError) -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw PierError(
                .other, operation: "create temporary directory", message: "mkdtemp failed in \(base)",
                cause: String(cString: strerror(errno)))
        }
        return String(cString: result)
    }
}

/// A temporary directory that pier removes when done with it.
public final class ScratchDirectory: Sendable {
    public let path: String
    public init(prefix: String = "pier") throws(PierError) {
        path = try FileSystem.temporaryDirectory(prefix: prefix)
    }
    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
