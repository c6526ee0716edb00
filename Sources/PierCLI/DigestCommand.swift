import ArgumentParser
import PierEngine
import PierModel

struct DigestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract:
            "Print an image's digest (for a registry, with a HEAD request: it does not count as a Docker Hub pull).")

    @Argument(help: "Image location.") var image: String
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.run(settingsFlags(targeting: [image]), prepare: { _ in try ImageLocation(parsing: image) }) {
            location, session in
            Terminal.shared.print(try await ImageInspector.digest(location, store: session.store).description)
        }
    }
}
