import Foundation
import PierEngine
import PierModel

/// An organisation-wide sync, prune or status: settings resolved, the operation run, one line per repository and
/// a closing summary (or the summary as JSON), exit 75 when some repository failed.
enum OrganisationRun {
    static func run(
        _ command: OrganisationOperation.Command, options: OrganisationOperation.Options, flags: SettingsFlags,
        organisation: OrganisationOptions, global: GlobalOptions, json: Bool, html: String? = nil, check: Bool = false
    ) async throws {
        var flags = flags
        organisation.apply(to: &flags)
        try await global.run(
            flags, prepare: { settings in try OrganisationOperation(command, options: options, settings: settings) }
        ) { operation, session in
            let (summary, sections) = try await operation.run(session: session)
            if let html { try StatusPageFile.write(sections, to: html, now: session.settings.startedAt) }
            if json {
                try Terminal.shared.printJSON(summary)
            } else {
                for result in summary.results {
                    var line = "\(result.name)  \(result.outcome.rawValue)"
                    switch command {
                    case .sync:
                        line +=
                            "  \(summary.dryRun ? "would copy" : "copied") \(result.copied), in sync \(result.inSync)"
                        if result.unsigned > 0 { line += ", unsigned \(result.unsigned)" }
                    case .prune: line += "  \(summary.dryRun ? "would remove" : "removed") \(result.removed)"
                    case .status: line += "  drifted \(result.drifted), ok \(result.inSync)"
                    }
                    if result.failed > 0 { line += ", failed \(result.failed)" }
                    if let message = result.message { line += " — \(message)" }
                    Terminal.shared.print(TerminalText.escaped(line))
                }
                let counts = summary.counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
                Terminal.shared.print(
                    "\(command.rawValue)\(summary.dryRun ? " (dry run, nothing written)" : ""): \(summary.results.count) of \(summary.configured) repositories (shard "
                        + "\(summary.shard)): \(counts.isEmpty ? "none in this shard" : counts.joined(separator: ", ")) in \(String(format: "%.1f", summary.seconds)) s"
                )
            }
            if let failure = summary.failure { throw failure }
            let drifted = summary.results.filter { $0.outcome == .drift }
            if check, !drifted.isEmpty {
                throw PierError(
                    .verification, operation: "status",
                    message: "\(drifted.count) repositories drifted: "
                        + drifted.prefix(5).map(\.name).joined(separator: ", ") + (drifted.count > 5 ? ", …" : ""),
                    hint: "pier sync --org copies the missing tags from each primary")
            }
        }
    }
}
