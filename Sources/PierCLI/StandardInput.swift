import Foundation

/// What pier reads from standard input: the secret of `--password-stdin`.
enum StandardInput {
    /// All of standard input, without the line ending(s) a pipe or heredoc adds.
    static func password() -> String {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}
