import ArgumentParser
import PierEngine
import PierModel

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract:
            "Point latest and the moving tags (1, 1.2, …) back at a version, on every registry (shows the plan unless --apply).",
        discussion:
            "Manifest only: no blob is uploaded. Refuses when the version has different digests on different registries, unless --trust names the one to follow."
    )

    @Argument(help: "The version to roll back to, e.g. 1.2.3 or v1.2.3.") var version: String
    @Option(name: .customLong("to"), help: "Repository (repeatable).") var targets: [String]
    @Option(help: "The repository whose digest of VERSION wins when registries disagree.") var trust: String?
    @Flag(help: "Write the tags.") var apply = false
    @Option(
        name: .customLong("verify-key"), parsing: .unconditional,
        help:
            "Refuse (exit 70, nothing moved) unless the version's image has a valid cosign signature by this public key: a PEM file or env://NAME (also pier.yml signing.verify_key)."
    )
    var verifyKey: String?
    @Flag(help: "Print the plan as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        var flags = settingsFlags(targeting: targets)
        flags.verifyKey = verifyKey
        try await global.run(
            flags,
            prepare: { settings in
                (
                    try targets.map { (text) throws(PierError) in try ImageReference(parsing: text).with(tag: nil) },
                    try trust.map { (text) throws(PierError) in try ImageReference(parsing: text).with(tag: nil) },
                    try settings.verificationKey(flag: "--verify-key")
                )
            }
        ) { prepared, session in
            let (references, trusted, key) = prepared
            var rollback = Rollback(store: session.store)
            rollback.verificationKey = key
            var plan = try await rollback.plan(version: version, targets: references, trust: trusted)
            if apply { plan = try await rollback.apply(plan, targets: references, trust: trusted) }
            if json { return try Terminal.shared.printJSON(plan) }
            Terminal.shared.print(
                "rollback to \(plan.version) (\(plan.digest))\(apply ? "" : " — dry run; --apply writes")")
            for change in plan.changes {
                let before = change.before?.short ?? "(none)"
                Terminal.shared.print(
                    "  \(change.repository):\(change.tag)  \(before) → \(change.after.short)  \(change.state)")
            }
        }
    }
}
