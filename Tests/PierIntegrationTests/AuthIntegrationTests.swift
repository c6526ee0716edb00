import Foundation
import PierEngine
import PierModel
import PierRegistry
import PierTestSupport
import Testing

/// Registries that want credentials: htpasswd (Basic), TLS with a private CA, distribution token auth.
@Suite(.serialized) struct AuthIntegrationTests {
    init() throws { try Harness.requireTools() }

    @Test func htpasswdLoginIsSharedWithSkopeo() throws {
        let registry = try TestRegistry(auth: .htpasswd(user: "alice", password: "wonder-land-9"))
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1)
        let env = Harness.isolatedEnvironment()

        let denied = try Harness.pier("copy", "oci:\(layout):1.0", "\(registry.host)/app:1.0", env: env)
        #expect(denied.status == 77)
        #expect(denied.stderr.contains("401"))
        #expect(denied.stderr.contains("pier login \(registry.host)"))
        #expect(denied.stderr.split(separator: "\n").last?.hasPrefix("pier: ") ?? false)

        let wrong = try Harness.pier(
            "login", registry.host, "-u", "alice", "--password-stdin", stdin: "nope\n", env: env)
        #expect(wrong.status == 77)
        // A refused password during login says to check it, not to log in.
        #expect(wrong.stderr.contains("refused the password or token of alice"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("run 'pier login"), "\(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: env["DOCKER_CONFIG"]! + "/config.json"))

        let login = try Harness.pier(
            "login", registry.host, "-u", "alice", "--password-stdin", stdin: "wonder-land-9\n", env: env)
        #expect(login.status == 0, "\(login.stderr)")
        let configPath = env["DOCKER_CONFIG"]! + "/config.json"
        let mode = try FileManager.default.attributesOfItem(atPath: configPath)[.posixPermissions] as! Int
        #expect(mode == 0o600)

        let copy = try Harness.pier("copy", "-v", "oci:\(layout):1.0", "\(registry.host)/app:1.0", env: env)
        #expect(copy.status == 0, "\(copy.stderr)")
        // Verbose logs show requests but never the secret.
        #expect(copy.stderr.contains("PUT"))
        #expect(!copy.stderr.contains("wonder-land-9") && !copy.stdout.contains("wonder-land-9"))
        #expect(!copy.stderr.contains(Data("alice:wonder-land-9".utf8).base64EncodedString()))

        // skopeo reads the login pier wrote, in docker's format.
        let raw = try Tools.run(
            "skopeo",
            [
                "inspect", "--raw", "--tls-verify=false", "--authfile", configPath, "docker://\(registry.host)/app:1.0",
            ])
        #expect(Harness.sha256(raw.stdoutBytes) == (try Harness.layoutDigest(layout, tag: "1.0")))

        #expect(try Harness.pier("logout", registry.host, env: env).status == 0)
        #expect(try Harness.pier("tags", "\(registry.host)/app", env: env).status == 77)
        // Environment credentials work without a login.
        var withEnv = env
        withEnv["PIER_USERNAME"] = "alice"
        withEnv["PIER_PASSWORD"] = "wonder-land-9"
        let tags = try Harness.pier("tags", "\(registry.host)/app", env: withEnv)
        #expect(tags.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1.0")
    }

    /// pier.yml's `registries[].ca_file` trusts a CA for its own registry only: two registries with two private
    /// CAs each work with their own, and a CA given for one does not vouch for the other.
    @Test func perRegistryCAFilesFromConfig() throws {
        let (first, second) = (try Certificates(), try Certificates())
        let (one, two) = (try TestRegistry(tls: first), try TestRegistry(tls: second))
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1)
        let config = Tools.temporaryDirectory("pier-ca") + "/pier.yml"
        func publish(_ caOne: String, _ caTwo: String) throws -> Tools.Result {
            try """
            registries:
              - repository: \(one.host)/app
                ca_file: \(caOne)
              - repository: \(two.host)/app
                ca_file: \(caTwo)
            """.write(toFile: config, atomically: true, encoding: .utf8)
            return try Harness.pier(
                "publish", "--config", config, "--source", "oci:\(layout):1.0", "--version", "1.0.0", "--json")
        }
        let right = try publish(first.caCert, second.caCert)
        #expect(right.status == 0, "\(right.stderr)")
        let swapped = try publish(second.caCert, first.caCert)
        #expect(swapped.status == 69, "\(swapped.stderr)")
        #expect(
            swapped.stderr.split(separator: "\n").filter {
                $0.contains("certificate") || $0.contains("TLS") || $0.contains("--ca-file")
            }.count == 2,
            "\(swapped.stderr)")
    }

    @Test func tlsWithPrivateCA() throws {
        let certificates = try Certificates()
        let registry = try TestRegistry(tls: certificates)
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1)
        let untrusted = try Harness.pier("copy", "oci:\(layout):1.0", "\(registry.host)/app:1.0")
        #expect(untrusted.status == 69)
        #expect(untrusted.stderr.contains("--ca-file"))
        let trusted = try Harness.pier(
            "copy", "--ca-file", certificates.caCert, "oci:\(layout):1.0", "\(registry.host)/app:1.0")
        #expect(trusted.status == 0, "\(trusted.stderr)")
        let insecure = try Harness.pier("digest", "--insecure-registry", registry.host, "\(registry.host)/app:1.0")
        #expect(insecure.stdout.contains(try Harness.layoutDigest(layout, tag: "1.0")))
        let raw = try Tools.run(
            "skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(registry.host)/app:1.0"])
        #expect(Harness.sha256(raw.stdoutBytes) == (try Harness.layoutDigest(layout, tag: "1.0")))
    }

    @Test func tokenAuthFetchesOneTokenPerScope() async throws {
        let certificates = try Certificates()
        let tokens = try await TokenServer(certificates: certificates)
        let registry = try TestRegistry(auth: .token(tokens))
        let layout = try ImageFixtures.umociImage(
            at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 6, layerSize: 20_000)
        let store = try Harness.store(credentials: [
            registry.host: .basic(username: tokens.user, password: tokens.password)
        ])
        let report = try await Harness.copy("oci:\(layout):1.0", "\(registry.host)/team/app:1.0", store: store)
        #expect(report.blobsUploaded == 7)
        let requests = await tokens.requests()
        // Seven blobs went up four at a time, and still one token was fetched for the push scope.
        #expect(requests["repository:team/app:pull,push"] == 1, "\(requests)")
        // A mount needs pull on the source too: one token for the combined scope.
        let mounted = try await Harness.copy(
            "\(registry.host)/team/app:1.0", "\(registry.host)/other/app:1.0", store: store)
        #expect(mounted.blobsMounted == 7)
        await store.pool.shutdown()

        // Wrong password: the token server says no, pier says auth.
        let bad = try Harness.store(credentials: [registry.host: .basic(username: tokens.user, password: "wrong")])
        await #expect {
            _ = try await Harness.copy("oci:\(layout):1.0", "\(registry.host)/team/app:2.0", store: bad)
        } throws: {
            ($0 as? PierError)?.kind == .auth
        }
        await bad.pool.shutdown()

        // An identity token in docker's config is exchanged with an OAuth2 POST.
        let env = Harness.isolatedEnvironment()
        try #"{"auths":{"\#(registry.host)":{"identitytoken":"\#(tokens.refreshToken)"}}}"#.write(
            toFile: env["DOCKER_CONFIG"]! + "/config.json", atomically: true, encoding: .utf8)
        let digest = try Harness.pier("digest", "\(registry.host)/team/app:1.0", env: env)
        #expect(digest.status == 0, "\(digest.stderr)")
        #expect(digest.stdout.contains(report.digest.description))
        tokens.stop()
    }
}
