import ArgumentParser
import PierEngine
import PierModel

struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an OCI image from a Dockerfile (docker buildx, podman or buildah) or natively from files.",
        discussion: """
            With a Dockerfile, pier drives the first builder it finds (docker with a running engine and buildx, then \
            podman, then buildah with the vfs driver and chroot isolation) and streams its output to stderr. \
            Without RUN steps no builder is needed: --base, --add and --binary assemble the image natively, as \
            deterministic layers (sorted entries, mtime SOURCE_DATE_EPOCH or 0, owner 0:0 unless --chown), so the \
            same inputs give the same digest on every machine.
            """)

    @Argument(help: "Build context (default .).") var context: String?
    @Option(help: "Where the image goes: oci:DIR[:tag] (tag default latest).") var output: String?
    @OptionGroup var build: BuildOptions
    @Option(
        name: .customLong("config"),
        help: "Config file with a build: section (default pier.yml when present; also PIER_CONFIG).")
    var configPath: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        var flags = SettingsFlags()
        flags.configPath = configPath
        flags.targetLocations = []
        try await global.run(
            flags,
            prepare: { settings in
                let spec = try build.spec(config: settings.config, context: context, output: output)
                guard let outputText = spec.output else {
                    throw PierError(
                        .usage, operation: "build", message: "no --output", hint: "pass --output oci:DIR[:tag]")
                }
                guard case .ociLayout(let directory, let tag) = try ImageLocation(parsing: outputText) else {
                    throw PierError(
                        .usage, operation: "build", message: "--output \(outputText) is not an OCI layout",
                        hint: "write oci:DIR[:tag], then pier copy or pier publish it")
                }
                return (spec, directory, tag ?? "latest")
            }
        ) { prepared, session in
            let (spec, directory, tag) = prepared
            let builder = ImageBuilder(
                store: session.store, logger: session.logger, environment: session.settings.environment)
            let root = try await builder.build(spec, directory: directory, tag: tag)
            let platforms = (root.document.manifests ?? []).compactMap { $0.platform?.description }
            if json {
                try Terminal.shared.printJSON(
                    BuildResult(
                        output: "oci:\(directory):\(tag)", digest: root.digest, mediaType: root.mediaType,
                        platforms: platforms))
            } else {
                Terminal.shared.print(
                    "built oci:\(directory):\(tag) \(root.digest)"
                        + (platforms.isEmpty ? "" : " (\(platforms.joined(separator: ", ")))"))
            }
        }
    }
}

/// `pier build --json`.
struct BuildResult: Codable {
    var output: String
    var digest: Digest
    var mediaType: String
    var platforms: [String]
}
