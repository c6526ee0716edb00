import ArgumentParser
import PierEngine
import PierModel
import PierRegistry

struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy an image, byte for byte, between registries and local layouts.",
        discussion: """
            SRC and DST are registry references or oci:DIR[:tag], oci-archive:FILE[:tag]; SRC may also be \
            docker-archive:FILE[:ref] (from `docker save`). All platforms are copied unless --platform picks one, \
            and the destination digest equals the source digest. Same-registry copies mount blobs; same-repository \
            copies send only manifests. A docker-archive holds uncompressed layers: pier gzips them \
            deterministically, which gives new layer digests and a new manifest digest (the config, and so the \
            image ID, is unchanged). When DST names no tag, the source's tag is used, else `latest`.
            """)

    @Argument(help: "Source image.") var source: String
    @Argument(help: "Destination image.") var destination: String
    @Option(help: "Copy only this platform (os/arch[/variant]).") var platform: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @Option(
        name: .customLong("src-creds"),
        help: "Username for the source registry only; password from PIER_SRC_PASSWORD (or --password-stdin when it is the only username).")
    var sourceUser: String?
    @Option(
        name: .customLong("dest-creds"),
        help: "Username for the destination registry only; password from PIER_DEST_PASSWORD (or --password-stdin when it is the only username).")
    var destinationUser: String?
    @OptionGroup var global: GlobalOptions

    /// `--src-creds` and `--dest-creds`, bound to the registries of SRC and DST (as skopeo's flags).
    func scopedCredentials() throws(PierError) -> [ExplicitCredentials.Given] {
        var given: [ExplicitCredentials.Given] = []
        for (user, text, variable, flag) in [
            (sourceUser, source, "PIER_SRC_PASSWORD", "--src-creds"), (destinationUser, destination, "PIER_DEST_PASSWORD", "--dest-creds"),
        ] {
            guard let user else { continue }
            guard case .registry(let reference) = try ImageLocation(parsing: text) else {
                throw PierError(.usage, operation: "read credentials", message: "\(flag) is for a registry, and \(text) is not one")
            }
            given.append(.init(scope: .host(reference.registry), username: user, secretVariable: variable, flag: flag))
        }
        return given
    }

    func run() async throws {
        let scoped: [ExplicitCredentials.Given]
        do throws(PierError) { scoped = try scopedCredentials() } catch { throw ErrorRendering.exit(for: error) }
        // -u and PIER_USERNAME go to the destination only: the source may be a third party's registry.
        try await global.withStore(targets: [destination], extraCredentials: scoped) { store, logger in
            let from = try ImageLocation(parsing: source)
            let to = try ImageLocation(parsing: destination)
            let selected = try platform.map { text throws(PierError) in try Platform(parsing: text) }
            let display = ProgressDisplay()
            let copier = Copier(concurrency: global.concurrency, logger: logger) { display.add($0, $1) }
            let sourceImage = try await store.openSource(from)
            defer { Task { await sourceImage.close() } }
            let destinationImage = try await store.openDestination(to)
            let report = try await copier.copy(from: sourceImage, to: destinationImage, platform: selected)
            await sourceImage.close()
            Terminal.shared.clearProgress()
            if json {
                try Terminal.shared.printJSON(report)
            } else {
                Terminal.shared.print("\(report.destination):\(report.tag ?? "")@\(report.digest)")
            }
        }
    }
}
