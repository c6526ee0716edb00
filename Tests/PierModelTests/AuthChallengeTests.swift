import Foundation
import NIOHTTP1
import PierHTTP
import PierModel
import Testing

@testable import PierRegistry

struct AuthChallengeTests {
    @Test func dockerHubBearer() {
        let challenges = AuthChallenge.parse(
            #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push""#
        )
        #expect(challenges.count == 1)
        #expect(challenges[0].scheme == "bearer")
        #expect(challenges[0].realm == "https://auth.docker.io/token")
        #expect(challenges[0].service == "registry.docker.io")
        #expect(challenges[0].scope == "repository:library/nginx:pull,push")
    }

    @Test func basicAndBearerInOneHeaderWithSpacesAndEscapes() {
        let challenges = AuthChallenge.parse(
            #"Basic realm="my registry, \"quoted\"", Bearer realm="https://t.example/token" , error="insufficient_scope""#
        )
        #expect(challenges.map(\.scheme) == ["basic", "bearer"])
        #expect(challenges[0].realm == #"my registry, "quoted""#)
        #expect(challenges[1].error == "insufficient_scope")
    }

    @Test func missingServiceAndUnquotedValues() {
        // Google Artifact Registry sends no service.
        let challenges = AuthChallenge.parse(["Bearer realm=https://gar.example/v2/token", "basic REALM=x"])
        #expect(challenges.count == 2)
        #expect(challenges[0].service == nil)
        #expect(challenges[0].realm == "https://gar.example/v2/token")
        #expect(challenges[1].realm == "x")
    }

    @Test func garbageDoesNotCrash() {
        for text in ["", ",,,", "=", "\"", "Bearer realm=\"unterminated", "Bearer ,realm", "\u{0}\u{1}"] {
            _ = AuthChallenge.parse(text)
        }
    }

    @Test func retryAfter() {
        #expect(RetryPolicy.parseRetryAfter("3") == .seconds(3))
        let now = Date(timeIntervalSince1970: 1_000_000_000)
        #expect(RetryPolicy.parseRetryAfter("Sun, 09 Sep 2001 01:46:50 GMT", now: now) == .seconds(10))
        #expect(RetryPolicy.parseRetryAfter("soon") == nil)
        // Range-checked: a past or negative wait is none, a wait beyond a day is a day, a number past Int64 is ignored.
        #expect(RetryPolicy.parseRetryAfter("-5") == .zero)
        #expect(RetryPolicy.parseRetryAfter("Sun, 09 Sep 2001 01:46:30 GMT", now: now) == .zero)
        #expect(RetryPolicy.parseRetryAfter("9223372036854775807") == RetryPolicy.serverWaitCeiling)
        #expect(RetryPolicy.parseRetryAfter("99999999999999999999999") == nil)
        #expect(RetryPolicy.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now: now) == RetryPolicy.serverWaitCeiling)
    }

    /// One policy for the registry client and the hosted APIs: what is retried, after how long, how often.
    @Test func retryDecisions() {
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        let now = Date(timeIntervalSince1970: 1_000_000_000)
        func after(_ status: Int, _ headers: HTTPHeaders = [:], attempt: Int = 1) -> RetryPolicy.Decision {
            policy.afterAnswer(status: status, headers: headers, attempt: attempt, now: now)
        }
        #expect(after(429, ["Retry-After": "7"]) == .retry(after: .seconds(7)))
        #expect(after(503, ["Retry-After": "7"], attempt: 3) == .stop(serverWait: .seconds(7)))
        // A server wait past `maxServerWait` is reported, not waited out.
        #expect(after(429, ["Retry-After": "3600"]) == .stop(serverWait: .seconds(3600)))
        // GitHub's secondary rate limit is a pause; a plain 403 or 404 is not retried.
        #expect(
            after(403, ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000000005"]) == .retry(after: .seconds(5)))
        #expect(after(403, ["retry-after": "2"]) == .retry(after: .seconds(2)))
        #expect(after(403) == .stop(serverWait: nil))
        #expect(after(404, ["Retry-After": "1"]) == .stop(serverWait: nil))
        // Backoff without a server wait: between half and all of base × 2^(attempt-1), capped at maxDelay.
        for attempt in 1...2 {
            guard case .retry(let wait) = after(500, attempt: attempt) else {
                Issue.record("500 on attempt \(attempt) is retried")
                continue
            }
            let full = Duration.milliseconds(100) * (1 << (attempt - 1))
            #expect(wait >= full / 2 && wait <= full, "\(wait)")
        }
        #expect(policy.backoff(afterAttempt: 40) <= .seconds(1))
        #expect(policy.afterNetworkFailure(attempt: 2) != .stop(serverWait: nil))
        #expect(policy.afterNetworkFailure(attempt: 3) == .stop(serverWait: nil))
        var final = PierError(.network, operation: "x", message: "refused on purpose")
        final.isFinal = true
        #expect(policy.afterFailure(final, attempt: 1) == .stop(serverWait: nil))
        #expect(
            policy.afterFailure(PierError(.network, operation: "x", message: "reset"), attempt: 1)
                != .stop(serverWait: nil))
        #expect(
            policy.afterFailure(
                PierError(.other, operation: "x", message: "", status: 503), attempt: 1, statuses: false)
                == .stop(serverWait: nil))
    }

    @Test func registryErrorCodes() throws {
        #expect(RegistryErrorCode("MANIFEST_BLOB_UNKNOWN") == .manifestBlobUnknown)
        #expect(RegistryErrorCode("TOOMANYREQUESTS") == .tooManyRequests)
        #expect(RegistryErrorCode("TAG_INVALID") == .other("TAG_INVALID"))
        #expect(RegistryErrorCode("denied") == .other("denied"))
        #expect(RegistryErrorCode.specified.count == 14)
        for code in RegistryErrorCode.specified { #expect(RegistryErrorCode(code.name) == code) }
        // Encoded as the wire string, so reports keep their JSON.
        let detail = PierError.RegistryErrorDetail(code: "BLOB_UNKNOWN", message: "m")
        let json = String(decoding: try JSONEncoder().encode(detail), as: UTF8.self)
        #expect(json.contains(#""code":"BLOB_UNKNOWN""#), "\(json)")
        #expect(detail.errorCode == .blobUnknown)
        let round = try JSONDecoder().decode(RegistryErrorCode.self, from: Data(#""X_Y""#.utf8))
        let encoded = String(decoding: try JSONEncoder().encode(round), as: UTF8.self)
        #expect(round == .other("X_Y") && encoded == #""X_Y""#)
    }

    @Test func linkHeaderAndLocations() {
        #expect(LinkHeader.next(in: #"</v2/a/tags/list?n=2&last=b>; rel="next""#) == "/v2/a/tags/list?n=2&last=b")
        #expect(LinkHeader.next(in: #"<x>; rel="prev""#) == nil)
        #expect(
            URLText.resolve("/v2/a/blobs/uploads/1?_state=x", against: "https://r.io/v2/")
                == "https://r.io/v2/a/blobs/uploads/1?_state=x")
        #expect(
            URLText.resolve("https://s3.example/up?sig=1", against: "https://r.io/v2/") == "https://s3.example/up?sig=1"
        )
        #expect(
            URLText.appending(query: "digest=sha256:1", to: "https://r.io/u?_state=x")
                == "https://r.io/u?_state=x&digest=sha256:1")
        #expect(URLText.appending(query: "digest=sha256:1", to: "https://r.io/u") == "https://r.io/u?digest=sha256:1")
        #expect(URLText.redacted("https://r.io/u?_state=secret") == "https://r.io/u?…")
    }
}

struct DockerConfigTests {
    /// A missing helper exits before reading its stdin; the write must not kill the test process, as pier's own
    /// main ignores SIGPIPE.
    init() { signal(SIGPIPE, SIG_IGN) }

    func write(_ json: String) throws -> DockerConfig {
        let dir = NSTemporaryDirectory() + "pier-dc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try json.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        return DockerConfig(path: dir + "/config.json")
    }

    @Test func authEntries() throws {
        let auth = Data("alice:pa:ss".utf8).base64EncodedString()
        let config = try write(
            """
            {"auths": {"https://index.docker.io/v1/": {"auth": "\(auth)"}, "ghcr.io": {"identitytoken": "refresh"},
             "http://old.example:5000/v1/": {"username": "u", "password": "p"}}, "unknownKey": 1}
            """)
        #expect(try config.credential(for: "docker.io") == .basic(username: "alice", password: "pa:ss"))
        #expect(try config.credential(for: "registry-1.docker.io") == .basic(username: "alice", password: "pa:ss"))
        #expect(try config.credential(for: "ghcr.io") == .identityToken("refresh"))
        #expect(try config.credential(for: "old.example:5000") == .basic(username: "u", password: "p"))
        #expect(try config.credential(for: "quay.io") == nil)
    }

    @Test func credHelperThatIsMissingGivesAClearError() throws {
        let config = try write(#"{"credHelpers": {"quay.io": "pier-test-nonexistent"}}"#)
        #expect { _ = try config.credential(for: "quay.io") } throws: {
            ($0 as? PierError)?.message.contains("docker-credential-pier-test-nonexistent") ?? false
        }
    }

    @Test func credHelperIsRun() throws {
        let dir = NSTemporaryDirectory() + "pier-helper-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let script = """
            #!/bin/sh
            read server
            [ "$1" = get ] && [ "$server" = "quay.io" ] && echo '{"ServerURL":"quay.io","Username":"bob","Secret":"tok"}' && exit 0
            echo "credentials not found in native keychain"; exit 1
            """
        try script.write(toFile: dir + "/docker-credential-piertest", atomically: true, encoding: .utf8)
        chmod(dir + "/docker-credential-piertest", 0o755)
        setenv("PATH", dir + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? ""), 1)
        let config = try write(#"{"credHelpers": {"quay.io": "piertest"}, "credsStore": "piertest"}"#)
        #expect(try config.credential(for: "quay.io") == .basic(username: "bob", password: "tok"))
        #expect(try config.credential(for: "other.io") == nil)
    }

    @Test func storeKeepsOtherKeysAndUsesMode0600() throws {
        let config = try write(#"{"auths": {"a.io": {"auth": "eDp5"}}, "psFormat": "table"}"#)
        try config.store(host: "docker.io", username: "me", password: "pw")
        let object =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config.path)))
            as! [String: Any]
        #expect(object["psFormat"] as? String == "table")
        let auths = object["auths"] as! [String: Any]
        #expect(auths["a.io"] != nil)
        #expect(
            (auths["https://index.docker.io/v1/"] as? [String: String])?["auth"]
                == Data("me:pw".utf8).base64EncodedString())
        let mode = try FileManager.default.attributesOfItem(atPath: config.path)[.posixPermissions] as! Int
        #expect(mode == 0o600)
        #expect(try config.erase(host: "index.docker.io"))
        #expect(try config.credential(for: "docker.io") == nil)
    }

    @Test func chainOrder() throws {
        let config = try write(#"{"auths": {"ghcr.io": {"auth": "\#(Data("x:y".utf8).base64EncodedString())"}}}"#)
        let env = ["GITHUB_TOKEN": "ghp_abc", "GITHUB_ACTOR": "octo"]
        #expect(
            try CredentialChain(dockerConfig: config, environment: env).credential(for: "ghcr.io")
                == .basic(username: "x", password: "y"))
        let empty = try write("{}")
        #expect(
            try CredentialChain(dockerConfig: empty, environment: env).credential(for: "ghcr.io")
                == .basic(username: "octo", password: "ghp_abc"))
        #expect(
            try CredentialChain(
                explicitByHost: ["GHCR.io": .basic(username: "e", password: "p")], dockerConfig: config,
                environment: env
            )
            .credential(for: "ghcr.io") == .basic(username: "e", password: "p"))
        #expect(try CredentialChain(dockerConfig: empty, environment: [:]).credential(for: "ghcr.io") == .anonymous)
    }
}
