import Foundation
import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Builds image layers from files on disk: deterministic tar (sorted entries, fixed mtime, numeric owners, no user
/// or group names, normalised modes) compressed by `Gzip` (fixed header), streamed through disk, never held whole.
/// The same inputs give the same layer digest on every run and machine.
public enum LayerBuilder {
    /// One `--add SRC:DEST`: a file or directory on disk and where it goes in the image.
    public struct Addition: Sendable, Equatable {
        public var source: String
        /// Absolute path in the image. A trailing `/` puts a file inside it under its own name.
        public var destination: String
        /// Mode for regular files; nil keeps the source's execute bit as 0755 or 0644 (umask-independent).
        public var fileMode: UInt32?
        public var uid: Int
        public var gid: Int

        public init(source: String, destination: String, fileMode: UInt32? = nil, uid: Int = 0, gid: Int = 0) {
            self.source = source
            self.destination = destination
            self.fileMode = fileMode
            self.uid = uid
            self.gid = gid
        }

        /// Parses `SRC:DEST` (split at the last colon; DEST is absolute).
        public init(parsing text: String, fileMode: UInt32? = nil, uid: Int = 0, gid: Int = 0) throws(PierError) {
            guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
                text.index(after: colon) != text.endIndex
            else {
                throw PierError(
                    .usage, operation: "parse --add", message: "\"\(text)\" is not SRC:DEST",
                    hint: "for example --add ./dist:/usr/share/app/")
            }
            self.init(
                source: String(text[..<colon]), destination: String(text[text.index(after: colon)...]),
                fileMode: fileMode, uid: uid, gid: gid)
        }
    }

    /// The path components of an absolute image path, with `.` and `..` resolved; refuses a path that leaves `/`.
    public static func imagePath(_ path: String) throws(PierError) -> [String] {
        guard path.hasPrefix("/") else {
            throw PierError(
                .usage, operation: "add files", message: "destination \"\(path)\" is not absolute",
                hint: "image paths start with /, for example /app/server")
        }
        var components: [String] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                guard !components.isEmpty else {
                    throw PierError(
                        .usage, operation: "add files", message: "destination \"\(path)\" is outside the image root")
                }
                components.removeLast()
            default: components.append(String(part))
            }
        }
        return components
    }

    /// The tar entries for `additions`, sorted by name; a later addition to the same path wins. With
    /// `parents`, every directory above a destination gets an entry too (for a layer on `scratch`, which has none).
    public static func entries(for additions: [Addition], mtime: Int64, parents: Bool) throws(PierError) -> [TarWriter
        .Entry]
    {
        var byName: [String: TarWriter.Entry] = [:]
        for addition in additions {
            var destination = try imagePath(addition.destination)
            var info = stat()
            guard stat(addition.source, &info) == 0 else {
                throw PierError(
                    .notFound, operation: "add files", message: "\(addition.source) does not exist",
                    registry: addition.source,
                    hint: "paths are relative to the current directory", cause: String(cString: strerror(errno)))
            }
            let isDirectory = info.st_mode & S_IFMT == S_IFDIR
            if !isDirectory, addition.destination.hasSuffix("/") {
                destination.append((addition.source as NSString).lastPathComponent)
            }
            guard !destination.isEmpty || isDirectory else {
                throw PierError(
                    .usage, operation: "add files", message: "cannot write file \(addition.source) as the image root")
            }
            if parents {
                for depth in stride(from: 1, to: destination.count, by: 1) {
                    let name = destination.prefix(depth).joined(separator: "/")
                    byName[name] = byName[name] ?? directory(name, mtime: mtime)
                }
            }
            try collect(
                addition.source, as: destination.joined(separator: "/"), followLink: true, addition: addition,
                mtime: mtime,
                into: &byName)
        }
        return byName.values.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }

    static func directory(_ name: String, mtime: Int64, uid: Int = 0, gid: Int = 0) -> TarWriter.Entry {
        TarWriter.Entry(name: name, kind: .directory, mode: 0o755, uid: uid, gid: gid, mtime: mtime)
    }

    static func collect(
        _ path: String, as name: String, followLink: Bool, addition: Addition, mtime: Int64,
        into entries: inout [String: TarWriter.Entry]
    ) throws(PierError) {
        var info = stat()
        guard (followLink ? stat(path, &info) : lstat(path, &info)) == 0 else {
            throw PierError(
                .notFound, operation: "add files", message: "cannot read \(path)",
                cause: String(cString: strerror(errno)))
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            let executable = info.st_mode & 0o111 != 0
            entries[name] = TarWriter.Entry(
                name: name, kind: .file(source: path, size: Int64(info.st_size)),
                mode: addition.fileMode ?? (executable ? 0o755 : 0o644), uid: addition.uid, gid: addition.gid,
                mtime: mtime)
        case S_IFLNK:
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else {
                throw PierError(.invalidInput, operation: "add files", message: "cannot read the link \(path)")
            }
            entries[name] = TarWriter.Entry(
                name: name, kind: .symlink(target: target), mode: 0o777, uid: addition.uid, gid: addition.gid,
                mtime: mtime)
        case S_IFDIR:
            if !name.isEmpty { entries[name] = directory(name, mtime: mtime, uid: addition.uid, gid: addition.gid) }
            let children: [String]
            do { children = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
                throw PierError(
                    .invalidInput, operation: "add files", message: "cannot list \(path)", cause: "\(error)")
            }
            for child in children {
                try collect(
                    path + "/" + child, as: name.isEmpty ? child : name + "/" + child, followLink: false,
                    addition: addition,
                    mtime: mtime, into: &entries)
            }
        default:
            throw PierError(
                .invalidInput, operation: "add files", message: "\(path) is not a file, directory or symlink",
                hint: "devices, sockets and pipes cannot go into a layer")
        }
    }

    /// Writes `entries` as a compressed tar layer into `layout`'s blobs, in one pass: tar, diff ID, compression on
    /// up to `workers` cores, blob digest. The bytes depend only on the entries and `compression`.
    public static func writeLayer(
        _ entries: [TarWriter.Entry], into layout: OCILayout, compression: LayerCompression = .standard,
        workers: Int = LayerCompression.availableCores
    ) throws(PierError) -> CompressedLayer {
        try layout.create()
        let spoolPath = layout.root + "/layer-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        defer { unlink(spoolPath) }
        let fd = try FileSystem.openWrite(spoolPath, operation: "write layer")
        defer { close(fd) }
        let encoder = try LayerEncoder(compression: compression, fd: fd, path: spoolPath, workers: workers)
        let writer = TarWriter { (bytes) throws(PierError) in try encoder.write(bytes) }
        do {
            for entry in entries { try writer.append(entry) }
        } catch {
            writer.buffer.deallocate()
            throw error
        }
        try writer.finish()
        let result = try encoder.finish()
        try FileSystem.rename(spoolPath, to: layout.blobPath(result.digest))
        return result
    }
}
