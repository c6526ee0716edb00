import ArgumentParser
import PierEngine
import PierModel

struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge per-architecture builds into one multi-platform index.",
        discussion: """
            Each --source is a single-platform image or an index (oci:DIR[:tag], oci-archive:FILE[:tag] or a \
            registry reference), typically one per native runner. Their images become the entries of one OCI index, \
            ordered by platform then digest; buildx attestation entries stay with the image they describe. The \
            children keep their bytes and digests, and the same inputs always give the same index digest. Two \
            images for one platform are refused (exit 64). pier publish --source A --source B merges and publishes \
            in one step.
            """)

    @Option(help: "An image to merge (repeat once per build).") var source: [String] = []
    @Option(help: "Where to write the index: oci:DIR[:tag], oci-archive:FILE[:tag] or a registry reference.")
    var output: String
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.run(
            settingsFlags(targeting: [output]),
            prepare: { _ in try MergeOperation(sources: source, output: output) }
        ) { operation, session in
            let report = try await operation.run(session: session, progress: global.progressDisplay.callback)
            Terminal.shared.clearProgress()
            if json { return try Terminal.shared.printJSON(report) }
            Terminal.shared.print(
                "\(report.output):\(report.tag)@\(report.digest)  \(report.platforms.joined(separator: ", "))")
        }
    }
}
