import ArgumentParser
import Foundation

/// The `pier` command: the release step of container images, without a Docker daemon.
@main
struct Pier: AsyncParsableCommand {
    static func main() async {
        // See Terminal.write: broken pipes become EPIPE, handled where pier writes.
        signal(SIGPIPE, SIG_IGN)
        // Bodies stream through 1 MiB buffers. glibc raises its mmap threshold after the first such buffer is
        // freed and then serves them from per-thread arenas, whose fragments stay resident (RSS grew by ~50 MB on
        // a 1 GiB upload). A fixed threshold keeps them mmapped and returned at once; two arenas are plenty.
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 256 * 1024)
        _ = glibcMallopt(-8 /* M_ARENA_MAX */, 2)
        await Self.mainEntry()
    }

    /// ArgumentParser's own entry point, after process-wide setup.
    static func mainEntry() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "pier",
        abstract: "Copy, inspect, tag and publish container images to every registry, without a Docker daemon.",
        discussion: """
            Image locations: a registry reference (nginx, ghcr.io/org/app:1.2.3, localhost:5000/app@sha256:…), \
            oci:DIR[:tag], oci-archive:FILE[:tag], docker-archive:FILE[:ref].
            Exit codes: 0 ok, 1 other error, 64 usage, 65 bad input, 66 not found, 69 network, 70 verification \
            failed, 73 conflict, 75 partial failure, 77 auth, 78 unsupported by the registry.
            """,
        version: BuildInfo.description,
        subcommands: [
            PublishCommand.self, BuildCommand.self, CopyCommand.self, InspectCommand.self, PruneCommand.self, RollbackCommand.self,
            StatusCommand.self, SyncCommand.self, NotesCommand.self, ReleaseCommand.self, DescribeCommand.self, DigestCommand.self, TagsCommand.self, LoginCommand.self,
            LogoutCommand.self,
        ]
    )
}

/// glibc's `mallopt` (malloc.h, which the Glibc module does not export).
@_silgen_name("mallopt")
func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
