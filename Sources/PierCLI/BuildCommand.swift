import ArgumentParser
import Foundation
import PierEngine
import PierModel

extension BuilderChoice: ExpressibleByArgument {}

/// Build flags shared by `pier build` and `pier publish --build`; pier.yml's `build:` section gives defaults.
struct BuildOptions: ParsableArguments {
    @Option(help: "auto (native when --base/--add/--binary are given, else docker buildx, podman, buildah), docker, podman, buildah or native.")
    var builder: BuilderChoice?
    @Option(name: [.customShort("f"), .customLong("file")], help: "Dockerfile (default CONTEXT/Dockerfile).") var file: String?
    @Option(name: .customLong("build-arg"), help: "KEY=VALUE for the Dockerfile, or KEY to take the value from the environment (repeatable). Values reach the builder through its environment and are never logged.")
    var buildArgs: [String] = []
    @Option(name: .customLong("pass-env"), help: "Also give the Dockerfile builder this environment variable (repeatable); it otherwise gets only PATH, HOME, TMPDIR, proxies and its own settings.")
    var passEnvironment: [String] = []
    @Option(help: "Dockerfile stage to build.") var target: String?
    @Option(name: .customLong("label"), help: "Image label KEY=VALUE (repeatable).") var labelPairs: [String] = []
    @Option(name: .customLong("platform"), help: "os/arch[/variant] to build (repeatable or comma-separated).") var platforms: [String] = []
    @Option(help: "Native: the base image: scratch, a registry reference, or oci:DIR[:tag].") var base: String?
    @Option(name: .customLong("add"), help: "Native: SRC:DEST, a file or directory added under the absolute image path DEST (repeatable; DEST/ keeps the file name).")
    var additions: [String] = []
    @Option(help: "Native: octal mode for added files (default: 0755 if executable, else 0644).") var chmod: String?
    @Option(help: "Native: numeric UID[:GID] owning added files (default 0:0).") var chown: String?
    @Option(name: .customLong("binary"), help: "Native: PLATFORM=PATH, a binary for one platform (repeatable); it becomes the entrypoint unless --entrypoint is given.")
    var binaries: [String] = []
    @Option(name: .customLong("binary-dir"), help: "Native: where binaries go (default /usr/local/bin).") var binaryDirectory: String?
    @Option(help: "Native: entrypoint, as a JSON list or space-separated words.") var entrypoint: String?
    @Option(help: "Native: command, as a JSON list or space-separated words.") var cmd: String?
    @Option(name: .customLong("env"), help: "Native: KEY=VALUE environment variable (repeatable).") var env: [String] = []
    @Option(help: "Native: working directory.") var workdir: String?
    @Option(help: "Native: user (name or UID[:GID]).") var user: String?
    @Option(name: .customLong("expose"), help: "Native: exposed port, PORT[/tcp|udp] (repeatable).") var exposedPorts: [String] = []

    /// The spec from pier.yml overridden by these flags.
    func spec(config: PierConfig, context: String?, output: String?) throws(PierError) -> BuildSpec {
        var flags = BuildSpec()
        if let builder { flags.builder = builder }
        if let context { flags.context = context }
        flags.file = file
        flags.buildArgs = buildArgs
        flags.passEnvironment = passEnvironment
        flags.target = target
        for pair in labelPairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw PierError(.usage, operation: "parse --label", message: "\"\(pair)\" is not KEY=VALUE")
            }
            flags.labels[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        flags.platforms = platforms
        flags.base = base
        flags.additions = additions
        flags.fileMode = chmod
        flags.owner = chown
        flags.binaries = binaries
        flags.binaryDirectory = binaryDirectory
        flags.entrypoint = entrypoint
        flags.cmd = cmd
        flags.env = env
        flags.workingDir = workdir
        flags.user = user
        flags.exposedPorts = exposedPorts
        flags.output = output
        return (config.build ?? BuildSpec()).overridden(by: flags)
    }
}

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
    @Option(name: .customLong("config"), help: "Config file with a build: section (default pier.yml when present; also PIER_CONFIG).")
    var configPath: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let config = try PierConfig.forCommand(configPath)
        try await global.withStore(config: config, targets: []) { store, logger in
            let spec = try build.spec(config: config, context: context, output: output)
            guard let outputText = spec.output else {
                throw PierError(.usage, operation: "build", message: "no --output", hint: "pass --output oci:DIR[:tag]")
            }
            guard case .ociLayout(let directory, let tag) = try ImageLocation(parsing: outputText) else {
                throw PierError(.usage, operation: "build", message: "--output \(outputText) is not an OCI layout",
                    hint: "write oci:DIR[:tag], then pier copy or pier publish it")
            }
            let root = try await ImageBuilder(store: store, logger: logger).build(spec, directory: directory, tag: tag ?? "latest")
            let platforms = (root.document.manifests ?? []).compactMap { $0.platform?.description }
            if json {
                try Terminal.shared.printJSON(BuildResult(
                    output: "oci:\(directory):\(tag ?? "latest")", digest: root.digest, mediaType: root.mediaType, platforms: platforms))
            } else {
                Terminal.shared.print("built oci:\(directory):\(tag ?? "latest") \(root.digest)"
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
