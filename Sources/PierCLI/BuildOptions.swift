import ArgumentParser
import Foundation
import PierEngine
import PierModel

/// Build flags shared by `pier build` and `pier publish --build`; pier.yml's `build:` section gives defaults.
struct BuildOptions: ParsableArguments {
    @Option(
        help:
            "auto (native when --base/--add/--binary are given, else docker buildx, podman, buildah), docker, podman, buildah or native."
    )
    var builder: BuilderChoice?
    @Option(name: [.customShort("f"), .customLong("file")], help: "Dockerfile (default CONTEXT/Dockerfile).") var file:
        String?
    @Option(
        name: .customLong("build-arg"),
        help:
            "KEY=VALUE for the Dockerfile, or KEY to take the value from the environment (repeatable). Values reach the builder through its environment and are never logged."
    )
    var buildArgs: [String] = []
    @Option(
        name: .customLong("pass-env"),
        help:
            "Also give the Dockerfile builder this environment variable (repeatable); it otherwise gets only PATH, HOME, TMPDIR, proxies and its own settings."
    )
    var passEnvironment: [String] = []
    @Option(help: "Dockerfile stage to build.") var target: String?
    @Option(name: .customLong("label"), help: "Image label KEY=VALUE (repeatable).") var labelPairs: [String] = []
    @Option(name: .customLong("platform"), help: "os/arch[/variant] to build (repeatable or comma-separated).")
    var platforms: [String] = []
    @Option(help: "Native: the base image: scratch, a registry reference, or oci:DIR[:tag].") var base: String?
    @Option(
        name: .customLong("add"),
        help:
            "Native: SRC:DEST, a file or directory added under the absolute image path DEST (repeatable; DEST/ keeps the file name)."
    )
    var additions: [String] = []
    @Option(help: "Native: octal mode for added files (default: 0755 if executable, else 0644).") var chmod: String?
    @Option(help: "Native: numeric UID[:GID] owning added files (default 0:0).") var chown: String?
    @Option(
        name: .customLong("binary"),
        help:
            "Native: PLATFORM=PATH, a binary for one platform (repeatable); it becomes the entrypoint unless --entrypoint is given."
    )
    var binaries: [String] = []
    @Option(name: .customLong("binary-dir"), help: "Native: where binaries go (default /usr/local/bin).")
    var binaryDirectory: String?
    @Option(help: "Native: entrypoint, as a JSON list or space-separated words.") var entrypoint: String?
    @Option(help: "Native: command, as a JSON list or space-separated words.") var cmd: String?
    @Option(name: .customLong("env"), help: "Native: KEY=VALUE environment variable (repeatable).") var env: [String] =
        []
    @Option(help: "Native: working directory.") var workdir: String?
    @Option(help: "Native: user (name or UID[:GID]).") var user: String?
    @Option(name: .customLong("expose"), help: "Native: exposed port, PORT[/tcp|udp] (repeatable).") var exposedPorts:
        [String] = []
    @Option(help: "Native: layer compression, gzip (default) or zstd (containerd ≥ 1.5, podman, docker ≥ 23).")
    var compression: String?
    @Option(
        name: .customLong("compression-level"),
        help: "Native: compression level, 1–9 for gzip (default 6), 1–19 for zstd (default 3).")
    var compressionLevel: Int?

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
        flags.compression = compression
        flags.compressionLevel = compressionLevel
        flags.output = output
        return (config.build ?? BuildSpec()).overridden(by: flags)
    }
}
