import Foundation
import PierEngine
import PierModel
import Testing

struct RetentionTests {
    static func digest(_ n: Int) -> Digest { try! Digest("sha256:" + String(format: "%064x", n)) }
    static let day: TimeInterval = 86400
    let now = Date(timeIntervalSince1970: 2_000_000_000)

    func info(_ tag: String, _ image: Int, ageDays: Double, source: DateSource = .config) -> TagInfo {
        TagInfo(
            tag: tag, digest: Self.digest(image),
            date: ImageDate(date: now.addingTimeInterval(-ageDays * Self.day), source: source), order: image)
    }

    /// A tag whose image has only the deterministic-build date 1970-01-01, as `pier build` and SOURCE_DATE_EPOCH=0 write.
    func reproducible(_ tag: String, _ image: Int) -> TagInfo {
        TagInfo(
            tag: tag, digest: Self.digest(image),
            date: ImageDate.best([(.config, Date(timeIntervalSince1970: 0))], now: now), order: image)
    }

    func decide(_ policy: RetentionPolicy, _ tags: [TagInfo], protected: Set<Digest> = []) throws -> [String:
        RetentionDecision.Action]
    {
        let decisions = try policy.decide(tags, now: now) { _ in protected }
        return Dictionary(uniqueKeysWithValues: decisions.map { ($0.tag, $0.action) })
    }

    @Test func keepRulesCombineWithOr() throws {
        let tags = [
            info("a", 1, ageDays: 100), info("b", 2, ageDays: 50), info("c", 3, ageDays: 10),
            info("keepme", 4, ageDays: 300), info("latest", 5, ageDays: 400),
        ]
        let policy = RetentionPolicy.rules(.init(keepLast: 1, keepNewerThan: 60 * Self.day, keep: ["keep.*"]))
        let result = try decide(policy, tags)
        #expect(result == ["a": .delete, "b": .keep, "c": .keep, "keepme": .keep, "latest": .keep])
    }

    @Test func sharedAndProtectedDigestsAreOnlyUntagged() throws {
        // "old" shares image 1 with latest; "child" is an image a kept index needs.
        let tags = [
            info("old", 1, ageDays: 100), info("latest", 1, ageDays: 100), info("child", 2, ageDays: 90),
            info("new", 3, ageDays: 1),
        ]
        let result = try decide(.rules(.init(keepLast: 1)), tags, protected: [Self.digest(2)])
        #expect(result == ["old": .untag, "latest": .keep, "child": .untag, "new": .keep])
    }

    @Test func onlyLimitsTheSelection() throws {
        let tags = [info("sha-1", 1, ageDays: 10), info("sha-2", 2, ageDays: 5), info("1.0.0", 3, ageDays: 100)]
        #expect(
            try decide(.rules(.init(keepLast: 1, only: "sha-.*")), tags) == [
                "sha-1": .delete, "sha-2": .keep, "1.0.0": .keep,
            ])
    }

    @Test func implausibleDatesMakeAnImageUndated() throws {
        let epoch = ImageDate.best([(.annotation, nil), (.config, Date(timeIntervalSince1970: 0))], now: now)
        #expect(epoch.date == nil && epoch.source == .undated)
        #expect(epoch.looked.count == 2 && epoch.looked[1].contains("1970-01-01T00:00:00Z is before 2000-01-01"))
        let future = ImageDate.best([(.ecrPushed, now.addingTimeInterval(Self.day))], now: now)
        #expect(future.source == .undated && future.looked[0].contains("in the future"))
        // A push time wins over the builder's date; a bad push time falls through to the next candidate.
        let pushed = ImageDate.best(
            [(.ecrPushed, now.addingTimeInterval(-60)), (.config, Date(timeIntervalSince1970: 0))], now: now)
        #expect(pushed.source == .ecrPushed)
        let fallback = ImageDate.best(
            [(.gitHubPushed, nil), (.annotation, now.addingTimeInterval(-Self.day))], now: now)
        #expect(fallback.source == .annotation)
        let nine = try #require(ImageDate.parse("2026-01-02T03:04:05.123456789Z"))
        #expect(abs(nine.timeIntervalSince(try #require(ImageDate.parse("2026-01-02T03:04:05Z")))) < 1)
    }

    @Test func noAgeRuleDeletesAnUndatedImage() throws {
        // Pushed minutes ago, dated 1970 by a reproducible build: no rule may read that as 20,000 days old.
        let tags = [reproducible("sha-new", 1), info("sha-old", 2, ageDays: 400), info("sha-mid", 3, ageDays: 30)]
        for rules in [
            RetentionPolicy.Rules(keepNewerThan: 90 * Self.day), .init(keepLast: 1),
            .init(expireOlderThan: 90 * Self.day),
            .init(keep: ["nothing"]),
        ] {
            let decisions = try RetentionPolicy.rules(rules).decide(tags, now: now) { _ in [] }
            let undated = try #require(decisions.first { $0.tag == "sha-new" })
            #expect(undated.action == .keep && undated.rule.contains("undated") && undated.dateSource == .undated)
            #expect(undated.dateLooked?.first?.contains("before 2000") ?? false)
        }
        let ecr = try ecr(
            """
            {"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":90},"action":{"type":"expire"}}]}
            """)
        #expect(try decide(.ecr(ecr), tags) == ["sha-new": .keep, "sha-old": .delete, "sha-mid": .keep])
    }

    @Test func keepLastCountsImagesNotTags() throws {
        // Semver fan-out: each release has four tags on one image. --keep-last 3 keeps three releases.
        var tags: [TagInfo] = []
        for (release, age) in [(1, 50.0), (2, 40), (3, 30), (4, 20), (5, 10)] {
            for tag in ["\(release).2.3", "\(release).2", "\(release)", "sha-\(release)"] {
                tags.append(info(tag, release, ageDays: age))
            }
        }
        let result = try decide(.rules(.init(keepLast: 3)), tags)
        for release in 3...5 {
            for tag in ["\(release).2.3", "\(release).2", "\(release)", "sha-\(release)"] {
                #expect(result[tag] == .keep, "\(tag)")
            }
        }
        for release in 1...2 {
            for tag in ["\(release).2.3", "\(release).2", "\(release)", "sha-\(release)"] {
                #expect(result[tag] == .delete, "\(tag)")
            }
        }
    }

    @Test func expireOlderThanOverridesCountsButNotLatestOrKeep() throws {
        let tags = [
            info("sha-1", 1, ageDays: 200), info("sha-2", 2, ageDays: 120), info("sha-3", 3, ageDays: 10),
            info("latest", 1, ageDays: 200), info("v1.0.0", 2, ageDays: 120), reproducible("sha-4", 4),
        ]
        let result = try decide(.rules(.init(keepLast: 10, keep: ["v.*"], expireOlderThan: 90 * Self.day)), tags)
        // sha-1 and sha-2 are among the newest 10 but past 90 days; their images stay for latest and v1.0.0.
        #expect(
            result == [
                "sha-1": .untag, "sha-2": .untag, "sha-3": .keep, "latest": .keep, "v1.0.0": .keep, "sha-4": .keep,
            ])
        // An expire rule alone keeps the rest.
        let alone = try decide(
            .rules(.init(expireOlderThan: 100 * Self.day)), [info("a", 1, ageDays: 200), info("b", 2, ageDays: 50)])
        #expect(alone == ["a": .delete, "b": .keep])
    }

    /// README: "keep the 10 newest sha- tags, always keep latest, delete images older than 3 months", both readings.
    @Test func bothReadingsOfTheReadmeSentence() throws {
        // 12 sha- images, one per 10 days (ages 5, 15, … 115), plus latest on the oldest and a release tag.
        var tags = (0..<12).map { info("sha-\($0)", $0 + 10, ageDays: 5 + Double($0) * 10) }
        tags.append(info("latest", 21, ageDays: 115))
        tags.append(info("1.0.0", 30, ageDays: 300))
        // Reading A: the 10 newest, but never anything past 90 days, even among those 10.
        let a = try decide(.rules(.init(keepLast: 10, only: "sha-.*", expireOlderThan: 90 * Self.day)), tags)
        #expect((0...8).allSatisfy { a["sha-\($0)"] == .keep })  // ages 5…85
        #expect(a["sha-9"] == .delete && a["sha-10"] == .delete)  // 95 and 105: among the newest 10, too old
        #expect(a["sha-11"] == .untag && a["latest"] == .keep && a["1.0.0"] == .keep)  // sha-11 shares latest's image
        // Reading B: the 10 newest whatever their age, and beyond them only what is older than 90 days goes.
        let b = try decide(.rules(.init(keepLast: 10, keepNewerThan: 90 * Self.day, only: "sha-.*")), tags)
        #expect((0...9).allSatisfy { b["sha-\($0)"] == .keep })
        #expect(b["sha-10"] == .delete && b["sha-11"] == .untag && b["latest"] == .keep && b["1.0.0"] == .keep)
    }

    @Test func patternsThatMatchNothingAreNamed() {
        let rules = RetentionPolicy.Rules(keepLast: 2, keep: ["v[0-9]+"], only: "^sha-")
        let warnings = rules.unmatchedPatterns(in: ["sha-abc", "sha-def", "1.0.0"])
        #expect(warnings.count == 2)
        #expect(
            warnings[0].contains("--only \"^sha-\"") && warnings[0].contains("whole tag")
                && warnings[0].contains("\"sha-.*\""))
        #expect(warnings[1].contains("--keep \"v[0-9]+\""))
        let config = RetentionPolicy.Rules(keepLast: 2, only: "sha-", origin: .config("pier.yml"))
        #expect(config.unmatchedPatterns(in: ["sha-abc"]).first?.contains("prune.only in pier.yml") ?? false)
        #expect(RetentionPolicy.Rules(keepLast: 2, only: "sha-.*").unmatchedPatterns(in: ["sha-abc"]).isEmpty)
        // A pattern already written for the whole tag gets no advice to write it as it is.
        #expect(
            RetentionPolicy.Rules(keepLast: 100, keep: ["zzz.*"]).unmatchedPatterns(in: ["1.0.0"])
                == ["--keep \"zzz.*\" matches no tag"])
    }

    @Test func planIsNewestFirst() throws {
        let tags = [
            info("b", 1, ageDays: 30), info("a", 2, ageDays: 10), reproducible("z", 3), info("c", 4, ageDays: 20),
        ]
        let decisions = try RetentionPolicy.rules(.init(keepLast: 5)).decide(tags, now: now) { _ in [] }
        #expect(decisions.map(\.tag) == ["a", "c", "b", "z"])
    }

    @Test func absurdNumbersAreUsageErrors() throws {
        for text in ["infd", "1e300w", "nand", "-1d", "1e10d", "d", "5"] {
            #expect { try RetentionPolicy.parseDuration(text) } throws: { ($0 as? PierError)?.kind == .usage }
        }
        #expect(try RetentionPolicy.parseDuration("36500d") == 36500 * Self.day)
        for rules in [
            RetentionPolicy.Rules(keepLast: -1), .init(keepLast: Int.max), .init(keepNewerThan: .infinity),
            .init(expireOlderThan: -1),
        ] {
            #expect { try RetentionPolicy.rules(rules).decide([], protected: { _ in [] }) } throws: {
                ($0 as? PierError)?.kind == .usage
            }
        }
        #expect(throws: PierError.self) {
            try ecr(
                #"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":-1},"action":{"type":"expire"}}]}"#
            )
        }
    }

    @Test func badRulesAreUsageErrors() throws {
        #expect { try RetentionPolicy.rules(.init()).decide([], protected: { _ in [] }) } throws: {
            ($0 as? PierError)?.message.contains("no retention rule") ?? false
        }
        #expect { try RetentionPolicy.rules(.init(keep: ["("])).decide([], protected: { _ in [] }) } throws: {
            ($0 as? PierError)?.kind == .usage
        }
        #expect(try RetentionPolicy.parseDuration("90d") == 90 * Self.day)
        #expect(try RetentionPolicy.parseDuration("12h") == 12 * 3600)
        #expect(throws: PierError.self) { try RetentionPolicy.parseDuration("soon") }
    }

    func ecr(_ json: String) throws -> ECRLifecyclePolicy {
        let path = NSTemporaryDirectory() + "pier-ecr-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return try ECRLifecyclePolicy.load(path)
    }

    @Test func ecrPriorityOrderAndClaiming() throws {
        // Rule 1 keeps 2 prod images; rule 2 (any) keeps 3 images overall but cannot expire prod images, which it
        // still counts (ECR evaluation rules 2 and 3).
        let policy = try ecr(
            """
            {"rules":[
              {"rulePriority":2,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}},
              {"rulePriority":1,"description":"prod","selection":{"tagStatus":"tagged","tagPatternList":["prod-*"],"countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}
            ]}
            """)
        let tags = [
            info("prod-1", 1, ageDays: 50), info("prod-2", 2, ageDays: 40), info("prod-3", 3, ageDays: 30),
            info("dev-1", 4, ageDays: 20), info("dev-2", 5, ageDays: 10), info("dev-3", 6, ageDays: 5),
        ]
        let result = try decide(.ecr(policy), tags)
        // prod: newest two kept, prod-1 expired by rule 1. any: newest 3 overall are dev-3, dev-2, dev-1; the rest
        // (prod-3, prod-2, prod-1) are beyond the count but claimed by rule 1, so rule 2 expires none of them.
        #expect(
            result == [
                "prod-1": .delete, "prod-2": .keep, "prod-3": .keep, "dev-1": .keep, "dev-2": .keep, "dev-3": .keep,
            ])
    }

    @Test func ecrSinceImagePushedAndPrefixes() throws {
        let policy = try ecr(
            """
            {"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["feature"],"countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}
            """)
        let tags = [
            info("feature-a", 1, ageDays: 30), info("feature-b", 2, ageDays: 3), info("main", 3, ageDays: 60),
            info("latest", 1, ageDays: 30),
        ]
        // feature-a's image also carries latest: the whole image is expired by ECR, but pier always keeps latest,
        // so feature-a is only untagged.
        #expect(
            try decide(.ecr(policy), tags) == ["feature-a": .untag, "feature-b": .keep, "main": .keep, "latest": .keep])
    }

    @Test func ecrPolicyValidation() {
        #expect(throws: PierError.self) {
            try ecr(
                #"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#
            )
        }
        #expect(throws: PierError.self) {
            try ecr(
                #"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#
            )
        }
        #expect(throws: PierError.self) { try ecr("not json") }
    }

    @Test func semverRanges() throws {
        func check(_ range: String, _ yes: [String], _ no: [String]) throws {
            let r = try SemverRange(range)
            for v in yes {
                let ok = r.contains(SemanticVersion(v)!)
                #expect(ok, "\(range) should contain \(v)")
            }
            for v in no {
                let ok = r.contains(SemanticVersion(v)!)
                #expect(!ok, "\(range) should not contain \(v)")
            }
        }
        try check(">=1.2.0 <2.0.0", ["1.2.0", "1.9.9"], ["1.1.9", "2.0.0", "1.5.0-rc.1"])
        try check("^1.2", ["1.2.0", "1.9.0"], ["2.0.0", "1.1.0"])
        try check("^0.3.1", ["0.3.1", "0.3.9"], ["0.4.0"])
        try check("~1.2.3", ["1.2.3", "1.2.9"], ["1.3.0"])
        try check("1.x", ["1.0.0", "1.99.0"], ["2.0.0", "0.9.0"])
        try check("1.2.3", ["1.2.3"], ["1.2.4"])
        #expect(throws: PierError.self) { try SemverRange("banana") }
    }
}
