import ArgumentParser
import PierEngine
import PierModel

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that an image has a valid cosign signature by a public key (exit 0), else exit 70.",
        discussion: """
            Reads the image's sha256-<hex>.sig manifest and checks every signature in it: the payload's bytes match \
            its layer's digest, the ECDSA-SHA256 signature verifies over them with the key, and the payload names \
            this image's digest and the type "cosign container image signature". Prints what was found and why each \
            signature failed.
            """)

    @Argument(help: "The image: a registry reference by tag or digest.") var image: String
    @Option(
        parsing: .unconditional,
        help: "The public key: a PEM file, or env://NAME (default: pier.yml signing.verify_key).")
    var key: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.run(
            settingsFlags(targeting: [image]),
            prepare: { settings in try VerifyOperation(image: image, key: key, settings: settings) }
        ) { operation, session in
            let report = try await operation.run(session: session)
            if json {
                try Terminal.shared.printJSON(report)
            } else {
                Terminal.shared.print(
                    "\(report.image): \(report.valid) of \(report.found) signature(s) valid for key \(report.key)")
                for line in report.lines {
                    Terminal.shared.print("  \(line.summary) (at \(line.locations.joined(separator: ", ")))")
                }
            }
            if let failure = operation.failure(report) { throw failure }
        }
    }
}
