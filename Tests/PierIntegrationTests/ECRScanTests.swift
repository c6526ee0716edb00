import Foundation
import PierEngine
import PierHostedAPIs
import PierModel
import PierTestSupport
import Testing

/// ECR's scan findings for the published digest in `publish --json` and `pier status`, and the
/// `--fail-on-severity` release gate, against moto (DescribeImageScanFindings, with results set through moto's
/// API). The image lives on docker-registry; moto holds the same manifest and digest, as ECR would.
struct ECRScanTests {
    @Test func publishReportsScanAndGatesOnSeverity() async throws {
        try Harness.requireTools()
        let registry = try TestRegistry(
            auth: .htpasswd(user: "AWS", password: ECRIntegrationTests.defaultAccountPassword))
        defer { registry.stop() }
        let layout = try ImageFixtures.umociImage(at: Tools.temporaryDirectory() + "/l", tag: "1.0", layers: 1)
        let digest = try Harness.layoutDigest(layout, tag: "1.0")
        let manifest = "\(layout)/blobs/sha256/\(digest.dropFirst("sha256:".count))"
        try await ManagementAPITests().withMoto { moto in
            let python = """
                import boto3, json, sys, urllib.request
                moto, manifest, digest = sys.argv[1:4]
                c = boto3.client("ecr", region_name="eu-west-1", endpoint_url=moto, aws_access_key_id="AKIDSCAN", aws_secret_access_key="x")
                for name in ["team/app", "team/clean"]:
                    c.create_repository(repositoryName=name, imageScanningConfiguration={"scanOnPush": True})
                    c.put_image(repositoryName=name, imageManifest=open(manifest).read(), imageDigest=digest, imageTag="seed", imageManifestMediaType="application/vnd.oci.image.manifest.v1+json")
                    c.start_image_scan(repositoryName=name, imageId={"imageDigest": digest})
                result = {"repositoryName": "team/app", "imageId": {"imageDigest": digest}, "imageScanStatus": {"status": "COMPLETE"}, "imageScanFindings": {"findingSeverityCounts": {"CRITICAL": 2, "HIGH": 1}}}
                body = json.dumps({"results": [result], "region": "eu-west-1"}).encode()
                urllib.request.urlopen(urllib.request.Request(moto + "/moto-api/static/ecr/scan-finding-results", data=body, method="POST", headers={"Content-Type": "application/json"}))
                """
            try Tools.run("python3", ["-c", python, moto, manifest, digest])
            let secrets = ["AWS_ACCESS_KEY_ID": "AKIDSCAN", "AWS_SECRET_ACCESS_KEY": "scan-secret-never-shown"]
            let config = try ECRIntegrationTests.config(registry, repository: "team/app")
            let env = ECRIntegrationTests.environment(moto: moto, config: config, secrets)
            let gated = try Harness.pier(
                "publish", "--json", "--no-sha-tag", "--source", "oci:\(layout):1.0", "--version", "1.0.0",
                "--fail-on-severity", "critical", env: env)
            #expect(gated.status == 70, "\(gated.stderr)")
            #expect(gated.stderr.contains("findings at or above CRITICAL"))
            let report = try ReportJSON.decoder().decode(PublishReport.self, from: gated.stdoutBytes)
            #expect(report.status == .ok)
            #expect(
                report.scans?["\(registry.host)/team/app"]
                    == ECRScanFindings(status: "COMPLETE", countsBySeverity: ["CRITICAL": 2, "HIGH": 1]))

            // moto's default findings: one HIGH. Below CRITICAL the gate passes; at HIGH it fails.
            let clean = ECRIntegrationTests.environment(
                moto: moto, config: try ECRIntegrationTests.config(registry, repository: "team/clean"), secrets)
            let passed = try Harness.pier(
                "publish", "--no-sha-tag", "--source", "oci:\(layout):1.0", "--version", "1.0.0",
                "--fail-on-severity", "CRITICAL", env: clean)
            #expect(passed.status == 0, "\(passed.stderr)")
            #expect(passed.stdout.contains("scan \(registry.host)/team/clean@"), "\(passed.stdout)")
            let high = try Harness.pier(
                "publish", "--no-sha-tag", "--source", "oci:\(layout):1.0", "--version", "1.0.0",
                "--fail-on-severity", "HIGH", env: clean)
            #expect(high.status == 70)
            let bad = try Harness.pier(
                "publish", "--source", "oci:\(layout):1.0", "--fail-on-severity", "SEVERE", env: clean)
            #expect(bad.status == 64)

            let status = try Harness.pier("status", "--json", "\(registry.host)/team/app", env: env)
            #expect(status.status == 0, "\(status.stderr)")
            let shown = try JSONDecoder().decode(RegistryStatus.self, from: status.stdoutBytes)
            #expect(shown.scans?["\(registry.host)/team/app"]?[digest]?.countsBySeverity == ["CRITICAL": 2, "HIGH": 1])
            for output in [gated, passed, high, status] {
                #expect(!output.stderr.contains("scan-secret-never-shown") && !output.stdout.contains("scan-secret"))
                #expect(!output.stderr.contains(ECRIntegrationTests.defaultAccountPassword))
            }
        }
    }
}
