import ArgumentParser
import PierEngine
import PierModel

struct ReferrersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "referrers",
        abstract: "List the signatures, SBOMs and attestations that hang off an image.",
        discussion: """
            Looks at the image's root and every child manifest, and at referrers of referrers: the OCI 1.1 \
            referrers API, else the fallback index tag sha256-<hex>, and cosign's sha256-<hex>.sig, .att and .sbom \
            tags. FOUND-BY says which.
            """)

    @Argument(help: "The image (a registry reference).") var image: String
    @Option(name: .customLong("referrers-type"), help: "Only referrers of this artifact type (repeatable).")
    var types: [String] = []
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        var flags = settingsFlags(targeting: [image])
        flags.referrerTypes = types
        try await global.run(flags, prepare: { settings in try ReferrersOperation(image: image, settings: settings) }) {
            operation, session in
            let referrers = try await operation.run(session: session)
            if json { return try Terminal.shared.printJSON(referrers) }
            for line in Self.table(referrers) { Terminal.shared.print(line) }
            if referrers.isEmpty { Terminal.shared.log("no referrers of \(operation.image)") }
        }
    }

    /// The widest type shown; longer ones end in `…`.
    static let typeWidth = 40

    /// The table: a header over columns as wide as their widest cell, referrers of referrers indented.
    static func table(_ referrers: [Referrer]) -> [String] {
        let rows = referrers.map { referrer in
            var type = TerminalText.escaped(referrer.displayType)
            if type.count > typeWidth { type = String(type.prefix(typeWidth - 1)) + "…" }
            return [
                String(repeating: "  ", count: max(0, referrer.depth - 1)) + referrer.digest.short, type,
                referrer.foundBy.rawValue, referrer.subject.short + (referrer.tag.map { "  (\($0))" } ?? ""),
            ]
        }
        let header = ["DIGEST", "ARTIFACT-TYPE", "FOUND-BY", "SUBJECT"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.indices.map { column in
                column == row.count - 1
                    ? row[column] : row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    /// One carried referrer in the copy, publish and sync summaries.
    static func line(_ referrer: Referrer) -> String {
        let type = TerminalText.escaped(referrer.artifactType == nil ? "artifact" : referrer.displayType)
        let state = referrer.verified == true ? "verified" : "not verified"
        return
            "referrer \(referrer.digest.short) (\(type)) of \(referrer.subject.short) as \((referrer.storedAs ?? referrer.foundBy).rawValue): \(state)"
    }
}
