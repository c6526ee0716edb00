import ArgumentParser
import PierEngine
import PierModel

struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show an image's media type, digest, platforms, layers and config.")

    @Argument(help: "Image: a registry reference, oci:DIR[:tag], oci-archive:FILE[:tag] or docker-archive:FILE[:ref].")
    var image: String
    @Option(help: "Inspect this platform of a multi-platform image.") var platform: String?
    @Flag(help: "Print the exact manifest bytes.") var raw = false
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.run(
            settingsFlags(targeting: [image]),
            prepare: { _ in
                (
                    try ImageLocation(parsing: image),
                    try platform.map { (text) throws(PierError) in try Platform(parsing: text) }
                )
            }
        ) { prepared, session in
            let (location, selected) = prepared
            if raw {
                return Terminal.shared.write(
                    try await ImageInspector.rootBytes(location, platform: selected, store: session.store))
            }
            let details = try await ImageInspector.inspect(location, platform: selected, store: session.store)
            if json { return try Terminal.shared.printJSON(details) }
            for line in ImageDetailsText.lines(details) { Terminal.shared.print(line) }
        }
    }
}
