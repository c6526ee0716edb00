import Foundation
import PierEngine
import PierModel
import PierTestSupport
import Testing

/// `pier status --html`: the page for two real registries, read by a real browser (Chromium, headless): its DOM
/// (drift, extra and retention cells counted) and a screenshot kept in .build/test-artifacts.
@Suite(.serialized) struct StatusPageTests {
    init() throws {
        try Harness.requireTools()
        guard Tools.isInstalled("chromium") else {
            throw Tools.ToolError(description: "chromium is not installed: run scripts/install-test-deps.sh")
        }
    }

    static func chromium(_ arguments: [String]) throws -> Tools.Result {
        // --no-sandbox: CI runs tests as root, where Chromium's sandbox refuses to start.
        try Tools.run(
            "chromium",
            ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"] + arguments)
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func pageShowsDriftExtraAndRetentionInABrowser() throws {
        let primary = try TestRegistry()
        let backup = try TestRegistry()
        let work = Tools.temporaryDirectory("pier-status-page")
        let layout = work + "/images"
        for name in ["a", "b"] {
            try ImageFixtures.umociImage(
                at: layout, tag: name, layers: 1, layerSize: 1_000, created: "2026-0\(name == "a" ? 1 : 2)-01T00:00:00Z"
            )
        }
        func copy(_ tag: String, _ to: String) throws {
            let copied = try Harness.pier("copy", "oci:\(layout):\(tag)", to)
            #expect(copied.status == 0, "\(copied.stderr)")
        }
        let (p, b) = ("\(primary.host)/org/app", "\(backup.host)/mirror/app")
        // 1.0.0 in sync; 1.1.0 diverged; latest missing on the backup; old only on the backup.
        try copy("a", "\(p):1.0.0")
        try copy("a", "\(b):1.0.0")
        try copy("b", "\(p):1.1.0")
        try copy("a", "\(b):1.1.0")
        try copy("b", "\(p):latest")
        try copy("a", "\(b):old")
        let config = work + "/pier.yml"
        try "prune:\n  keep_last: 1\n".write(toFile: config, atomically: true, encoding: .utf8)

        let page = work + "/status.html"
        let status = try Harness.pier("status", "--config", config, "--html", page, "--json", p, b)
        #expect(status.status == 0, "\(status.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"))

        // The DOM as Chromium parsed it.
        let dom = try Self.chromium(["--dump-dom", "file://\(page)"]).stdout
        let report = try JSONDecoder().decode(RegistryStatus.self, from: status.stdoutBytes)
        let drifted = report.rows.filter(\.state.isDrift).count
        #expect(drifted == 2)
        #expect(Self.count("class=\"cell drift\"", in: dom) == drifted)
        #expect(Self.count("class=\"cell extra\"", in: dom) == 1)
        #expect(Self.count("class=\"cell ok\"", in: dom) == 1)
        #expect(Self.count("class=\"digest absent\"", in: dom) == 2)
        // keep_last 1 keeps the newest image (b: 1.1.0 and latest) and removes a (1.0.0).
        #expect(Self.count("class=\"plan delete\"", in: dom) == 1)
        #expect(Self.count("class=\"plan keep\"", in: dom) == 2)
        #expect(dom.contains("<span id=\"drifted\">2 drifted</span>"))
        #expect(Self.count("class=\"age\"", in: dom) == 6)

        // A screenshot, kept with the test output.
        let artifacts = FileManager.default.currentDirectoryPath + "/.build/test-artifacts"
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        let shot = artifacts + "/status-page.png"
        try? FileManager.default.removeItem(atPath: shot)
        _ = try Self.chromium(["--screenshot=\(shot)", "--window-size=1100,520", "file://\(page)"])
        let png = try Data(contentsOf: URL(fileURLWithPath: shot))
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
        #expect(png.count > 10_000)
    }

    /// The page's retention preview plans an untag (`edge` shares the kept image of `1.0.0`) and still writes
    /// nothing: no DELETE (not even the probe for distribution's untag route), no PUT, no POST.
    @Test func thePageIsReadOnly() async throws {
        let registry = try await FakeRegistry()
        defer { registry.stop() }
        let work = Tools.temporaryDirectory("pier-status-readonly")
        try ImageFixtures.umociImage(at: work + "/images", tag: "a", layers: 1, layerSize: 500)
        for tag in ["1.0.0", "edge"] {
            let copied = try Harness.pier("copy", "oci:\(work)/images:a", "\(registry.host)/org/app:\(tag)")
            #expect(copied.status == 0, "\(copied.stderr)")
        }
        let before = await registry.requestLog().count
        try "prune:\n  keep: ['1\\..*']\n".write(toFile: work + "/pier.yml", atomically: true, encoding: .utf8)
        let status = try Harness.pier(
            "status", "--config", work + "/pier.yml", "--html", work + "/status.html", "\(registry.host)/org/app")
        #expect(status.status == 0, "\(status.stderr)")
        let html = try String(contentsOfFile: work + "/status.html", encoding: .utf8)
        #expect(Self.count("class=\"plan untag\"", in: html) == 1)
        let writes = await registry.requestLog().dropFirst(before).filter {
            $0.hasPrefix("DELETE") || $0.hasPrefix("PUT") || $0.hasPrefix("POST") || $0.hasPrefix("PATCH")
        }
        #expect(writes.isEmpty, "\(writes)")
    }

    /// A `tags:` filter shows one tag: the preview counts that one and names the rest apart; an undated image says so.
    @Test func previewCountsTheTagsShownAndUndatedImagesSaySo() throws {
        let digest = Digest.sha256(of: Array("x".utf8))
        let status = RegistryStatus(
            repositories: ["p", "b"], rows: [.init(tag: "2.0", digests: ["p": digest, "b": digest], state: .ok)])
        let decisions = try JSONDecoder().decode(
            [RetentionDecision].self,
            from: Data(
                ["2.0", "1.0", "0.9"].map { tag in
                    "{\"tag\":\"\(tag)\",\"digest\":\"\(digest)\",\"dateSource\":\"undated\","
                        + "\"action\":\"\(tag == "2.0" ? "keep" : "delete")\",\"rule\":\"r\"}"
                }
                .joined(separator: ",").utf8.reduce(into: Array("[".utf8)) { $0.append($1) } + Array("]".utf8)))
        let section = StatusPage.Section(
            status: status, dates: ["p": [:], "b": ["2.0": Date(timeIntervalSinceNow: -7_200)]], retention: decisions)
        let html = StatusPage.render([section], now: Date())
        #expect(html.contains("1 kept, 0 to remove of the tags shown; prune also plans 2 tags not shown (2 to remove)"))
        #expect(html.contains("<span class=\"age\">undated</span>") && html.contains("<span class=\"age\">2h</span>"))
    }

    @Test func everyRemoteStringIsEscaped() throws {
        let hostile = "<img src=x onerror=alert(1)>&\"'"
        let digest = Digest.sha256(of: Array("x".utf8))
        let status = RegistryStatus(
            repositories: [hostile, "b"],
            rows: [.init(tag: hostile, digests: [hostile: .some(digest), "b": Digest?.none], state: .missing)])
        let html = StatusPage.render(
            [StatusPage.Section(status: status), StatusPage.Section(status: status, failure: hostile)], now: Date())
        #expect(!html.contains("<img"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;"))
        #expect(StatusPage.escape("a\u{1b}[2Jb") == "a&#xFFFD;[2Jb")
    }
}
