/// An OCI content descriptor (image-spec descriptor.md). Unknown fields are not kept here: pier never re-encodes
/// a descriptor it read, it keeps the raw manifest bytes instead.
public struct Descriptor: Hashable, Sendable, Codable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var platform: Platform?
    public var annotations: [String: String]?
    public var artifactType: String?

    public init(
        mediaType: String, digest: Digest, size: Int64, platform: Platform? = nil, annotations: [String: String]? = nil
    ) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
        self.annotations = annotations
    }

    enum CodingKeys: String, CodingKey {
        case mediaType, digest, size, platform, annotations, artifactType
    }

    /// Decodes a descriptor, refusing a negative size (descriptor.md: the size of the raw content in bytes).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        mediaType = try container.decode(String.self, forKey: .mediaType)
        digest = try container.decode(Digest.self, forKey: .digest)
        size = try container.decode(Int64.self, forKey: .size)
        guard size >= 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: .size, in: container, debugDescription: "size \(size) is negative")
        }
        platform = try container.decodeIfPresent(Platform.self, forKey: .platform)
        annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations)
        artifactType = try container.decodeIfPresent(String.self, forKey: .artifactType)
    }

    /// The sum of `descriptors`' sizes, or an error naming `what` when it does not fit in `Int64` (each size is
    /// from a manifest someone else wrote).
    public static func totalSize(of descriptors: [Descriptor], what: String, source: String) throws(PierError) -> Int64
    {
        var total: Int64 = 0
        for descriptor in descriptors {
            let (sum, overflow) = total.addingReportingOverflow(max(0, descriptor.size))
            guard !overflow else {
                throw PierError(
                    .invalidInput, operation: "read manifest",
                    message: "the \(what) sizes add up to more than \(Int64.max) bytes", registry: source,
                    hint: "the manifest is corrupt or hostile")
            }
            total = sum
        }
        return total
    }
}

/// `os/architecture[/variant]`, as in an index entry's `platform` field.
public struct Platform: Hashable, Sendable, Codable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?
    public var osVersion: String?

    enum CodingKeys: String, CodingKey {
        case os, architecture, variant
        case osVersion = "os.version"
    }

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// Parses `linux/amd64`, `linux/arm64/v8`, `linux/arm/v7`.
    public init(parsing text: String) throws(PierError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw PierError(
                .usage, operation: "parse platform", message: "invalid platform \"\(text)\"",
                hint: "use os/arch[/variant], for example linux/amd64 or linux/arm64/v8")
        }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }

    /// Operating systems and architectures images are built for (GOOS/GOARCH names, as image-spec uses).
    public static let knownOperatingSystems: Set<String> = [
        "linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly", "solaris", "illumos", "aix",
        "android",
        "ios", "js", "wasip1", "plan9",
    ]
    public static let knownArchitectures: Set<String> = [
        "amd64", "arm64", "arm", "386", "ppc64le", "ppc64", "s390x", "riscv64", "mips", "mipsle", "mips64", "mips64le",
        "loong64", "wasm",
    ]

    /// Parses a platform a build targets, refusing names no image runs on (`linux/amd46` is a typo, not a platform).
    public init(parsingBuildTarget text: String) throws(PierError) {
        try self.init(parsing: text)
        guard Self.knownOperatingSystems.contains(os), Self.knownArchitectures.contains(architecture) else {
            throw PierError(
                .usage, operation: "parse platform", message: "unknown platform \"\(text)\"",
                hint: "use os/arch[/variant] with Go's names, for example linux/amd64, linux/arm64, linux/arm/v7")
        }
    }

    /// Index entries for attestations and signatures carry `unknown/unknown`; they are not runnable platforms.
    public var isUnknown: Bool { os == "unknown" || architecture == "unknown" }

    /// True when `self` (what the user asked for) selects `candidate`. A missing variant matches any variant,
    /// except that `arm64` means `arm64/v8` (containerd's platform normalisation).
    public func matches(_ candidate: Platform) -> Bool {
        guard os == candidate.os, architecture == candidate.architecture else { return false }
        guard let variant else { return true }
        let other = candidate.variant ?? (candidate.architecture == "arm64" ? "v8" : nil)
        return variant == other
    }
}
