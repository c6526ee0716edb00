import Foundation
import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a tar stream entry by entry: POSIX ustar headers, PAX `path`/`size` records (POSIX.1-2001 pax format) and
/// GNU long names, from a file or from bytes in memory.
///
/// Archives come from other people. Every number in them (octal and base-256 header fields, PAX record lengths,
/// PAX sizes) is parsed without overflow and range-checked before it sizes a buffer or a seek; a malformed archive
/// is a `PierError` naming it, never a trap.
struct TarReader {
    /// Where the archive's bytes come from.
    enum Input {
        case file(Int32)
        case bytes([UInt8])
    }

    /// One member: its name (PAX `path` or GNU long name applied), type flag and data size.
    struct Entry: Equatable {
        var name: String
        var type: UInt8
        var size: Int64
    }

    /// 1 TiB: more than any layer a registry accepts, and far enough from `Int64.max` that rounding up to the
    /// 512-byte block cannot overflow.
    static let maximumEntrySize: Int64 = 1 << 40
    /// 1 MiB: PAX records and GNU long names are a few hundred bytes; this bounds the memory one header may claim.
    static let maximumExtendedHeaderSize: Int64 = 1 << 20
    /// A PAX record length with more digits than this cannot fit in an extended header of the size above.
    static let maximumRecordLengthDigits = 7

    static let blockSize = 512

    private var input: Input
    private var offset = 0
    /// Data bytes of the current entry not yet read, and the padding after them.
    private var remaining: Int64 = 0
    private var padding: Int64 = 0
    let archive: String

    init(_ input: Input, archive: String) {
        self.input = input
        self.archive = archive
    }

    func fail(_ why: String) -> PierError {
        PierError(
            .invalidInput, operation: "read archive", message: "\(archive): \(why)", registry: archive,
            hint: "the archive is truncated or not a tar file")
    }

    /// The next member, or nil at the end of the archive. The rest of the previous member is skipped.
    mutating func next() throws(PierError) -> Entry? {
        try skip(remaining + padding)
        remaining = 0
        padding = 0
        var header = [UInt8](repeating: 0, count: Self.blockSize)
        var paxPath: String?
        var paxSize: Int64?
        var longName: String?
        while true {
            let got = header.withUnsafeMutableBytes { readRaw(into: $0, count: Self.blockSize) }
            if got == 0 { return nil }  // end without the two zero blocks: tolerated, as GNU tar does
            guard got == Self.blockSize else { throw fail("truncated header") }
            if header.allSatisfy({ $0 == 0 }) { return nil }
            guard Self.verifyChecksum(header) else { throw fail("bad header checksum") }
            let type = header[156]
            let headerSize = try Self.parseNumber(header[124..<136]).orThrow(fail("bad size field"))
            let size = paxSize ?? headerSize
            guard size >= 0, size <= Self.maximumEntrySize else { throw fail("absurd entry size \(size)") }
            let name = longName ?? paxPath ?? Self.entryName(header)
            paxPath = nil
            paxSize = nil
            longName = nil
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "L"):
                guard size <= Self.maximumExtendedHeaderSize else { throw fail("oversized extended header") }
                var data = [UInt8](repeating: 0, count: Int(size))
                let read = data.withUnsafeMutableBytes { readRaw(into: $0, count: Int(size)) }
                guard read == Int(size) else { throw fail("truncated extended header") }
                try skip(Self.padded(size) - size)
                if type == UInt8(ascii: "L") {
                    longName = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                } else {
                    let records = try Self.parsePax(data).orThrow(fail("malformed PAX extended header"))
                    paxPath = records["path"]
                    if let text = records["size"] {
                        guard let value = Int64(text), value >= 0 else {
                            throw fail("PAX size \"\(text)\" is not a byte count")
                        }
                        paxSize = value
                    }
                }
            case UInt8(ascii: "g"):
                try skip(Self.padded(size))
            default:
                remaining = size
                padding = Self.padded(size) - size
                return Entry(name: name, type: type, size: size)
            }
        }
    }

    /// Reads the current member's data into `buffer`: as much as fits, 0 at its end. An archive that ends inside the
    /// member is an error.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer, entry: Entry) throws(PierError) -> Int {
        let want = Int(min(Int64(buffer.count), remaining))
        guard want > 0 else { return 0 }
        let got = readRaw(into: buffer, count: want)
        guard got == want else { throw fail("\"\(entry.name)\" is cut short") }
        remaining -= Int64(got)
        return got
    }

    // MARK: Input

    private mutating func readRaw(into buffer: UnsafeMutableRawBufferPointer, count: Int) -> Int {
        switch input {
        case .file(let fd):
            return FileSystem.readFully(fd, into: buffer, count: count)
        case .bytes(let bytes):
            let got = min(count, bytes.count - offset)
            guard got > 0 else { return 0 }
            bytes.withUnsafeBytes { source in
                buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: got)
            }
            offset += got
            return got
        }
    }

    /// Moves past `bytes` bytes, which must all be there.
    private mutating func skip(_ bytes: Int64) throws(PierError) {
        guard bytes > 0 else { return }
        switch input {
        case .file(let fd):
            let here = lseek(fd, 0, SEEK_CUR)
            let end = lseek(fd, 0, SEEK_END)
            guard here >= 0, end >= 0, end - here >= off_t(bytes) else { throw fail("truncated entry") }
            lseek(fd, here + off_t(bytes), SEEK_SET)
        case .bytes(let all):
            guard Int64(all.count - offset) >= bytes else { throw fail("truncated entry") }
            offset += Int(bytes)
        }
    }

    // MARK: Header fields

    static func entryName(_ header: [UInt8]) -> String {
        let name = String(decoding: header[0..<100].prefix { $0 != 0 }, as: UTF8.self)
        let magic = String(decoding: header[257..<262], as: UTF8.self)
        guard magic == "ustar" else { return name }
        let prefix = String(decoding: header[345..<500].prefix { $0 != 0 }, as: UTF8.self)
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    /// Octal, or base-256 when the top bit is set (GNU extension for sizes over 8 GiB); nil when malformed or
    /// beyond `Int64`.
    static func parseNumber(_ field: ArraySlice<UInt8>) -> Int64? {
        if let first = field.first, first & 0x80 != 0 {
            var value = Int64(first & 0x7f)
            for byte in field.dropFirst() {
                guard value <= (Int64.max >> 8) else { return nil }
                value = (value << 8) | Int64(byte)
            }
            return value
        }
        let text = String(decoding: field.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return 0 }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }) else { return nil }
        return Int64(text, radix: 8)
    }

    /// The header's bytes summed with the checksum field counted as spaces (ustar `chksum`).
    static func verifyChecksum(_ header: [UInt8]) -> Bool {
        guard let stored = parseNumber(header[148..<156]) else { return false }
        let sum = header.withUnsafeBytes { bytes in
            var total = 8 * 32
            for index in 0..<148 { total += Int(bytes[index]) }
            for index in 156..<blockSize { total += Int(bytes[index]) }
            return total
        }
        return Int64(sum) == stored
    }

    /// PAX records, `"%d %s=%s\n"` where the length counts the whole record, its own digits included
    /// (POSIX.1-2001 pax, extended header format). nil when any record is malformed.
    static func parsePax(_ data: [UInt8]) -> [String: String]? {
        var records: [String: String] = [:]
        var index = 0
        while index < data.count {
            guard let space = data[index...].firstIndex(of: UInt8(ascii: " ")), space > index,
                space - index <= maximumRecordLengthDigits,
                data[index..<space].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let length = Int(String(decoding: data[index..<space], as: UTF8.self)),
                // Past the digits and the space there must be at least the newline; the record ends inside the data.
                length > space - index + 1, length <= data.count - index
            else { return nil }
            let end = index + length
            guard data[end - 1] == UInt8(ascii: "\n") else { return nil }
            let record = data[(space + 1)..<(end - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            records[String(decoding: record[..<equals], as: UTF8.self)] =
                String(decoding: record[(equals + 1)...], as: UTF8.self)
            index = end
        }
        return records
    }

    /// `size` rounded up to whole blocks; `size` is at most `maximumEntrySize`.
    static func padded(_ size: Int64) -> Int64 { (size + 511) / 512 * 512 }
}

extension Optional {
    func orThrow(_ error: @autoclosure () -> PierError) throws(PierError) -> Wrapped {
        guard let self else { throw error() }
        return self
    }
}
