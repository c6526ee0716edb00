import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// The underlying error of a `PierError`, rendered for people.
package enum ErrorCause {
    /// Characters of a cause kept: a line of a terminal, and enough for NIO's and BoringSSL's error names.
    package static let maximumLength = 200

    /// `error` for people, in one line: a system call's failure as the system names it ("Connection refused"),
    /// not NIO's wording around it ("connection reset (error set): Connection refused (errno: 111)"); anything
    /// else through `short`.
    package static func of(_ error: any Error) -> String {
        if let failure = error as? NIOConnectionError, let first = failure.connectionErrors.first?.error {
            return of(first)
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if let http = error as? HTTPClientError {
            if http == .deadlineExceeded { return "no answer in time" }
            if http == .readTimeout { return "nothing arrived within the read timeout" }
        }
        return short(String(describing: error))
    }

    /// One line, at most `maximumLength` characters, without the source paths some libraries put in their error
    /// descriptions (BoringSSL's `at /…/ssl/tls_record.cc:231`, Swift's `#file`).
    package static func short(_ text: String) -> String {
        var text = text
        // async-http-client names the refused header values, which are credentials (a token with a newline).
        if let range = text.range(of: "invalidHeaderField") {
            text =
                String(text[..<range.lowerBound])
                + "a request header holds a character HTTP does not allow (a newline or control character in a token?)"
        }
        let oneLine = text.replacingOccurrences(of: "\n", with: " ")
        let cleaned = oneLine.replacingOccurrences(
            of: #"(\bat\s+)?(file:\s*)?[^\s\[\]\(\),"]*/[^\s\[\]\(\),"]*\.(swift|cc|c|cpp|h|hpp|m|mm)(:\d+)*"#,
            with: "",
            options: .regularExpression)
        return String(cleaned.prefix(maximumLength))
    }
}
