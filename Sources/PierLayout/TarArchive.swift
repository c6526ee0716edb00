import Foundation
import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Streams tar archives to and from disk (POSIX ustar, with PAX `path`/`size` and GNU long names on read).
/// Used for `oci-archive:` and `docker-archive:`; entries are copied through a fixed buffer, never held whole.
public enum TarArchive {
    /// Extracts regular files and directories of `archive` under `directory`. Refuses absolute paths and `..`
    /// (an archive must not write outside its directory); skips links and devices, which image archives do not need.
    public static func extract(_ archive: String, into directory: String) throws(PierError) {
        let fd = try FileSystem.openRead(archive, operation: "read archive")
        defer { close(fd) }
        try FileSystem.makeDirectories(directory)
        var reader = TarReader(.file(fd), archive: archive)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: FileSystem.bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        while let entry = try reader.next() {
            let components = try Self.components(of: entry.name, reader: reader)
            let target = directory + "/" + components.joined(separator: "/")
            switch entry.type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                if components.count > 1 {
                    try FileSystem.makeDirectories(directory + "/" + components.dropLast().joined(separator: "/"))
                }
                let out = try FileSystem.openWrite(target, operation: "extract archive")
                defer { close(out) }
                while true {
                    let read = try reader.read(into: buffer, entry: entry)
                    if read == 0 { break }
                    try FileSystem.writeAll(out, UnsafeRawBufferPointer(rebasing: buffer[0..<read]), path: target)
                }
            case UInt8(ascii: "5"):
                if !components.isEmpty { try FileSystem.makeDirectories(target) }
            default:
                continue  // links and devices: image archives do not need them; next() skips their data
            }
        }
    }

    /// The path components of a member name, refusing absolute paths and `..` (an archive must not write outside
    /// its directory).
    static func components(of name: String, reader: TarReader) throws(PierError) -> [Substring] {
        var name = Substring(name)
        while name.hasPrefix("./") { name.removeFirst(2) }
        let components = name.split(separator: "/")
        guard !name.hasPrefix("/"), !components.contains("..") else {
            throw reader.fail("entry \"\(name)\" escapes the archive")
        }
        return components
    }

    /// Writes the regular files under `directory` into a new tar at `archive`, sorted, with fixed metadata
    /// (mtime 0, uid/gid 0) so the same layout gives the same archive.
    public static func create(_ archive: String, from directory: String) throws(PierError) {
        let out = try FileSystem.openWrite(archive, operation: "write archive")
        defer { close(out) }
        let writer = TarWriter(fd: out, path: archive)
        do {
            let files = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
            for relative in files {
                guard let size = FileSystem.regularFileSize(directory + "/" + relative) else { continue }
                try writer.append(
                    .init(name: relative, kind: .file(source: directory + "/" + relative, size: size), mode: 0o644))
            }
        } catch {
            try? writer.finish()
            throw error
        }
        try writer.finish()
    }
}
