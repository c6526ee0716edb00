import Foundation
import PierModel
import Testing

@testable import PierEngine
@testable import PierLayout

/// Layers pier writes itself: read back by GNU tar and by pier's own reader, byte for byte, and the same digest for
/// the same inputs.
struct LayerBuilderTests {
    static func temporary() throws -> String {
        let dir = NSTemporaryDirectory() + "pier-layer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PierError(.other, operation: "test", message: "\(arguments) failed")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Seeded random trees (long and non-ASCII names, nesting, empty files, symlinks): GNU tar extracts exactly the
    /// tree; building again from a copy gives the same digest.
    @Test func randomTreesRoundTripThroughGNUTar() throws {
        var rng = FuzzTests.Generator(state: 11)
        let alphabet = Array("abcxyz-_.0189éü") + ["日"]
        for round in 0..<40 {
            let dir = try Self.temporary()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let source = dir + "/src"
            var files: [String: Data] = [:]
            for _ in 0..<Int.random(in: 1...12, using: &rng) {
                var parts: [String] = []
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    var name = FuzzTests.randomText(
                        &rng, alphabet: alphabet, maxLength: Bool.random(using: &rng) ? 12 : 70)
                    if name.isEmpty || name == "." || name == ".." { name = "n\(parts.count)" }
                    parts.append(name)
                }
                let path = parts.joined(separator: "/")
                guard !files.keys.contains(where: { path.hasPrefix($0 + "/") || $0.hasPrefix(path + "/") }) else {
                    continue
                }
                let bytes = Data(
                    (0..<Int.random(in: 0...5000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
                try FileManager.default.createDirectory(
                    atPath: source + "/" + parts.dropLast().joined(separator: "/"), withIntermediateDirectories: true)
                try bytes.write(to: URL(fileURLWithPath: source + "/" + path))
                files[path] = bytes
            }
            try FileManager.default.createSymbolicLink(
                atPath: source + "/link", withDestinationPath: String(repeating: "t", count: 130))
            let additions = [LayerBuilder.Addition(source: source, destination: "/data")]
            let layout = OCILayout(root: dir + "/layout")
            let result = try LayerBuilder.writeLayer(
                try LayerBuilder.entries(for: additions, mtime: 0, parents: true), into: layout)
            let out = dir + "/out"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            _ = try Self.run(["tar", "-xzf", layout.blobPath(result.digest), "-C", out])
            for (path, bytes) in files {
                #expect(FileManager.default.contents(atPath: out + "/data/" + path) == bytes, "round \(round): \(path)")
            }
            #expect(
                try FileManager.default.destinationOfSymbolicLink(atPath: out + "/data/link")
                    == String(repeating: "t", count: 130))
            let listed = try Self.run(["tar", "-tzf", layout.blobPath(result.digest)]).split(separator: "\n").map(
                String.init)
            #expect(
                listed == listed.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) },
                "round \(round): unsorted")

            // A copy elsewhere, with other mtimes: the same layer.
            let copy = dir + "/copy"
            _ = try Self.run(["cp", "-r", source, copy])
            let again = try LayerBuilder.writeLayer(
                try LayerBuilder.entries(
                    for: [LayerBuilder.Addition(source: copy, destination: "/data")], mtime: 0, parents: true),
                into: layout)
            #expect(
                again.digest == result.digest && again.uncompressedDigest == result.uncompressedDigest, "round \(round)"
            )
        }
    }

    /// Owners beyond the octal field get PAX uid/gid records, which GNU tar reads.
    @Test func largeOwnersUsePAX() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/f"))
        let layout = OCILayout(root: dir + "/layout")
        let result = try LayerBuilder.writeLayer(
            try LayerBuilder.entries(
                for: [.init(source: dir + "/f", destination: "/f", uid: 3_000_000, gid: 4_000_000)], mtime: 5,
                parents: false),
            into: layout)
        let listing = try Self.run(["tar", "--numeric-owner", "-tvzf", layout.blobPath(result.digest)])
        #expect(listing.contains("3000000/4000000"), "\(listing)")
    }

    @Test(arguments: [
        ("/a/b", ["a", "b"]), ("/a/./b/", ["a", "b"]), ("/a/../b", ["b"]), ("/", []), ("//x//y", ["x", "y"]),
    ])
    func imagePaths(path: String, components: [String]) throws {
        #expect(try LayerBuilder.imagePath(path) == components)
    }

    @Test(arguments: ["a/b", "/..", "/a/../../b", ""])
    func imagePathsRefused(path: String) {
        #expect(throws: PierError.self) { try LayerBuilder.imagePath(path) }
    }

    /// Base configs are edited as JSON values: types and unknown fields survive a decode and encode.
    @Test func jsonValuesKeepTheirTypes() throws {
        let text = #"{"a":true,"b":1,"c":1.5,"d":null,"e":["x",{"f":false}],"g":"日本","h":-9007199254740993}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        let encoded = String(decoding: CanonicalJSON.bytes(value), as: UTF8.self)
        #expect(encoded == text)
    }

    @Test func configChangesFollowDockerfileSemantics() {
        let base = JSONValue.object([
            "Cmd": .strings(["sh"]), "Env": .strings(["PATH=/bin", "A=1"]), "Labels": .object(["x": .string("1")]),
        ])
        var changes = BuildRecipe.ConfigChanges()
        changes.env = ["A=2", "B=3"]
        changes.exposedPorts = ["80", "53/udp"]
        changes.labels = ["y": "2"]
        let inner = ImageAssembler.apply(changes, to: base, defaultEntrypoint: "/usr/local/bin/app")
        #expect(inner["Entrypoint"] == .strings(["/usr/local/bin/app"]))
        #expect(inner["Cmd"] == nil)
        #expect(inner["Env"] == .strings(["PATH=/bin", "A=2", "B=3"]))
        #expect(inner["ExposedPorts"]?.objectValue.map { Set($0.keys) } == ["80/tcp", "53/udp"])
        #expect(inner["Labels"]?.objectValue?.count == 2)
        // No entrypoint anywhere: the base Cmd stays.
        let kept = ImageAssembler.apply(BuildRecipe.ConfigChanges(), to: base, defaultEntrypoint: nil)
        #expect(kept["Cmd"] == .strings(["sh"]))
    }

    @Test func specParsing() throws {
        var spec = BuildSpec()
        spec.additions = ["./dist:/srv/"]
        spec.owner = "65532"
        spec.fileMode = "0640"
        spec.binaries = ["linux/arm64/v8=out/app"]
        spec.entrypoint = "/app serve --port 80"
        let recipe = try spec.recipe(environment: ["SOURCE_DATE_EPOCH": "42"])
        #expect(
            recipe.additions == [.init(source: "./dist", destination: "/srv/", fileMode: 0o640, uid: 65532, gid: 65532)]
        )
        #expect(
            recipe.binaries == [
                .init(platform: Platform(os: "linux", architecture: "arm64", variant: "v8"), path: "out/app")
            ])
        #expect(recipe.config.entrypoint == ["/app", "serve", "--port", "80"])
        #expect(recipe.sourceDateEpoch == 42)
        #expect(spec.isNative)
        #expect(throws: PierError.self) { try spec.recipe(environment: ["SOURCE_DATE_EPOCH": "yesterday"]) }
        var fromFile = BuildSpec()
        fromFile.base = "alpine"
        fromFile.labels = ["a": "1"]
        var flags = BuildSpec()
        flags.labels = ["b": "2"]
        flags.context = "ctx"
        let merged = fromFile.overridden(by: flags)
        #expect(merged.base == "alpine" && merged.labels == ["a": "1", "b": "2"] && merged.context == "ctx")
    }
}
