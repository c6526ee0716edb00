import Foundation
import PierEngine
import PierModel
import PierTestSupport
import Testing

/// pier never leaves a broken release behind: seeded fault schedules through a fault-injecting proxy, SIGKILL at
/// ten points of a publish, and every tag checked afterwards with skopeo.
@Suite(.serialized) struct FaultTests {
    init() throws { try Harness.requireTools() }

    /// Every tag given must be complete: skopeo copies it (it fetches and verifies every blob and child).
    func assertComplete(_ registry: TestRegistry, _ repository: String, tags: [String]) throws -> Int {
        var partial = 0
        let present = Set((try? JSONDecoder().decode([String].self, from: Harness.pier("tags", "--json", "\(registry.host)/\(repository)").stdoutBytes)) ?? [])
        for tag in tags where present.contains(tag) {
            let out = Tools.temporaryDirectory("pier-check")
            let copy = try Tools.run("skopeo", [
                "copy", "--all", "--src-tls-verify=false", "docker://\(registry.host)/\(repository):\(tag)", "oci:\(out):x",
            ], check: false)
            if copy.status != 0 { partial += 1 }
            try? FileManager.default.removeItem(atPath: out)
        }
        return partial
    }

    @Test func seededFaultSchedules() throws {
        let registry = try TestRegistry()
        let layout = Tools.temporaryDirectory() + "/images"
        var digests: [String] = []
        for index in 0..<3 {
            try ImageFixtures.umociImage(at: layout, tag: "v\(index)", layers: 2, layerSize: 40_000)
            digests.append(try Harness.layoutDigest(layout, tag: "v\(index)"))
        }
        let multi = Tools.temporaryDirectory() + "/multi"
        let index = try ImageFixtures.multiPlatformImage(at: multi, tag: "multi")
        // Published before the faults; must never change.
        #expect(try Harness.pier(["publish", "--source", "oci:\(layout):v0", "--version", "1.0.0", "--no-sha-tag", "--to", "\(registry.host)/app"]).status == 0)

        let schedules = Int(ProcessInfo.processInfo.environment["PIER_FAULT_SCHEDULES"] ?? "") ?? 100
        var faults = 0, failedRuns = 0, partialTags = 0, reruns = 0
        for seed in 0..<schedules {
            let proxy = try FaultProxy(upstreamPort: registry.port, seed: seed, rate: 0.2)
            let source = seed % 4 == 3 ? "oci:\(multi):multi" : "oci:\(layout):v\(seed % 3)"
            let version = "2.\(seed).0"
            let args = ["publish", "--no-sha-tag", "--source", source, "--version", version]
            let faulted = try Harness.pier(args + ["--to", "\(proxy.host)/app"])
            proxy.stop()
            faults += proxy.faults.count
            // No crash, only documented exit codes.
            #expect([0, 1, 65, 69, 70, 75, 77].contains(faulted.status), "seed \(seed): exit \(faulted.status): \(faulted.stderr)")
            #expect(!faulted.stderr.contains("Fatal error"), "seed \(seed)")
            if faulted.status != 0 { failedRuns += 1 }
            partialTags += try assertComplete(registry, "app", tags: [version, "2.\(seed)", "2", "latest"])
            // A rerun without faults completes the publish.
            let rerun = try Harness.pier(args + ["--to", "\(registry.host)/app"])
            reruns += 1
            #expect(rerun.status == 0, "seed \(seed) rerun: \(rerun.stderr)")
            let expected = seed % 4 == 3 ? index : digests[seed % 3]
            #expect(Harness.sha256(try Harness.skopeoRaw("\(registry.host)/app:\(version)")) == expected, "seed \(seed)")
        }
        #expect(partialTags == 0)
        #expect(Harness.sha256(try Harness.skopeoRaw("\(registry.host)/app:1.0.0")) == digests[0])
        #expect(faults > schedules, "the proxy injected too few faults to mean anything")
        print("fault schedules: \(schedules), faults injected: \(faults), faulted runs that failed: \(failedRuns), reruns: \(reruns), partial tags: \(partialTags)")
    }

    @Test func sigkillAtTenPoints() throws {
        let registry = try TestRegistry()
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/big", tag: "1.0", layers: 8, layerSize: 1_500_000)
        let expected = try Harness.layoutDigest(layout, tag: "1.0")
        // How long a whole publish takes, to spread the kill points over it.
        let probe = Date()
        #expect(try Harness.pier(["publish", "--source", "oci:\(layout):1.0", "--version", "0.0.1", "--no-sha-tag", "--to", "\(registry.host)/probe"]).status == 0)
        let total = max(Date().timeIntervalSince(probe), 0.2)
        var partial = 0
        for point in 1...10 {
            let repository = "killed\(point)"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Tools.pierBinary)
            process.arguments = ["publish", "--source", "oci:\(layout):1.0", "--version", "3.0.0", "--no-sha-tag", "--to", "\(registry.host)/\(repository)"]
            process.environment = Harness.isolatedEnvironment()
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            usleep(useconds_t(total * Double(point) / 11 * 1_000_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            partial += try assertComplete(registry, repository, tags: ["3.0.0", "3.0", "3", "latest"])
            let rerun = try Harness.pier(["publish", "--source", "oci:\(layout):1.0", "--version", "3.0.0", "--no-sha-tag", "--to", "\(registry.host)/\(repository)"])
            #expect(rerun.status == 0, "kill point \(point): \(rerun.stderr)")
            for tag in ["3.0.0", "3.0", "3", "latest"] {
                #expect(Harness.sha256(try Harness.skopeoRaw("\(registry.host)/\(repository):\(tag)")) == expected)
            }
        }
        #expect(partial == 0)
    }

    @Test func secretsNeverShow() async throws {
        let certificates = try Certificates()
        let tokens = try await TokenServer(certificates: certificates, password: "tok-secret-pw-42")
        let tokenRegistry = try TestRegistry(auth: .token(tokens))
        let basicRegistry = try TestRegistry(auth: .htpasswd(user: "ci", password: "basic-secret-pw-43"))
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1, layerSize: 1000)
        var outputs: [String] = []
        for (registry, user, password) in [(tokenRegistry, tokens.user, "tok-secret-pw-42"), (basicRegistry, "ci", "basic-secret-pw-43")] {
            let env = Harness.isolatedEnvironment(["PIER_USERNAME": user, "PIER_PASSWORD": password])
            for args in [
                ["publish", "-v", "--json", "--source", "oci:\(layout):1.0", "--version", "1.0.0", "--to", "\(registry.host)/app"],
                ["copy", "-v", "--json", "\(registry.host)/app:1.0.0", "\(registry.host)/other:1"],
                ["inspect", "-v", "--json", "\(registry.host)/app:1.0.0"], ["tags", "-v", "\(registry.host)/app"],
                ["status", "-v", "\(registry.host)/app"], ["prune", "-v", "--keep-last", "5", "\(registry.host)/app"],
                ["digest", "-v", "\(registry.host)/app:nope"],
            ] {
                let result = try Harness.pier(args, env: env)
                outputs.append(result.stdout + result.stderr)
            }
            let wrong = try Harness.pier(["tags", "-v", "\(registry.host)/app"], env: Harness.isolatedEnvironment(["PIER_USERNAME": user, "PIER_PASSWORD": password + "x"]))
            outputs.append(wrong.stdout + wrong.stderr)
            #expect(wrong.status == 77)
        }
        let all = outputs.joined(separator: "\n")
        #expect(all.contains("→ PUT"), "verbose logs are on")
        for secret in ["tok-secret-pw-42", "basic-secret-pw-43", Data("ci:basic-secret-pw-43".utf8).base64EncodedString(), "Bearer ey", "Basic "] {
            #expect(!all.contains(secret), "a secret appeared: \(secret)")
        }
        tokens.stop()
    }

    @Test func hostileRegistryAnswers() async throws {
        // A blob store on another host: the upload goes there, without the registry's credentials.
        let blobStore = try await FakeRegistry()
        var quirks = FakeRegistry.Quirks()
        quirks.foreignUploadHost = "http://\(blobStore.host)"
        let fake = try await FakeRegistry(quirks: quirks)
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1, layerSize: 1000)
        let store = try Harness.store(credential: .basic(username: "u", password: "p"))
        _ = try? await Harness.copy("oci:\(layout):1.0", "\(fake.host)/app:1.0", store: store)
        let storeLog = await blobStore.requestLog()
        #expect(storeLog.contains { $0.hasPrefix("PUT /upload/") })
        #expect(!storeLog.contains { $0.contains("[auth]") })

        // Errors as HTML: one line, no body dump.
        var htmlQuirks = FakeRegistry.Quirks()
        htmlQuirks.htmlErrors = true
        let html = try await FakeRegistry(quirks: htmlQuirks)
        let result = try Harness.pier("inspect", "\(html.host)/app:missing")
        #expect(result.status == 69 || result.status == 1, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1 && !result.stderr.contains("<html>"))

        // Endless pagination stops.
        var endless = FakeRegistry.Quirks()
        endless.endlessPagination = true
        let looping = try await FakeRegistry(quirks: endless)
        let tags = try await store.client(for: looping.host).tags(repository: "app")
        #expect(tags.count == 1000)
        await store.pool.shutdown()
    }

    @Test func hostileLayouts() throws {
        let registry = try TestRegistry()
        // A manifest over 4 MiB.
        let huge = try LayoutBuilder(at: Tools.temporaryDirectory() + "/huge")
        let padding = String(repeating: "x", count: 4 << 20)
        let big = try huge.blob(Data(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"annotations":{"pad":"\#(padding)"}}"#.utf8),
            mediaType: "application/vnd.oci.image.index.v1+json")
        try huge.tag(big, as: "x")
        let hugeResult = try Harness.pier("copy", "oci:\(huge.root):x", "\(registry.host)/huge:x")
        #expect(hugeResult.status == 65 && hugeResult.stderr.contains("over the"), "\(hugeResult.stderr)")

        // Indexes nested five deep.
        let deep = try LayoutBuilder(at: Tools.temporaryDirectory() + "/deep")
        var descriptor = try deep.image(config: ["os": "linux", "architecture": "amd64"], layerSizes: [10], seed: 1)
        for _ in 0..<5 {
            descriptor = try deep.blob(JSONSerialization.data(withJSONObject: [
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [descriptor],
            ]), mediaType: "application/vnd.oci.image.index.v1+json")
        }
        try deep.tag(descriptor, as: "x")
        let deepResult = try Harness.pier("copy", "oci:\(deep.root):x", "\(registry.host)/deep:x")
        #expect(deepResult.status == 65 && deepResult.stderr.contains("nest deeper"), "\(deepResult.stderr)")

        // A blob that is a symlink out of the layout, and a descriptor with an absurd size.
        let linked = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/linked", tag: "1.0", layers: 1, layerSize: 100)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath:
            linked + "/blobs/sha256/" + (try Harness.layoutDigest(linked, tag: "1.0")).dropFirst(7)))) as! [String: Any]
        let layer = linked + "/blobs/sha256/" + ((manifest["layers"] as! [[String: Any]])[0]["digest"] as! String).dropFirst(7)
        try FileManager.default.removeItem(atPath: layer)
        try FileManager.default.createSymbolicLink(atPath: layer, withDestinationPath: "/etc/passwd")
        let linkResult = try Harness.pier("copy", "oci:\(linked):1.0", "\(registry.host)/linked:1.0")
        #expect(linkResult.status == 65 && linkResult.stderr.contains("not a regular file"), "\(linkResult.stderr)")
        for name in ["huge:x", "deep:x", "linked:1.0"] {
            #expect((try Tools.run("skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/\(name)"], check: false)).status != 0)
        }
    }
}
