import ArgumentParser
import Foundation
import PierModel

/// The one place where errors become text for people, and kinds become exit codes (documented in the README).
enum ErrorRendering {
    static func exitCode(for kind: PierError.Kind) -> Int32 {
        switch kind {
        case .usage: return 64
        case .invalidInput: return 65
        case .notFound: return 66
        case .network: return 69
        case .verification: return 70
        case .conflict: return 73
        case .partial: return 75
        case .auth: return 77
        case .unsupported: return 78
        case .other: return 1
        }
    }

    /// `pier: push blob sha256:ab12… to 127.0.0.1:5000/app: 401 UNAUTHORIZED "…" — run 'pier login …'`
    ///
    /// One line: newlines in what a registry or file said become spaces, and every other control character is
    /// escaped (`TerminalText`), so an error body cannot move the cursor, retitle the terminal or hide text.
    static func render(_ error: PierError) -> String {
        var line = "pier: \(error.operation)"
        var location = error.registry ?? ""
        if let repository = error.repository { location += (location.isEmpty ? "" : "/") + repository }
        if !location.isEmpty { line += " \(preposition(error.operation)) \(location)" }
        line += ": "
        if let status = error.status { line += "\(status) " }
        line += error.message
        if let cause = error.cause { line += " (\(cause))" }
        if let hint = error.hint { line += " — \(hint)" }
        return TerminalText.escaped(line.replacingOccurrences(of: "\n", with: " "))
    }

    static func preposition(_ operation: String) -> String {
        let verb = operation.split(separator: " ").first.map(String.init) ?? ""
        switch verb {
        case "push", "put", "mount", "tag", "write", "log": return "to"
        case "get", "pull", "list", "check", "read", "select": return "from"
        default: return "at"
        }
    }

    /// Prints the error and returns the exit to throw.
    static func exit(for error: PierError) -> ExitCode {
        Terminal.shared.log(render(error))
        return ExitCode(exitCode(for: error.kind))
    }
}
