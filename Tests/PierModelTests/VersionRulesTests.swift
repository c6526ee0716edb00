import Foundation
import PierEngine
import PierModel
import Testing

/// What counts as a version and which tags it gets (issue 16, behaviours 1 and 9), and local paths named without a
/// transport prefix (behaviour 6).
struct VersionRulesTests {
    let sha = "0123456789abcdef0123456789abcdef01234567"

    func names(_ context: TagContext, _ rules: TagRules = TagRules(), existing: [String] = []) throws -> [String] {
        try TagPlanner.plan(context: context, rules: rules, existingTags: existing).map(\.name)
    }

    // semver.org 2.0.0: what parses and what does not.
    @Test(arguments: [
        "1.2.3", "v1.2.3", "V1.2.3", "0.0.0", "1.0.0-rc.1", "1.0.0-0A.is.legal", "1.0.0-x-y-z.--", "1.0.0+build.01",
        "1.0.0-alpha+001", "10.20.30",
    ])
    func semanticVersions(text: String) {
        #expect(SemanticVersion(text) != nil)
    }

    @Test(arguments: [
        "1.2.3\n", " 1.2.3", "1.2.3 ", "latest", "1.2.x", "01.2.3", "1.02.3", "1.2.03", "1.2", "1.2.3.4", "1.0.0-01",
        "1.0.0-", "1.0.0-rc..1", "1.0.0+", "1.0.0+a..b", "1.0.0+a b", "1.0.0-ä", "vv1.2.3", "99999999999999999999.0.0",
        "",
    ])
    func notSemanticVersions(text: String) {
        #expect(SemanticVersion(text) == nil)
    }

    // Behaviour 1: a --version that is not semver is a usage error naming --tag, never a mangled tag.
    @Test(arguments: ["1.2.3\n", "latest", "1.2.x", "01.2.3"])
    func givenVersionMustBeSemver(text: String) {
        let context = TagContext.detect(
            overrides: .init(version: text, gitSHA: sha), environment: [:], directory: "/nonexistent")
        #expect {
            try TagPlanner.plan(context: context, rules: TagRules())
        } throws: { error in
            guard let error = error as? PierError else { return false }
            return error.kind == .usage && error.message.contains("not a semantic version")
                && (error.hint ?? "").contains("--tag")
        }
    }

    // With semver rules off the version is a tag as it is (made valid), as before.
    @Test func semverOffUsesTheVersionAsATag() throws {
        var rules = TagRules()
        rules.semver = false
        rules.sha = false
        #expect(try names(TagContext(version: "nightly", event: .tag), rules) == ["nightly"])
    }

    // A git tag detected from CI that is not semver: metadata-action's type=semver skips it, the rest stays.
    @Test func detectedNonSemverTagIsSkipped() throws {
        let github = TagContext.detect(environment: [
            "GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/tags/release-2026", "GITHUB_REF_NAME": "release-2026",
            "GITHUB_REF_TYPE": "tag",
            "GITHUB_SHA": sha, "GITHUB_RUN_NUMBER": "12", "GITHUB_EVENT_NAME": "push",
        ])
        #expect(github.versionIsDetected && github.version == "release-2026")
        #expect(try names(github) == ["sha-0123456", "build-12"])
        let gitlab = TagContext.detect(environment: [
            "GITLAB_CI": "true", "CI_COMMIT_TAG": "latest", "CI_COMMIT_SHA": sha,
        ])
        #expect(try names(gitlab) == ["sha-0123456"])
        // A detected semver tag is planned as before.
        let semver = TagContext.detect(environment: [
            "GITLAB_CI": "true", "CI_COMMIT_TAG": "v2.1.0", "CI_COMMIT_SHA": sha,
        ])
        #expect(try names(semver) == ["2.1.0", "2.1", "2", "latest", "sha-0123456"])
        // --version wins over the detected tag and is held to semver.
        let flagged = TagContext.detect(
            overrides: .init(version: "1.2.x"), environment: ["GITLAB_CI": "true", "CI_COMMIT_TAG": "v2.1.0"])
        #expect(!flagged.versionIsDetected)
        #expect(throws: PierError.self) { try TagPlanner.plan(context: flagged, rules: TagRules()) }
        // The flag is not part of the JSON context.
        let json = String(decoding: try ReportJSON.encoder().encode(github), as: UTF8.self)
        #expect(!json.contains("versionIsDetected"))
    }

    // Behaviour 9: 0.x gets MAJOR.MINOR as metadata-action's {{major}}.{{minor}} does, and no major 0.
    @Test func majorZeroGetsMinorTag() throws {
        #expect(try names(TagContext(version: "v0.1.2", event: .tag)) == ["0.1.2", "0.1", "latest"])
        #expect(
            try names(TagContext(version: "0.1.1", event: .tag), existing: ["0.1.2", "0.1", "latest"]) == ["0.1.1"])
        #expect(
            try names(TagContext(version: "0.2.0", event: .tag), existing: ["0.1.2", "0.1"]) == [
                "0.2.0", "0.2", "latest",
            ])
        var zero = TagRules()
        zero.majorZero = true
        #expect(try names(TagContext(version: "0.1.2", event: .tag), zero) == ["0.1.2", "0.1", "0", "latest"])
    }

    // Behaviour 9: branch names keep their case; each run of other characters is one '-' (metadata-action's sanitizeTag).
    @Test func branchNamesKeepTheirCase() throws {
        #expect(
            try names(
                TagContext(branch: "feature/Login_X"),
                {
                    var r = TagRules()
                    r.buildNumber = false
                    return r
                }()) == ["feature-Login_X"])
        #expect(TagPlanner.sanitize("Fix//Crash on Start") == "Fix-Crash-on-Start")
        #expect(TagPlanner.sanitize("a-/b") == "a--b")
        #expect(TagPlanner.sanitize("/.-x") == "x")
        #expect(TagPlanner.sanitize(String(repeating: "B", count: 200)).count == 128)
    }

    // Behaviour 6: a plain location that is a local layout or file is refused, naming the prefix to write.
    @Test func localPathsNeedTheirPrefix() throws {
        let directory = NSTemporaryDirectory() + "pier-location-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/layout", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(
            atPath: directory + "/layout/oci-layout", contents: Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        _ = FileManager.default.createFile(atPath: directory + "/image.tar", contents: Data())
        try FileManager.default.createDirectory(atPath: directory + "/plain", withIntermediateDirectories: true)
        func hint(_ text: String) -> String? {
            do { _ = try ImageLocation(parsing: text) } catch {
                return error.kind == .usage ? error.hint : "kind \(error.kind)"
            }
            return nil
        }
        #expect(hint(directory + "/layout")?.contains("oci:\(directory)/layout for the local layout") == true)
        #expect(hint(directory + "/layout:1.0")?.contains("oci:\(directory)/layout:1.0") == true)
        #expect(hint(directory + "/image.tar")?.contains("oci-archive:\(directory)/image.tar") == true)
        // A directory that is no layout, and docker://, stay registry references (here invalid ones: an absolute path).
        #expect(hint(directory + "/plain")?.contains("oci:") != true)
        #expect(hint("docker://" + directory + "/layout")?.contains("oci:") != true)
        #expect(
            try ImageLocation(parsing: "ghcr.io/org/app:1.0")
                == .registry(try ImageReference(parsing: "ghcr.io/org/app:1.0")))
    }
}
