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
            Terminal.shared.print(
                "DIGEST                  ARTIFACT-TYPE                          FOUND-BY      SUBJECT")
            for referrer in referrers {
                let indent = String(repeating: "  ", count: max(0, referrer.depth - 1))
                let type = TerminalText.escaped(referrer.artifactType ?? "-")
                Terminal.shared.print(
                    "\(indent)\(referrer.digest.short)  \(type.padding(toLength: 38, withPad: " ", startingAt: 0)) \(referrer.foundBy.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)) \(referrer.subject.short)"
                        + (referrer.tag.map { "  (\($0))" } ?? ""))
            }
            if referrers.isEmpty { Terminal.shared.log("no referrers of \(operation.image)") }
        }
    }

    /// One carried referrer in the copy, publish and sync summaries.
    static func line(_ referrer: Referrer) -> String {
        let type = TerminalText.escaped(referrer.artifactType ?? "artifact")
        let state = referrer.verified == true ? "verified" : "not verified"
        return
            "referrer \(referrer.digest.short) (\(type)) of \(referrer.subject.short) as \((referrer.storedAs ?? referrer.foundBy).rawValue): \(state)"
    }
}
