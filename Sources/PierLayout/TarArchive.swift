#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PierModel

/// Streams tar archives to and from disk (POSIX ustar, with PAX `path`/`size` and GNU long names on read).
/// Used for `oci-archive:` and `docker-archive:`; entries are copied through a fixed buffer, never held whole.
public enum TarArchive {
    /// Extracts regular files and directories of `archive` under `directory`. Refuses absolute paths and `..`
    /// (an archive must not write outside its directory); skips links and devices, which image archives do not need.
    public static func extract(_ archive: String, into directory: String) throws(PierError) {
        let fd = try FileSystem.openRead(archive, operation: "read archive")
        defer { close(fd) }
        try FileSystem.makeDirectories(directory)
        var header = [UInt8](repeating: 0, count: 512)
        var paxPath: String?
        var paxSize: Int64?
        var longName: String?
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: FileSystem.bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        func fail(_ why: String) -> PierError {
            PierError(.invalidInput, operation: "read archive", message: "\(archive): \(why)", registry: archive,
                hint: "the archive is truncated or not a tar file")
        }
        while true {
            let got = header.withUnsafeMutableBytes { FileSystem.readFully(fd, into: $0, count: 512) }
            if got == 0 { return }  // end without the two zero blocks: tolerated, as GNU tar does
            guard got == 512 else { throw fail("truncated header") }
            if header.allSatisfy({ $0 == 0 }) { return }
            guard verifyChecksum(header) else { throw fail("bad header checksum") }
            let type = header[156]
            let headerSize = try parseNumber(header[124..<136]).orThrow(fail("bad size field"))
            let size = paxSize ?? headerSize
            guard size >= 0, size < (1 << 40) else { throw fail("absurd entry size \(size)") }
            var name = longName ?? paxPath ?? entryName(header)
            paxPath = nil
            paxSize = nil
            longName = nil
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "L"):
                guard size <= 1 << 20 else { throw fail("oversized extended header") }
                var data = [UInt8](repeating: 0, count: Int(size))
                let read = data.withUnsafeMutableBytes { FileSystem.readFully(fd, into: $0, count: Int(size)) }
                guard read == Int(size) else { throw fail("truncated extended header") }
                try skipPadding(fd, size: size, fail: fail)
                if type == UInt8(ascii: "L") {
                    longName = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                } else {
                    let records = parsePax(data)
                    paxPath = records["path"]
                    paxSize = records["size"].flatMap { Int64($0) }
                }
                continue
            case UInt8(ascii: "g"):
                try skip(fd, bytes: padded(size), fail: fail)
                continue
            default: break
            }
            while name.hasPrefix("./") { name.removeFirst(2) }
            let components = name.split(separator: "/")
            guard !name.hasPrefix("/"), !components.contains("..") else { throw fail("entry \"\(name)\" escapes the archive") }
            let target = directory + "/" + components.joined(separator: "/")
            switch type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                if components.count > 1 {
                    try FileSystem.makeDirectories(directory + "/" + components.dropLast().joined(separator: "/"))
                }
                let out = try FileSystem.openWrite(target, operation: "extract archive")
                var remaining = size
                while remaining > 0 {
                    let want = Int(min(Int64(FileSystem.bufferSize), remaining))
                    let read = FileSystem.readFully(fd, into: buffer, count: want)
                    guard read == want else {
                        close(out)
                        throw fail("\"\(name)\" is cut short")
                    }
                    do { try FileSystem.writeAll(out, UnsafeRawBufferPointer(rebasing: buffer[0..<read]), path: target) } catch {
                        close(out)
                        throw error
                    }
                    remaining -= Int64(read)
                }
                close(out)
                try skipPadding(fd, size: size, fail: fail)
            case UInt8(ascii: "5"):
                if !components.isEmpty { try FileSystem.makeDirectories(target) }
                try skip(fd, bytes: padded(size), fail: fail)
            default:
                try skip(fd, bytes: padded(size), fail: fail)
            }
        }
    }

    /// Writes the regular files under `directory` into a new tar at `archive`, sorted, with fixed metadata
    /// (mtime 0, uid/gid 0) so the same layout gives the same archive.
    public static func create(_ archive: String, from directory: String) throws(PierError) {
        let out = try FileSystem.openWrite(archive, operation: "write archive")
        defer { close(out) }
        let writer = TarWriter(fd: out, path: archive)
        do {
            let files = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
            for relative in files {
                guard let size = FileSystem.regularFileSize(directory + "/" + relative) else { continue }
                try writer.append(.init(name: relative, kind: .file(source: directory + "/" + relative, size: size), mode: 0o644))
            }
        } catch {
            try? writer.finish()
            throw error
        }
        try writer.finish()
    }

    // MARK: Header fields

    static func entryName(_ header: [UInt8]) -> String {
        let name = String(decoding: header[0..<100].prefix { $0 != 0 }, as: UTF8.self)
        let magic = String(decoding: header[257..<262], as: UTF8.self)
        guard magic == "ustar" else { return name }
        let prefix = String(decoding: header[345..<500].prefix { $0 != 0 }, as: UTF8.self)
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    /// Octal, or base-256 when the top bit is set (GNU extension for sizes over 8 GiB).
    static func parseNumber(_ field: ArraySlice<UInt8>) -> Int64? {
        if let first = field.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x7f)
            for byte in field.dropFirst() {
                guard value < (Int64.max >> 8) else { return nil }
                value = (value << 8) | Int64(byte)
            }
            return value
        }
        let text = String(decoding: field.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return 0 }
        return Int64(text, radix: 8)
    }

    static func verifyChecksum(_ header: [UInt8]) -> Bool {
        guard let stored = parseNumber(header[148..<156]) else { return false }
        var sum: Int64 = 0
        for (index, byte) in header.enumerated() { sum += (148..<156).contains(index) ? 32 : Int64(byte) }
        return sum == stored
    }

    static func parsePax(_ data: [UInt8]) -> [String: String] {
        var records: [String: String] = [:]
        var index = 0
        while index < data.count {
            guard let space = data[index...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: data[index..<space], as: UTF8.self)), length > 0, index + length <= data.count
            else { break }
            let record = data[(space + 1)..<(index + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                records[String(decoding: record[..<equals], as: UTF8.self)] =
                    String(decoding: record[(equals + 1)...], as: UTF8.self)
            }
            index += length
        }
        return records
    }

    static func padded(_ size: Int64) -> Int64 { (size + 511) / 512 * 512 }

    static func skipPadding(_ fd: Int32, size: Int64, fail: (String) -> PierError) throws(PierError) {
        try skip(fd, bytes: padded(size) - size, fail: fail)
    }

    static func skip(_ fd: Int32, bytes: Int64, fail: (String) -> PierError) throws(PierError) {
        guard bytes > 0 else { return }
        let here = lseek(fd, 0, SEEK_CUR)
        let end = lseek(fd, 0, SEEK_END)
        guard here >= 0, end >= 0, end - here >= off_t(bytes) else { throw fail("truncated entry") }
        lseek(fd, here + off_t(bytes), SEEK_SET)
    }
}

extension Optional {
    func orThrow(_ error: @autoclosure () -> PierError) throws(PierError) -> Wrapped {
        guard let self else { throw error() }
        return self
    }
}
