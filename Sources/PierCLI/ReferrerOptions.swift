import ArgumentParser
import PierEngine

/// `--no-referrers` and `--referrers-type`, shared by copy, publish and sync.
struct ReferrerOptions: ParsableArguments {
    @Flag(
        name: .customLong("no-referrers"),
        help: "Leave signatures, SBOMs and attestations (the image's referrers) behind.")
    var noReferrers = false
    @Option(
        name: .customLong("referrers-type"),
        help: "Carry only referrers of this artifact type (repeatable), and what hangs off them.")
    var types: [String] = []

    func apply(to flags: inout SettingsFlags) {
        flags.noReferrers = noReferrers
        flags.referrerTypes = types
    }
}
