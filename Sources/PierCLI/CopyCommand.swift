import ArgumentParser
import PierEngine
import PierModel

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
        help:
            "Username for the source registry only; password from PIER_SRC_PASSWORD (or --password-stdin when it is the only username)."
    )
    var sourceUser: String?
    @Option(
        name: .customLong("dest-creds"),
        help:
            "Username for the destination registry only; password from PIER_DEST_PASSWORD (or --password-stdin when it is the only username)."
    )
    var destinationUser: String?
    @OptionGroup(title: "Referrers") var referrers: ReferrerOptions
    @Flag(
        name: .customLong("create-repository"),
        help: "Create the destination repository when it is a missing ECR repository.")
    var createRepository = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        // -u and PIER_USERNAME go to the destination only: the source may be a third party's registry.
        var flags = settingsFlags(targeting: [destination])
        referrers.apply(to: &flags)
        flags.createRepository = createRepository
        if let sourceUser {
            flags.scopedUsers.append(
                .init(username: sourceUser, location: source, secretVariable: "PIER_SRC_PASSWORD", flag: "--src-creds"))
        }
        if let destinationUser {
            flags.scopedUsers.append(
                .init(
                    username: destinationUser, location: destination, secretVariable: "PIER_DEST_PASSWORD",
                    flag: "--dest-creds"))
        }
        try await global.run(
            flags,
            prepare: { _ in
                (
                    try ImageLocation(parsing: source), try ImageLocation(parsing: destination),
                    try platform.map { (text) throws(PierError) in try Platform(parsing: text) }
                )
            }
        ) { prepared, session in
            let (from, to, selected) = prepared
            let display = global.progressDisplay
            var copier = Copier(
                concurrency: session.settings.network.concurrency, logger: session.logger, progress: display.callback)
            copier.referrers = session.settings.referrers
            if case .registry(let reference) = to {
                _ = try await ECRRepositoryCreation.createMissing([reference], session: session)
            }
            let report = try await copier.copy(from: from, to: to, platform: selected, store: session.store)
            Terminal.shared.clearProgress()
            if json { return try Terminal.shared.printJSON(report) }
            Terminal.shared.print("\(report.destination):\(report.tag ?? "")@\(report.digest)")
            for referrer in report.referrers { Terminal.shared.print(ReferrersCommand.line(referrer)) }
        }
    }
}
