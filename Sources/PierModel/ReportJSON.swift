import Foundation

/// The JSON pier writes for people and programs (`--json`, publish reports) and reads back (`--report`): pretty,
/// key-sorted, dates as RFC 3339 (`2026-12-01T20:12:22Z`), never Foundation's seconds since 2001.
public enum ReportJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
