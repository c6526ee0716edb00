import Foundation
import PierModel

/// Turns a build's context and the tag rules into a validated list of tags, before any network I/O.
public enum TagPlanner {
    /// Plans the tags for one target repository.
    ///
    /// `existingTags` are the repository's tags, used so that `latest`, `1` and `1.2` never move backwards:
    /// publishing 1.2.4 after 2.0.0 moves `1.2` and `1` but not `latest`; a pre-release moves nothing.
    public static func plan(context: TagContext, rules: TagRules, existingTags: [String] = []) throws(PierError)
        -> [PlannedTag]
    {
        var tags: [PlannedTag] = []
        func add(_ name: String, _ kind: PlannedTag.Kind, _ rule: String) {
            tags.append(PlannedTag(name: rules.prefix + name + rules.suffix, kind: kind, rule: rule))
        }
        // Existing stable versions, read back through the same prefix/suffix.
        let existing: [SemanticVersion] = existingTags.compactMap { tag in
            guard tag.hasPrefix(rules.prefix), tag.hasSuffix(rules.suffix),
                tag.count >= rules.prefix.count + rules.suffix.count
            else { return nil }
            let core = String(tag.dropFirst(rules.prefix.count).dropLast(rules.suffix.count))
            return SemanticVersion(core).flatMap { $0.isStable ? $0 : nil }
        }

        if let text = context.version {
            if !rules.semver {
                add(sanitize(text), .version, "version")
            } else if let version = SemanticVersion(text) {
                let prefixes = rules.vPrefix ? ["", "v"] : [""]
                for v in prefixes { add(v + version.description, .version, "semver") }
                if version.isStable {
                    let sameMinor = existing.filter { $0.major == version.major && $0.minor == version.minor }
                    let sameMajor = existing.filter { $0.major == version.major }
                    // metadata-action's {{major}}.{{minor}} is made for 0.x too; {{major}} is 0 only when asked
                    // (its README, "Major version zero": 0.y.z may change at any time).
                    if sameMinor.allSatisfy({ $0 <= version }) {
                        for v in prefixes { add("\(v)\(version.major).\(version.minor)", .moving, "semver minor") }
                    }
                    if version.major > 0 || rules.majorZero, sameMajor.allSatisfy({ $0 <= version }) {
                        for v in prefixes { add("\(v)\(version.major)", .moving, "semver major") }
                    }
                    if rules.latest != .never, existing.allSatisfy({ $0 <= version }) {
                        add("latest", .moving, "latest (highest stable version)")
                    }
                }
            } else if !context.versionIsDetected {
                throw PierError(
                    .usage, operation: "plan tags",
                    message:
                        "version \"\(TerminalText.escaped(text))\" is not a semantic version (MAJOR.MINOR.PATCH, optional v,"
                        + " no leading zeros; semver.org)",
                    hint: "pass a version such as 1.2.3 or v1.2.3-rc.1, or the text as a raw tag with --tag")
            }
            // A detected git tag that is not a semantic version gets no version tags (TagContext.detect warns).
        }
        if context.event == .pullRequest {
            if rules.pullRequest, let number = context.pullRequest { add("pr-\(number)", .moving, "pull request") }
        } else if context.version == nil, rules.branch, let branch = context.branch {
            add(sanitize(branch), .moving, "branch")
        }
        if rules.latest == .defaultBranch, context.version == nil, context.event != .pullRequest,
            context.isDefaultBranch,
            !tags.contains(where: { $0.rule.hasPrefix("latest") })
        {
            add("latest", .moving, "latest (default branch)")
        }
        if let sha = context.gitSHA, !sha.isEmpty {
            if rules.sha { add("sha-" + String(sha.prefix(max(1, rules.shaLength))), .moving, "sha") }
            if rules.fullSHA { add("sha-" + sha, .moving, "full sha") }
        }
        if rules.buildNumber, let number = context.buildNumber, !number.isEmpty {
            add("build-\(number)", .moving, "build number")
        }
        if let template = rules.dateTemplate { add(sanitize(render(template, context: context)), .moving, "date") }
        for raw in rules.raw { add(raw, .moving, "raw") }
        try validate(tags)
        return tags
    }

    /// Invalid tags, duplicates and an empty plan are errors.
    static func validate(_ tags: [PlannedTag]) throws(PierError) {
        guard !tags.isEmpty else {
            throw PierError(
                .usage, operation: "plan tags", message: "the tag plan is empty",
                hint: "pass --version, run in a git repository or CI, or add raw tags in pier.yml")
        }
        var seen: Set<String> = []
        for tag in tags {
            guard ImageReference.isValidTag(tag.name) else {
                throw PierError(
                    .usage, operation: "plan tags", message: "\"\(tag.name)\" (from \(tag.rule)) is not a valid tag",
                    hint: "a tag is 1-128 characters of letters, digits, '_', '.', '-', not starting with '.' or '-'")
            }
            guard seen.insert(tag.name).inserted else {
                throw PierError(
                    .usage, operation: "plan tags",
                    message: "tag \"\(tag.name)\" is planned twice (again by \(tag.rule))")
            }
        }
    }

    /// A branch or free text as a tag, as docker/metadata-action's `sanitizeTag`: the case is kept, each run of
    /// characters outside `[A-Za-z0-9_.-]` becomes one `-`; then (distribution-spec's tag grammar) no leading
    /// `.`/`-` and at most 128 characters.
    public static func sanitize(_ text: String) -> String {
        var out = ""
        var replacing = false
        for ch in text {
            let allowed = ch.isASCII && (ch.isLetter || ch.isNumber || ch == "_" || ch == "." || ch == "-")
            if allowed { out.append(ch) } else if !replacing { out.append("-") }
            replacing = !allowed
        }
        while let first = out.first, first == "." || first == "-" { out.removeFirst() }
        return String(out.prefix(maximumTagLength))
    }

    /// distribution-spec: a tag is at most 128 characters.
    static let maximumTagLength = 128

    /// `{branch}`, `{sha}`, `{version}`, `{build}`, `{date:FORMAT}` (FORMAT as DateFormatter, UTC).
    public static func render(_ template: String, context: TagContext) -> String {
        var result = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            result += rest[..<open]
            let key = rest[rest.index(after: open)..<close]
            switch key {
            case "branch": result += context.branch ?? "detached"
            case "sha": result += String((context.gitSHA ?? "").prefix(7))
            case "version": result += context.version ?? ""
            case "build": result += context.buildNumber ?? ""
            default:
                if key.hasPrefix("date") {
                    let format = key.hasPrefix("date:") ? String(key.dropFirst(5)) : "yyyyMMdd"
                    let formatter = DateFormatter()
                    formatter.locale = Locale(identifier: "en_US_POSIX")
                    formatter.timeZone = TimeZone(identifier: "UTC")
                    formatter.dateFormat = format
                    result += formatter.string(from: context.timestamp)
                } else {
                    result += "{\(key)}"
                }
            }
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }
}
