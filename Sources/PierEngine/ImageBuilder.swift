import Foundation
import Logging
import PierLayout
import PierModel

/// Who builds the image: a Dockerfile builder found on the machine, or pier itself (native assembly).
public enum BuilderChoice: String, Sendable, CaseIterable, Codable {
    case auto, docker, podman, buildah, native
}

/// Everything `pier build` (and `publish --build`, and pier.yml's `build:`) can be asked for, as given.
/// `ImageBuilder` decides from it whether a Dockerfile builder or native assembly makes the image.
public struct BuildSpec: Sendable, Equatable {
    public var builder: BuilderChoice = .auto
    public var context = "."
    /// The Dockerfile; default `CONTEXT/Dockerfile`.
    public var file: String?
    /// `NAME=VALUE`, or `NAME` to take the value from pier's environment (as docker does).
    public var buildArgs: [String] = []
    public var target: String?
    /// Names of environment variables a Dockerfile builder also gets, beyond those it needs (`--pass-env`).
    public var passEnvironment: [String] = []
    public var labels: [String: String] = [:]
    public var platforms: [String] = []
    // Native assembly.
    public var base: String?
    public var additions: [String] = []
    public var fileMode: String?
    public var owner: String?
    public var binaries: [String] = []
    public var binaryDirectory: String?
    public var entrypoint: String?
    public var cmd: String?
    public var env: [String] = []
    public var workingDir: String?
    public var user: String?
    public var exposedPorts: [String] = []
    /// `gzip` (default) or `zstd`, and its level (default 6 for gzip, 3 for zstd).
    public var compression: String?
    public var compressionLevel: Int?
    /// `oci:DIR[:tag]`.
    public var output: String?

    public init() {}

    /// Native assembly when asked for, or when native inputs are given and no builder was named.
    public var isNative: Bool {
        builder == .native || (builder == .auto && (base != nil || !additions.isEmpty || !binaries.isEmpty))
    }

    /// `self` with every field `other` sets taken from `other` (command-line flags over pier.yml).
    public func overridden(by other: BuildSpec) -> BuildSpec {
        var result = self
        let empty = BuildSpec()
        if other.builder != empty.builder { result.builder = other.builder }
        if other.context != empty.context { result.context = other.context }
        result.file = other.file ?? file
        if !other.buildArgs.isEmpty { result.buildArgs = other.buildArgs }
        if !other.passEnvironment.isEmpty { result.passEnvironment = other.passEnvironment }
        result.target = other.target ?? target
        result.labels.merge(other.labels) { $1 }
        if !other.platforms.isEmpty { result.platforms = other.platforms }
        result.base = other.base ?? base
        if !other.additions.isEmpty { result.additions = other.additions }
        result.fileMode = other.fileMode ?? fileMode
        result.owner = other.owner ?? owner
        if !other.binaries.isEmpty { result.binaries = other.binaries }
        result.binaryDirectory = other.binaryDirectory ?? binaryDirectory
        result.entrypoint = other.entrypoint ?? entrypoint
        result.cmd = other.cmd ?? cmd
        if !other.env.isEmpty { result.env = other.env }
        result.workingDir = other.workingDir ?? workingDir
        result.user = other.user ?? user
        if !other.exposedPorts.isEmpty { result.exposedPorts = other.exposedPorts }
        result.compression = other.compression ?? compression
        result.compressionLevel = other.compressionLevel ?? compressionLevel
        result.output = other.output ?? output
        return result
    }

    /// The platforms, parsed (`linux/amd64,linux/arm64` lists allowed), refusing unknown names.
    public func parsedPlatforms() throws(PierError) -> [Platform] {
        var result: [Platform] = []
        for item in platforms {
            for text in item.split(separator: ",") {
                let platform = try Platform(parsingBuildTarget: text.trimmingCharacters(in: .whitespaces))
                if !result.contains(platform) { result.append(platform) }
            }
        }
        return result
    }

    /// The native recipe these options describe.
    public func recipe(environment: [String: String]) throws(PierError) -> BuildRecipe {
        var recipe = BuildRecipe()
        recipe.base = base ?? "scratch"
        recipe.platforms = try parsedPlatforms()
        recipe.compression = try LayerCompression(name: compression, level: compressionLevel)
        for item in binaries {
            guard let equals = item.firstIndex(of: "="), item.index(after: equals) != item.endIndex else {
                throw PierError(
                    .usage, operation: "parse --binary", message: "\"\(item)\" is not PLATFORM=PATH",
                    hint: "for example --binary linux/arm64=.build/aarch64/release/app")
            }
            let platform = try Platform(parsingBuildTarget: String(item[..<equals]))
            recipe.binaries.append(.init(platform: platform, path: String(item[item.index(after: equals)...])))
        }
        if let binaryDirectory { recipe.binaryDirectory = binaryDirectory }
        let mode = try fileMode.map { (text) throws(PierError) -> UInt32 in
            guard let value = UInt32(text, radix: 8), value <= 0o7777 else {
                throw PierError(
                    .usage, operation: "parse --chmod", message: "\"\(text)\" is not an octal mode such as 0755")
            }
            return value
        }
        var uid = 0
        var gid = 0
        if let owner {
            let parts = owner.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let user = Int(parts[0]), user >= 0,
                parts.count == 1 || Int(parts[1]) ?? -1 >= 0
            else {
                throw PierError(
                    .usage, operation: "parse --chown", message: "\"\(owner)\" is not UID[:GID]",
                    hint: "owners are numeric in layers, for example 65532:65532")
            }
            uid = user
            gid = parts.count == 2 ? Int(parts[1])! : user
        }
        recipe.additions = try additions.map { (text) throws(PierError) in
            try LayerBuilder.Addition(parsing: text, fileMode: mode, uid: uid, gid: gid)
        }
        recipe.config.entrypoint = try entrypoint.map { (text) throws(PierError) in
            try Self.commandLine(text, "--entrypoint")
        }
        recipe.config.cmd = try cmd.map { (text) throws(PierError) in try Self.commandLine(text, "--cmd") }
        for pair in env where !pair.contains("=") {
            throw PierError(.usage, operation: "parse --env", message: "\"\(pair)\" is not KEY=VALUE")
        }
        recipe.config.env = env
        recipe.config.workingDir = workingDir
        recipe.config.user = user
        for port in exposedPorts {
            let parts = port.split(separator: "/")
            guard (1...2).contains(parts.count), let number = Int(parts[0]), (1...65535).contains(number),
                parts.count == 1 || ["tcp", "udp", "sctp"].contains(parts[1])
            else {
                throw PierError(.usage, operation: "parse --expose", message: "\"\(port)\" is not PORT[/tcp|udp|sctp]")
            }
        }
        recipe.config.exposedPorts = exposedPorts
        recipe.config.labels = labels
        if let text = environment["SOURCE_DATE_EPOCH"], !text.isEmpty {
            guard let epoch = Int64(text), epoch >= 0 else {
                throw PierError(
                    .usage, operation: "build", message: "SOURCE_DATE_EPOCH=\(text) is not a number of seconds")
            }
            recipe.sourceDateEpoch = epoch
        }
        return recipe
    }

    /// `["/app","serve"]` (JSON) or `/app serve` (split on spaces; no shell is involved).
    static func commandLine(_ text: String, _ flag: String) throws(PierError) -> [String] {
        if text.hasPrefix("[") {
            guard let list = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
                throw PierError(.usage, operation: "parse \(flag)", message: "\(text) is not a JSON list of strings")
            }
            return list
        }
        return text.split(separator: " ").map(String.init)
    }
}

/// Runs a build: native assembly, or a Dockerfile through docker buildx, podman or buildah, into an OCI layout.
public struct ImageBuilder: Sendable {
    let store: ImageStore
    let logger: Logger
    let environment: [String: String]

    public init(store: ImageStore, logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment)
    {
        self.store = store
        self.logger = logger
        self.environment = environment
    }

    /// Builds `spec` into `directory` under `tag`; returns the root manifest or index.
    public func build(_ spec: BuildSpec, directory: String, tag: String) async throws(PierError) -> ManifestBlob {
        // Before minutes of building: the output must be a place pier may write a layout.
        try OutputLayout.check(directory)
        if spec.isNative {
            let recipe = try spec.recipe(environment: environment)
            return try await ImageAssembler(store: store).assemble(recipe, directory: directory, tag: tag)
        }
        let dockerfile = spec.file ?? (spec.context as NSString).appendingPathComponent("Dockerfile")
        guard FileManager.default.fileExists(atPath: dockerfile) else {
            throw PierError(
                .usage, operation: "build", message: "no Dockerfile at \(dockerfile)",
                hint: "pass --file, or build natively with --base/--add/--binary")
        }
        let kind = try detect(spec.builder)
        let scratch = try ScratchDirectory(prefix: "pier-build")
        defer { scratch.remove() }
        let built = scratch.path + "/layout"
        let name = "localhost/pier-build-\(UInt32.random(in: 0...UInt32.max))"
        let platforms = try spec.parsedPlatforms().map(\.description)
        let buildArguments = BuilderEnvironment.buildArguments(spec.buildArgs, environment: environment)
        let builder = BuilderEnvironment.child(of: environment, passing: spec.passEnvironment).merging(
            buildArguments.environment
        ) { $1 }
        let common = Self.commonArguments(
            spec, dockerfile: dockerfile, platforms: platforms, buildArguments: buildArguments.arguments)
        switch kind {
        case .docker:
            let archive = scratch.path + "/image.tar"
            try run(
                "docker", ["buildx", "build"] + common + ["--output", "type=oci,dest=\(archive)", spec.context],
                environment: builder)
            try TarArchive.extract(archive, into: built)
        case .podman, .buildah:
            let tool = kind.rawValue
            var global: [String] = []
            if kind == .buildah {
                // vfs and chroot work without privileges in CI containers; STORAGE_DRIVER / BUILDAH_ISOLATION choose others.
                if environment["STORAGE_DRIVER"] == nil { global += ["--storage-driver", "vfs"] }
            }
            let isolation =
                kind == .buildah && environment["BUILDAH_ISOLATION"] == nil ? ["--isolation", "chroot"] : []
            let build = kind == .buildah ? "bud" : "build"
            if platforms.count > 1 {
                try run(
                    tool, global: global, [build] + isolation + common + ["--manifest", name, spec.context],
                    environment: builder)
                defer { try? run(tool, global: global, ["manifest", "rm", name], quiet: true, environment: builder) }
                try run(
                    tool, global: global, ["manifest", "push", "--all", name, "oci:\(built):latest"],
                    environment: builder)
            } else {
                try run(
                    tool, global: global, [build] + isolation + common + ["--tag", name, spec.context],
                    environment: builder)
                defer { try? run(tool, global: global, ["rmi", name], quiet: true, environment: builder) }
                try run(tool, global: global, ["push", name, "oci:\(built):latest"], environment: builder)
            }
        case .auto, .native:
            preconditionFailure("detect returns a builder")
        }
        // The builder's layout may have several entries; pier copies the one it built into the output by tag.
        let source = LayoutImageSource(
            layout: OCILayout(root: built), name: "\(kind.rawValue) build", tag: kind == .docker ? nil : "latest")
        let destination = try await store.openDestination(.ociLayout(path: directory, tag: tag))
        let report = try await Copier(logger: logger).copy(from: source, to: destination, tag: tag)
        return try OCILayout(root: directory).root(tag: tag).withDigestCheck(report.digest)
    }

    /// `--file`, `--platform`, `--build-arg`, `--target`, `--label`: the same spelling for all three builders.
    static func commonArguments(_ spec: BuildSpec, dockerfile: String, platforms: [String], buildArguments: [String])
        -> [String]
    {
        var arguments = ["--file", dockerfile]
        if !platforms.isEmpty { arguments += ["--platform", platforms.joined(separator: ",")] }
        for argument in buildArguments { arguments += ["--build-arg", argument] }
        if let target = spec.target { arguments += ["--target", target] }
        for (key, value) in spec.labels.sorted(by: { $0.key < $1.key }) { arguments += ["--label", "\(key)=\(value)"] }
        return arguments
    }

    /// The builder to use: the one asked for, else the first that works of docker (engine answering, buildx present),
    /// podman, buildah.
    public func detect(_ choice: BuilderChoice) throws(PierError) -> BuilderChoice {
        func available(_ kind: BuilderChoice) -> Bool {
            guard Self.executable(kind.rawValue, environment: environment) != nil else { return false }
            if kind == .docker {
                return (try? run("docker", ["buildx", "version"], quiet: true)) != nil
                    && (try? run("docker", ["info", "--format", "{{.ServerVersion}}"], quiet: true)) != nil
            }
            return true
        }
        if choice != .auto {
            guard available(choice) else {
                throw PierError(
                    .notFound, operation: "build", message: "\(choice.rawValue) is not usable here",
                    hint: choice == .docker
                        ? "docker needs a running engine and the buildx plugin" : "install \(choice.rawValue)")
            }
            return choice
        }
        for kind in [BuilderChoice.docker, .podman, .buildah] where available(kind) { return kind }
        throw PierError(
            .notFound, operation: "build",
            message: "no image builder found (looked for docker with a running engine and buildx, podman, buildah)",
            hint: "install one (apt-get install buildah needs no daemon), or build natively with --base/--add/--binary")
    }

    /// Runs `tool [global] arguments` with its output streamed to pier's stderr (pier's stdout carries only results),
    /// in `childEnvironment` (default: what a builder needs from pier's environment, see `BuilderEnvironment`).
    func run(
        _ tool: String, global: [String] = [], _ arguments: [String], quiet: Bool = false,
        environment childEnvironment: [String: String]? = nil
    ) throws(PierError) {
        guard let path = Self.executable(tool, environment: environment) else {
            throw PierError(.notFound, operation: "build", message: "\(tool) is not installed")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = global + arguments
        let sink = quiet ? FileHandle(forWritingAtPath: "/dev/null") : FileHandle.standardError
        process.standardOutput = sink
        process.standardError = sink
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        // buildah and podman refuse to run ("checking authfile") when DOCKER_CONFIG names a directory without a
        // config.json, as CI jobs with a fresh DOCKER_CONFIG have; without one there are no credentials to lose.
        var childEnvironment = childEnvironment ?? BuilderEnvironment.child(of: environment, passing: [])
        if let directory = childEnvironment["DOCKER_CONFIG"],
            !FileManager.default.fileExists(atPath: directory + "/config.json")
        {
            childEnvironment["DOCKER_CONFIG"] = nil
        }
        process.environment = childEnvironment
        if !quiet {
            logger.info("running \(BuilderEnvironment.redacted([tool] + global + arguments).joined(separator: " "))")
        }
        do { try process.run() } catch {
            throw PierError(.other, operation: "build", message: "cannot start \(tool)", cause: "\(error)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PierError(
                .invalidInput, operation: "build",
                message: "\(tool) \(arguments.first ?? "") failed (exit \(process.terminationStatus))",
                hint: quiet ? nil : "its output is above")
        }
    }

    /// The first `name` on PATH that can be executed.
    static func executable(_ name: String, environment: [String: String]) -> String? {
        for directory in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

extension ManifestBlob {
    /// `self`, after checking that it is the manifest a copy reported.
    func withDigestCheck(_ expected: Digest) throws(PierError) -> ManifestBlob {
        guard digest == expected else {
            throw PierError(
                .verification, operation: "build", message: "the output layout holds \(digest), expected \(expected)")
        }
        return self
    }
}
