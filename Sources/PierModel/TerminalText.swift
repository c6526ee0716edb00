/// Text from registries, archives and config files made safe for a terminal.
///
/// A registry's error body, a tag in an archive or a label in an image config is written by someone else; printed
/// raw, an ESC or a C1 control starts an escape sequence (ECMA-48) that can rewrite the screen, retitle the window
/// or hide what came before (OSC 8 links, cursor movement). Every such character becomes visible text instead:
/// C0 controls and DEL as `\x1B`, C1 controls as `\u{9B}`, and the bidirectional overrides and isolates (Unicode
/// UAX #9) that reorder what a reader sees as `\u{202E}`. Tab is kept; newline only where the caller says.
public enum TerminalText {
    /// `text` with every control character escaped; `\n` is kept when `keepingNewlines` (multi-line documents
    /// such as release notes), else escaped as well (one-line messages).
    public static func escaped(_ text: String, keepingNewlines: Bool = false) -> String {
        replacingControls(in: text, keepingNewlines: keepingNewlines) { value in
            let hex = String(value, radix: 16, uppercase: true)
            return value < 0x80 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex)}"
        }
    }

    /// A JSON document with DEL, C1 and the bidirectional controls escaped as `\uXXXX` (RFC 8259 §7). JSONEncoder
    /// already escapes C0; these can occur only inside strings, so the document still decodes to the same values.
    public static func escapedJSON(_ json: String) -> String {
        replacingControls(in: json, keepingNewlines: true) { value in
            let hex = String(value, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
    }

    static func replacingControls(in text: String, keepingNewlines: Bool, spelling: (UInt32) -> String) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, keepingNewlines: keepingNewlines) }) else {
            return text
        }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if needsEscape(scalar, keepingNewlines: keepingNewlines) {
                result.append(contentsOf: spelling(scalar.value).unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// C0 (but tab, and newline when kept), DEL, C1, and the bidirectional embedding, override and isolate controls.
    static func needsEscape(_ scalar: Unicode.Scalar, keepingNewlines: Bool) -> Bool {
        switch scalar.value {
        case 0x09: return false
        case 0x0A: return !keepingNewlines
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
