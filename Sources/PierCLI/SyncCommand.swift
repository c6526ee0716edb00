import ArgumentParser
import PierEngine
import PierModel

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Make backups match the primary for the selected tags, copying only what differs.")

    @Argument(help: "The primary repository.") var source: String
    @Argument(help: "Backup repositories.") var destinations: [String]
    @Option(help: "Only tags matching this regex.") var tags: String?
    @Option(help: "Only versions in this semver range (>=1.2.0 <2.0.0, ^1.2, ~1.2.3, 1.x).") var semver: String?
    @Option(name: .customLong("on-conflict"), help: "fail, overwrite or backup, when a version tag differs.")
    var onConflict: ConflictPolicy = .fail
    @Flag(name: .customLong("dry-run"), help: "Show what would be copied.") var dryRun = false
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup(title: "Referrers") var referrers: ReferrerOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        var flags = settingsFlags(targeting: destinations)
        referrers.apply(to: &flags)
        try await global.run(
            flags,
            prepare: { _ in
                (
                    try ImageReference(parsing: source).with(tag: nil),
                    try destinations.map { (text) throws(PierError) in try ImageReference(parsing: text).with(tag: nil)
                    },
                    try semver.map { (text) throws(PierError) in try SemverRange(text) }
                )
            }
        ) { prepared, session in
            let (primary, backups, range) = prepared
            var sync = Sync(store: session.store)
            sync.referrers = session.settings.referrers
            (sync.onConflict, sync.dryRun, sync.logger, sync.timestamp) = (
                onConflict, dryRun, session.logger, session.settings.startedAt
            )
            let actions = try await sync.sync(from: primary, to: backups, tags: tags, semver: range)
            if json {
                try Terminal.shared.printJSON(actions)
            } else {
                for action in actions {
                    var line = "\(action.repository):\(action.tag)  \(action.digest.short)  \(action.action)"
                    if let backup = action.backup { line += " (old image kept as \(backup))" }
                    if let carried = action.referrers, !carried.isEmpty {
                        line += " (\(carried.count) referrer(s) verified)"
                    }
                    if let message = action.message { line += " — \(message)" }
                    Terminal.shared.print(line)
                }
            }
            if let failure = Sync.failure(of: actions) { throw failure }
        }
    }
}
