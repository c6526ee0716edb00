import Foundation
import Logging
import PierEngine
import PierHTTP
import PierModel
import PierRegistry
import PierTestSupport
import Testing

/// What pier promises against registries it does not control (issue #15): credentials go only to the registry's
/// origin and the realm it names, only http and https are followed, insecure names hosts, buffered bodies have a
/// total deadline, truncated tag lists are errors, TLS errors say what happened.
@Suite(.serialized) struct HostileRegistryTests {
    static let user = "ci"
    static let password = "registry-secret-77"
    static let digest = try! Digest("sha256:" + String(repeating: "ab", count: 32))

    /// A client for `host` holding the Basic credential for `host` only.
    func makeClient(
        _ host: String, insecure: Set<String> = [], readTimeout: Duration = .seconds(120)
    ) throws -> (RegistryClient, RegistryPool) {
        var logger = Logger(label: "pier-test")
        logger.logLevel = .warning
        let options = RegistryOptions(
            insecureHosts: insecure, retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10)),
            readTimeout: readTimeout,
            credentials: CredentialChain(
                explicitByHost: [host: .basic(username: Self.user, password: Self.password)],
                dockerConfig: DockerConfig(path: Tools.temporaryDirectory("pier-dc") + "/config.json"), environment: [:]
            ),
            logger: logger)
        let pool = try RegistryPool(options: options)
        return (RegistryClient(registry: host, options: options, transport: pool.transport), pool)
    }

    func expectError(_ kind: PierError.Kind, _ body: () async throws -> Void) async -> PierError? {
        do {
            try await body()
            Issue.record("expected a \(kind) error")
            return nil
        } catch let error as PierError {
            #expect(error.kind == kind, "\(error)")
            return error
        } catch {
            Issue.record("not a PierError: \(error)")
            return nil
        }
    }

    // Item 1: a 401 from another origin ends the request; its challenge is neither learned nor answered.

    @Test func foreignChallengeAfterBlobRedirectGetsNoCredentials() async throws {
        let evil = try await HostileRegistry(
            .challengeEverything(#"Bearer realm="http://{self}/token",service="evil""#))
        let registry = try await HostileRegistry(
            .basicRegistry(
                user: Self.user, password: Self.password, redirectBlobsTo: "http://\(evil.host)", uploadLocation: nil))
        let (client, pool) = try makeClient(registry.host)
        let path = Tools.temporaryDirectory() + "/blob"
        let error = await expectError(.auth) {
            try await client.downloadBlob(repository: "app", digest: Self.digest, size: 3, to: path)
        }
        #expect(error?.message.contains("not the registry") ?? false, "\(String(describing: error))")
        let seen = await evil.requests()
        // One GET, without Authorization; no token request to the foreign realm.
        #expect(seen.count == 1, "\(seen)")
        #expect(seen.allSatisfy { $0.authorization == nil && $0.path != "/token" }, "\(seen)")
        // The registry itself only ever saw its own Basic credential: the foreign challenge was not stored.
        #expect(await registry.requests().allSatisfy { $0.authorization?.hasPrefix("Bearer") != true })
        await pool.shutdown()
        evil.stop()
        registry.stop()
    }

    /// A blob store behaving as `store`, a Basic-auth registry that redirects blob GETs to it, and a client for the
    /// registry.
    func redirectingToBlobStore(_ store: HostileRegistry.Behaviour) async throws -> (
        store: HostileRegistry, registry: HostileRegistry, client: RegistryClient, pool: RegistryPool
    ) {
        let blobs = try await HostileRegistry(store)
        let registry = try await HostileRegistry(
            .basicRegistry(
                user: Self.user, password: Self.password, redirectBlobsTo: "http://\(blobs.host)", uploadLocation: nil))
        let (client, pool) = try makeClient(registry.host)
        return (blobs, registry, client, pool)
    }

    /// A download streams the body of the redirect target into the file (async-http-client's delegate API,
    /// `BlobDownload`): the bytes and the digest are right, and the blob store got no credentials.
    @Test func aRedirectedBlobIsDownloadedWithoutCredentials() async throws {
        let bytes = (0..<(3 << 20) + 12_345).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let (store, registry, client, pool) = try await redirectingToBlobStore(.blobStore(body: bytes, piece: 100_003))
        let path = Tools.temporaryDirectory() + "/blob"
        let digest = Digest.sha256(of: bytes)
        try await client.downloadBlob(repository: "app", digest: digest, size: Int64(bytes.count), to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
        let seen = await store.requests()
        #expect(seen.count == 1 && seen.allSatisfy { $0.authorization == nil }, "\(seen)")
        await pool.shutdown()
        store.stop()
        registry.stop()
    }

    /// A body longer than the descriptor's size stops the download at once; no file is left.
    @Test func aBlobLongerThanItsDescriptorIsRefused() async throws {
        let bytes = [UInt8](repeating: 7, count: 1 << 20)
        let (store, registry, client, pool) = try await redirectingToBlobStore(.blobStore(body: bytes, piece: 65_536))
        let path = Tools.temporaryDirectory() + "/blob"
        let error = await expectError(.verification) {
            try await client.downloadBlob(repository: "app", digest: Digest.sha256(of: bytes), size: 1000, to: path)
        }
        #expect(error?.message.contains("1000 bytes") == true, "\(String(describing: error))")
        #expect(error?.registry == registry.host, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: path))
        await pool.shutdown()
        store.stop()
        registry.stop()
    }

    /// Cancelling a download while an error body trickles ends it at once: with a read timeout of 120 s, only the
    /// cancellation can end the wait for the body (the buffered deadline is 360 s).
    @Test func cancellingADownloadWhileAnErrorBodyTricklesEndsAtOnce() async throws {
        let registry = try await HostileRegistry(.endlessErrorBody(trickle: true))
        let (client, pool) = try makeClient(registry.host)
        let path = Tools.temporaryDirectory() + "/blob"
        let started = ContinuousClock.now
        let download = Task {
            try await client.downloadBlob(repository: "app", digest: Self.digest, size: 3, to: path)
        }
        try await Task.sleep(for: .milliseconds(500))
        download.cancel()
        let result = await download.result
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect((try? result.get()) == nil)
        #expect(!FileManager.default.fileExists(atPath: path))
        await pool.shutdown()
        registry.stop()
    }

    /// A redirect to a port where nothing listens fails with what happened there (a refused connection), not with
    /// a generic "connection closed".
    @Test func aRedirectToANonListeningPortSaysTheConnectionWasRefused() async throws {
        let closed = Tools.freePort()
        let registry = try await HostileRegistry(
            .basicRegistry(
                user: Self.user, password: Self.password, redirectBlobsTo: "http://127.0.0.1:\(closed)",
                uploadLocation: nil))
        let (client, pool) = try makeClient(registry.host)
        let path = Tools.temporaryDirectory() + "/blob"
        let error = await expectError(.network) {
            try await client.downloadBlob(repository: "app", digest: Self.digest, size: 3, to: path)
        }
        #expect(error?.description.lowercased().contains("refused") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: path))
        await pool.shutdown()
        registry.stop()
    }

    /// A download answered 404 with an endless body (trickled, or fast) reports the 404 once the kept part of the
    /// body is read (at most 64 KiB, within 3 × the read timeout), and leaves no file.
    @Test(arguments: [true, false])
    func anEndlessErrorBodyStillReportsTheStatus(trickle: Bool) async throws {
        let registry = try await HostileRegistry(.endlessErrorBody(trickle: trickle))
        let (client, pool) = try makeClient(registry.host, readTimeout: .seconds(1))
        let path = Tools.temporaryDirectory() + "/blob"
        let started = ContinuousClock.now
        let error = await expectError(.notFound) {
            try await client.downloadBlob(repository: "app", digest: Self.digest, size: 3, to: path)
        }
        #expect(error?.status == 404, "\(String(describing: error))")
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(!FileManager.default.fileExists(atPath: path))
        await pool.shutdown()
        registry.stop()
    }

    @Test func foreignChallengeAfterUploadLocationGetsNoCredentials() async throws {
        let evil = try await HostileRegistry(
            .challengeEverything(#"Bearer realm="http://{self}/token",service="evil""#))
        let registry = try await HostileRegistry(
            .basicRegistry(
                user: Self.user, password: Self.password, redirectBlobsTo: nil,
                uploadLocation: "http://\(evil.host)/upload/1?_state=x"))
        let (client, pool) = try makeClient(registry.host)
        let file = Tools.temporaryDirectory() + "/blob"
        try Data("abc".utf8).write(to: URL(fileURLWithPath: file))
        _ = await expectError(.auth) {
            try await client.uploadBlob(
                repository: "app", digest: Digest.sha256(of: Array("abc".utf8)), size: 3, file: file)
        }
        let seen = await evil.requests()
        #expect(seen.count == 1 && seen.first?.method == "PUT", "\(seen)")
        #expect(seen.allSatisfy { $0.authorization == nil }, "\(seen)")
        // A later request to the registry still answers its own (Basic) challenge.
        #expect(try await client.blobSize(repository: "app", digest: Self.digest) == nil)
        #expect(
            await registry.requests().allSatisfy { $0.authorization?.hasPrefix("Basic ") == true || $0.path == "/v2/" })
        await pool.shutdown()
        evil.stop()
        registry.stop()
    }

    /// Descriptors of this process open on `path`.
    static func descriptors(on path: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == path
        }.count
    }

    /// A registry (or the proxy in front of it) that answers 413 to an upload before reading its body: pier falls
    /// back to chunks, is refused again, and reports the status at once. Each refused exchange lets go of its file
    /// and its pooled buffers: more rounds than the pool has buffers, and the file is closed after every one.
    @Test(arguments: [true, false])
    func anUploadAnsweredBeforeItsBodyIsReadReportsTheStatus(page: Bool) async throws {
        let registry = try await HostileRegistry(.refuseUploadsUnread(status: 413, page: page))
        defer { registry.stop() }
        let (client, pool) = try makeClient(registry.host)
        let file = Tools.temporaryDirectory() + "/blob"
        let random = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
        let bytes = Array(try random.read(upToCount: 20 << 20) ?? Data())
        try random.close()
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        for _ in 0...BodyBufferPool.shared.capacity {
            let started = ContinuousClock.now
            let error = await expectError(.other) {
                try await client.uploadBlob(
                    repository: "app", digest: Digest.sha256(of: bytes), size: Int64(bytes.count), file: file)
            }
            #expect(error?.status == 413, "\(String(describing: error))")
            #expect(ContinuousClock.now - started < .seconds(5))
            // The feeding loop ends once the exchange has; give it a moment.
            for _ in 0..<20 where Self.descriptors(on: file) > 0 { try await Task.sleep(for: .milliseconds(50)) }
            #expect(Self.descriptors(on: file) == 0)
        }
        let methods = await registry.requests().map(\.method)
        #expect(methods.contains("PUT") && methods.contains("PATCH"), "\(methods)")
        await pool.shutdown()
    }

    // Item 2: only http and https, by parsed scheme: a UNIX socket (a Docker daemon's) is never reached.

    @Test func nonHTTPSchemesAreRefusedAndNothingIsSent() async throws {
        let socket = Tools.temporaryDirectory("pier-sock") + "/d.sock"
        let daemon = try await HostileRegistry(.challengeEverything(""), unixSocket: socket)
        let unix = "http+unix://" + socket.replacingOccurrences(of: "/", with: "%2F")
        let file = Tools.temporaryDirectory() + "/blob"
        try Data("abc".utf8).write(to: URL(fileURLWithPath: file))

        let realm = try await HostileRegistry(.bearerRealm(unix + "/token"))
        let (realmClient, pool1) = try makeClient(realm.host)
        let realmError = await expectError(.auth) { _ = try await realmClient.tags(repository: "app") }
        #expect(realmError?.message.contains("http+unix") ?? false, "\(String(describing: realmError))")

        let upload = try await HostileRegistry(
            .basicRegistry(
                user: Self.user, password: Self.password, redirectBlobsTo: nil, uploadLocation: unix + "/upload/1"))
        let (uploadClient, pool2) = try makeClient(upload.host)
        _ = await expectError(.network) {
            try await uploadClient.uploadBlob(
                repository: "app", digest: Digest.sha256(of: Array("abc".utf8)), size: 3, file: file)
        }

        let redirect = try await HostileRegistry(
            .basicRegistry(
                user: Self.user, password: Self.password, redirectBlobsTo: unix, uploadLocation: nil))
        let (redirectClient, pool3) = try makeClient(redirect.host)
        _ = await expectError(.network) {
            try await redirectClient.downloadBlob(repository: "app", digest: Self.digest, size: 3, to: file + ".out")
        }
        let schemeless = try await HostileRegistry(
            .basicRegistry(
                user: Self.user, password: Self.password, redirectBlobsTo: "file:///etc", uploadLocation: nil))
        let (fileClient, pool4) = try makeClient(schemeless.host)
        _ = await expectError(.network) { _ = try await fileClient.blobBytes(repository: "app", digest: Self.digest) }

        let reached = await daemon.requests()
        #expect(reached.isEmpty, "\(reached)")
        for pool in [pool1, pool2, pool3, pool4] { await pool.shutdown() }
        for server in [daemon, realm, upload, redirect, schemeless] { server.stop() }
    }

    // A port in a realm, an upload Location or a redirect is a number from 1 to 65535: anything else is a clear,
    // final error naming the port, and nothing is sent there.

    @Test func outOfRangePortsInRealmsAndLocationsAreClearErrors() async throws {
        let file = Tools.temporaryDirectory() + "/blob"
        try Data("abc".utf8).write(to: URL(fileURLWithPath: file))
        for port in ["99999", "65536", "abc", "-1", "99999999999999999999"] {
            let realm = try await HostileRegistry(.bearerRealm("http://127.0.0.1:\(port)/token"))
            let (realmClient, pool1) = try makeClient(realm.host)
            let realmError = await expectError(.auth) { _ = try await realmClient.tags(repository: "app") }
            #expect(
                realmError?.message.contains("realm is a URL with port \(port);") ?? false,
                "\(String(describing: realmError))")
            #expect(realmError?.isFinal == true)

            let upload = try await HostileRegistry(
                .basicRegistry(
                    user: Self.user, password: Self.password, redirectBlobsTo: nil,
                    uploadLocation: "http://127.0.0.1:\(port)/upload/1"))
            let (uploadClient, pool2) = try makeClient(upload.host)
            let uploadError = await expectError(.network) {
                try await uploadClient.uploadBlob(
                    repository: "app", digest: Digest.sha256(of: Array("abc".utf8)), size: 3, file: file)
            }
            #expect(
                uploadError?.message.contains("refused a Location to a URL with port \(port);") ?? false,
                "\(String(describing: uploadError))")
            // Refused once, not retried: one session was opened.
            let seen = await upload.requests()
            #expect(seen.filter { $0.method == "POST" }.count == 1, "\(seen)")

            let redirect = try await HostileRegistry(
                .basicRegistry(
                    user: Self.user, password: Self.password, redirectBlobsTo: "http://127.0.0.1:\(port)",
                    uploadLocation: nil))
            let (redirectClient, pool3) = try makeClient(redirect.host)
            let redirectError = await expectError(.network) {
                _ = try await redirectClient.blobBytes(repository: "app", digest: Self.digest)
            }
            #expect(
                redirectError?.message.contains("refused a redirect to a URL with port \(port);") ?? false,
                "\(String(describing: redirectError))")
            for pool in [pool1, pool2, pool3] { await pool.shutdown() }
            for server in [realm, upload, redirect] { await server.shutdown() }
        }
    }

    // Item 4: --insecure-registry A does not turn off certificate checks for A's realm on another host.

    @Test func insecureNamesTheRegistryNotItsRealm() async throws {
        try Harness.requireTools()
        let certificates = try Certificates()
        let tlsHost = try TestRegistry(tls: certificates)
        let registry = try await HostileRegistry(.bearerRealm("https://\(tlsHost.host)/token"))
        let (client, pool) = try makeClient(registry.host, insecure: [registry.host])
        // With verification the realm's untrusted certificate stops pier before it sends anything; without it, the
        // TLS registry would answer the token request 404 (an auth error).
        let error = await expectError(.network) { _ = try await client.tags(repository: "app") }
        #expect(error?.hint?.contains("--ca-file") ?? false, "\(String(describing: error))")
        await pool.shutdown()
        registry.stop()
    }

    // Item 5: Basic credentials to an http realm only on loopback or a host named insecure.

    @Test func plainHTTPRealmGetsNoCredentials() async throws {
        let tokens = try await HostileRegistry(.challengeEverything(""))
        // 0.0.0.0 reaches this machine but is not loopback by pier's rule (127.0.0.0/8, localhost, ::1).
        let registry = try await HostileRegistry(.bearerRealm("http://0.0.0.0:\(tokens.port)/token"))
        let (client, pool) = try makeClient(registry.host)
        let error = await expectError(.auth) { _ = try await client.tags(repository: "app") }
        #expect(error?.message.contains("clear text") ?? false, "\(String(describing: error))")
        #expect(await tokens.requests().isEmpty)
        await pool.shutdown()

        // Named insecure, the same realm gets them.
        let (trusted, pool2) = try makeClient(registry.host, insecure: ["0.0.0.0:\(tokens.port)"])
        _ = await expectError(.auth) { _ = try await trusted.tags(repository: "app") }
        #expect(await tokens.requests().first?.authorization?.hasPrefix("Basic ") ?? false)
        await pool2.shutdown()
        tokens.stop()
        registry.stop()
    }

    // Item 7: a body trickled a byte a second ends at the total deadline (3 × the idle timeout).

    @Test(.timeLimit(.minutes(1))) func trickledManifestHitsTheDeadline() async throws {
        let registry = try await HostileRegistry(.trickleManifests)
        let (client, pool) = try makeClient(registry.host, readTimeout: .seconds(2))
        let error = await expectError(.network) { _ = try await client.manifest(repository: "app", reference: "1.0") }
        #expect(error?.message.contains("within 6 s") ?? false, "\(String(describing: error))")
        await pool.shutdown()
        registry.stop()
    }

    // Item 12: a tag list that does not end, or links back, is an error.

    @Test func truncatedTagListsAreErrors() async throws {
        for repeating in [false, true] {
            let registry = try await HostileRegistry(.endlessTags(repeating: repeating))
            let (client, pool) = try makeClient(registry.host)
            let error = await expectError(.invalidInput) { _ = try await client.tags(repository: "app") }
            #expect(
                error?.message.contains(repeating ? "links back" : "did not end after 1000 pages") ?? false,
                "\(String(describing: error))")
            // Pages read: all 1,000 of the endless list; the first page and the one that links to itself.
            #expect(
                await registry.requests().filter { $0.path.hasSuffix("/tags/list") }.count == (repeating ? 2 : 1000))
            await pool.shutdown()
            registry.stop()
        }
    }

    /// A docker-registry holding one small image at `repositoryAndTag`, and that image's manifest bytes.
    func registryHolding(_ repositoryAndTag: String) throws -> (registry: TestRegistry, manifest: Data) {
        try Harness.requireTools()
        let registry = try TestRegistry()
        let layout = Tools.temporaryDirectory() + "/img"
        try ImageFixtures.umociImage(at: layout, tag: "a", layers: 1, layerSize: 100, created: "2026-06-01T00:00:00Z")
        #expect(try Harness.pier("copy", "oci:\(layout):a", "\(registry.host)/\(repositoryAndTag)").status == 0)
        return (registry, try Harness.skopeoRaw("\(registry.host)/\(repositoryAndTag)"))
    }

    /// An index whose entry misstates its child's size (docker-registry takes it as it is) is refused on pull
    /// (exit 70), and nothing is written: the layout would not read back.
    @Test func anIndexThatMisstatesAChildsSizeIsRefused() async throws {
        let (registry, child) = try registryHolding("app:child")
        let entry =
            #"{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(Harness.sha256(child))","size":10,"#
            + #""platform":{"architecture":"amd64","os":"linux"}}"#
        let index =
            #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[\#(entry)]}"#
        try Tools.run(
            "curl",
            [
                "-s", "-f", "-X", "PUT", "-H", "Content-Type: application/vnd.oci.image.index.v1+json", "--data-binary",
                index, "http://\(registry.host)/v2/app/manifests/lying",
            ])
        let out = Tools.temporaryDirectory() + "/out"
        let run = try Harness.pier("copy", "\(registry.host)/app:lying", "oci:\(out):x")
        #expect(run.status == 70, "\(run.stderr)")
        #expect(run.stderr.contains("it is \(child.count) bytes, the index says 10"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// A token that no header can carry is the token server's fault (exit 77), said so before any request carries
    /// it; an `expires_in` beyond every integer is clamped, not taken for "no token".
    @Test func aTokenServersOddAnswersAreCheckedBeforeUse() async throws {
        let crlf = try await HostileRegistry(.tokenAnswer(#"{"token":"abc\r\nX-Injected: 1"}"#))
        let huge = try await HostileRegistry(
            .tokenAnswer(#"{"token":"good-token","expires_in":99999999999999999999999}"#))
        defer { (crlf.stop(), huge.stop()) }
        for (realm, expected) in [
            (crlf, "the token server's token holds a space or control character"), (huge, "401 Unauthorized"),
        ] {
            let registry = try await HostileRegistry(.bearerRealm("http://\(realm.host)/token"))
            defer { registry.stop() }
            let (client, pool) = try makeClient(registry.host)
            let error = await expectError(.auth) { _ = try await client.tags(repository: "app") }
            #expect(error.map { "\($0)".contains(expected) } ?? false, "\(String(describing: error))")
            #expect(!(error.map { "\($0)".contains("has no token") } ?? true))
            let sent = await registry.requests().compactMap(\.authorization)
            #expect(realm === huge ? sent.contains("Bearer good-token") : sent.isEmpty, "\(sent)")
            await pool.shutdown()
        }
    }

    /// A plain-HTTP registry whose `/v2/` fails: pier then tries https, which only shows the server speaks plain
    /// HTTP; the error is the plain-HTTP answer's, not a TLS mix-up.
    @Test func aFailingPingIsReportedAsSuch() async throws {
        let registry = try await HostileRegistry(.failingPing)
        defer { registry.stop() }
        let run = try Harness.pier("inspect", "\(registry.host)/app:1")
        #expect(run.status == 69, "\(run.stderr)")
        #expect(
            run.stderr.hasPrefix("pier: ping registry at \(registry.host): 500 UNKNOWN \"storage offline\""),
            "\(run.stderr)")
        #expect(!run.stderr.contains("TLS connection"), "\(run.stderr)")
        #expect(await registry.requests().map(\.path) == ["/v2/"])
    }

    /// A registry that quotes the credentials it was sent in its error: pier's error line quotes the registry
    /// without them (CI logs are read by many).
    @Test func aRegistryEchoingTheCredentialsIsQuotedWithoutThem() async throws {
        let registry = try await HostileRegistry(.echoAuthorization)
        defer { registry.stop() }
        let run = try Harness.pier(
            ["inspect", "\(registry.host)/app:1"],
            env: Harness.isolatedEnvironment(["PIER_USERNAME": "alice", "PIER_PASSWORD": "hunter2SECRET"]))
        #expect(run.status == 77, "\(run.stderr)")
        #expect(run.stderr.contains(#"403 DENIED "creds <redacted> <redacted> denied""#), "\(run.stderr)")
        let basic = Data("alice:hunter2SECRET".utf8).base64EncodedString()
        #expect(!run.stderr.contains("hunter2SECRET") && !run.stderr.contains(basic), "\(run.stderr)")
        #expect(await registry.requests().contains { $0.authorization != nil }, "the credentials were sent")
    }

    /// Listed tags go into request paths and decide what prune keeps: a name that is not a tag (here one whose
    /// query a registry would ignore, so `1.0.0` on the backup would be overwritten despite `--on-conflict fail`) makes
    /// the listing an error before anything is written; so does a listing of more than a million tags.
    @Test func aTagListWithANameThatIsNoTagIsRefused() async throws {
        let (backup, before) = try registryHolding("backup:1.0.0")

        let registry = try await HostileRegistry(.listsTags(["1.0.0?x=1", "x/../../victim/manifests/pwn"]))
        defer { registry.stop() }
        let sync = try Harness.pier("sync", "\(registry.host)/app", "\(backup.host)/backup")
        #expect(sync.status == 65, "\(sync.stderr)")
        #expect(sync.stderr.contains(#"listed "1.0.0?x=1", which is not a tag name"#), "\(sync.stderr)")
        #expect(try Harness.skopeoRaw("\(backup.host)/backup:1.0.0") == before)
        #expect(await registry.requests().allSatisfy { !$0.path.contains("/manifests/") })

        // A tag longer than the spec's 128 but of its characters is listed as it is (ECR takes up to 300).
        let long = String(repeating: "a", count: 300)
        let lengthy = try await HostileRegistry(.listsTags([long]))
        defer { lengthy.stop() }
        let (lengthyClient, lengthyPool) = try makeClient(lengthy.host)
        #expect(try await lengthyClient.tags(repository: "app") == [long])
        await lengthyPool.shutdown()

        let crowded = try await HostileRegistry(.listsTags((0...1_000_000).map { "t\($0)" }))
        defer { crowded.stop() }
        let (client, pool) = try makeClient(crowded.host)
        let error = await expectError(.invalidInput) { _ = try await client.tags(repository: "app") }
        #expect(error?.message.contains("more than 1000000 tags") ?? false, "\(String(describing: error))")
        await pool.shutdown()
    }

    /// A tag list whose next page is on another server is an error (its answer would not be this registry's); that
    /// server is never asked.
    @Test func aTagListContinuedOnAnotherOriginIsAnError() async throws {
        let elsewhere = try await FakeRegistry()
        defer { elsewhere.stop() }
        let registry = try await HostileRegistry(.tagsContinuedElsewhere(origin: "http://\(elsewhere.host)"))
        let (client, pool) = try makeClient(registry.host)
        let error = await expectError(.invalidInput) { _ = try await client.tags(repository: "app") }
        #expect(error?.message.contains("another origin") ?? false, "\(String(describing: error))")
        #expect(await elsewhere.requestLog().isEmpty)
        await pool.shutdown()
        registry.stop()
    }

    // Item 14: a plain HTTP server on a TLS connection is named as such, and no source path leaks.

    @Test func plainHTTPOnTLSSaysSo() async throws {
        let plain = try await FakeRegistry()
        let host = "0.0.0.0:" + (plain.host.split(separator: ":").last ?? "")
        let result = try Harness.pier("inspect", "\(host)/app:1.0")
        #expect(result.status == 69, "\(result.stderr)")
        #expect(
            result.stderr.contains("server answered plain HTTP on a TLS connection; is it http://\(host)?"),
            "\(result.stderr)")
        #expect(result.stderr.contains("--insecure-registry"))
        for path in [".cc:", ".swift", "/Sources/", "/.build/", "/checkouts/"] {
            #expect(!result.stderr.contains(path), "\(result.stderr)")
        }
        plain.stop()
    }

    // Item 3: unscoped credentials go to the destination of a copy, never to its source.

    @Test func copyCredentialsStayOnTheirSide() async throws {
        let source = try await HostileRegistry(
            .basicRegistry(
                user: Self.user, password: Self.password, redirectBlobsTo: nil, uploadLocation: nil))
        let destination = try await FakeRegistry()
        // PIER_USERNAME/PIER_PASSWORD happen to be the source's: they still go to the destination only.
        let env = Harness.isolatedEnvironment(["PIER_USERNAME": Self.user, "PIER_PASSWORD": Self.password])
        let denied = try Harness.pier("copy", "\(source.host)/app:1.0", "\(destination.host)/app:1.0", env: env)
        #expect(denied.status == 77, "\(denied.stderr)")
        let unauthenticated = await source.requests()
        #expect(
            !unauthenticated.isEmpty && unauthenticated.allSatisfy { $0.authorization == nil }, "\(unauthenticated)")

        // --src-creds binds them to the source (the source then answers 404: it holds no manifests).
        var scoped = Harness.isolatedEnvironment(["PIER_SRC_PASSWORD": Self.password])
        scoped["PIER_PASSWORD"] = "destination-only"
        let copied = try Harness.pier(
            "copy", "--src-creds", Self.user, "\(source.host)/app:1.0", "\(destination.host)/app:1.0", env: scoped)
        #expect(copied.status == 66, "\(copied.stderr)")
        let basic = "Basic " + Data("\(Self.user):\(Self.password)".utf8).base64EncodedString()
        #expect(await source.requests().dropFirst(unauthenticated.count).contains { $0.authorization == basic })

        // --creds HOST=USER names the source explicitly (password from PIER_PASSWORD).
        let seenBefore = await source.requests().count
        let named = try Harness.pier(
            "copy", "--creds", "\(source.host)=\(Self.user)", "\(source.host)/app:1.0", "\(destination.host)/app:1.0",
            env: env)
        #expect(named.status == 66, "\(named.stderr)")
        #expect(await source.requests().dropFirst(seenBefore).contains { $0.authorization == basic })

        // -u without a host is refused when the command targets two registries.
        let two = try Harness.pier(
            "rollback", "1.0", "--to", "\(source.host)/app", "--to", "\(destination.host)/app", env: env)
        #expect(two.status == 64 && two.stderr.contains("PIER_REGISTRY"), "\(two.stderr)")
        // --src-creds takes its secret from PIER_SRC_PASSWORD only.
        let missing = try Harness.pier(
            "copy", "--src-creds", "s", "\(source.host)/app:1.0", "\(destination.host)/app:2.0")
        #expect(missing.status == 64 && missing.stderr.contains("PIER_SRC_PASSWORD"), "\(missing.stderr)")
        source.stop()
        destination.stop()
    }
}
