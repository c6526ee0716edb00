import ArgumentParser
import PierEngine
import PierModel

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Tags × registries by digest (HEAD only), marking missing, diverged and extra (backup-only) tags.")

    @Argument(help: "Repositories; the first is the primary.") var repositories: [String]
    @Option(help: "Only tags matching this regex.") var tags: String?
    @Flag(help: "Exit 70 when a tag of the primary is missing or diverged on a backup (for a scheduled CI job).")
    var check = false
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.run(
            settingsFlags(targeting: repositories),
            prepare: { _ in
                try repositories.map { (text) throws(PierError) in try ImageReference(parsing: text).with(tag: nil) }
            }
        ) { references, session in
            var status = try await RegistryStatus.collect(references, store: session.store, only: tags)
            status.scans = await ECRScanGate.statusScans(status, targets: references, session: session)
            if json {
                try Terminal.shared.printJSON(status)
            } else {
                func cell(_ text: String, _ width: Int) -> String {
                    text.padding(toLength: width, withPad: " ", startingAt: 0)
                }
                let width = max(3, status.rows.map(\.tag.count).max() ?? 3)
                let widths = status.repositories.map { max(19, $0.count) }
                Terminal.shared.print(
                    cell("TAG", width) + "  "
                        + zip(status.repositories, widths).map { cell($0, $1) }.joined(separator: "  ") + "  STATE")
                for row in status.rows {
                    let cells = zip(status.repositories, widths).map { repo, w in
                        cell((row.digests[repo] ?? nil)?.short ?? "-", w)
                    }
                    Terminal.shared.print(
                        cell(row.tag, width) + "  " + cells.joined(separator: "  ") + "  " + row.state.rawValue)
                }
                for (repository, byDigest) in (status.scans ?? [:]).sorted(by: { $0.key < $1.key }) {
                    for (digest, scan) in byDigest.sorted(by: { $0.key < $1.key }) {
                        Terminal.shared.print(
                            "scan \(repository)@\(digest): \(scan.status), \(ECRScanGate.summary(scan))")
                    }
                }
            }
            if check, let failure = status.checkFailure() { throw failure }
        }
    }
}
