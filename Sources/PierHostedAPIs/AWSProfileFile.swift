import Foundation
import PierModel

/// The AWS shared credentials and config files: INI sections of `key = value` lines. In the credentials file a
/// profile's section is `[name]`; in the config file it is `[profile name]`, except `[default]` (AWS CLI
/// "Configuration and credential file settings").
enum AWSProfileFile {
    /// Bytes read of either file: they hold a few profiles, not megabytes.
    static let sizeLimit = 1 << 20

    /// The settings of `profile` in the file at `path`, or nil when the file or the section is missing.
    static func settings(path: String, profile: String, isConfigFile: Bool) throws(PierError) -> [String: String]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = BoundedFileRead.contents(of: path, limit: sizeLimit),
            let text = String(data: data, encoding: .utf8)
        else {
            throw PierError(
                .invalidInput, operation: "read AWS credentials", message: "cannot read \(path) as UTF-8 text",
                hint: "fix or remove the file")
        }
        let wanted = isConfigFile && profile != "default" ? "profile \(profile)" : profile
        var current: String?
        var found: [String: String]?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                current = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if current == wanted, found == nil { found = [:] }
                continue
            }
            guard current == wanted, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            found?[key] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return found
    }
}
