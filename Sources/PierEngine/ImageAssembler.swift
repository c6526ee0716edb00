import Foundation
import PierLayout
import PierModel

/// What a native build makes: a base, files and per-platform binaries on top, and config changes.
public struct BuildRecipe: Sendable {
    /// A binary for one platform (`--binary linux/arm64=path`).
    public struct PlatformBinary: Sendable, Equatable {
        public var platform: Platform
        public var path: String
        public init(platform: Platform, path: String) {
            self.platform = platform
            self.path = path
        }
    }

    /// Config fields to set (nil or empty: keep the base's).
    public struct ConfigChanges: Sendable, Equatable {
        public var entrypoint: [String]?
        public var cmd: [String]?
        /// `KEY=VALUE`; replaces the base's value of KEY.
        public var env: [String] = []
        public var workingDir: String?
        public var user: String?
        /// `8080`, `8080/tcp`, `53/udp`.
        public var exposedPorts: [String] = []
        public var labels: [String: String] = [:]
        public init() {}
    }

    /// `scratch`, a registry reference, or an `oci:`/`oci-archive:` location.
    public var base = "scratch"
    /// Platforms to build; empty means every platform of the base, or those of the binaries, or linux/amd64.
    public var platforms: [Platform] = []
    public var binaries: [PlatformBinary] = []
    /// Where binaries go in the image; the binary becomes the entrypoint when none is set.
    public var binaryDirectory = "/usr/local/bin"
    public var additions: [LayerBuilder.Addition] = []
    public var config = ConfigChanges()
    /// How new layers are compressed (`--compression`, `--compression-level`).
    public var compression = LayerCompression.standard
    /// Layer mtimes and the config's `created` (SOURCE_DATE_EPOCH; 0 by default, so rebuilds give the same digest).
    public var sourceDateEpoch: Int64 = 0

    public init() {}

    public var isScratch: Bool { base == "scratch" }
}

/// Assembles images without a builder: base manifests and blobs are copied into the output layout, new layers are
/// written there, and new configs, manifests and (for several platforms) an index are authored with sorted keys,
/// so that the same recipe gives the same digest on every run and machine.
public struct ImageAssembler: Sendable {
    let store: ImageStore

    public init(store: ImageStore) { self.store = store }

    /// One platform's starting point: the base manifest and config (nil for `scratch`).
    struct BaseImage {
        var platform: Platform
        var manifest: ManifestBlob?
        var config: JSONValue?
    }

    /// Builds `recipe` into the OCI layout at `directory` under `tag` and returns the root manifest or index.
    /// A new layout appears only when the build succeeds (see `OutputLayout`).
    public func assemble(_ recipe: BuildRecipe, directory: String, tag: String) async throws(PierError) -> ManifestBlob
    {
        let output = try OutputLayout(directory: directory)
        do {
            let root = try await assemble(recipe, into: output.layout, tag: tag)
            try output.commit()
            return root
        } catch {
            output.discard()
            throw error
        }
    }

    func assemble(_ recipe: BuildRecipe, into layout: OCILayout, tag: String) async throws(PierError) -> ManifestBlob {
        let bases = try await baseImages(recipe, into: layout)
        let epoch = recipe.sourceDateEpoch
        var shared: CompressedLayer?
        if !recipe.additions.isEmpty {
            let entries = try LayerBuilder.entries(for: recipe.additions, mtime: epoch, parents: recipe.isScratch)
            shared = try LayerBuilder.writeLayer(entries, into: layout, compression: recipe.compression)
        }
        var images: [ManifestBlob] = []
        for base in bases {
            var layers: [(CompressedLayer, String)] = []
            if let shared { layers.append((shared, "pier build: add files")) }
            var binaryPath: String?
            if !recipe.binaries.isEmpty,
                !recipe.binaries.contains(where: {
                    $0.platform.matches(base.platform) || base.platform.matches($0.platform)
                })
            {
                throw PierError(
                    .usage, operation: "build", message: "no --binary for \(base.platform)",
                    hint: "give a binary for every platform, or pick platforms with --platform")
            }
            if let binary = recipe.binaries.first(where: {
                $0.platform.matches(base.platform) || base.platform.matches($0.platform)
            }) {
                let addition = LayerBuilder.Addition(
                    source: binary.path, destination: recipe.binaryDirectory + "/", fileMode: 0o755)
                let entries = try LayerBuilder.entries(for: [addition], mtime: epoch, parents: recipe.isScratch)
                let name = (binary.path as NSString).lastPathComponent
                binaryPath = "/" + (try LayerBuilder.imagePath(recipe.binaryDirectory) + [name]).joined(separator: "/")
                layers.append(
                    (
                        try LayerBuilder.writeLayer(entries, into: layout, compression: recipe.compression),
                        "pier build: add binary \(binaryPath!)"
                    ))
            }
            images.append(
                try writeImage(
                    base: base, layers: layers, recipe: recipe, binaryPath: binaryPath, into: layout))
        }
        let root: ManifestBlob
        if images.count == 1 {
            root = images[0]
        } else {
            let docker = images.allSatisfy { $0.mediaType == MediaType.dockerManifest }
            let indexType = docker ? MediaType.dockerManifestList : MediaType.ociIndex
            var entries: [Descriptor] = []
            for (image, base) in zip(images, bases) {
                var entry = image.descriptor
                entry.platform = base.platform
                entries.append(entry)
            }
            let index = ManifestDocument(schemaVersion: 2, mediaType: indexType, manifests: entries)
            root = try ManifestBlob(bytes: index.canonicalBytes(), mediaType: indexType, source: "pier build")
            try layout.putManifest(root)
        }
        try layout.setTag(tag, to: root.descriptor)
        return root
    }

    /// The base for every platform to build, its blobs copied into `layout`.
    func baseImages(_ recipe: BuildRecipe, into layout: OCILayout) async throws(PierError) -> [BaseImage] {
        var wanted = recipe.platforms
        if wanted.isEmpty { wanted = recipe.binaries.map(\.platform) }
        if recipe.isScratch {
            return (wanted.isEmpty ? [Platform(os: "linux", architecture: "amd64")] : wanted).map {
                BaseImage(platform: $0, manifest: nil, config: nil)
            }
        }
        let source = try await store.openSource(try ImageLocation(parsing: recipe.base))
        do throws(PierError) {
            let root = try await source.root()
            var manifests: [ManifestBlob] = []
            if root.isIndex {
                if wanted.isEmpty {
                    for entry in (root.document.manifests ?? []) where !(entry.platform?.isUnknown ?? false) {
                        manifests.append(try await source.manifest(entry))
                    }
                } else {
                    for platform in wanted {
                        manifests.append(try await ImageGraph.select(platform, in: root, from: source))
                    }
                }
            } else {
                manifests = [root]
            }
            var bases: [BaseImage] = []
            for manifest in manifests {
                guard let configDescriptor = manifest.document.config, !manifest.isIndex else {
                    throw PierError(
                        .unsupported, operation: "read base image",
                        message: "\(source.name) has a manifest without a config",
                        registry: source.name, hint: "the base must be a container image")
                }
                for blob in manifest.document.blobs where !layout.hasBlob(blob) {
                    let file = try await source.blob(blob, progress: nil)
                    try layout.putBlob(blob, from: file.path)
                }
                try layout.putManifest(manifest)
                let bytes =
                    (try? Data(contentsOf: URL(fileURLWithPath: layout.blobPath(configDescriptor.digest)))) ?? Data()
                guard let config = try? JSONDecoder().decode(JSONValue.self, from: bytes), config.objectValue != nil
                else {
                    throw PierError(
                        .invalidInput, operation: "read base image",
                        message: "the config of \(source.name) is not a JSON object",
                        registry: source.name)
                }
                let platform = Platform(
                    os: config["os"]?.stringValue ?? "linux",
                    architecture: config["architecture"]?.stringValue ?? "amd64",
                    variant: config["variant"]?.stringValue)
                if !root.isIndex, let first = wanted.first, wanted.count > 1 || !first.matches(platform) {
                    throw PierError(
                        .notFound, operation: "read base image",
                        message: "\(source.name) is a single \(platform) image",
                        registry: source.name, hint: "build for \(platform), or use a multi-platform base")
                }
                bases.append(BaseImage(platform: platform, manifest: manifest, config: config))
            }
            await source.close()
            return bases
        } catch {
            await source.close()
            throw error
        }
    }

    /// Writes one platform's config and manifest.
    func writeImage(
        base: BaseImage, layers: [(CompressedLayer, String)], recipe: BuildRecipe, binaryPath: String?,
        into layout: OCILayout
    ) throws(PierError) -> ManifestBlob {
        let created = ISO8601DateFormatter().string(
            from: Date(timeIntervalSince1970: TimeInterval(recipe.sourceDateEpoch)))
        var config =
            base.config
            ?? .object([
                "architecture": .string(base.platform.architecture), "os": .string(base.platform.os),
                "rootfs": .object(["type": .string("layers"), "diff_ids": .array([])]),
            ])
        if base.config == nil, let variant = base.platform.variant { config["variant"] = .string(variant) }
        config["created"] = .string(created)
        config["config"] = Self.apply(
            recipe.config, to: config["config"] ?? .object([:]), defaultEntrypoint: binaryPath)
        var diffIDs = config["rootfs"]?["diff_ids"]?.arrayValue ?? []
        var history = config["history"]?.arrayValue ?? []
        for (layer, comment) in layers {
            diffIDs.append(.string(layer.uncompressedDigest.description))
            history.append(.object(["created": .string(created), "created_by": .string(comment)]))
        }
        config["rootfs"] = .object(["type": .string("layers"), "diff_ids": .array(diffIDs)])
        config["history"] = .array(history)
        let configBytes = CanonicalJSON.bytes(config)
        let docker = base.manifest?.mediaType == MediaType.dockerManifest
        let configDescriptor = Descriptor(
            mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig, digest: Digest.sha256(of: configBytes),
            size: Int64(configBytes.count))
        try layout.putBlob(bytes: configBytes, descriptor: configDescriptor)
        if docker, case .zstd = recipe.compression {
            throw PierError(
                .usage, operation: "build",
                message: "the base \(recipe.base) is a Docker image, which has no zstd layers",
                hint: "use --compression gzip, or an OCI base")
        }
        let manifestType = docker ? MediaType.dockerManifest : MediaType.ociManifest
        var manifest = ManifestDocument(
            schemaVersion: 2, mediaType: manifestType, config: configDescriptor,
            layers: (base.manifest?.document.layers ?? [])
                + layers.map {
                    Descriptor(
                        mediaType: docker ? MediaType.dockerLayerGzip : $0.0.mediaType, digest: $0.0.digest,
                        size: $0.0.size)
                })
        if !docker, let baseManifest = base.manifest, !recipe.base.hasPrefix("oci:"),
            !recipe.base.hasPrefix("oci-archive:")
        {
            // image-spec annotations.md: where the image came from, for tools that track base updates.
            manifest.annotations = [
                "org.opencontainers.image.base.name": recipe.base,
                "org.opencontainers.image.base.digest": baseManifest.digest.description,
            ]
        }
        let blob = try ManifestBlob(bytes: manifest.canonicalBytes(), mediaType: manifestType, source: "pier build")
        try layout.putManifest(blob)
        return blob
    }

    /// The config's `config` object with `changes` applied. Setting an entrypoint clears an inherited Cmd, as a
    /// Dockerfile ENTRYPOINT does, unless a Cmd is given too.
    static func apply(_ changes: BuildRecipe.ConfigChanges, to inner: JSONValue, defaultEntrypoint: String?)
        -> JSONValue
    {
        var inner = inner.objectValue == nil ? JSONValue.object([:]) : inner
        if let entrypoint = changes.entrypoint ?? defaultEntrypoint.map({ [$0] }) {
            inner["Entrypoint"] = .strings(entrypoint)
            if changes.cmd == nil { inner["Cmd"] = nil }
        }
        if let cmd = changes.cmd { inner["Cmd"] = .strings(cmd) }
        if !changes.env.isEmpty {
            var env = (inner["Env"]?.arrayValue ?? []).compactMap(\.stringValue)
            for pair in changes.env {
                let key = pair.split(separator: "=", maxSplits: 1).first.map(String.init) ?? pair
                env.removeAll { $0 == key || $0.hasPrefix(key + "=") }
                env.append(pair)
            }
            inner["Env"] = .strings(env)
        }
        if let dir = changes.workingDir { inner["WorkingDir"] = .string(dir) }
        if let user = changes.user { inner["User"] = .string(user) }
        if !changes.exposedPorts.isEmpty {
            var ports = inner["ExposedPorts"]?.objectValue ?? [:]
            for port in changes.exposedPorts { ports[port.contains("/") ? port : port + "/tcp"] = .object([:]) }
            inner["ExposedPorts"] = .object(ports)
        }
        if !changes.labels.isEmpty {
            var labels = inner["Labels"]?.objectValue ?? [:]
            for (key, value) in changes.labels { labels[key] = .string(value) }
            inner["Labels"] = .object(labels)
        }
        return inner
    }
}
