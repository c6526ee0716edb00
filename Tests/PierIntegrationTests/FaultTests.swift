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
        let present = Set(
            (try? JSONDecoder().decode(
                [String].self, from: Harness.pier("tags", "--json", "\(registry.host)/\(repository)").stdoutBytes))
                ?? [])
        for tag in tags where present.contains(tag) {
            let out = Tools.temporaryDirectory("pier-check")
            let copy = try Tools.run(
                "skopeo",
                [
                    "copy", "--all", "--src-tls-verify=false", "docker://\(registry.host)/\(repository):\(tag)",
                    "oci:\(out):x",
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
        #expect(
            try Harness.pier([
                "publish", "--source", "oci:\(layout):v0", "--version", "1.0.0", "--no-sha-tag", "--to",
                "\(registry.host)/app",
            ]).status == 0)

        let schedules = Int(ProcessInfo.processInfo.environment["PIER_FAULT_SCHEDULES"] ?? "") ?? 100
        var faults = 0, failedRuns = 0, partialTags = 0, reruns = 0, copies = 0
        for seed in 0..<schedules {
            let proxy = try FaultProxy(upstreamPort: registry.port, seed: seed, rate: 0.2)
            let source = seed % 4 == 3 ? "oci:\(multi):multi" : "oci:\(layout):v\(seed % 3)"
            let version = "2.\(seed).0"
            let args = ["publish", "--no-sha-tag", "--source", source, "--version", version]
            // A second, healthy registry beside the faulty one: the two uploads of each blob share their reads, so
            // retries, dropped bodies and failures on one side must never spoil (or hold up) the other.
            let faulted = try Harness.pier(
                args + ["--to", "\(proxy.host)/app", "--to", "\(registry.host)/mirror\(seed)"])
            proxy.stop()
            faults += proxy.faults.count
            // No crash, only documented exit codes.
            #expect(
                [0, 1, 65, 69, 70, 75, 77].contains(faulted.status),
                "seed \(seed): exit \(faulted.status): \(faulted.stderr)")
            #expect(!faulted.stderr.contains("Fatal error"), "seed \(seed)")
            if faulted.status != 0 { failedRuns += 1 }
            partialTags += try assertComplete(registry, "app", tags: [version, "2.\(seed)", "2", "latest"])
            let expected = seed % 4 == 3 ? index : digests[seed % 3]
            #expect(
                (try? Harness.skopeoRaw("\(registry.host)/mirror\(seed):\(version)")).map(Harness.sha256) == expected,
                "seed \(seed): the healthy registry did not get the release: \(faulted.stderr)")
            // A rerun without faults completes the publish.
            let rerun = try Harness.pier(args + ["--to", "\(registry.host)/app"])
            reruns += 1
            #expect(rerun.status == 0, "seed \(seed) rerun: \(rerun.stderr)")
            #expect(
                Harness.sha256(try Harness.skopeoRaw("\(registry.host)/app:\(version)")) == expected, "seed \(seed)")

            // Every fifth schedule also copies registry → registry through the faults (the source is read through
            // the proxy, the destination written through it).
            if seed % 5 == 4 {
                let copyProxy = try FaultProxy(upstreamPort: registry.port, seed: 1000 + seed, rate: 0.2)
                let copyArgs = ["copy", "\(copyProxy.host)/app:\(version)", "\(copyProxy.host)/copies:\(seed)"]
                let copied = try Harness.pier(copyArgs)
                copyProxy.stop()
                faults += copyProxy.faults.count
                copies += 1
                #expect(
                    [0, 1, 65, 69, 70, 75, 77].contains(copied.status),
                    "copy seed \(seed): exit \(copied.status): \(copied.stderr)")
                if copied.status != 0 { failedRuns += 1 }
                partialTags += try assertComplete(registry, "copies", tags: ["\(seed)"])
                let again = try Harness.pier([
                    "copy", "\(registry.host)/app:\(version)", "\(registry.host)/copies:\(seed)",
                ])
                reruns += 1
                #expect(again.status == 0, "copy seed \(seed) rerun: \(again.stderr)")
                #expect(
                    Harness.sha256(try Harness.skopeoRaw("\(registry.host)/copies:\(seed)")) == expected,
                    "copy seed \(seed)")
            }
        }
        #expect(partialTags == 0)
        #expect(Harness.sha256(try Harness.skopeoRaw("\(registry.host)/app:1.0.0")) == digests[0])
        #expect(faults > schedules, "the proxy injected too few faults to mean anything")
        print(
            "fault schedules: \(schedules) (\(copies) with a copy), faults injected: \(faults), faulted runs that failed: \(failedRuns), reruns: \(reruns), partial tags: \(partialTags)"
        )
    }

    /// Stalls of 30 s, before the answer and halfway through a body: with --timeout 1 each costs about a second and
    /// a retry, never the stall itself; the tags stay whole.
    @Test func stallsPastTheTimeoutAreCutShort() throws {
        let registry = try TestRegistry()
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/stall", tag: "1.0", layers: 3, layerSize: 300_000)
        let expected = try Harness.layoutDigest(layout, tag: "1.0")
        var stalls = 0
        for seed in 0..<6 {
            let proxy = try FaultProxy(
                upstreamPort: registry.port, seed: seed, rate: 0.25, faults: ["stall", "stall-body"], stall: 30)
            let version = "4.\(seed).0"
            let args = ["publish", "--no-sha-tag", "--source", "oci:\(layout):1.0", "--version", version]
            let start = Date()
            // A healthy registry beside the stalling one shares its reads and must not be held up by it.
            let faulted = try Harness.pier(
                args + ["--timeout", "1", "--to", "\(proxy.host)/app", "--to", "\(registry.host)/mirror\(seed)"])
            let elapsed = Date().timeIntervalSince(start)
            proxy.stop()
            stalls += proxy.faults.count
            #expect(elapsed < 25, "seed \(seed): a stall was waited out (\(elapsed) s)")
            #expect([0, 69, 75].contains(faulted.status), "seed \(seed): exit \(faulted.status): \(faulted.stderr)")
            #expect(
                Harness.sha256(try Harness.skopeoRaw("\(registry.host)/mirror\(seed):\(version)")) == expected,
                "seed \(seed)")
            #expect(try assertComplete(registry, "app", tags: [version, "4.\(seed)", "4", "latest"]) == 0)
            #expect(try Harness.pier(args + ["--to", "\(registry.host)/app"]).status == 0)
            #expect(Harness.sha256(try Harness.skopeoRaw("\(registry.host)/app:\(version)")) == expected)
        }
        #expect(stalls >= 3, "too few stalls injected to mean anything")
        print("stall schedules: 6, stalls injected: \(stalls)")
    }

    /// A registry answering 401 invalid_token mid-run (an expired token) gets a new token and the same request again:
    /// every publish completes, with more than one token fetched per push scope.
    @Test func expiredTokensMidUploadAreRenewed() async throws {
        let certificates = try Certificates()
        let tokens = try await TokenServer(certificates: certificates)
        let registry = try TestRegistry(auth: .token(tokens))
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/expire", tag: "1.0", layers: 4, layerSize: 100_000)
        let expected = try Harness.layoutDigest(layout, tag: "1.0")
        let env = Harness.isolatedEnvironment(["PIER_USERNAME": tokens.user, "PIER_PASSWORD": tokens.password])
        var expiries = 0
        for seed in 0..<8 {
            let proxy = try FaultProxy(upstreamPort: registry.port, seed: seed, rate: 0.3, faults: ["expire"])
            let run = try Harness.pier(
                [
                    "publish", "--no-sha-tag", "--source", "oci:\(layout):1.0", "--version", "5.\(seed).0", "--to",
                    "\(proxy.host)/app\(seed)",
                ], env: env)
            proxy.stop()
            expiries += proxy.faults.count
            #expect(run.status == 0, "seed \(seed): \(run.stderr)")
            let auth = ["--creds", "\(tokens.user):\(tokens.password)"]
            #expect(
                Harness.sha256(try Harness.skopeoRaw("\(registry.host)/app\(seed):5.\(seed).0", extra: auth))
                    == expected)
        }
        let requests = await tokens.requests()
        let renewed = requests.filter { $0.key.contains("push") && $0.value > 1 }
        #expect(expiries >= 8, "too few expiries injected to mean anything")
        #expect(!renewed.isEmpty, "no token was fetched again: \(requests)")
        tokens.stop()
        print(
            "token expiries injected: \(expiries); push-scope token fetches: \(requests.filter { $0.key.contains("push") }.values.reduce(0, +))"
        )
    }

    /// An https registry whose blob GETs redirect to plain http: pier refuses the downgrade (no credentials or bytes
    /// go over http), says so in one line, exits 69 and writes no tag.
    @Test func httpsToHTTPRedirectIsRefused() throws {
        let certificates = try Certificates()
        let registry = try TestRegistry()
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/redirect", tag: "1.0", layers: 1, layerSize: 5000)
        #expect(try Harness.pier("copy", "oci:\(layout):1.0", "\(registry.host)/app:1.0").status == 0)
        let proxy = try FaultProxy(
            upstreamPort: registry.port, seed: 1, rate: 1, faults: ["redirect-http"], tls: certificates)
        defer { proxy.stop() }
        let out = Tools.temporaryDirectory("pier-redirect") + "/out"
        let run = try Harness.pier("copy", "--ca-file", certificates.caCert, "\(proxy.host)/app:1.0", "oci:\(out):1.0")
        #expect(run.status == 69, "\(run.stderr)")
        #expect(run.stderr.contains("refused a redirect from https to http"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(!proxy.faults.isEmpty, "the proxy redirected nothing")
        // Refused at once: one redirect per blob asked for (config and layer), not five attempts each.
        #expect(proxy.faults.count <= 2, "a refused redirect was retried: \(proxy.faults.count) redirects")
        let index = (try? String(contentsOfFile: out + "/index.json", encoding: .utf8)) ?? ""
        #expect(!index.contains("1.0"), "no tag was written")
    }

    @Test func sigkillAtTenPoints() throws {
        let registry = try TestRegistry()
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/big", tag: "1.0", layers: 8, layerSize: 1_500_000)
        let expected = try Harness.layoutDigest(layout, tag: "1.0")
        // How long a whole publish takes, to spread the kill points over it.
        let probe = Date()
        #expect(
            try Harness.pier([
                "publish", "--source", "oci:\(layout):1.0", "--version", "0.0.1", "--no-sha-tag", "--to",
                "\(registry.host)/probe",
            ]).status == 0)
        let total = max(Date().timeIntervalSince(probe), 0.2)
        var partial = 0
        for point in 1...10 {
            let repository = "killed\(point)"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Tools.pierBinary)
            process.arguments = [
                "publish", "--source", "oci:\(layout):1.0", "--version", "3.0.0", "--no-sha-tag", "--to",
                "\(registry.host)/\(repository)",
            ]
            process.environment = Harness.isolatedEnvironment()
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            usleep(useconds_t(total * Double(point) / 11 * 1_000_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            partial += try assertComplete(registry, repository, tags: ["3.0.0", "3.0", "3", "latest"])
            let rerun = try Harness.pier([
                "publish", "--source", "oci:\(layout):1.0", "--version", "3.0.0", "--no-sha-tag", "--to",
                "\(registry.host)/\(repository)",
            ])
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
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1, layerSize: 1000)
        var outputs: [String] = []
        for (registry, user, password) in [
            (tokenRegistry, tokens.user, "tok-secret-pw-42"), (basicRegistry, "ci", "basic-secret-pw-43"),
        ] {
            let env = Harness.isolatedEnvironment(["PIER_USERNAME": user, "PIER_PASSWORD": password])
            for args in [
                [
                    "publish", "-v", "--json", "--source", "oci:\(layout):1.0", "--version", "1.0.0", "--to",
                    "\(registry.host)/app",
                ],
                ["copy", "-v", "--json", "\(registry.host)/app:1.0.0", "\(registry.host)/other:1"],
                ["inspect", "-v", "--json", "\(registry.host)/app:1.0.0"], ["tags", "-v", "\(registry.host)/app"],
                ["status", "-v", "\(registry.host)/app"], ["prune", "-v", "--keep-last", "5", "\(registry.host)/app"],
                ["digest", "-v", "\(registry.host)/app:nope"],
            ] {
                let result = try Harness.pier(args, env: env)
                outputs.append(result.stdout + result.stderr)
            }
            let wrong = try Harness.pier(
                ["tags", "-v", "\(registry.host)/app"],
                env: Harness.isolatedEnvironment(["PIER_USERNAME": user, "PIER_PASSWORD": password + "x"]))
            outputs.append(wrong.stdout + wrong.stderr)
            #expect(wrong.status == 77)
        }
        let all = outputs.joined(separator: "\n")
        #expect(all.contains("→ PUT"), "verbose logs are on")
        for secret in [
            "tok-secret-pw-42", "basic-secret-pw-43", Data("ci:basic-secret-pw-43".utf8).base64EncodedString(),
            "Bearer ey", "Basic ",
        ] {
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
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1, layerSize: 1000)
        let store = try Harness.store(credentials: [fake.host: .basic(username: "u", password: "p")])
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

        // Endless pagination is an error after 1,000 pages, not a silent partial list.
        var endless = FakeRegistry.Quirks()
        endless.endlessPagination = true
        let looping = try await FakeRegistry(quirks: endless)
        await #expect { _ = try await store.client(for: looping.host).tags(repository: "app") } throws: {
            ($0 as? PierError)?.kind == .invalidInput
        }
        await store.pool.shutdown()
    }

    @Test func hostileLayouts() throws {
        let registry = try TestRegistry()
        // A manifest over 4 MiB.
        let huge = try LayoutBuilder(at: Tools.temporaryDirectory() + "/huge")
        let padding = String(repeating: "x", count: 4 << 20)
        let big = try huge.blob(
            Data(
                #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"annotations":{"pad":"\#(padding)"}}"#
                    .utf8),
            mediaType: "application/vnd.oci.image.index.v1+json")
        try huge.tag(big, as: "x")
        let hugeResult = try Harness.pier("copy", "oci:\(huge.root):x", "\(registry.host)/huge:x")
        #expect(hugeResult.status == 65 && hugeResult.stderr.contains("over the"), "\(hugeResult.stderr)")

        // Indexes nested five deep.
        let deep = try LayoutBuilder(at: Tools.temporaryDirectory() + "/deep")
        var descriptor = try deep.image(config: ["os": "linux", "architecture": "amd64"], layerSizes: [10], seed: 1)
        for _ in 0..<5 {
            descriptor = try deep.blob(
                JSONSerialization.data(withJSONObject: [
                    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [descriptor],
                ]), mediaType: "application/vnd.oci.image.index.v1+json")
        }
        try deep.tag(descriptor, as: "x")
        let deepResult = try Harness.pier("copy", "oci:\(deep.root):x", "\(registry.host)/deep:x")
        #expect(deepResult.status == 65 && deepResult.stderr.contains("nest deeper"), "\(deepResult.stderr)")

        // A blob that is a symlink out of the layout, and a descriptor with an absurd size.
        let linked = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/linked", tag: "1.0", layers: 1, layerSize: 100)
        let manifest =
            try JSONSerialization.jsonObject(
                with: Data(
                    contentsOf: URL(
                        fileURLWithPath:
                            linked + "/blobs/sha256/" + (try Harness.layoutDigest(linked, tag: "1.0")).dropFirst(7))))
            as! [String: Any]
        let layer =
            linked + "/blobs/sha256/" + ((manifest["layers"] as! [[String: Any]])[0]["digest"] as! String).dropFirst(7)
        try FileManager.default.removeItem(atPath: layer)
        try FileManager.default.createSymbolicLink(atPath: layer, withDestinationPath: "/etc/passwd")
        let linkResult = try Harness.pier("copy", "oci:\(linked):1.0", "\(registry.host)/linked:1.0")
        #expect(linkResult.status == 65 && linkResult.stderr.contains("not a regular file"), "\(linkResult.stderr)")
        for name in ["huge:x", "deep:x", "linked:1.0"] {
            #expect(
                (try Tools.run(
                    "skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/\(name)"],
                    check: false)).status != 0)
        }
    }
}
