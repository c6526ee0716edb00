/// One `WWW-Authenticate` challenge (RFC 7235 §4.1), as a registry sends it on 401.
///
/// Registries send `Bearer realm="…",service="…",scope="…"` (distribution token auth), `Basic realm="…"`, or
/// several challenges in one header. Values may be quoted and hold commas and spaces (`scope="repository:a:pull,push"`);
/// `service` is sometimes missing (Google Artifact Registry). The parser is lenient: what it cannot read it skips.
public struct AuthChallenge: Sendable, Equatable {
    /// Lowercased scheme: `bearer` or `basic`.
    public var scheme: String
    /// Parameters with lowercased names.
    public var parameters: [String: String]

    public init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme.lowercased()
        self.parameters = parameters
    }

    public var realm: String? { parameters["realm"] }
    public var service: String? { parameters["service"] }
    public var scope: String? { parameters["scope"] }
    public var error: String? { parameters["error"] }

    /// Parses every challenge in the given header values.
    public static func parse(_ headerValues: [String]) -> [AuthChallenge] {
        headerValues.flatMap(parse(_:))
    }

    /// Parses every challenge in one header value.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var scanner = Scanner(Array(header.utf8))
        var challenges: [AuthChallenge] = []
        while true {
            scanner.skip { $0 == .space || $0 == .tab || $0 == .comma }
            guard let token = scanner.token() else {
                if scanner.atEnd { break }
                scanner.advance()  // a stray character: skip it
                continue
            }
            scanner.skip { $0 == .space || $0 == .tab }
            if scanner.peek == .equals, !challenges.isEmpty {
                scanner.advance()
                scanner.skip { $0 == .space || $0 == .tab }
                let value = scanner.peek == .quote ? scanner.quoted() : (scanner.token() ?? "")
                challenges[challenges.count - 1].parameters[token.lowercased()] = value
            } else {
                challenges.append(AuthChallenge(scheme: token, parameters: [:]))
            }
        }
        return challenges
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { index >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[index] }
        mutating func advance() { index += 1 }
        mutating func skip(while predicate: (UInt8) -> Bool) {
            while let byte = peek, predicate(byte) { index += 1 }
        }
        /// An RFC 7230 token (tchar), plus '/' so token68-ish values survive.
        mutating func token() -> String? {
            let start = index
            while let byte = peek, Self.isTokenChar(byte) { index += 1 }
            return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
        }
        /// A quoted-string with backslash escapes; an unterminated one runs to the end.
        mutating func quoted() -> String {
            advance()
            var out: [UInt8] = []
            while let byte = peek {
                index += 1
                if byte == .quote { break }
                if byte == .backslash, let next = peek {
                    out.append(next)
                    index += 1
                } else {
                    out.append(byte)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
        static func isTokenChar(_ b: UInt8) -> Bool {
            if (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) { return true }
            return Array("!#$%&'*+-.^_`|~/:".utf8).contains(b)
        }
    }
}

extension UInt8 {
    fileprivate static let space = UInt8(ascii: " ")
    fileprivate static let tab = UInt8(ascii: "\t")
    fileprivate static let comma = UInt8(ascii: ",")
    fileprivate static let equals = UInt8(ascii: "=")
    fileprivate static let quote = UInt8(ascii: "\"")
    fileprivate static let backslash = UInt8(ascii: "\\")
}
