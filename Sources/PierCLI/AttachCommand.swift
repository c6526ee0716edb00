import ArgumentParser
import PierEngine
import PierModel

struct AttachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Attach a file (an SBOM, a scan report) to an image as an OCI 1.1 referrer.",
        discussion: """
            Pushes an artifact manifest with the given artifactType, the empty config and FILE as its one layer, \
            whose subject is IMAGE. Registries with the referrers API index it themselves (they answer \
            OCI-Subject); on others pier adds it to the fallback index tag sha256-<hex>, keeping what others wrote. \
            copy, publish and sync carry it with the image; prune deletes it with the image. Attaching the same \
            file with the same type again writes nothing.
            """)

    @Argument(help: "The image the file is about (a registry reference).") var image: String
    @Option(help: "The file to attach.") var file: String
    @Option(name: .customLong("artifact-type"), help: "Its artifact type, e.g. application/spdx+json.")
    var artifactType: String
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.run(
            settingsFlags(targeting: [image]),
            prepare: { _ in try AttachOperation(image: image, file: file, artifactType: artifactType) }
        ) { operation, session in
            let outcome = try await operation.run(session: session)
            if json { return try Terminal.shared.printJSON(outcome) }
            let present = outcome.action == .present ? " already (nothing written)" : ""
            Terminal.shared.print(
                "\(operation.image.repositoryName)@\(outcome.digest) (\(outcome.artifactType)) refers to \(outcome.subject)\(present) via \(outcome.storedAs)"
            )
        }
    }
}
