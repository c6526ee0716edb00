import Foundation

/// Hand-made tar archives, malformed on purpose where a test asks: ustar headers with any field, PAX records with any
/// length, checksums fixed or not. GNU tar refuses to write what these tests need pier to refuse.
public enum TarFixture {
    /// One 512-byte ustar header with a valid checksum.
    public static func header(name: String, type: UInt8, size: Int) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
        }
        let octalSize = String(size, radix: 8)
        put(name, at: 0, width: 100)
        put("0000644", at: 100, width: 8)
        put("0000000", at: 108, width: 8)
        put("0000000", at: 116, width: 8)
        put(String(repeating: "0", count: max(0, 11 - octalSize.count)) + octalSize, at: 124, width: 12)
        put("00000000000", at: 136, width: 12)
        header[156] = type
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        fixChecksum(&header, at: 0)
        return header
    }

    /// Recomputes the checksum of the header at `offset` (after a test changed its fields).
    public static func fixChecksum(_ bytes: inout [UInt8], at offset: Int) {
        guard offset + 512 <= bytes.count else { return }
        for index in 148..<156 { bytes[offset + index] = 32 }
        let sum = bytes[offset..<(offset + 512)].reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        let padded = [UInt8](repeating: UInt8(ascii: "0"), count: max(0, 6 - digits.count)) + digits
        for (index, byte) in padded.prefix(6).enumerated() { bytes[offset + 148 + index] = byte }
        bytes[offset + 154] = 0
    }

    /// A correctly counted PAX record, `"%d %s=%s\n"`.
    public static func paxRecord(_ key: String, _ value: String) -> String {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count > length { length += 1 }
        return "\(length)\(body)"
    }

    /// A member: its header, then its data padded to whole blocks.
    public static func member(name: String, type: UInt8 = UInt8(ascii: "0"), data: [UInt8]) -> [UInt8] {
        header(name: name, type: type, size: data.count) + data
            + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// The two zero blocks that end an archive.
    public static let end = [UInt8](repeating: 0, count: 1024)

    /// An archive whose first member is a PAX extended header holding `records` as written, then `files`.
    public static func archive(paxRecords records: String, files: [(String, [UInt8])]) -> [UInt8] {
        member(name: "PaxHeaders/x", type: UInt8(ascii: "x"), data: Array(records.utf8))
            + files.flatMap { member(name: $0.0, data: $0.1) } + end
    }
}
