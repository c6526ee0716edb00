import PierEngine

/// The human rendering of `pier inspect`.
enum ImageDetailsText {
    static func lines(_ details: ImageDetails) -> [String] {
        var lines = [
            "Name:        \(details.name)", "Digest:      \(details.digest)", "Media type:  \(details.mediaType)",
            "Size:        \(details.size) bytes",
        ]
        if let platforms = details.platforms {
            lines.append("Platforms:")
            for entry in platforms {
                lines.append("  \(entry.platform.padding(toLength: 16, withPad: " ", startingAt: 0)) \(entry.digest)")
            }
        }
        if let config = details.config {
            if let platform = config.platform { lines.append("Platform:    \(platform)") }
            if let created = config.created { lines.append("Created:     \(created)") }
            lines.append("Config:      \(config.digest)")
            if let entrypoint = config.entrypoint { lines.append("Entrypoint:  \(entrypoint.joined(separator: " "))") }
            if let cmd = config.cmd { lines.append("Cmd:         \(cmd.joined(separator: " "))") }
            if let user = config.user, !user.isEmpty { lines.append("User:        \(user)") }
            if let dir = config.workingDir, !dir.isEmpty { lines.append("WorkingDir:  \(dir)") }
            if let ports = config.exposedPorts, !ports.isEmpty {
                lines.append("Ports:       \(ports.joined(separator: ", "))")
            }
            for (key, value) in (config.labels ?? [:]).sorted(by: { $0.key < $1.key }) {
                lines.append("Label:       \(key)=\(value)")
            }
        }
        if let layers = details.layers {
            lines.append("Layers:      \(layers.count) (\(ProgressDisplay.format(details.layersSize ?? 0)))")
            for layer in layers { lines.append("  \(layer.digest)  \(ProgressDisplay.format(layer.size))") }
        }
        return lines
    }
}
