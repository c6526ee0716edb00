import Foundation
import PierEngine
import PierModel

/// Writes `pier status --html`'s page: to a temporary file beside it, then renamed, so a reader never sees half.
enum StatusPageFile {
    static func write(_ sections: [StatusPage.Section], to path: String, now: Date) throws(PierError) {
        let temporary = path + ".pier-tmp"
        let bytes = Data(StatusPage.render(sections, now: now).utf8)
        guard FileManager.default.createFile(atPath: temporary, contents: bytes),
            rename(temporary, path) == 0
        else {
            unlink(temporary)
            throw PierError(
                .other, operation: "write status page", message: "cannot write \(path)",
                hint: "check that the directory exists and is writable")
        }
    }
}
