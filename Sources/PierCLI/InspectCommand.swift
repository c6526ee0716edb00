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
        try await global.withStore(targets: [image]) { store, _ in
            let source = try await store.openSource(try ImageLocation(parsing: image))
            defer { Task { await source.close() } }
            let selected = try platform.map { text throws(PierError) in try Platform(parsing: text) }
            if raw {
                var root = try await source.root()
                if let selected { root = try await ImageGraph.select(selected, in: root, from: source) }
                Terminal.shared.write(root.bytes)
                return
            }
            let details = try await ImageInspector.inspect(source, platform: selected)
            await source.close()
            if json { return try Terminal.shared.printJSON(details) }
            for line in Self.lines(details) { Terminal.shared.print(line) }
        }
    }

    static func lines(_ details: ImageDetails) -> [String] {
        var lines = [
            "Name:        \(details.name)", "Digest:      \(details.digest)", "Media type:  \(details.mediaType)",
            "Size:        \(details.size) bytes",
        ]
        if let platforms = details.platforms {
            lines.append("Platforms:")
            for entry in platforms { lines.append("  \(entry.platform.padding(toLength: 16, withPad: " ", startingAt: 0)) \(entry.digest)") }
        }
        if let config = details.config {
            if let platform = config.platform { lines.append("Platform:    \(platform)") }
            if let created = config.created { lines.append("Created:     \(created)") }
            lines.append("Config:      \(config.digest)")
            if let entrypoint = config.entrypoint { lines.append("Entrypoint:  \(entrypoint.joined(separator: " "))") }
            if let cmd = config.cmd { lines.append("Cmd:         \(cmd.joined(separator: " "))") }
            if let user = config.user, !user.isEmpty { lines.append("User:        \(user)") }
            if let dir = config.workingDir, !dir.isEmpty { lines.append("WorkingDir:  \(dir)") }
            if let ports = config.exposedPorts, !ports.isEmpty { lines.append("Ports:       \(ports.joined(separator: ", "))") }
            for (key, value) in (config.labels ?? [:]).sorted(by: { $0.key < $1.key }) { lines.append("Label:       \(key)=\(value)") }
        }
        if let layers = details.layers {
            lines.append("Layers:      \(layers.count) (\(ProgressDisplay.format(details.layersSize ?? 0)))")
            for layer in layers { lines.append("  \(layer.digest)  \(ProgressDisplay.format(layer.size))") }
        }
        return lines
    }
}
