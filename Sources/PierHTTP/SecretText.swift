import Foundation

/// Text a server sent back, with the secrets of the request it answered taken out: a registry or API that echoes the
/// request's `Authorization` (or an API token header) in its error must not put the secret into pier's output.
package enum SecretText {
    /// Secrets shorter than this are not searched for: they would match ordinary words of the message.
    package static let minimumLength = 4

    /// `text` with each of `values` (header values that carry a secret), the token after their auth scheme and, for
    /// Basic, the decoded `user:password` and its password, replaced by `<redacted>`.
    package static func redacting(_ text: String, values: [String]) -> String {
        var secrets: [String] = []
        for value in values {
            secrets.append(value)
            let parts = value.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            secrets.append(parts[1])
            if parts[0].lowercased() == "basic", let data = Data(base64Encoded: parts[1]),
                let pair = String(data: data, encoding: .utf8)
            {
                secrets.append(pair)
                if let colon = pair.firstIndex(of: ":") { secrets.append(String(pair[pair.index(after: colon)...])) }
            }
        }
        var text = text
        // Longest first, so a whole header goes before the token inside it.
        for secret in secrets.sorted(by: { $0.count > $1.count }) where secret.count >= minimumLength {
            text = text.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return text
    }
}
