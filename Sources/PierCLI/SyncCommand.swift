import ArgumentParser
import PierEngine
import PierModel

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Make backups match the primary for the selected tags, copying only what differs.")

    @Argument(help: "The primary repository (none: pier.yml's repositories, as --org).") var source: String?
    @Argument(help: "Backup repositories.") var destinations: [String] = []
    @Option(help: "Only tags matching this regex.") var tags: String?
    @Option(help: "Only versions in this semver range (>=1.2.0 <2.0.0, ^1.2, ~1.2.3, 1.x).") var semver: String?
    @Option(name: .customLong("on-conflict"), help: "fail, overwrite or backup, when a version tag differs.")
    var onConflict: ConflictPolicy = .fail
    @Flag(name: .customLong("dry-run"), help: "Show what would be copied.") var dryRun = false
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup(title: "Referrers") var referrers: ReferrerOptions
    @Flag(
        name: .customLong("create-repository"),
        help: "Create destination repositories that are missing ECR repositories.")
    var createRepository = false
    @Option(
        name: .customLong("verify-key"), parsing: .unconditional,
        help:
            "Copy only images with a valid cosign signature by this public key on the primary (others: unsigned, exit 70): a PEM file or env://NAME (also pier.yml signing.verify_key)."
    )
    var verifyKey: String?
    @Option(
        name: .customLong("config"),
        help: "Config file with the repositories: list (default pier.yml; also PIER_CONFIG).")
    var configPath: String?
    @OptionGroup(title: "Organisation") var organisation: OrganisationOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        guard let source, !organisation.requested else {
            var options = OrganisationOperation.Options()
            (options.dryRun, options.onConflict) = (dryRun, onConflict)
            var flags = SettingsFlags()
            flags.configPath = configPath
            referrers.apply(to: &flags)
            flags.createRepository = createRepository
            flags.verifyKey = verifyKey
            return try await OrganisationRun.run(
                .sync, options: options, flags: flags, organisation: organisation, global: global, json: json)
        }
        var flags = settingsFlags(targeting: destinations)
        referrers.apply(to: &flags)
        flags.createRepository = createRepository
        flags.verifyKey = verifyKey
        try await global.run(
            flags,
            prepare: { settings in
                (
                    try ImageReference(parsing: source).with(tag: nil),
                    try destinations.map { (text) throws(PierError) in try ImageReference(parsing: text).with(tag: nil)
                    },
                    try semver.map { (text) throws(PierError) in try SemverRange(text) }
                )
            }
        ) { prepared, session in
            let (primary, backups, range) = prepared
            let sync = try Sync(session: session, onConflict: onConflict, dryRun: dryRun)
            let actions = try await sync.sync(from: primary, to: backups, tags: tags, semver: range, session: session)
            if json {
                try Terminal.shared.printJSON(actions)
            } else {
                for action in actions {
                    var line = "\(action.repository):\(action.tag)  \(action.digest.short)  \(action.action)"
                    if let backup = action.backup { line += " (old image kept as \(backup))" }
                    if let verified = action.referrers?.filter({ $0.verified == true }), !verified.isEmpty {
                        line += " (\(verified.count) referrer(s) verified)"
                    }
                    if let message = action.message { line += " — \(message)" }
                    Terminal.shared.print(line)
                }
            }
            if let failure = Sync.failure(of: actions) { throw failure }
        }
    }
}
