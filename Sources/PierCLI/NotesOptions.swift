import ArgumentParser
import PierEngine

/// Options that say where release notes come from and how they look (`notes`, `release github|gitlab`).
struct NotesOptions: ParsableArguments {
    @Option(help: "A publish report (pier publish --json > report.json) to write the notes from.") var report: String?
    @Option(help: "Mustache template for the notes (default: the built-in Markdown).") var template: String?
    @Flag(name: .customLong("no-changelog"), help: "Leave out the changelog from git.") var noChangelog = false

    /// The notes request for the image `source` (default: the report's primary).
    func request(source: String?) -> NotesOperation.Request {
        NotesOperation.Request(
            image: source, reportPath: report, templatePath: template, includeChangelog: !noChangelog)
    }
}
