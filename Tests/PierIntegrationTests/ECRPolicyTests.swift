import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PierEngine
import PierHTTP
import PierHostedAPIs
import PierModel
import PierTestSupport
import Testing

/// `pier prune --ecr-policy FILE --install-policy`: the policy reaches ECR byte for byte and ECR's own preview is
/// set beside pier's plan. moto keeps lifecycle policies (Put/GetLifecyclePolicy) but has no lifecycle preview,
/// so the preview runs against an in-process fake of ECR's JSON API that follows the API reference
/// (DescribeImages, PutLifecyclePolicy, StartLifecyclePolicyPreview, GetLifecyclePolicyPreview).
struct ECRPolicyTests {
    static let policy =
        #"{"rules":[{"rulePriority":1,"description":"keep the newest image","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#

    /// A fake ECR API: `images` for DescribeImages, `expire` as the preview's answer; records installed policies.
    final class FakeECR: Sendable {
        actor Log {
            var installed: [String] = []
            var previewed: [String] = []
            func install(_ text: String) { installed.append(text) }
            func preview(_ text: String) { previewed.append(text) }
        }
        let log = Log()
        let server: TestServer
        var endpoint: String { "http://127.0.0.1:\(server.port)" }

        init(images: [(digest: String, tag: String, pushed: Date)], expire: [String]) async throws {
            let router = Router()
            let log = log
            router.post("/") { request, _ -> Response in
                var request = request
                let body = try await request.collectBody(upTo: 1 << 20)
                guard let authorization = request.headers[.authorization],
                    authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDPOLICY/"),
                    let target = request.headers[HTTPField.Name("X-Amz-Target")!],
                    let payload = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
                    payload["repositoryName"] as? String == "team/app"
                else { return Response(status: .badRequest) }
                var answer: [String: Any] = ["repositoryName": "team/app", "registryId": "123456789012"]
                switch target.split(separator: ".").last ?? "" {
                case "DescribeImages":
                    answer["imageDetails"] = images.map {
                        [
                            "imageDigest": $0.digest, "imageTags": [$0.tag],
                            "imagePushedAt": $0.pushed.timeIntervalSince1970,
                        ]
                    }
                case "PutLifecyclePolicy":
                    await log.install(payload["lifecyclePolicyText"] as? String ?? "")
                case "StartLifecyclePolicyPreview":
                    await log.preview(payload["lifecyclePolicyText"] as? String ?? "")
                    answer["status"] = "IN_PROGRESS"
                case "GetLifecyclePolicyPreview":
                    answer["status"] = "COMPLETE"
                    answer["previewResults"] = images.filter { expire.contains($0.digest) }.map {
                        [
                            "imageDigest": $0.digest, "imageTags": [$0.tag], "action": ["type": "EXPIRE"],
                            "appliedRulePriority": 1, "imagePushedAt": $0.pushed.timeIntervalSince1970,
                        ]
                    }
                default:
                    return Response(status: .badRequest)
                }
                return Response(
                    status: .ok,
                    body: .init(byteBuffer: ByteBuffer(data: try JSONSerialization.data(withJSONObject: answer))))
            }
            server = try await TestServer(router: router)
        }
    }

    struct Output: Decodable {
        var ecrPolicy: [ECRPolicyComparison]
    }

    @Test func installedPolicyAndECRsPreviewBesidePiersPlan() async throws {
        try Harness.requireTools()
        let registry = try TestRegistry()
        defer { registry.stop() }
        let (layout, digests) = try PublishIntegrationTests.images()
        for tag in ["a", "b", "c"] {
            #expect(try Harness.pier("copy", "oci:\(layout):\(tag)", "\(registry.host)/team/app:\(tag)").status == 0)
        }
        let now = Date()
        // a is oldest; keep the newest one image: pier expires a and b. The fake's ECR expires only a.
        let images = [("a", 300.0), ("b", 200.0), ("c", 0.0)].map {
            (digest: digests[$0.0]!, tag: $0.0, pushed: now.addingTimeInterval(-$0.1 * 86_400))
        }
        let ecr = try await FakeECR(images: images, expire: [digests["a"]!])
        let policyFile = Tools.temporaryDirectory("pier-ecr-policy") + "/policy.json"
        try Self.policy.write(toFile: policyFile, atomically: true, encoding: .utf8)
        let env = Harness.isolatedEnvironment([
            "AWS_ACCESS_KEY_ID": "AKIDPOLICY", "AWS_SECRET_ACCESS_KEY": "policy-secret-never-shown",
            "HOME": Tools.temporaryDirectory("pier-home"),
        ])
        let result = try Harness.pier(
            [
                "prune", "--json", "--ecr-policy", policyFile, "--install-policy", "--registry-api", "ecr", "--api-url",
                ecr.endpoint, "\(registry.host)/team/app",
            ], env: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(await ecr.log.installed == [Self.policy])
        #expect(await ecr.log.previewed == [Self.policy])
        let comparison = try #require(try JSONDecoder().decode(Output.self, from: result.stdoutBytes).ecrPolicy.first)
        #expect(comparison.installed && comparison.previewStatus == "COMPLETE")
        #expect(comparison.ecrExpires.map(\.description) == [digests["a"]!])
        #expect(Set(comparison.pierExpires.map(\.description)) == [digests["a"]!, digests["b"]!])
        #expect(comparison.onlyPier.map(\.description) == [digests["b"]!] && comparison.onlyECR.isEmpty)
        #expect(result.stderr.contains("ECR's preview and pier's plan differ"))
        #expect(!result.stderr.contains("policy-secret-never-shown"))
        // A dry run: nothing deleted on the registry.
        #expect(try Harness.skopeoRaw("\(registry.host)/team/app:a").count > 0)

        let text = try Harness.pier(
            [
                "prune", "--ecr-policy", policyFile, "--install-policy", "--registry-api", "ecr", "--api-url",
                ecr.endpoint, "\(registry.host)/team/app",
            ], env: env)
        #expect(text.stdout.contains("ECR's preview expires 1 images, pier's plan 2; they differ"), "\(text.stdout)")
        #expect(text.stdout.contains("only pier expires  \(digests["b"]!)"))
        await ecr.server.shutdown()
    }

    /// moto keeps what PutLifecyclePolicy installs, byte for byte, and says when a repository has none.
    @Test func lifecyclePolicyRoundTripsOnMoto() async throws {
        try await ManagementAPITests().withMoto { moto in
            let transport = try HTTPTransport(caFile: nil, concurrency: 1)
            let ecr = ECRAPI(
                transport: transport, region: "eu-west-1", accessKey: "AKIDTEST", secretKey: "s", endpoint: moto)
            #expect(try await ecr.createRepository("team/app", settings: ECRRepositorySettings()))
            #expect(try await ecr.createRepository("team/app", settings: ECRRepositorySettings()) == false)
            #expect(try await ecr.lifecyclePolicy("team/app") == nil)
            try await ecr.putLifecyclePolicy("team/app", policy: Self.policy)
            #expect(try await ecr.lifecyclePolicy("team/app") == Self.policy)
            await transport.shutdown()
        }
    }
}
