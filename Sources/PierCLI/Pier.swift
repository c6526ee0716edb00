import ArgumentParser
import Foundation

/// The `pier` command: the release step of container images, without a Docker daemon.
@main
struct Pier: AsyncParsableCommand {
    static func main() async {
        // See Terminal.write: broken pipes become EPIPE, handled where pier writes.
        signal(SIGPIPE, SIG_IGN)
        #if canImport(Glibc)
            // Upload bodies stream through 1 MiB buffers (BodyBufferPool) and local files through 1 MiB reads. glibc's
            // dynamic mmap threshold would serve such blocks from per-thread arenas whose fragments stay resident; a
            // fixed threshold keeps them mmapped and returned at once, and two arenas are plenty.
            _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 256 * 1024)
            _ = glibcMallopt(-8 /* M_ARENA_MAX */, 2)
        #endif
        await Self.mainEntry()
    }

    /// ArgumentParser's own entry point, after process-wide setup.
    static func mainEntry() async {
        // `pier --version` is answered here: ArgumentParser's own version flag would be listed in every
        // subcommand's help, where it does nothing (and `publish --version` is the release's version).
        if CommandLine.arguments.dropFirst() == ["--version"] {
            Terminal.shared.print(BuildInfo.description)
            return
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // A parse error quotes what was typed (or pasted): shown escaped, as every other text pier prints.
            let code = exitCode(for: error)
            guard code != .success, !(error is ExitCode) else { exit(withError: error) }
            for line in KeyTextRedaction.redacted(fullMessage(for: error)).split(separator: "\n") {
                Terminal.shared.log(String(line))
            }
            Foundation.exit(code.rawValue)
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
            `pier --version` prints pier's version and the commit it was built from.
            """,
        subcommands: [
            PublishCommand.self, BuildCommand.self, CopyCommand.self, InspectCommand.self, PruneCommand.self,
            RollbackCommand.self,
            StatusCommand.self, SyncCommand.self, NotesCommand.self, ReleaseCommand.self, DescribeCommand.self,
            DigestCommand.self, TagsCommand.self, LoginCommand.self,
            LogoutCommand.self, SignCommand.self, VerifyCommand.self, AttachCommand.self, ReferrersCommand.self,
            MergeCommand.self,
        ]
    )
}

#if canImport(Glibc)
    /// glibc's `mallopt` (malloc.h, which the Glibc module does not export).
    @_silgen_name("mallopt")
    func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
