import ArgumentParser
import Foundation
import PierEngine
import PierHostedAPIs
import PierModel

struct NotesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notes",
        abstract:
            "Write Markdown release notes from what was published: digest, pull commands, platforms, sizes, labels, tags, changelog."
    )

    @Option(help: "The image (default: from --report).") var source: String?
    @OptionGroup var release: ReleaseOptions
    @OptionGroup var notesOptions: NotesOptions
    @Option(name: [.short, .long], help: "Write to this file instead of stdout.") var output: String?
    @Flag(help: "Print the notes' data as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let flags = release.settingsFlags(targeting: source.map { [$0] } ?? [])
        try await global.run(
            flags,
            prepare: { _ in
                try NotesOperation(notesOptions.request(source: source))
            }
        ) { operation, session in
            let notes = try await operation.notes(session: session)
            if json { return try Terminal.shared.printJSON(notes) }
            let text = try operation.render(notes)
            guard let output else { return Terminal.shared.printDocument(text) }
            guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8)) else {
                throw PierError(.other, operation: "write notes", message: "cannot write \(output)")
            }
        }
    }
}
