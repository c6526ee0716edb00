import Foundation
import PierModel

/// Where an image is: a registry reference (the default) or a local file transport, as skopeo names them.
public enum ImageLocation: Sendable, Equatable, CustomStringConvertible {
    case registry(ImageReference)
    /// `oci:DIR[:tag]`
    case ociLayout(path: String, tag: String?)
    /// `oci-archive:FILE[:tag]`
    case ociArchive(path: String, tag: String?)
    /// `docker-archive:FILE[:ref]`
    case dockerArchive(path: String, reference: String?)

    /// Parses `oci:…`, `oci-archive:…`, `docker-archive:…`, `docker://REF`, or a plain registry reference.
    /// Local paths end at the first `:`; what follows is the tag (skopeo's rule).
    public init(parsing text: String) throws(PierError) {
        func split(_ rest: Substring) -> (String, String?) {
            guard let colon = rest.firstIndex(of: ":") else { return (String(rest), nil) }
            let after = String(rest[rest.index(after: colon)...])
            return (String(rest[..<colon]), after.isEmpty ? nil : after)
        }
        func requirePath(_ path: String, _ transport: String) throws(PierError) {
            guard !path.isEmpty else {
                throw PierError(
                    .usage, operation: "parse image location", message: "\"\(text)\" names no path",
                    hint: "write \(transport):PATH[:tag]")
            }
        }
        if text.hasPrefix("oci:") {
            let (path, tag) = split(text.dropFirst(4))
            try requirePath(path, "oci")
            try Self.checkTag(tag, in: text)
            self = .ociLayout(path: path, tag: tag)
        } else if text.hasPrefix("oci-archive:") {
            let (path, tag) = split(text.dropFirst(12))
            try requirePath(path, "oci-archive")
            try Self.checkTag(tag, in: text)
            self = .ociArchive(path: path, tag: tag)
        } else if text.hasPrefix("docker-archive:") {
            let (path, reference) = split(text.dropFirst(15))
            try requirePath(path, "docker-archive")
            self = .dockerArchive(path: path, reference: reference)
        } else if text.hasPrefix("docker://") {
            self = .registry(try ImageReference(parsing: String(text.dropFirst(9))))
        } else {
            try Self.refuseLocalPath(text)
            self = .registry(try ImageReference(parsing: text))
        }
    }

    /// A plain location names a registry (docker's rule), so `img/v1` is `docker.io/img/v1`. When it names an OCI
    /// layout directory or a file here, the user almost surely meant the local image: refuse before any network
    /// I/O and name the prefix to write (`docker://` keeps the registry reading).
    static func refuseLocalPath(_ text: String) throws(PierError) {
        let path = text.split(separator: ":", maxSplits: 1).first.map(String.init) ?? text
        for candidate in (path == text ? [text] : [text, path]) where !candidate.isEmpty {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) else { continue }
            let shown = TerminalText.escaped(candidate)
            let tag = candidate == text ? "" : String(text.dropFirst(candidate.count))
            if isDirectory.boolValue {
                guard FileManager.default.fileExists(atPath: candidate + "/oci-layout") else { continue }
                throw PierError(
                    .usage, operation: "parse image location",
                    message:
                        "\"\(TerminalText.escaped(text))\" is an OCI layout directory here, but without a prefix it names a registry",
                    hint:
                        "write oci:\(shown)\(tag) for the local layout, or docker://\(TerminalText.escaped(text)) for the registry"
                )
            }
            throw PierError(
                .usage, operation: "parse image location",
                message: "\"\(TerminalText.escaped(text))\" is a file here, but without a prefix it names a registry",
                hint:
                    "write oci-archive:\(shown)\(tag) (a tar of an OCI layout) or docker-archive:\(shown)\(tag) (docker save"
                    + " output) for the local file, or docker://\(TerminalText.escaped(text)) for the registry")
        }
    }

    static func checkTag(_ tag: String?, in text: String) throws(PierError) {
        if let tag, !ImageReference.isValidTag(tag) {
            throw PierError(.usage, operation: "parse image location", message: "bad tag \"\(tag)\" in \"\(text)\"")
        }
    }

    public var description: String {
        switch self {
        case .registry(let reference): return reference.description
        case .ociLayout(let path, let tag): return "oci:\(path)" + (tag.map { ":\($0)" } ?? "")
        case .ociArchive(let path, let tag): return "oci-archive:\(path)" + (tag.map { ":\($0)" } ?? "")
        case .dockerArchive(let path, let reference):
            return "docker-archive:\(path)" + (reference.map { ":\($0)" } ?? "")
        }
    }

    /// The tag this location names, if any.
    public var tag: String? {
        switch self {
        case .registry(let reference): return reference.tag
        case .ociLayout(_, let tag), .ociArchive(_, let tag): return tag
        case .dockerArchive(_, let reference): return reference.flatMap { try? ImageReference(parsing: $0) }?.tag
        }
    }
}
