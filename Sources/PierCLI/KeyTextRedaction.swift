/// Keeps PEM key text pasted on a command line out of the argument parser's errors, which quote what was typed.
///
/// pier's own options refuse such a value without repeating it (`SigningSettings.read`), but ArgumentParser reads
/// a value that starts with `-----BEGIN` as an option and rejects it first, quoting it whole.
enum KeyTextRedaction {
    static let replacement = "[PEM text, not shown]"

    /// `message` with every argument that holds PEM text replaced; when PEM text remains, one line saying so.
    static func redacted(_ message: String, arguments: [String] = CommandLine.arguments) -> String {
        var message = message
        for argument in arguments where argument.contains("-----BEGIN") {
            message = message.replacingOccurrences(of: argument, with: replacement)
        }
        guard message.contains("-----BEGIN") || message.contains("PRIVATE KEY") else { return message }
        return "Error: an argument holds PEM key text: give keys as a file or env://NAME"
    }
}
