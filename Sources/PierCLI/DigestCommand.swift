import ArgumentParser
import PierEngine
import PierModel

struct DigestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Print an image's digest (for a registry, with a HEAD request: it does not count as a Docker Hub pull).")

    @Argument(help: "Image location.") var image: String
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.withStore(targets: [image]) { store, _ in
            let location = try ImageLocation(parsing: image)
            if case .registry(let reference) = location {
                let client = await store.client(for: reference.registry)
                guard let head = try await client.manifestHead(repository: reference.repository, reference: reference.manifestReference)
                else {
                    throw PierError(
                        .notFound, operation: "get digest", message: "no manifest \(reference.manifestReference)",
                        registry: reference.registry, repository: reference.repository)
                }
                return Terminal.shared.print(head.digest.description)
            }
            let source = try await store.openSource(location)
            let root = try await source.root()
            await source.close()
            Terminal.shared.print(root.digest.description)
        }
    }
}
