import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a tar stream to a file descriptor or to a consumer (a `LayerEncoder`), one entry at a time, file contents
/// copied through a fixed buffer.
///
/// Headers are POSIX ustar; names or link targets over 100 bytes, sizes of 8 GiB and more, and ids that do not fit
/// the octal fields get a PAX extended header (POSIX.1-2001 pax format), which every image extractor reads. User and
/// group names are left empty, so the bytes depend only on what the caller passes in.
public struct TarWriter {
    /// One archive member. `name` is relative, without a leading slash; directories without a trailing one.
    public struct Entry: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// A regular file whose bytes are read from `source`.
            case file(source: String, size: Int64)
            case directory
            case symlink(target: String)
        }

        public var name: String
        public var kind: Kind
        public var mode: UInt32
        public var uid: Int
        public var gid: Int
        /// Seconds since the epoch.
        public var mtime: Int64

        public init(name: String, kind: Kind, mode: UInt32, uid: Int = 0, gid: Int = 0, mtime: Int64 = 0) {
            self.name = name
            self.kind = kind
            self.mode = mode
            self.uid = uid
            self.gid = gid
            self.mtime = mtime
        }
    }

    /// Where the archive's bytes go.
    let emit: (UnsafeRawBufferPointer) throws(PierError) -> Void
    let buffer: UnsafeMutableRawBufferPointer

    /// Writes to `fd` (not closed here); `path` names it in errors. Call `finish()` once, which frees the buffer.
    public init(fd: Int32, path: String) {
        self.init { (bytes) throws(PierError) in try FileSystem.writeAll(fd, bytes, path: path) }
    }

    /// Hands the archive's bytes to `emit`, in order. Call `finish()` once, which frees the buffer.
    public init(emit: @escaping (UnsafeRawBufferPointer) throws(PierError) -> Void) {
        self.emit = emit
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: FileSystem.bufferSize, alignment: 16)
    }

    /// Appends one entry; a file's bytes are streamed from its source and must still have the recorded size.
    public func append(_ entry: Entry) throws(PierError) {
        var size: Int64 = 0
        var type = UInt8(ascii: "0")
        var link = ""
        var name = entry.name
        switch entry.kind {
        case .file(_, let fileSize): size = fileSize
        case .directory:
            type = UInt8(ascii: "5")
            name += "/"
        case .symlink(let target):
            type = UInt8(ascii: "2")
            link = target
        }
        var pax: [UInt8] = []
        if name.utf8.count > 100 { pax += Self.paxRecord("path", name) }
        if link.utf8.count > 100 { pax += Self.paxRecord("linkpath", link) }
        if size > Self.octalLimit(12) { pax += Self.paxRecord("size", String(size)) }
        if entry.uid > Self.octalLimit(8) { pax += Self.paxRecord("uid", String(entry.uid)) }
        if entry.gid > Self.octalLimit(8) { pax += Self.paxRecord("gid", String(entry.gid)) }
        if !pax.isEmpty {
            try writeHeader(
                name: "PaxHeaders/" + String(decoding: name.utf8.prefix(80), as: UTF8.self), mode: 0o644, uid: 0,
                gid: 0,
                size: Int64(pax.count), mtime: entry.mtime, type: UInt8(ascii: "x"), link: "")
            try write(pax)
            try writePadding(Int64(pax.count))
        }
        try writeHeader(
            name: name, mode: entry.mode, uid: entry.uid, gid: entry.gid, size: size, mtime: entry.mtime, type: type,
            link: link)
        if case .file(let source, _) = entry.kind {
            try copyContents(of: source, size: size)
            try writePadding(size)
        }
    }

    /// Writes the two zero blocks that end an archive and frees the buffer.
    public func finish() throws(PierError) {
        defer { buffer.deallocate() }
        try write([UInt8](repeating: 0, count: 1024))
    }

    func copyContents(of source: String, size: Int64) throws(PierError) {
        let input = try FileSystem.openRead(source, operation: "write archive")
        defer { close(input) }
        var remaining = size
        while remaining > 0 {
            let got = FileSystem.readFully(input, into: buffer, count: Int(min(Int64(buffer.count), remaining)))
            guard got > 0 else {
                throw PierError(
                    .invalidInput, operation: "write archive", message: "\(source) changed size while it was read",
                    hint: "do not modify the inputs during a build")
            }
            try emit(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            remaining -= Int64(got)
        }
    }

    static func octalLimit(_ width: Int) -> Int64 { (Int64(1) << (3 * (width - 1))) - 1 }

    func writeHeader(
        name: String, mode: UInt32, uid: Int, gid: Int, size: Int64, mtime: Int64, type: UInt8, link: String
    ) throws(PierError) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            let digits = String(min(max(value, 0), Self.octalLimit(width)), radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(Int64(mode & 0o7777), at: 100, width: 8)
        octal(Int64(uid), at: 108, width: 8)
        octal(Int64(gid), at: 116, width: 8)
        if size <= Self.octalLimit(12) {
            octal(size, at: 124, width: 12)
        } else {
            // GNU base-256 for sizes of 8 GiB and more (the PAX size record says the same).
            header[124] = 0x80
            var value = size
            for index in stride(from: 135, to: 124, by: -1) {
                header[index] = UInt8(value & 0xff)
                value >>= 8
            }
        }
        octal(mtime, at: 136, width: 12)
        header[156] = type
        put(link, at: 157, width: 100)
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        for index in 148..<156 { header[index] = 32 }
        let sum = header.reduce(0) { $0 + Int64($1) }
        octal(sum, at: 148, width: 7)
        header[154] = 0
        header[155] = 32
        try write(header)
    }

    func writePadding(_ size: Int64) throws(PierError) {
        let pad = Int(TarReader.padded(size) - size)
        guard pad > 0 else { return }
        try write([UInt8](repeating: 0, count: pad))
    }

    func write(_ bytes: [UInt8]) throws(PierError) {
        let failure: PierError? = bytes.withUnsafeBytes { buffer in
            do throws(PierError) { try emit(buffer) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// One PAX record: `"<length> <key>=<value>\n"`, where the length counts itself.
    static func paxRecord(_ key: String, _ value: String) -> [UInt8] {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while "\(length)\(body)".utf8.count != length { length = "\(length)\(body)".utf8.count }
        return Array("\(length)\(body)".utf8)
    }
}
