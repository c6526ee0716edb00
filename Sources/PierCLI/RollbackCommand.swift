import ArgumentParser
import PierEngine
import PierModel

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Point latest and the moving tags (1, 1.2, …) back at a version, on every registry (shows the plan unless --apply).",
        discussion: "Manifest only: no blob is uploaded. Refuses when the version has different digests on different registries, unless --trust names the one to follow.")

    @Argument(help: "The version to roll back to, e.g. 1.2.3.") var version: String
    @Option(name: .customLong("to"), help: "Repository (repeatable).") var targets: [String]
    @Option(help: "The repository whose digest of VERSION wins when registries disagree.") var trust: String?
    @Flag(help: "Write the tags.") var apply = false
    @Flag(help: "Print the plan as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.run(settingsFlags(targeting: targets)) { session in
            let store = session.store
            let references = try targets.map { (text) throws(PierError) in try ImageReference(parsing: text).with(tag: nil) }
            let trusted = try trust.map { (text) throws(PierError) in try ImageReference(parsing: text).with(tag: nil) }
            let rollback = Rollback(store: store)
            var plan = try await rollback.plan(version: version, targets: references, trust: trusted)
            if apply { plan = try await rollback.apply(plan, targets: references, trust: trusted) }
            if json { return try Terminal.shared.printJSON(plan) }
            Terminal.shared.print("rollback to \(plan.version) (\(plan.digest))\(apply ? "" : " — dry run; --apply writes")")
            for change in plan.changes {
                let before = change.before?.short ?? "(none)"
                let state = change.before == change.after ? "unchanged" : apply ? "moved" : "would move"
                Terminal.shared.print("  \(change.repository):\(change.tag)  \(before) → \(change.after.short)  \(state)")
            }
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Tags × registries by digest (HEAD only), marking missing and diverged tags.")

    @Argument(help: "Repositories; the first is the primary.") var repositories: [String]
    @Option(help: "Only tags matching this regex.") var tags: String?
    @Flag(help: "Exit 70 when any tag is missing or diverged (for a scheduled CI job).") var check = false
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.run(settingsFlags(targeting: repositories)) { session in
            let store = session.store
            let references = try repositories.map { (text) throws(PierError) in try ImageReference(parsing: text).with(tag: nil) }
            let status = try await RegistryStatus.collect(references, store: store, only: tags)
            if json {
                try Terminal.shared.printJSON(status)
            } else {
                let width = max(3, status.rows.map(\.tag.count).max() ?? 3)
                Terminal.shared.print("TAG".padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + status.repositories.map { $0.padding(toLength: max(19, $0.count), withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  STATE")
                for row in status.rows {
                    let cells = status.repositories.map { repo in
                        ((row.digests[repo] ?? nil)?.short ?? "-").padding(toLength: max(19, repo.count), withPad: " ", startingAt: 0)
                    }
                    Terminal.shared.print(row.tag.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + cells.joined(separator: "  ") + "  " + row.state.rawValue)
                }
            }
            if check, let failure = status.checkFailure() { throw failure }
        }
    }
}

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Make backups match the primary for the selected tags, copying only what differs.")

    @Argument(help: "The primary repository.") var source: String
    @Argument(help: "Backup repositories.") var destinations: [String]
    @Option(help: "Only tags matching this regex.") var tags: String?
    @Option(help: "Only versions in this semver range (>=1.2.0 <2.0.0, ^1.2, ~1.2.3, 1.x).") var semver: String?
    @Option(name: .customLong("on-conflict"), help: "fail, overwrite or backup, when a version tag differs.") var onConflict: ConflictPolicy = .fail
    @Flag(name: .customLong("dry-run"), help: "Show what would be copied.") var dryRun = false
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.run(settingsFlags(targeting: destinations)) { session in
            var sync = Sync(store: session.store)
            sync.onConflict = onConflict
            sync.dryRun = dryRun
            sync.logger = session.logger
            let range = try semver.map { (text) throws(PierError) in try SemverRange(text) }
            let actions = try await sync.sync(
                from: try ImageReference(parsing: source).with(tag: nil),
                to: try destinations.map { (text) throws(PierError) in try ImageReference(parsing: text).with(tag: nil) },
                tags: tags, semver: range)
            if json {
                try Terminal.shared.printJSON(actions)
            } else {
                for action in actions {
                    var line = "\(action.repository):\(action.tag)  \(action.digest.short)  \(action.action)"
                    if let backup = action.backup { line += " (old image kept as \(backup))" }
                    if let message = action.message { line += " — \(message)" }
                    Terminal.shared.print(line)
                }
            }
            let bad = actions.filter { $0.action == .conflict || $0.action == .failed }
            if !bad.isEmpty {
                throw PierError(bad.allSatisfy { $0.action == .conflict } ? .conflict : .partial, operation: "sync",
                    message: "\(bad.count) tag(s) not synced", hint: bad.first?.message)
            }
        }
    }
}
