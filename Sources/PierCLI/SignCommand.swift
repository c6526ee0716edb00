import ArgumentParser
import PierEngine
import PierModel

struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract:
            "Sign an image in a registry with an ECDSA P-256 key, as cosign does (verifiable with cosign verify).",
        discussion: """
            The signature is a simple-signing payload naming the image's digest, signed with ECDSA-SHA256 and \
            appended to the image's sha256-<hex>.sig manifest in its repository; other signers' signatures there are \
            kept, and signing again with the same key adds nothing. The key comes from a PEM file (PKCS#8 or SEC1) or \
            an environment variable (--key env://NAME), never from the command line. After the push the signature is \
            read back and verified.
            """)

    @Argument(help: "The image: a registry reference by tag or digest.") var image: String
    // `.unconditional`: a value that starts with `-` (PEM text pasted by mistake) reaches pier's own check, which
    // refuses it without repeating it, instead of the parser's error, which would.
    @Option(
        parsing: .unconditional, help: "The private key: a PEM file, or env://NAME (default: pier.yml signing.key).")
    var key: String?
    @Option(
        name: [.short, .customLong("annotation")],
        help: "KEY=VALUE added to the payload's optional claims (repeatable).")
    var annotations: [String] = []
    @Flag(help: "Store the signature as an OCI 1.1 referrer (a manifest with subject) instead of the .sig tag.")
    var referrer = false
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.run(
            settingsFlags(targeting: [image]),
            prepare: { settings in
                var request = SignOperation.Request(image: image)
                (request.key, request.annotationPairs, request.referrer) = (key, annotations, referrer)
                return try SignOperation(request, settings: settings)
            }
        ) { operation, session in
            let report = try await operation.run(session: session)
            if json { return try Terminal.shared.printJSON(report) }
            switch report.outcome {
            case .added: Terminal.shared.print("signed \(report.image): added to \(report.location)")
            case .present: Terminal.shared.print("\(report.image) is already signed by this key in \(report.location)")
            case .referrer: Terminal.shared.print("signed \(report.image): referrer \(report.location)")
            }
        }
    }
}
