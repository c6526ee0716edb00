import Foundation

/// One `-----BEGIN TYPE-----` … `-----END TYPE-----` block of a PEM file (RFC 7468): its type and DER bytes.
///
/// Lenient where files differ in practice: any line length, CRLF line ends, text around the blocks, several blocks
/// in one file (openssl's `ecparam -genkey` writes `EC PARAMETERS` before `EC PRIVATE KEY`).
public struct PEMBlock: Sendable {
    public var type: String
    public var der: [UInt8]

    /// The blocks of `text`, in order; a block whose base64 does not decode is left out.
    public static func blocks(in text: String) -> [PEMBlock] {
        var result: [PEMBlock] = []
        var current: (type: String, base64: String)?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let type = Self.marker(line, "BEGIN") {
                current = (type, "")
            } else if let type = Self.marker(line, "END") {
                if let open = current, open.type == type, let der = Data(base64Encoded: open.base64) {
                    result.append(PEMBlock(type: type, der: Array(der)))
                }
                current = nil
            } else if current != nil, !line.contains(":") {
                // RFC 1421 headers (`Proc-Type:`, `DEK-Info:`) are not base64.
                current!.base64 += line
            }
        }
        return result
    }

    /// `TYPE` of `-----BEGIN TYPE-----` (or END).
    static func marker(_ line: String, _ word: String) -> String? {
        let prefix = "-----\(word) "
        guard line.hasPrefix(prefix), line.hasSuffix("-----"), line.count > prefix.count + 5 else { return nil }
        return String(line.dropFirst(prefix.count).dropLast(5))
    }
}
