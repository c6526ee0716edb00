import Foundation
import PierHostedAPIs
import PierModel
import PierRegistry
import Yams

/// `pier.yml`: the publish settings a repository keeps next to its Dockerfile. Every key is checked: an unknown
/// key or a wrong type is an error naming the key and its line.
public struct PierConfig: Sendable, Equatable {
    public struct Registry: Sendable, Equatable {
        public var repository: String
        public var insecure = false
        /// Names of environment variables holding this registry's credentials (never the secrets themselves).
        public var usernameEnv: String?
        public var passwordEnv: String?
        /// The management API that deletes on this registry (`api: harbor`), and its base URL (`api_url`).
        public var api: RegistryAPISelection.Kind?
        public var apiURL: String?
        /// A CA bundle trusted for this registry only.
        public var caFile: String?
        /// Requests in flight to this registry, instead of the run's `concurrency`.
        public var concurrency: Int?
        /// `create: true`: create the repository when it does not exist (ECR; registries that create on push
        /// need nothing).
        public var create = false
        /// `ecr:`: how a repository pier creates on ECR is set up.
        public var ecr: ECRRepositorySettings?
        public var line = 0
    }
    public var source: String?
    public var registries: [Registry] = []
    public var rules = TagRules()
    public var onConflict: ConflictPolicy?
    public var concurrency: Int?
    /// Requests in flight across the run (`max_requests`).
    public var maxRequests: Int?
    public var failFast: Bool?
    public var pushOnPullRequest: Bool?
    public var insecureRegistries: [String] = []
    public var caFile: String?
    /// The `build:` section: what `pier build` and `pier publish --build` build (flags override it).
    public var build: BuildSpec?
    /// The `prune:` section: the retention rules `pier prune` uses when no rule flag is given.
    public var prune: RetentionPolicy.Rules?
    /// The `referrers:` section: `carry` (default true) and `types` (artifact types to carry; empty: all).
    public var referrers: ReferrerSelection?
    /// `aws.role_arn`: the role assumed with a web identity (GitHub Actions OIDC) when `AWS_ROLE_ARN` is unset.
    public var awsRoleARN: String?
    /// The `signing:` section: the keys publish signs with and rollback and sync verify with.
    public var signing = SigningSettings()
    /// `organisation:` and `repositories:`: many repositories for sync, prune and status.
    public var organisation: OrganisationConfig?

    public init() {}

    /// Reads `path`; a missing file is an empty config only when `required` is false.
    public static func load(path: String, required: Bool) throws(PierError) -> PierConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            if required { throw PierError(.usage, operation: "read config", message: "\(path) does not exist") }
            return PierConfig()
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PierError(.invalidInput, operation: "read config", message: "cannot read \(path) as UTF-8")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String = "pier.yml") throws(PierError) -> PierConfig {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            let detail = "\(error)".split(separator: "\n").first.map(String.init) ?? "syntax error"
            throw PierError(.invalidInput, operation: "read config", message: "\(file): \(detail)")
        }
        var config = PierConfig()
        guard let root else { return config }
        let reader = Reader(file: file)
        let top = try reader.mapping(
            root, "(top level)",
            allowed: [
                "source", "registries", "tags", "on_conflict", "concurrency", "max_requests", "fail_fast", "push_on_pr",
                "insecure_registries",
                "ca_file", "build", "prune", "aws", "signing", "referrers", "organisation", "repositories",
            ])
        config.source = try top["source"].map { (node) throws(PierError) in try reader.string(node, "source") }
        if let list = top["registries"] {
            for (index, item) in try reader.sequence(list, "registries").enumerated() {
                let key = "registries[\(index)]"
                if case .scalar = item {
                    config.registries.append(
                        Registry(repository: try reader.string(item, key), line: reader.line(item)))
                    continue
                }
                let entry = try reader.mapping(
                    item, key,
                    allowed: [
                        "repository", "insecure", "username_env", "password_env", "api", "api_url", "concurrency",
                        "ca_file", "create", "ecr",
                    ])
                guard let repository = entry["repository"] else { throw reader.fail(item, "\(key) needs a repository") }
                var registry = Registry(
                    repository: try reader.string(repository, "\(key).repository"), line: reader.line(item))
                registry.insecure =
                    try entry["insecure"].map { (n) throws(PierError) in try reader.bool(n, "\(key).insecure") }
                    ?? false
                registry.usernameEnv = try entry["username_env"].map { (n) throws(PierError) in
                    try reader.string(n, "\(key).username_env")
                }
                registry.passwordEnv = try entry["password_env"].map { (n) throws(PierError) in
                    try reader.string(n, "\(key).password_env")
                }
                guard (registry.usernameEnv == nil) == (registry.passwordEnv == nil) else {
                    throw reader.fail(item, "\(key) needs both username_env and password_env, or neither")
                }
                registry.api = try entry["api"].map { (n) throws(PierError) in
                    try reader.choice(n, "\(key).api", RegistryAPISelection.Kind.self)
                }
                registry.caFile = try entry["ca_file"].map { (n) throws(PierError) in
                    try reader.string(n, "\(key).ca_file")
                }
                registry.apiURL = try entry["api_url"].map { (n) throws(PierError) in
                    try reader.string(n, "\(key).api_url")
                }
                registry.concurrency = try entry["concurrency"].map { (n) throws(PierError) in
                    try reader.concurrency(n, "\(key).concurrency")
                }
                registry.create =
                    try entry["create"].map { (n) throws(PierError) in try reader.bool(n, "\(key).create") } ?? false
                if let node = entry["ecr"] { registry.ecr = try parseECR(node, key: "\(key).ecr", reader: reader) }
                config.registries.append(registry)
            }
        }
        if let node = top["aws"] {
            let aws = try reader.mapping(node, "aws", allowed: ["role_arn"])
            config.awsRoleARN = try aws["role_arn"].map { (n) throws(PierError) in try reader.string(n, "aws.role_arn")
            }
        }
        if let tags = top["tags"] {
            let t = try reader.mapping(
                tags, "tags",
                allowed: [
                    "semver", "v_prefix", "major_zero", "latest", "sha", "sha_length", "full_sha", "build_number",
                    "branch",
                    "pull_request", "date", "raw", "prefix", "suffix",
                ])
            var rules = TagRules()
            func flag(_ name: String, _ value: inout Bool) throws(PierError) {
                if let node = t[name] { value = try reader.bool(node, "tags.\(name)") }
            }
            try flag("semver", &rules.semver)
            try flag("v_prefix", &rules.vPrefix)
            try flag("major_zero", &rules.majorZero)
            try flag("sha", &rules.sha)
            try flag("full_sha", &rules.fullSHA)
            try flag("build_number", &rules.buildNumber)
            try flag("branch", &rules.branch)
            try flag("pull_request", &rules.pullRequest)
            if let node = t["latest"] {
                rules.latest = try reader.choice(node, "tags.latest", TagRules.Latest.self)
            }
            if let node = t["sha_length"] {
                rules.shaLength = try reader.int(node, "tags.sha_length")
                guard (4...40).contains(rules.shaLength) else {
                    throw reader.fail(node, "tags.sha_length must be 4 to 40")
                }
            }
            rules.dateTemplate = try t["date"].map { (n) throws(PierError) in try reader.string(n, "tags.date") }
            if let node = t["raw"] {
                rules.raw = try reader.sequence(node, "tags.raw").map { (n) throws(PierError) in
                    try reader.string(n, "tags.raw")
                }
            }
            rules.prefix = try t["prefix"].map { (n) throws(PierError) in try reader.string(n, "tags.prefix") } ?? ""
            rules.suffix = try t["suffix"].map { (n) throws(PierError) in try reader.string(n, "tags.suffix") } ?? ""
            config.rules = rules
        }
        if let node = top["on_conflict"] {
            config.onConflict = try reader.choice(node, "on_conflict", ConflictPolicy.self)
        }
        config.concurrency = try top["concurrency"].map { (n) throws(PierError) in
            try reader.concurrency(n, "concurrency")
        }
        config.maxRequests = try top["max_requests"].map { (n) throws(PierError) in
            let value = try reader.int(n, "max_requests")
            let limit = RegistryOptions.maximumRequests
            guard (1...limit).contains(value) else { throw reader.fail(n, "max_requests must be 1 to \(limit)") }
            return value
        }
        config.failFast = try top["fail_fast"].map { (n) throws(PierError) in try reader.bool(n, "fail_fast") }
        config.pushOnPullRequest = try top["push_on_pr"].map { (n) throws(PierError) in try reader.bool(n, "push_on_pr")
        }
        if let node = top["insecure_registries"] {
            config.insecureRegistries = try reader.sequence(node, "insecure_registries").map { (n) throws(PierError) in
                try reader.string(n, "insecure_registries")
            }
        }
        config.caFile = try top["ca_file"].map { (n) throws(PierError) in try reader.string(n, "ca_file") }
        if let node = top["build"] { config.build = try parseBuild(node, reader: reader) }
        if let node = top["prune"] { config.prune = try parsePrune(node, reader: reader) }
        if let node = top["referrers"] {
            let section = try reader.mapping(node, "referrers", allowed: ["carry", "types"])
            var selection = ReferrerSelection()
            if let carry = section["carry"] { selection.carry = try reader.bool(carry, "referrers.carry") }
            if let types = section["types"] {
                selection.artifactTypes = try reader.sequence(types, "referrers.types").map {
                    (n) throws(PierError) in
                    let type = try reader.string(n, "referrers.types")
                    guard MediaType.isMediaType(type) else {
                        throw reader.fail(
                            n, "referrers.types: \"\(type)\" is not a media type (\(MediaType.artifactTypeExamples))")
                    }
                    return type
                }
            }
            config.referrers = selection
        }
        if let node = top["signing"] { config.signing = try parseSigning(node, reader: reader) }
        config.organisation = try parseOrganisation(
            top["organisation"], repositories: top["repositories"], reader: reader)
        return config
    }

    /// `ecr:` of a registry: scan_on_push (bool), tag_mutability (MUTABLE, IMMUTABLE), encryption (AES256, KMS)
    /// and kms_key (with KMS).
    static func parseECR(_ node: Node, key: String, reader: Reader) throws(PierError) -> ECRRepositorySettings {
        let e = try reader.mapping(node, key, allowed: ["scan_on_push", "tag_mutability", "encryption", "kms_key"])
        var settings = ECRRepositorySettings()
        if let value = e["scan_on_push"] { settings.scanOnPush = try reader.bool(value, "\(key).scan_on_push") }
        if let value = e["tag_mutability"] {
            settings.tagMutability = try reader.choice(
                value, "\(key).tag_mutability", ECRRepositorySettings.TagMutability.self)
        }
        if let value = e["encryption"] {
            settings.encryption = try reader.choice(value, "\(key).encryption", ECRRepositorySettings.Encryption.self)
        }
        if let value = e["kms_key"] {
            guard settings.encryption == .kms else { throw reader.fail(value, "\(key).kms_key needs encryption: KMS") }
            settings.kmsKey = try reader.string(value, "\(key).kms_key")
        }
        return settings
    }

    /// `prune:`: keep_last, keep_newer_than and expire_older_than (90d, 12h, 2w), keep (regexes), only (a regex),
    /// untagged (true: also delete untagged manifests nothing reaches, where the registry's API lists them).
    /// Counts, durations and regexes are checked here, so a typo is reported with its line before any registry is
    /// asked anything.
    static func parsePrune(_ node: Node, reader: Reader) throws(PierError) -> RetentionPolicy.Rules {
        let p = try reader.mapping(
            node, "prune", allowed: ["keep_last", "keep_newer_than", "expire_older_than", "keep", "only", "untagged"])
        var rules = RetentionPolicy.Rules(origin: .config(reader.file))
        if let value = p["keep_last"] {
            let count = try reader.int(value, "prune.keep_last")
            guard (0...RetentionPolicy.maximumCount).contains(count) else {
                throw reader.fail(value, "prune.keep_last must be 0 to \(RetentionPolicy.maximumCount)")
            }
            rules.keepLast = count
        }
        func duration(_ key: String) throws(PierError) -> TimeInterval? {
            guard let value = p[key] else { return nil }
            let text = try reader.string(value, "prune.\(key)")
            do { return try RetentionPolicy.parseDuration(text) } catch {
                throw reader.fail(
                    value, "prune.\(key) \"\(text)\" is not a duration of at most 100 years (use 90d, 12h, 2w, 30m)")
            }
        }
        rules.keepNewerThan = try duration("keep_newer_than")
        rules.expireOlderThan = try duration("expire_older_than")
        func regex(_ value: Node, _ key: String) throws(PierError) -> String {
            let pattern = try reader.string(value, key)
            guard (try? NSRegularExpression(pattern: pattern)) != nil else {
                throw reader.fail(value, "\(key) \"\(pattern)\" is not a valid regular expression")
            }
            return pattern
        }
        if let value = p["keep"] {
            rules.keep = try reader.sequence(value, "prune.keep").map { (item) throws(PierError) in
                try regex(item, "prune.keep")
            }
        }
        if let value = p["only"] { rules.only = try regex(value, "prune.only") }
        if let value = p["untagged"] { rules.untagged = try reader.bool(value, "prune.untagged") }
        guard rules.keepLast != nil || rules.keepNewerThan != nil || !rules.keep.isEmpty || rules.expireOlderThan != nil
        else {
            throw reader.fail(node, "prune needs keep_last, keep_newer_than, keep or expire_older_than")
        }
        return rules
    }

    /// `build:`: the same names as `pier build`'s flags, with lists and mappings where flags repeat.
    static func parseBuild(_ node: Node, reader: Reader) throws(PierError) -> BuildSpec {
        let b = try reader.mapping(
            node, "build",
            allowed: [
                "builder", "context", "file", "build_args", "target", "labels", "platforms", "base", "add", "chmod",
                "chown",
                "binaries", "binary_dir", "entrypoint", "cmd", "env", "workdir", "user", "expose", "output", "pass_env",
                "compression", "compression_level",
            ])
        var spec = BuildSpec()
        func text(_ key: String) throws(PierError) -> String? {
            try b[key].map { (n) throws(PierError) in try reader.string(n, "build.\(key)") }
        }
        func list(_ key: String) throws(PierError) -> [String] {
            guard let node = b[key] else { return [] }
            return try reader.sequence(node, "build.\(key)").map { (n) throws(PierError) in
                try reader.string(n, "build.\(key)")
            }
        }
        /// A command: a list of words, or one string.
        func command(_ key: String) throws(PierError) -> String? {
            guard let node = b[key] else { return nil }
            if case .sequence = node {
                let words = try list(key)
                return String(decoding: (try? JSONEncoder().encode(words)) ?? Data(), as: UTF8.self)
            }
            return try reader.string(node, "build.\(key)")
        }
        if let node = b["builder"] { spec.builder = try reader.choice(node, "build.builder", BuilderChoice.self) }
        spec.context = try text("context") ?? "."
        spec.file = try text("file")
        spec.buildArgs =
            try b["build_args"].map { (n) throws(PierError) in try reader.pairs(n, "build.build_args") } ?? []
        spec.target = try text("target")
        for pair in try b["labels"].map({ (n) throws(PierError) in try reader.pairs(n, "build.labels") }) ?? [] {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            spec.labels[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        spec.platforms = try list("platforms")
        spec.base = try text("base")
        spec.additions = try list("add")
        spec.fileMode = try text("chmod")
        spec.owner = try text("chown")
        spec.binaries = try b["binaries"].map { (n) throws(PierError) in try reader.pairs(n, "build.binaries") } ?? []
        spec.binaryDirectory = try text("binary_dir")
        spec.entrypoint = try command("entrypoint")
        spec.cmd = try command("cmd")
        spec.env = try b["env"].map { (n) throws(PierError) in try reader.pairs(n, "build.env") } ?? []
        spec.workingDir = try text("workdir")
        spec.user = try text("user")
        spec.exposedPorts = try list("expose")
        spec.output = try text("output")
        spec.passEnvironment = try list("pass_env")
        spec.compression = try text("compression")
        spec.compressionLevel = try b["compression_level"].map { (n) throws(PierError) in
            try reader.int(n, "build.compression_level")
        }
        return spec
    }

    /// Typed access to YAML nodes with errors that name the key and line.
    struct Reader {
        let file: String

        func line(_ node: Node) -> Int { node.mark?.line ?? 0 }

        func fail(_ node: Node, _ message: String) -> PierError {
            PierError(.invalidInput, operation: "read config", message: "\(file):\(line(node)): \(message)")
        }

        func mapping(_ node: Node, _ key: String, allowed: Set<String>) throws(PierError) -> [String: Node] {
            guard case .mapping(let mapping) = node else { throw fail(node, "\(key) must be a mapping") }
            var result: [String: Node] = [:]
            for (name, value) in mapping {
                guard let text = name.string else { throw fail(name, "\(key) has a key that is not a string") }
                guard allowed.contains(text) else {
                    // pier.yml spells its keys the British way (`organisation`); name the key a US spelling meant.
                    let british = text.replacingOccurrences(of: "z", with: "s")
                    let suggestion = british != text && allowed.contains(british) ? "did you mean \"\(british)\"? " : ""
                    throw fail(
                        name,
                        "unknown key \"\(text)\"" + (key == "(top level)" ? "" : " in \(key)")
                            + " (\(suggestion)known: \(allowed.sorted().joined(separator: ", ")))")
                }
                result[text] = value
            }
            return result
        }

        /// A mapping of strings, or a list of `KEY=VALUE` strings, as `KEY=VALUE` strings sorted by key.
        func pairs(_ node: Node, _ key: String) throws(PierError) -> [String] {
            switch node {
            case .mapping(let mapping):
                var result: [String] = []
                for (name, value) in mapping {
                    result.append("\(try string(name, key))=\(try string(value, "\(key).\(name.string ?? "")"))")
                }
                return result.sorted()
            case .sequence:
                return try sequence(node, key).map { (item) throws(PierError) in
                    let text = try string(item, key)
                    guard text.contains("=") else {
                        throw fail(item, "\(key) entries must be KEY=VALUE, not \"\(text)\"")
                    }
                    return text
                }
            default:
                throw fail(node, "\(key) must be a mapping or a list of KEY=VALUE")
            }
        }

        func sequence(_ node: Node, _ key: String) throws(PierError) -> [Node] {
            guard case .sequence(let sequence) = node else { throw fail(node, "\(key) must be a list") }
            return Array(sequence)
        }

        func string(_ node: Node, _ key: String) throws(PierError) -> String {
            guard case .scalar(let scalar) = node else { throw fail(node, "\(key) must be a string") }
            return scalar.string
        }

        func bool(_ node: Node, _ key: String) throws(PierError) -> Bool {
            guard case .scalar = node, let value = node.bool else { throw fail(node, "\(key) must be true or false") }
            return value
        }

        /// A decimal whole number, parsed here: Yams' own reading of YAML 1.1 base-60 integers (`1:30:00`)
        /// multiplies without overflow checks and traps on a long one.
        func int(_ node: Node, _ key: String) throws(PierError) -> Int {
            guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any,
                let value = Int(scalar.string.replacingOccurrences(of: "_", with: ""), radix: 10)
            else { throw fail(node, "\(key) must be a whole number") }
            return value
        }

        /// Requests in flight: 1 to `RegistryOptions.maximumConcurrency`.
        func concurrency(_ node: Node, _ key: String) throws(PierError) -> Int {
            let value = try int(node, key)
            let limit = RegistryOptions.maximumConcurrency
            guard (1...limit).contains(value) else { throw fail(node, "\(key) must be 1 to \(limit)") }
            return value
        }

        func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ key: String, _ type: T.Type) throws(PierError)
            -> T
        where T.RawValue == String {
            let text = try string(node, key)
            guard let value = T(rawValue: text) else {
                throw fail(
                    node, "\(key) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(text)\""
                )
            }
            return value
        }
    }
}
