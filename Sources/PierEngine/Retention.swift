import Foundation
import PierModel

/// One tag of a repository, resolved to its digest and age.
public struct TagInfo: Sendable, Codable, Equatable {
    public var tag: String
    public var digest: Digest
    /// The image's creation time (config `created`, or the `org.opencontainers.image.created` annotation).
    public var created: Date?
    /// Position in the registry's tag list; the fallback order when no creation time is known.
    public var order: Int
    public init(tag: String, digest: Digest, created: Date?, order: Int) {
        self.tag = tag
        self.digest = digest
        self.created = created
        self.order = order
    }
}

/// A retention decision for one tag.
public struct RetentionDecision: Sendable, Codable, Equatable {
    public enum Action: String, Sendable, Codable {
        case keep
        /// Remove the tag only: its digest is still needed by a kept tag or a kept index.
        case untag
        /// Remove the tag and its digest (every tag on that digest is going).
        case delete
    }
    public var tag: String
    public var digest: Digest
    public var created: Date?
    public var action: Action
    /// The rule that decided.
    public var rule: String
}

/// A retention policy: keep rules (combined with OR, as Harbor does), or an ECR lifecycle policy evaluated with
/// ECR's semantics.
public enum RetentionPolicy: Sendable {
    case rules(Rules)
    case ecr(ECRLifecyclePolicy)

    public struct Rules: Sendable, Equatable {
        public var keepLast: Int?
        public var keepNewerThan: TimeInterval?
        public var keep: [String] = []
        public var only: String?
        public init(keepLast: Int? = nil, keepNewerThan: TimeInterval? = nil, keep: [String] = [], only: String? = nil) {
            self.keepLast = keepLast
            self.keepNewerThan = keepNewerThan
            self.keep = keep
            self.only = only
        }
    }

    /// Decides every tag. `protected` are digests that must survive whatever the rules say: children of indexes
    /// that kept tags point at (computed by the caller, who can read manifests).
    public func decide(_ tags: [TagInfo], now: Date = Date(), protected: (Set<Digest>) -> Set<Digest>) throws(PierError)
        -> [RetentionDecision]
    {
        var keep: [String: String] = [:]  // tag → rule that keeps it
        var expire: [String: String] = [:]  // tag → rule that expires it
        switch self {
        case .rules(let rules):
            let only = try rules.only.map { (pattern) throws(PierError) in try Self.regex(pattern, "--only") }
            let keepPatterns = try rules.keep.map { (pattern) throws(PierError) in try Self.regex(pattern, "--keep") }
            guard rules.keepLast != nil || rules.keepNewerThan != nil || !rules.keep.isEmpty else {
                throw PierError(.usage, operation: "prune", message: "no retention rule given",
                    hint: "pass --keep-last N, --keep-newer-than 90d, --keep REGEX or --ecr-policy FILE")
            }
            let selected = tags.filter { info in only.map { Self.matches($0, info.tag) } ?? true }
            for info in tags where !selected.contains(info) { keep[info.tag] = "not selected by --only" }
            let newestFirst = selected.sorted(by: Self.newerFirst)
            for (rank, info) in newestFirst.enumerated() {
                if info.tag == "latest" { keep[info.tag] = "always keep latest"; continue }
                if let pattern = keepPatterns.firstIndex(where: { Self.matches($0, info.tag) }) {
                    keep[info.tag] = "--keep \(rules.keep[pattern])"
                    continue
                }
                if let last = rules.keepLast, rank < last { keep[info.tag] = "newest \(last)"; continue }
                if let window = rules.keepNewerThan, let created = info.created, now.timeIntervalSince(created) < window {
                    keep[info.tag] = "newer than \(Self.describe(window))"
                    continue
                }
                var why: [String] = []
                if let last = rules.keepLast { why.append("not in the newest \(last)") }
                if let window = rules.keepNewerThan { why.append("older than \(Self.describe(window))") }
                if why.isEmpty { why.append("matches no --keep") }
                expire[info.tag] = why.joined(separator: ", ")
            }
        case .ecr(let policy):
            for (tag, rule) in policy.expired(tags, now: now) { expire[tag] = rule }
            for info in tags where expire[info.tag] == nil { keep[info.tag] = "no ECR rule expires it" }
            if expire.removeValue(forKey: "latest") != nil { keep["latest"] = "always keep latest" }
        }
        // Safety: a digest a kept tag uses, or a child of a kept index, is never deleted; its other tags are only
        // untagged.
        let keptDigests = Set(tags.filter { keep[$0.tag] != nil }.map(\.digest))
        let needed = keptDigests.union(protected(keptDigests))
        return tags.map { info in
            if let rule = keep[info.tag] {
                return RetentionDecision(tag: info.tag, digest: info.digest, created: info.created, action: .keep, rule: rule)
            }
            let rule = expire[info.tag] ?? "expired"
            if needed.contains(info.digest) {
                return RetentionDecision(tag: info.tag, digest: info.digest, created: info.created, action: .untag,
                    rule: rule + "; digest still used by a kept tag")
            }
            return RetentionDecision(tag: info.tag, digest: info.digest, created: info.created, action: .delete, rule: rule)
        }
    }

    static func newerFirst(_ a: TagInfo, _ b: TagInfo) -> Bool {
        switch (a.created, b.created) {
        case let (x?, y?) where x != y: return x > y
        case (.some, nil): return true
        case (nil, .some): return false
        default: return a.order > b.order
        }
    }

    static func regex(_ pattern: String, _ flag: String) throws(PierError) -> NSRegularExpression {
        do { return try NSRegularExpression(pattern: "^(?:\(pattern))$") } catch {
            throw PierError(.usage, operation: "prune", message: "\(flag) \"\(pattern)\" is not a valid regular expression")
        }
    }

    static func matches(_ regex: NSRegularExpression, _ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    static func describe(_ interval: TimeInterval) -> String {
        if interval.truncatingRemainder(dividingBy: 86400) == 0 { return "\(Int(interval / 86400))d" }
        if interval.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(interval / 3600))h" }
        return "\(Int(interval))s"
    }

    /// Parses `90d`, `12h`, `2w`, `30m`, `45s`.
    public static func parseDuration(_ text: String) throws(PierError) -> TimeInterval {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        guard let unit = text.last, let factor = units[unit], let value = Double(text.dropLast()), value >= 0 else {
            throw PierError(.usage, operation: "parse duration", message: "\"\(text)\" is not a duration",
                hint: "use a number and a unit: 90d, 12h, 2w, 30m")
        }
        return value * factor
    }
}

/// An ECR lifecycle policy (`lifecycle_policy_parameters`), evaluated as ECR does: rules by ascending
/// `rulePriority`; an image is expired by at most one rule; an image that a higher-priority rule selects cannot be
/// expired by a lower one, but still counts for it; `any` must come last. Images are the distinct digests, aged by
/// creation time (the push time ECR uses is not visible through the registry API).
public struct ECRLifecyclePolicy: Sendable, Decodable {
    public struct Rule: Sendable, Decodable {
        public struct Selection: Sendable, Decodable {
            public var tagStatus: String
            public var tagPatternList: [String]?
            public var tagPrefixList: [String]?
            public var countType: String
            public var countUnit: String?
            public var countNumber: Int
        }
        public struct Action: Sendable, Decodable { public var type: String }
        public var rulePriority: Int
        public var description: String?
        public var selection: Selection
        public var action: Action
    }
    public var rules: [Rule]

    public static func load(_ path: String) throws(PierError) -> ECRLifecyclePolicy {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PierError(.usage, operation: "read ECR policy", message: "cannot read \(path)")
        }
        let policy: ECRLifecyclePolicy
        do { policy = try JSONDecoder().decode(ECRLifecyclePolicy.self, from: data) } catch {
            throw PierError(.invalidInput, operation: "read ECR policy", message: "\(path) is not a lifecycle policy",
                cause: ManifestDocument.describe(error))
        }
        try policy.validate(path)
        return policy
    }

    func validate(_ path: String) throws(PierError) {
        func fail(_ message: String) -> PierError { PierError(.invalidInput, operation: "read ECR policy", message: "\(path): \(message)") }
        let sorted = rules.sorted { $0.rulePriority < $1.rulePriority }
        guard Set(rules.map(\.rulePriority)).count == rules.count else { throw fail("rulePriority values must be unique") }
        for (index, rule) in sorted.enumerated() {
            let s = rule.selection
            guard ["tagged", "untagged", "any"].contains(s.tagStatus) else { throw fail("tagStatus \"\(s.tagStatus)\" is not tagged, untagged or any") }
            if s.tagStatus == "tagged", (s.tagPatternList ?? []).isEmpty, (s.tagPrefixList ?? []).isEmpty {
                throw fail("rule \(rule.rulePriority): tagged needs tagPatternList or tagPrefixList")
            }
            if s.tagStatus == "any", index != sorted.count - 1 { throw fail("rule \(rule.rulePriority): tagStatus any must have the highest rulePriority") }
            guard ["imageCountMoreThan", "sinceImagePushed"].contains(s.countType) else {
                throw fail("rule \(rule.rulePriority): countType \(s.countType) is not supported (imageCountMoreThan, sinceImagePushed)")
            }
            guard rule.action.type == "expire" else { throw fail("rule \(rule.rulePriority): only the expire action is evaluated") }
        }
    }

    /// Tags expired, with the rule that expired their image.
    func expired(_ tags: [TagInfo], now: Date) -> [String: String] {
        struct Image {
            var digest: Digest
            var tags: [String]
            var created: Date?
            var order: Int
        }
        var images: [Digest: Image] = [:]
        for info in tags {
            images[info.digest, default: Image(digest: info.digest, tags: [], created: info.created, order: info.order)].tags.append(info.tag)
            images[info.digest]!.order = max(images[info.digest]!.order, info.order)
        }
        // Youngest first, as imageCountMoreThan counts.
        let all = images.values.sorted {
            RetentionPolicy.newerFirst(TagInfo(tag: "", digest: $0.digest, created: $0.created, order: $0.order),
                TagInfo(tag: "", digest: $1.digest, created: $1.created, order: $1.order))
        }
        var claimed: Set<Digest> = []
        var expiredBy: [Digest: String] = [:]
        for rule in rules.sorted(by: { $0.rulePriority < $1.rulePriority }) {
            let selected = all.filter { Self.selects(rule.selection, tags: $0.tags) }
            var candidates: [Image] = []
            switch rule.selection.countType {
            case "imageCountMoreThan": candidates = Array(selected.dropFirst(rule.selection.countNumber))
            default:
                let limit = TimeInterval(rule.selection.countNumber) * 86400
                candidates = selected.filter { image in image.created.map { now.timeIntervalSince($0) > limit } ?? false }
            }
            for image in candidates where !claimed.contains(image.digest) && expiredBy[image.digest] == nil {
                expiredBy[image.digest] = "ECR rule \(rule.rulePriority)" + (rule.description.map { " (\($0))" } ?? "")
            }
            claimed.formUnion(selected.map(\.digest))
        }
        var result: [String: String] = [:]
        for (digest, rule) in expiredBy { for tag in images[digest]!.tags { result[tag] = rule } }
        return result
    }

    static func selects(_ selection: Rule.Selection, tags: [String]) -> Bool {
        switch selection.tagStatus {
        case "any": return true
        case "untagged": return tags.isEmpty
        default:
            if let patterns = selection.tagPatternList, !patterns.isEmpty {
                return patterns.allSatisfy { pattern in tags.contains { glob(pattern, $0) } }
            }
            let prefixes = selection.tagPrefixList ?? []
            return !prefixes.isEmpty && prefixes.allSatisfy { prefix in tags.contains { $0.hasPrefix(prefix) } }
        }
    }

    /// `*` wildcards only, as ECR's tagPatternList.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return pattern == text }
        var rest = Substring(text)
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return rest.hasSuffix(parts.last!)
    }
}
