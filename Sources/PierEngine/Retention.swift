import Foundation
import PierModel

/// One tag of a repository, resolved to its digest and dated.
public struct TagInfo: Sendable, Codable, Equatable {
    public var tag: String
    public var digest: Digest
    /// The image's age and where it came from (push time, annotation, config, or undated).
    public var date: ImageDate
    /// Position in the registry's tag list: a tie-breaker only, never an age.
    public var order: Int
    public init(tag: String, digest: Digest, date: ImageDate, order: Int) {
        self.tag = tag
        self.digest = digest
        self.date = date
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
    /// How an untag can be carried out on this registry (set on `untag` decisions by the pruner).
    public enum UntagRoute: String, Sendable, Codable {
        /// The registry or its API removes one tag (distribution v3 DELETE by tag, Docker Hub, ECR, GitLab, Harbor).
        case native
        /// Only through the dummy-manifest trick, which `--apply` runs only with `--allow-untag-fallback`.
        case fallback
        /// Not at all (GHCR removes whole package versions): the tag stays.
        case impossible
    }
    public var tag: String
    public var digest: Digest
    public var date: Date?
    public var dateSource: DateSource
    /// For an undated image: where pier looked.
    public var dateLooked: [String]?
    public var action: Action
    /// The rule that decided.
    public var rule: String
    public var untagRoute: UntagRoute?

    init(_ info: TagInfo, _ action: Action, _ rule: String) {
        tag = info.tag
        digest = info.digest
        date = info.date.date
        dateSource = info.date.source
        dateLooked = info.date.looked.isEmpty ? nil : info.date.looked
        self.action = action
        self.rule = rule
    }

    /// Newest first; undated last; then by tag.
    static func newestFirst(_ a: RetentionDecision, _ b: RetentionDecision) -> Bool {
        switch (a.date, b.date) {
        case let (x?, y?) where x != y: return x > y
        case (.some, nil): return true
        case (nil, .some): return false
        default: return a.tag < b.tag
        }
    }
}

/// A decision for one untagged manifest that the registry's API lists (GHCR versions, ECR images, Harbor
/// artifacts without tags). Only `keep` or `delete`.
public struct UntaggedDecision: Sendable, Codable, Equatable {
    public var digest: Digest
    public var date: Date?
    public var dateSource: DateSource
    public var action: RetentionDecision.Action
    public var rule: String
}

/// A retention policy: keep rules (combined with OR, as Harbor does) with an optional expire rule, or an ECR
/// lifecycle policy evaluated with ECR's semantics.
///
/// Rules apply to *images* (distinct digests among the selected tags), as ECR counts: `keepLast` keeps the N newest
/// images and every tag on them. A tag is decided, first rule that applies winning:
/// 1. not selected by `only` → keep; 2. `latest` → keep; 3. matches a `keep` regex → keep;
/// 4. its image is undated → keep (pier never deletes what it cannot date);
/// 5. `expireOlderThan` and the image is older → remove, even among the newest N or inside `keepNewerThan`;
/// 6. among the newest `keepLast` images, or newer than `keepNewerThan` → keep;
/// 7. otherwise remove (with only an expire rule given: keep).
/// Finally a digest that a kept tag, or an index a kept tag points at, still needs is never deleted: its other
/// tags are only untagged.
public enum RetentionPolicy: Sendable {
    case rules(Rules)
    case ecr(ECRLifecyclePolicy)

    /// The largest count a rule takes: the tag list stops at a million tags.
    public static let maximumCount = 1_000_000
    /// The longest duration a rule takes (100 years): longer is a typo, and would overflow date arithmetic.
    public static let maximumDuration: TimeInterval = 100 * 365.25 * 86400

    public struct Rules: Sendable, Equatable {
        /// Where the rules were written, for messages: flags, or a config file's `prune:` section.
        public enum Origin: Sendable, Equatable {
            case flags
            case config(String)
        }
        public var keepLast: Int?
        public var keepNewerThan: TimeInterval?
        public var keep: [String] = []
        public var only: String?
        public var expireOlderThan: TimeInterval?
        /// Also delete untagged manifests that the registry's API lists and nothing staying reaches.
        public var untagged = false
        public var origin: Origin = .flags
        public init(
            keepLast: Int? = nil, keepNewerThan: TimeInterval? = nil, keep: [String] = [], only: String? = nil,
            expireOlderThan: TimeInterval? = nil, untagged: Bool = false, origin: Origin = .flags
        ) {
            self.keepLast = keepLast
            self.keepNewerThan = keepNewerThan
            self.keep = keep
            self.only = only
            self.expireOlderThan = expireOlderThan
            self.untagged = untagged
            self.origin = origin
        }

        /// How a rule is named where it was written: `--keep-last` or `prune.keep_last in pier.yml`.
        public func name(_ flag: String) -> String {
            switch origin {
            case .flags: return "--\(flag)"
            case .config(let path): return "prune.\(flag.replacingOccurrences(of: "-", with: "_")) in \(path)"
            }
        }

        /// Checks ranges and regexes before any registry is asked anything.
        public func validate() throws(PierError) {
            guard keepLast != nil || keepNewerThan != nil || !keep.isEmpty || expireOlderThan != nil else {
                throw PierError(
                    .usage, operation: "prune", message: "no retention rule given",
                    hint:
                        "pass --keep-last N, --keep-newer-than 90d, --keep REGEX, --expire-older-than 90d or --ecr-policy FILE"
                )
            }
            if let keepLast, !(0...RetentionPolicy.maximumCount).contains(keepLast) {
                throw PierError(
                    .usage, operation: "prune",
                    message: "\(name("keep-last")) \(keepLast) is out of range (0 to \(RetentionPolicy.maximumCount))")
            }
            for (flag, value) in [("keep-newer-than", keepNewerThan), ("expire-older-than", expireOlderThan)] {
                if let value, !(value.isFinite && value >= 0 && value <= RetentionPolicy.maximumDuration) {
                    throw PierError(
                        .usage, operation: "prune", message: "\(name(flag)) is out of range (0 to 100 years)")
                }
            }
            _ = try patterns()
        }

        func patterns() throws(PierError) -> (only: NSRegularExpression?, keep: [NSRegularExpression]) {
            let only = try only.map { (pattern) throws(PierError) in try RetentionPolicy.regex(pattern, name("only")) }
            let keep = try keep.map { (pattern) throws(PierError) in try RetentionPolicy.regex(pattern, name("keep")) }
            return (only, keep)
        }

        /// A warning for each `only`/`keep` pattern that matches none of `tags`: patterns match the whole tag, so
        /// `^sha-` matches nothing that `sha-.*` would.
        public func unmatchedPatterns(in tags: [String]) -> [String] {
            var warnings: [String] = []
            for (flag, pattern) in (only.map { [("only", $0)] } ?? []) + keep.map({ ("keep", $0) }) {
                guard let regex = try? RetentionPolicy.regex(pattern, flag),
                    !tags.contains(where: { RetentionPolicy.matches(regex, $0) })
                else { continue }
                let suggestion = Self.suggestion(for: pattern)
                // The advice applies only when the pattern was written as a prefix (`^sha-`, `sha-`).
                warnings.append(
                    suggestion == pattern
                        ? "\(name(flag)) \"\(pattern)\" matches no tag"
                        : "\(name(flag)) \"\(pattern)\" matches no tag; patterns match the whole tag, so write \"\(suggestion)\""
                )
            }
            return warnings
        }

        /// `^sha-` → `sha-.*`: anchors dropped (the whole tag is matched anyway) and a trailing `.*` added.
        static func suggestion(for pattern: String) -> String {
            var text = Substring(pattern)
            if text.hasPrefix("^") { text = text.dropFirst() }
            if text.hasSuffix("$") { text = text.dropLast() }
            return text.hasSuffix(".*") ? String(text) : text + ".*"
        }
    }

    /// Decides every tag. `protected` are digests that must survive whatever the rules say: children of indexes
    /// that kept tags point at (computed by the caller, who can read manifests). Decisions come newest first.
    ///
    /// Artifact tags (`sha256-<hex>`, `sha256-<hex>.sig`, `.att`, `.sbom`; `ArtifactTag`) are not releases: no rule
    /// counts or matches them, unless an `only` pattern starts with `sha256-` (`asksForArtifactTags`). Each follows
    /// its subject: kept while the subject stays, deleted with it, kept when the subject is no image decided here.
    /// `artifactMembers` names what each artifact tag's manifest reaches (a fallback index's entries), so that a
    /// signature on an SBOM follows the SBOM's image.
    public func decide(
        _ tags: [TagInfo], now: Date = Date(), artifactMembers: [Digest: Set<Digest>] = [:],
        protected: (Set<Digest>) -> Set<Digest>
    ) throws(PierError)
        -> [RetentionDecision]
    {
        var keep: [String: String] = [:]  // tag → rule that keeps it
        var expire: [String: String] = [:]  // tag → rule that expires it
        var asked = false
        if case .rules(let rules) = self { asked = Self.asksForArtifactTags(rules.only) }
        let artifacts = asked ? [] : tags.filter { ArtifactTag.isArtifactTag($0.tag) }
        let artifactTags = Set(artifacts.map(\.tag))
        let tags = asked ? tags : tags.filter { !artifactTags.contains($0.tag) }
        let images = Self.imageDates(tags)
        switch self {
        case .rules(let rules):
            try rules.validate()
            let patterns = try rules.patterns()
            let selected = tags.filter { info in patterns.only.map { Self.matches($0, info.tag) } ?? true }
            for info in tags where !selected.contains(info) { keep[info.tag] = "not selected by \(rules.name("only"))" }
            let rank = Self.ranks(Set(selected.map(\.digest)), images)
            for info in selected {
                let (verdict, rule) = rules.verdict(
                    info, image: images[info.digest] ?? .undated, rank: rank[info.digest],
                    patterns: patterns.keep, now: now)
                if verdict { keep[info.tag] = rule } else { expire[info.tag] = rule }
            }
        case .ecr(let policy):
            let expiredImages = policy.expired(tags, untagged: [:], images: images, now: now)
            for info in tags { if let rule = expiredImages[info.digest] { expire[info.tag] = rule } }
            for info in tags where expire[info.tag] == nil {
                keep[info.tag] = images[info.digest]?.date == nil ? Self.undatedRule : "no ECR rule expires it"
            }
            if expire.removeValue(forKey: "latest") != nil { keep["latest"] = "always keep latest" }
        }
        // Safety: a digest a kept tag uses, or a child of a kept index, is never deleted; its other tags are only
        // untagged.
        var keptDigests = Set(tags.filter { keep[$0.tag] != nil }.map(\.digest))
        let deletedImages = Set(tags.map(\.digest)).subtracting(keptDigests)
        // Artifact tags follow their subjects; what a kept one reaches is needed too.
        let follows = Self.followSubjects(
            artifacts, keptImages: keptDigests.union(protected(keptDigests)), deletedImages: deletedImages,
            members: artifactMembers)
        for info in artifacts {
            if follows[info.tag]?.keep ?? true { keptDigests.insert(info.digest) }
        }
        let needed = keptDigests.union(protected(keptDigests))
        return (tags + artifacts).map { info in
            if let rule = keep[info.tag] { return RetentionDecision(info, .keep, rule) }
            if let follow = follows[info.tag], follow.keep { return RetentionDecision(info, .keep, follow.rule) }
            let rule = expire[info.tag] ?? follows[info.tag]?.rule ?? "expired"
            if needed.contains(info.digest) {
                return RetentionDecision(info, .untag, rule + "; digest still used by a kept tag")
            }
            return RetentionDecision(info, .delete, rule)
        }.sorted(by: RetentionDecision.newestFirst)
    }

    /// Whether an `only` pattern asks for artifact tags by name: it starts with `sha256-` (as `sha256-.*\.sig`).
    public static func asksForArtifactTags(_ only: String?) -> Bool {
        guard var pattern = only else { return false }
        if pattern.hasPrefix("^") { pattern.removeFirst() }
        return pattern.hasPrefix("sha256-")
    }

    /// How deep a chain of artifacts about artifacts is followed back to an image (as `ReferrerDiscovery`).
    static let maximumArtifactChain = 4

    /// For each artifact tag: kept or deleted with its subject, and the rule. A subject that is itself an artifact
    /// (a tagged one, or an entry of a fallback index) follows that artifact's decision.
    static func followSubjects(
        _ artifacts: [TagInfo], keptImages: Set<Digest>, deletedImages: Set<Digest>, members: [Digest: Set<Digest>]
    ) -> [String: (keep: Bool, rule: String)] {
        func owner(of digest: Digest) -> TagInfo? {
            artifacts.first { $0.digest == digest || members[$0.digest]?.contains(digest) == true }
        }
        func decide(_ info: TagInfo, depth: Int) -> (keep: Bool, rule: String) {
            guard let subject = ArtifactTag(info.tag)?.subject else { return (true, "not an artifact tag") }
            if keptImages.contains(subject) { return (true, "artifact of a kept image (\(subject.short))") }
            if deletedImages.contains(subject) { return (false, "artifact of a deleted image (\(subject.short))") }
            if depth < maximumArtifactChain, let parent = owner(of: subject), parent.tag != info.tag {
                let verdict = decide(parent, depth: depth + 1)
                return (verdict.keep, verdict.keep ? "artifact of a kept artifact" : "artifact of a deleted artifact")
            }
            return (true, "artifact whose subject \(subject.short) is no image decided here")
        }
        var result: [String: (keep: Bool, rule: String)] = [:]
        for info in artifacts { result[info.tag] = decide(info, depth: 0) }
        return result
    }

    static let undatedRule = "undated: pier never deletes an image it cannot date"

    /// How young an untagged manifest may be and still be part of a publish in progress: publish pushes children
    /// before the index and the tag that reach them, so a fresh untagged manifest may be reached a moment later.
    public static let untaggedGracePeriod: TimeInterval = 86400

    /// Whether the policy removes untagged manifests: `untagged` rules, or ECR rules with `tagStatus` untagged or any.
    public var considersUntagged: Bool {
        switch self {
        case .rules(let rules): return rules.untagged
        case .ecr(let policy): return policy.rules.contains { $0.selection.tagStatus != "tagged" }
        }
    }

    /// Decides untagged manifests. `reached` are the digests that a staying tag, or a staying manifest, reaches
    /// (index children, recursively): never deleted. Undated manifests and those younger than
    /// `untaggedGracePeriod` stay too.
    public func decideUntagged(
        _ untagged: [Digest: ImageDate], tags: [TagInfo], reached: Set<Digest>, now: Date = Date()
    ) -> [UntaggedDecision] {
        guard considersUntagged else { return [] }
        var expiredBy: [Digest: String] = [:]
        switch self {
        case .rules:
            for digest in untagged.keys { expiredBy[digest] = "untagged, reached by no tag (--untagged)" }
        case .ecr(let policy):
            let images = Self.imageDates(tags).merging(untagged) { tagged, _ in tagged }
            expiredBy = policy.expired(tags, untagged: untagged, images: images, now: now)
        }
        return untagged.map { digest, date in
            func decision(_ action: RetentionDecision.Action, _ rule: String) -> UntaggedDecision {
                UntaggedDecision(digest: digest, date: date.date, dateSource: date.source, action: action, rule: rule)
            }
            guard let rule = expiredBy[digest] else { return decision(.keep, "no rule expires it") }
            if reached.contains(digest) { return decision(.keep, "reached by a kept tag (index child)") }
            guard let pushed = date.date else { return decision(.keep, Self.undatedRule) }
            if now.timeIntervalSince(pushed) < Self.untaggedGracePeriod {
                return decision(.keep, "pushed within a day: may belong to a publish in progress")
            }
            return decision(.delete, rule)
        }.sorted { ($0.date ?? .distantPast, $1.digest.description) > ($1.date ?? .distantPast, $0.digest.description) }
    }

    /// Each image's date: the youngest trustworthy date among its tags (Docker Hub dates tags, not digests), so an
    /// image is never older than its latest push.
    static func imageDates(_ tags: [TagInfo]) -> [Digest: ImageDate] {
        var images: [Digest: ImageDate] = [:]
        for info in tags {
            guard let current = images[info.digest] else {
                images[info.digest] = info.date
                continue
            }
            if let date = info.date.date, current.date.map({ date > $0 }) ?? true { images[info.digest] = info.date }
        }
        return images
    }

    /// Newest-first rank of each dated image among `digests` (ties broken by digest, so plans are stable).
    static func ranks(_ digests: Set<Digest>, _ images: [Digest: ImageDate]) -> [Digest: Int] {
        let dated = digests.compactMap { digest in images[digest]?.date.map { (digest, $0) } }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.description < $1.0.description }
        return Dictionary(uniqueKeysWithValues: dated.enumerated().map { ($0.element.0, $0.offset) })
    }

    static func regex(_ pattern: String, _ flag: String) throws(PierError) -> NSRegularExpression {
        do { return try NSRegularExpression(pattern: "^(?:\(pattern))$") } catch {
            throw PierError(
                .usage, operation: "prune", message: "\(flag) \"\(pattern)\" is not a valid regular expression")
        }
    }

    static func matches(_ regex: NSRegularExpression, _ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// `90d`, `12h`, `45s` (whole units where they fit); callers pass range-checked values.
    static func describe(_ interval: TimeInterval) -> String {
        guard interval.isFinite, interval >= 0, interval <= maximumDuration else { return "\(interval)s" }
        if interval.truncatingRemainder(dividingBy: 86400) == 0 { return "\(Int(interval / 86400))d" }
        if interval.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(interval / 3600))h" }
        return "\(Int(interval))s"
    }

    /// Parses `90d`, `12h`, `2w`, `30m`, `45s`: a finite, non-negative number of at most 100 years
    /// (`maximumDuration`).
    public static func parseDuration(_ text: String) throws(PierError) -> TimeInterval {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        guard let unit = text.last, let factor = units[unit], let value = Double(text.dropLast()), value.isFinite,
            value >= 0
        else {
            throw PierError(
                .usage, operation: "parse duration", message: "\"\(text)\" is not a duration",
                hint: "use a number and a unit: 90d, 12h, 2w, 30m")
        }
        let seconds = value * factor
        guard seconds.isFinite, seconds <= maximumDuration else {
            throw PierError(
                .usage, operation: "parse duration", message: "\"\(text)\" is longer than 100 years",
                hint: "use a number and a unit: 90d, 12h, 2w, 30m")
        }
        return seconds
    }
}

extension RetentionPolicy.Rules {
    /// Whether one selected tag is kept, and the rule that says so (the numbered list on `RetentionPolicy`).
    func verdict(_ info: TagInfo, image: ImageDate, rank: Int?, patterns: [NSRegularExpression], now: Date) -> (
        keep: Bool, rule: String
    ) {
        if info.tag == "latest" { return (true, "always keep latest") }
        if let index = patterns.firstIndex(where: { RetentionPolicy.matches($0, info.tag) }) {
            return (true, "\(name("keep")) \(keep[index])")
        }
        guard let date = image.date, let rank else { return (true, RetentionPolicy.undatedRule) }
        let age = now.timeIntervalSince(date)
        let source = image.source.field
        if let limit = expireOlderThan, age > limit {
            return (false, "older than \(RetentionPolicy.describe(limit)) by \(source) (\(name("expire-older-than")))")
        }
        if let last = keepLast, rank < last { return (true, "among the newest \(last) images") }
        if let window = keepNewerThan, age < window {
            return (true, "newer than \(RetentionPolicy.describe(window)) by \(source)")
        }
        if keepLast == nil, keepNewerThan == nil, keep.isEmpty, let limit = expireOlderThan {
            return (true, "not older than \(RetentionPolicy.describe(limit))")
        }
        var why: [String] = []
        if let last = keepLast { why.append("not among the newest \(last) images") }
        if let window = keepNewerThan { why.append("older than \(RetentionPolicy.describe(window)) by \(source)") }
        if why.isEmpty { why.append("matches no \(name("keep"))") }
        return (false, why.joined(separator: ", "))
    }
}

/// An ECR lifecycle policy (`lifecycle_policy_parameters`), evaluated as ECR does: rules by ascending
/// `rulePriority`; an image is expired by at most one rule; an image that a higher-priority rule selects cannot be
/// expired by a lower one, but still counts for it; `any` must come last. Images are the distinct digests, aged by
/// push time where the registry's API keeps one (on ECR, DescribeImages `imagePushedAt`, as ECR itself ages them),
/// else by the image's own date; undated images are never expired and not counted.
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
            throw PierError(
                .invalidInput, operation: "read ECR policy", message: "\(path) is not a lifecycle policy",
                cause: ManifestDocument.describe(error))
        }
        try policy.validate(path)
        return policy
    }

    func validate(_ path: String) throws(PierError) {
        func fail(_ message: String) -> PierError {
            PierError(.invalidInput, operation: "read ECR policy", message: "\(path): \(message)")
        }
        let sorted = rules.sorted { $0.rulePriority < $1.rulePriority }
        guard Set(rules.map(\.rulePriority)).count == rules.count else {
            throw fail("rulePriority values must be unique")
        }
        for (index, rule) in sorted.enumerated() {
            let s = rule.selection
            guard ["tagged", "untagged", "any"].contains(s.tagStatus) else {
                throw fail("tagStatus \"\(s.tagStatus)\" is not tagged, untagged or any")
            }
            if s.tagStatus == "tagged", (s.tagPatternList ?? []).isEmpty, (s.tagPrefixList ?? []).isEmpty {
                throw fail("rule \(rule.rulePriority): tagged needs tagPatternList or tagPrefixList")
            }
            if s.tagStatus == "any", index != sorted.count - 1 {
                throw fail("rule \(rule.rulePriority): tagStatus any must have the highest rulePriority")
            }
            guard ["imageCountMoreThan", "sinceImagePushed"].contains(s.countType) else {
                throw fail(
                    "rule \(rule.rulePriority): countType \(s.countType) is not supported (imageCountMoreThan, sinceImagePushed)"
                )
            }
            guard rule.action.type == "expire" else {
                throw fail("rule \(rule.rulePriority): only the expire action is evaluated")
            }
            // ECR takes countNumber ≥ 1; the upper bound keeps day arithmetic far from overflow.
            guard (1...RetentionPolicy.maximumCount).contains(s.countNumber) else {
                throw fail(
                    "rule \(rule.rulePriority): countNumber \(s.countNumber) is out of range (1 to \(RetentionPolicy.maximumCount))"
                )
            }
        }
    }

    /// Images expired (tagged and `untagged` ones), with the rule that expired them. `images` dates each digest.
    func expired(_ tags: [TagInfo], untagged: [Digest: ImageDate], images dates: [Digest: ImageDate], now: Date)
        -> [Digest: String]
    {
        var tagsOf: [Digest: [String]] = [:]
        for digest in untagged.keys { tagsOf[digest] = [] }
        for info in tags { tagsOf[info.digest, default: []].append(info.tag) }
        // Youngest first, as imageCountMoreThan counts; undated images take no part.
        let ranked = RetentionPolicy.ranks(Set(tagsOf.keys), dates).sorted { $0.value < $1.value }.map(\.key)
        var claimed: Set<Digest> = []
        var expiredBy: [Digest: String] = [:]
        for rule in rules.sorted(by: { $0.rulePriority < $1.rulePriority }) {
            let selected = ranked.filter { Self.selects(rule.selection, tags: tagsOf[$0] ?? []) }
            var candidates: [Digest] = []
            switch rule.selection.countType {
            case "imageCountMoreThan": candidates = Array(selected.dropFirst(max(0, rule.selection.countNumber)))
            default:
                let limit = TimeInterval(rule.selection.countNumber) * 86400
                candidates = selected.filter { digest in
                    dates[digest]?.date.map { now.timeIntervalSince($0) > limit } ?? false
                }
            }
            for digest in candidates where !claimed.contains(digest) && expiredBy[digest] == nil {
                let source = dates[digest]?.source.field ?? "?"
                expiredBy[digest] =
                    "ECR rule \(rule.rulePriority)" + (rule.description.map { " (\($0))" } ?? "") + " by \(source)"
            }
            claimed.formUnion(selected)
        }
        return expiredBy
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
        return rest.hasSuffix(parts.last ?? "")
    }
}
