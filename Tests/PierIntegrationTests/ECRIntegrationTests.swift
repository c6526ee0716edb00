import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PierEngine
import PierHTTP
import PierHostedAPIs
import PierModel
import PierRegistry
import PierTestSupport
import Testing

/// ECR as a registry: pier logs in with GetAuthorizationToken (moto) from AWS credentials, a web identity or
/// GitHub Actions OIDC (a fake ID-token endpoint), and presents that token to the registry (docker-registry with
/// htpasswd user `AWS` and the password moto issues), never showing a secret.
struct ECRIntegrationTests {
    /// The passwords moto's GetAuthorizationToken issues: `<account>-auth-token`, the account being moto's default
    /// for long-term keys and the role's account for credentials assumed through STS.
    static let defaultAccountPassword = "123456789012-auth-token"
    static let roleAccountPassword = "111122223333-auth-token"
    static let role = "arn:aws:iam::111122223333:role/ci"

    /// An environment with no AWS settings of the developer's: HOME without ~/.aws, every endpoint on moto.
    static func environment(moto: String, config: String, _ extra: [String: String] = [:]) -> [String: String] {
        let home = Tools.temporaryDirectory("pier-home")
        var env = Harness.isolatedEnvironment([
            "HOME": home, "PIER_CONFIG": config, "AWS_ENDPOINT_URL": moto, "AWS_REGION": "eu-west-1",
        ])
        for name in [
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_ENDPOINT_URL_ECR",
            "AWS_ENDPOINT_URL_STS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        ] {
            env[name] = ""
        }
        for (key, value) in extra { env[key] = value }
        return env
    }

    /// A pier.yml marking `registry` as ECR (its API on moto through AWS_ENDPOINT_URL), plus `extra` lines.
    static func config(_ registry: TestRegistry, repository: String = "app", entry: String = "", top: String = "")
        throws -> String
    {
        let path = Tools.temporaryDirectory("pier-ecr-config") + "/pier.yml"
        let text = """
            registries:
              - repository: \(registry.host)/\(repository)
                api: ecr
            \(entry)
            \(top)
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Copies a small image to the ECR stand-in and checks it landed, that no secret was printed, and returns
    /// pier's output.
    func copyAndCheck(
        _ registry: TestRegistry, env: [String: String], password: String, secrets: [String]
    ) throws -> Tools.Result {
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1)
        let result = try Harness.pier("copy", "-v", "oci:\(layout):1.0", "\(registry.host)/app:1.0", env: env)
        #expect(result.status == 0, "\(result.stderr)")
        let pushed = try Harness.skopeoRaw("\(registry.host)/app:1.0", extra: ["--creds", "AWS:\(password)"])
        #expect(Harness.sha256(pushed) == (try Harness.layoutDigest(layout, tag: "1.0")))
        for secret in secrets + [password] {
            #expect(!result.stderr.contains(secret), "a secret reached stderr")
            #expect(!result.stdout.contains(secret), "a secret reached stdout")
        }
        return result
    }

    /// Long-term keys in the environment: moto's token for the default account is the one presented.
    @Test func loginWithKeysFromTheEnvironment() async throws {
        try Harness.requireTools()
        let registry = try TestRegistry(auth: .htpasswd(user: "AWS", password: Self.defaultAccountPassword))
        defer { registry.stop() }
        try await ManagementAPITests().withMoto { moto in
            let env = Self.environment(
                moto: moto, config: try Self.config(registry),
                ["AWS_ACCESS_KEY_ID": "AKIDPIERTEST", "AWS_SECRET_ACCESS_KEY": "aws-secret-never-shown"])
            _ = try copyAndCheck(
                registry, env: env, password: Self.defaultAccountPassword, secrets: ["aws-secret-never-shown"])
        }
    }

    /// GitHub Actions without stored secrets: the ID token for audience sts.amazonaws.com, AssumeRoleWithWebIdentity
    /// for pier.yml's role, and ECR's token for that role's account. Then a web identity token file with
    /// AWS_ROLE_ARN, and a profile in a shared credentials file.
    @Test func loginWithOIDCWebIdentityAndProfile() async throws {
        try Harness.requireTools()
        let registry = try TestRegistry(auth: .htpasswd(user: "AWS", password: Self.roleAccountPassword))
        defer { registry.stop() }
        let idToken = try await FakeIDTokenEndpoint(requestToken: "actions-request-secret", idToken: "oidc-jwt-value")
        try await ManagementAPITests().withMoto { moto in
            let config = try Self.config(registry, top: "aws:\n  role_arn: \(Self.role)")
            let actions = Self.environment(
                moto: moto, config: config,
                [
                    "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:\(idToken.port)/token?api-version=2.0",
                    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "actions-request-secret",
                ])
            _ = try copyAndCheck(
                registry, env: actions, password: Self.roleAccountPassword,
                secrets: ["actions-request-secret", "oidc-jwt-value"])
            #expect(await idToken.audiences() == [AWSCredentialSources.actionsAudience])

            let tokenFile = Tools.temporaryDirectory("pier-web-identity") + "/token"
            try "file-jwt-value\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let file = Self.environment(
                moto: moto, config: try Self.config(registry),
                ["AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": Self.role])
            _ = try copyAndCheck(registry, env: file, password: Self.roleAccountPassword, secrets: ["file-jwt-value"])
        }
        await idToken.shutdown()
    }

    /// A profile of the shared credentials file is used when AWS_PROFILE names it; with no source at all the
    /// registry's refusal names where pier looks for AWS credentials.
    @Test func loginWithProfileAndHintWithoutCredentials() async throws {
        try Harness.requireTools()
        let registry = try TestRegistry(auth: .htpasswd(user: "AWS", password: Self.defaultAccountPassword))
        defer { registry.stop() }
        try await ManagementAPITests().withMoto { moto in
            let config = try Self.config(registry)
            let credentials = Tools.temporaryDirectory("pier-aws") + "/credentials"
            try """
            [default]
            aws_access_key_id = AKIDWRONGPROFILE
            [ci]
            aws_access_key_id = AKIDPROFILE
            aws_secret_access_key = profile-secret-never-shown
            """.write(toFile: credentials, atomically: true, encoding: .utf8)
            let env = Self.environment(
                moto: moto, config: config, ["AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_PROFILE": "ci"])
            _ = try copyAndCheck(
                registry, env: env, password: Self.defaultAccountPassword, secrets: ["profile-secret-never-shown"])

            let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1)
            let none = try Harness.pier(
                "copy", "oci:\(layout):1.0", "\(registry.host)/app:2.0",
                env: Self.environment(moto: moto, config: config))
            #expect(none.status == 77, "\(none.stderr)")
            #expect(none.stderr.contains("AWS_ACCESS_KEY_ID"))
        }
    }
}

extension ECRIntegrationTests {
    /// moto's view of an ECR repository: [scanOnPush, tag mutability], or [] when it does not exist.
    static func repositoryOnMoto(_ moto: String, _ name: String) throws -> [String] {
        let python = """
            import boto3, json, sys
            c = boto3.client("ecr", region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="AKIDPIERTEST", aws_secret_access_key="x")
            try:
                r = c.describe_repositories(repositoryNames=[sys.argv[2]])["repositories"][0]
                print(json.dumps([str(r["imageScanningConfiguration"]["scanOnPush"]), r["imageTagMutability"]]))
            except c.exceptions.RepositoryNotFoundException:
                print("[]")
            """
        return try JSONDecoder().decode(
            [String].self, from: Tools.run("python3", ["-c", python, moto, name]).stdoutBytes)
    }

    /// `create: true` with pier.yml's `ecr:` settings: publish creates the missing repository (scan on push,
    /// immutable tags) on moto, logs it and reports it; a second publish finds it and creates nothing. `copy
    /// --create-repository` creates its destination the same way.
    @Test func publishAndCopyCreateMissingRepositories() async throws {
        try Harness.requireTools()
        let registry = try TestRegistry(auth: .htpasswd(user: "AWS", password: Self.defaultAccountPassword))
        defer { registry.stop() }
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1)
        try await ManagementAPITests().withMoto { moto in
            let config = try Self.config(
                registry, repository: "team/app",
                entry: "    create: true\n    ecr: {scan_on_push: true, tag_mutability: IMMUTABLE}")
            let env = Self.environment(
                moto: moto, config: config,
                ["AWS_ACCESS_KEY_ID": "AKIDPIERTEST", "AWS_SECRET_ACCESS_KEY": "aws-secret-never-shown"])
            #expect(try Self.repositoryOnMoto(moto, "team/app") == [])
            let first = try Harness.pier(
                "publish", "--json", "--no-sha-tag", "--source", "oci:\(layout):1.0", "--version", "1.0.0", env: env)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stderr.contains("created ECR repository \(registry.host)/team/app"))
            let report = try ReportJSON.decoder().decode(PublishReport.self, from: first.stdoutBytes)
            #expect(report.createdRepositories == ["\(registry.host)/team/app"])
            #expect(try Self.repositoryOnMoto(moto, "team/app") == ["True", "IMMUTABLE"])
            #expect(
                !first.stderr.contains("aws-secret-never-shown") && !first.stdout.contains(Self.defaultAccountPassword))

            let second = try Harness.pier(
                "publish", "--json", "--no-sha-tag", "--source", "oci:\(layout):1.0", "--version", "1.0.1", env: env)
            #expect(second.status == 0, "\(second.stderr)")
            #expect(!second.stderr.contains("created ECR repository"))
            #expect(
                try ReportJSON.decoder().decode(PublishReport.self, from: second.stdoutBytes).createdRepositories == nil
            )

            let copied = try Harness.pier(
                "copy", "--create-repository", "oci:\(layout):1.0", "\(registry.host)/other:1.0",
                env: Self.environment(
                    moto: moto, config: try Self.config(registry),
                    ["AWS_ACCESS_KEY_ID": "AKIDPIERTEST", "AWS_SECRET_ACCESS_KEY": "aws-secret-never-shown"]))
            #expect(copied.status == 0, "\(copied.stderr)")
            #expect(copied.stderr.contains("created ECR repository \(registry.host)/other"))
            #expect(try Self.repositoryOnMoto(moto, "other") == ["False", "MUTABLE"])
        }
    }
}

extension ECRIntegrationTests {
    /// ECR answers a push to a missing repository NAME_UNKNOWN (as this stand-in does for every write): the error
    /// names pier.yml's `create: true` and `--create-repository`.
    @Test func missingRepositoryHintNamesTheOption() async throws {
        try Harness.requireTools()
        let router = Router()
        router.get("/v2/") { _, _ in Response(status: .ok) }
        router.post("/v2/**") { _, _ -> Response in
            let body =
                #"{"errors":[{"code":"NAME_UNKNOWN","message":"The repository with name 'app' does not exist in the registry with id '123456789012'"}]}"#
            return Response(
                status: .notFound, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        let server = try await TestServer(router: router)
        let host = "127.0.0.1:\(server.port)"
        let config = Tools.temporaryDirectory("pier-ecr-config") + "/pier.yml"
        try "registries:\n  - repository: \(host)/app\n    api: ecr\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1)
        let result = try Harness.pier(
            "copy", "oci:\(layout):1.0", "\(host)/app:1.0",
            env: Self.environment(moto: "http://127.0.0.1:9", config: config))
        #expect(result.status == 66, "\(result.stderr)")
        #expect(result.stderr.contains("NAME_UNKNOWN") && result.stderr.contains("create: true"), "\(result.stderr)")
        #expect(result.stderr.contains("--create-repository"))
        await server.shutdown()
    }
}

/// GitHub Actions' ID-token endpoint: answers `{"value": idToken}` to a GET bearing `requestToken`, recording the
/// audiences asked for.
final class FakeIDTokenEndpoint: Sendable {
    actor Recorder {
        var audiences: [String] = []
        func add(_ audience: String) { audiences.append(audience) }
    }
    let recorder = Recorder()
    let server: TestServer
    var port: Int { server.port }

    init(requestToken: String, idToken: String) async throws {
        let router = Router()
        let recorder = recorder
        router.get("/token") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(requestToken)" else {
                return Response(status: .unauthorized)
            }
            guard request.uri.queryParameters.get("api-version") == "2.0" else { return Response(status: .badRequest) }
            await recorder.add(request.uri.queryParameters.get("audience") ?? "")
            let body = try JSONSerialization.data(withJSONObject: ["value": idToken])
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(data: body)))
        }
        server = try await TestServer(router: router)
    }

    func audiences() async -> [String] { await recorder.audiences }
    func shutdown() async { await server.shutdown() }
}
