import ArgumentParser
import PierEngine
import PierModel

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Tags × registries by digest (HEAD only), marking missing, diverged and extra (backup-only) tags.")

    @Argument(help: "Repositories; the first is the primary (none: pier.yml's repositories, as --org).")
    var repositories: [String] = []
    @Option(help: "Only tags matching this regex.") var tags: String?
    @Flag(help: "Exit 70 when a tag of the primary is missing or diverged on a backup (for a scheduled CI job).")
    var check = false
    @Flag(help: "Print as JSON.") var json = false
    @Option(
        help:
            "Also write one self-contained HTML page (no external resources) with digests, ages, drift and, when pier.yml has prune: rules, the retention preview."
    )
    var html: String?
    @Option(
        name: .customLong("config"),
        help:
            "Config file whose prune: rules the --html page previews (default pier.yml when present; also PIER_CONFIG)."
    )
    var configPath: String?
    @OptionGroup(title: "Organisation") var organisation: OrganisationOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        var flags = settingsFlags(targeting: repositories)
        flags.configPath = configPath
        if repositories.isEmpty || organisation.requested {
            var options = OrganisationOperation.Options()
            options.details = html != nil
            return try await OrganisationRun.run(
                .status, options: options, flags: flags, organisation: organisation, global: global, json: json,
                html: html, check: check)
        }
        try await global.run(
            flags,
            prepare: { settings in
                var request = StatusOperation.Request()
                (request.repositories, request.tags, request.details) = (repositories, tags, html != nil)
                return try StatusOperation(request, settings: settings)
            }
        ) { operation, session in
            let section = try await operation.run(session: session)
            let status = section.status
            if let html { try StatusPageFile.write([section], to: html, now: session.settings.startedAt) }
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
