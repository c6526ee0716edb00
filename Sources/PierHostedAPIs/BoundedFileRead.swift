import Foundation

/// Reads a small file pier was pointed at (an AWS profile file, a web identity token) without trusting its size:
/// at most `limit` bytes are read, so `/dev/zero` or a huge file fails fast instead of filling memory, and a FIFO
/// nobody writes to is not waited on past what `open` itself waits.
enum BoundedFileRead {
    /// The file's bytes, or nil when it cannot be opened or holds more than `limit` bytes.
    static func contents(of path: String, limit: Int) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        do {
            // nil at the end of the file: an empty file is empty, not unreadable.
            let data = try handle.read(upToCount: limit + 1) ?? Data()
            return data.count <= limit ? data : nil
        } catch {
            return nil
        }
    }
}
