import Foundation
import PierEngine
import PierModel
import Testing

struct RetentionTests {
    static func digest(_ n: Int) -> Digest { try! Digest("sha256:" + String(repeating: String(n % 10), count: 64)) }
    static let day: TimeInterval = 86400
    let now = Date(timeIntervalSince1970: 2_000_000_000)

    func info(_ tag: String, _ image: Int, ageDays: Double) -> TagInfo {
        TagInfo(tag: tag, digest: Self.digest(image), created: now.addingTimeInterval(-ageDays * Self.day), order: image)
    }

    func decide(_ policy: RetentionPolicy, _ tags: [TagInfo], protected: Set<Digest> = []) throws -> [String: RetentionDecision.Action] {
        let decisions = try policy.decide(tags, now: now) { _ in protected }
        return Dictionary(uniqueKeysWithValues: decisions.map { ($0.tag, $0.action) })
    }

    @Test func keepRulesCombineWithOr() throws {
        let tags = [info("a", 1, ageDays: 100), info("b", 2, ageDays: 50), info("c", 3, ageDays: 10), info("keepme", 4, ageDays: 300), info("latest", 5, ageDays: 400)]
        let policy = RetentionPolicy.rules(.init(keepLast: 1, keepNewerThan: 60 * Self.day, keep: ["keep.*"]))
        let result = try decide(policy, tags)
        #expect(result == ["a": .delete, "b": .keep, "c": .keep, "keepme": .keep, "latest": .keep])
    }

    @Test func sharedAndProtectedDigestsAreOnlyUntagged() throws {
        // "old" shares image 1 with latest; "child" is an image a kept index needs.
        let tags = [info("old", 1, ageDays: 100), info("latest", 1, ageDays: 100), info("child", 2, ageDays: 90), info("new", 3, ageDays: 1)]
        let result = try decide(.rules(.init(keepLast: 1)), tags, protected: [Self.digest(2)])
        #expect(result == ["old": .untag, "latest": .keep, "child": .untag, "new": .keep])
    }

    @Test func onlyLimitsTheSelection() throws {
        let tags = [info("sha-1", 1, ageDays: 10), info("sha-2", 2, ageDays: 5), info("1.0.0", 3, ageDays: 100)]
        #expect(try decide(.rules(.init(keepLast: 1, only: "sha-.*")), tags) == ["sha-1": .delete, "sha-2": .keep, "1.0.0": .keep])
    }

    @Test func badRulesAreUsageErrors() throws {
        #expect { try RetentionPolicy.rules(.init()).decide([], protected: { _ in [] }) } throws: { ($0 as? PierError)?.message.contains("no retention rule") ?? false }
        #expect { try RetentionPolicy.rules(.init(keep: ["("])).decide([], protected: { _ in [] }) } throws: { ($0 as? PierError)?.kind == .usage }
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
        let policy = try ecr("""
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
        #expect(result == ["prod-1": .delete, "prod-2": .keep, "prod-3": .keep, "dev-1": .keep, "dev-2": .keep, "dev-3": .keep])
    }

    @Test func ecrSinceImagePushedAndPrefixes() throws {
        let policy = try ecr("""
            {"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["feature"],"countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}
            """)
        let tags = [info("feature-a", 1, ageDays: 30), info("feature-b", 2, ageDays: 3), info("main", 3, ageDays: 60), info("latest", 1, ageDays: 30)]
        // feature-a's image also carries latest: the whole image is expired by ECR, but pier always keeps latest,
        // so feature-a is only untagged.
        #expect(try decide(.ecr(policy), tags) == ["feature-a": .untag, "feature-b": .keep, "main": .keep, "latest": .keep])
    }

    @Test func ecrPolicyValidation() {
        #expect(throws: PierError.self) {
            try ecr(#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#)
        }
        #expect(throws: PierError.self) {
            try ecr(#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#)
        }
        #expect(throws: PierError.self) { try ecr("not json") }
    }

    @Test func semverRanges() throws {
        func check(_ range: String, _ yes: [String], _ no: [String]) throws {
            let r = try SemverRange(range)
            for v in yes { let ok = r.contains(SemanticVersion(v)!); #expect(ok, "\(range) should contain \(v)") }
            for v in no { let ok = r.contains(SemanticVersion(v)!); #expect(!ok, "\(range) should not contain \(v)") }
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
