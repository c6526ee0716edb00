import Foundation
import PierEngine
import PierModel
import Testing

/// `referrers:` in pier.yml, and the flags that win over it.
struct ReferrerSettingsTests {
    @Test func flagsWinOverTheConfigSection() throws {
        let directory = NSTemporaryDirectory() + "pier-referrers-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "referrers:\n  carry: true\n  types: [application/spdx+json]\n".write(
            toFile: directory + "/pier.yml", atomically: true, encoding: .utf8)
        var flags = SettingsFlags()
        flags.configPath = directory + "/pier.yml"
        #expect(
            try Settings.resolve(flags, environment: [:]).referrers == .init(artifactTypes: ["application/spdx+json"]))
        flags.referrerTypes = ["application/vnd.in-toto+json"]
        flags.noReferrers = true
        #expect(
            try Settings.resolve(flags, environment: [:]).referrers
                == .init(carry: false, artifactTypes: ["application/vnd.in-toto+json"]))
        #expect(throws: PierError.self) { try PierConfig.parse("referrers:\n  carry: maybe\n") }
        #expect(throws: PierError.self) { try PierConfig.parse("referrers:\n  kinds: []\n") }
    }
}

extension ReferrerSettingsTests {
    /// `--referrers-type spdx` is a usage error, and `types: [spdx]` in pier.yml invalid input, as attach's check.
    @Test func artifactTypesMustBeMediaTypes() throws {
        var flags = SettingsFlags()
        flags.referrerTypes = ["spdx"]
        #expect { try Settings.resolve(flags, environment: [:]) } throws: { ($0 as? PierError)?.kind == .usage }
        #expect {
            try PierConfig.parse("referrers:\n  types: [spdx]\n")
        } throws: {
            ($0 as? PierError)?.kind == .invalidInput
        }
        #expect(try PierConfig.parse("referrers:\n  types: [application/spdx+json]\n").referrers != nil)
    }
}
