import Foundation
import PierModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An OCI layout pier writes (`pier build --output oci:DIR`, `pier copy SRC oci:DIR`), without harming what is there.
///
/// The directory must be missing, empty, or an OCI layout (it holds an `oci-layout` file); anything else is refused
/// before anything is written. A missing or empty directory is built in a hidden sibling and renamed into place by
/// `commit()`, so a build or copy that fails leaves no layout behind. An existing layout is added to in place: blobs
/// first and the tag last, so its index only ever names complete images.
public struct OutputLayout: Sendable {
    /// Where the layout will be.
    public let directory: String
    /// Where to write now: the staging sibling, or `directory` itself when it already is a layout.
    public let layout: OCILayout
    let staging: String?

    /// What is at an output path pier may write to.
    public enum State: Sendable, Equatable {
        case missing, empty, layout
    }

    /// Checks `directory` and prepares the place to write.
    public init(directory: String) throws(PierError) {
        self.directory = directory
        switch try Self.check(directory) {
        case .layout:
            staging = nil
            layout = OCILayout(root: directory)
        case .missing, .empty:
            // Split by hand: Foundation's NSString path methods trap on some one-character paths ("z").
            var trimmed = Substring(directory)
            while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
            let slash = trimmed.lastIndex(of: "/")
            let parent =
                slash.map { $0 == trimmed.startIndex ? "/" : String(trimmed[..<$0]) } ?? ""
            let base = slash.map { String(trimmed[trimmed.index(after: $0)...]) } ?? String(trimmed)
            if !parent.isEmpty { try FileSystem.makeDirectories(parent) }
            let path = try Self.makeStagingDirectory(prefix: (parent.isEmpty ? "" : parent + "/") + ".\(base).pier-")
            staging = path
            layout = OCILayout(root: path)
        }
        try layout.create()
    }

    /// Refuses a path pier must not write a layout into: an existing file, or a directory with other contents.
    @discardableResult
    public static func check(_ directory: String) throws(PierError) -> State {
        var info = stat()
        guard stat(directory, &info) == 0 else {
            let code = errno
            if code == ENOENT { return .missing }
            throw PierError(
                .other, operation: "write OCI layout", message: "cannot use \(directory)",
                cause: String(cString: strerror(code)))
        }
        func refuse(_ why: String) -> PierError {
            PierError(
                .usage, operation: "write OCI layout", message: "\(directory) \(why)",
                hint: "name a new or empty directory, or an existing OCI layout; pier leaves other directories alone")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw refuse("exists and is not a directory") }
        if FileSystem.regularFileSize(directory + "/oci-layout") != nil { return .layout }
        guard let contents = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw refuse("cannot be listed")
        }
        guard contents.isEmpty else {
            throw refuse("is not empty and is not an OCI layout (it has no oci-layout file)")
        }
        return .empty
    }

    /// A new directory beside the output, with the mode `mkdir` gives under the umask (mkdtemp's 0700 would stay on
    /// the layout after the rename).
    static func makeStagingDirectory(prefix: String) throws(PierError) -> String {
        var code: Int32 = EEXIST
        for _ in 0..<8 {
            let path = prefix + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            if mkdir(path, 0o777) == 0 { return path }
            code = errno
            if code != EEXIST { break }
        }
        throw PierError(
            .other, operation: "write OCI layout", message: "cannot create the staging directory \(prefix)…",
            cause: String(cString: strerror(code)))
    }

    /// Puts the staged layout in place (an empty directory there is replaced). Nothing to do for an existing layout.
    public func commit() throws(PierError) {
        guard let staging else { return }
        guard rename(staging, directory) == 0 else {
            let code = errno
            discard()
            throw PierError(
                .other, operation: "write OCI layout", message: "cannot move the new layout into \(directory)",
                hint: code == ENOTEMPTY || code == EEXIST ? "something else wrote to \(directory) meanwhile" : nil,
                cause: String(cString: strerror(code)))
        }
    }

    /// Removes the staged layout after a failure; an existing layout keeps what was added (its index is unchanged
    /// until a tag is written).
    public func discard() {
        guard let staging else { return }
        try? FileManager.default.removeItem(atPath: staging)
    }
}
