import PierModel

/// One job's share of an organisation's repositories: `index` of `total` (0-based inside pier). A repository
/// belongs to the shard `SHA-256(name) mod total`: stable across runs, machines and pier versions (never Swift's
/// per-process randomised `Hasher`), and every repository is in exactly one shard.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// 0-based.
    public let index: Int
    public let total: Int

    /// More jobs than this is a typo, not a CI matrix.
    public static let maximumTotal = 10_000

    public init(index: Int, of total: Int, from origin: String) throws(PierError) {
        guard (1...Self.maximumTotal).contains(total) else {
            throw PierError(
                .usage, operation: "read options",
                message: "\(origin): the number of shards \(total) is not between 1 and \(Self.maximumTotal)")
        }
        guard (0..<total).contains(index) else {
            throw PierError(
                .usage, operation: "read options",
                message: "\(origin): shard \(index + 1) of \(total) does not exist (shards are 1 to \(total))")
        }
        self.init(checked: index, of: total)
    }

    /// A shard whose numbers are already known to be in range.
    private init(checked index: Int, of total: Int) {
        self.index = index
        self.total = total
    }

    /// The whole: one shard of one.
    public static let all = Shard(checked: 0, of: 1)

    /// Parses `--shard I/N`, with I from 1 to N (as GitLab's CI_NODE_INDEX counts).
    public init(parsing text: String) throws(PierError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Self.number(parts[0]), let total = Self.number(parts[1]) else {
            throw PierError(
                .usage, operation: "read options", message: "--shard \(text) is not I/N",
                hint: "write the job's number and the number of jobs, 1-based: --shard 2/4")
        }
        try self.init(index: index - 1, of: total, from: "--shard \(text)")
    }

    /// A decimal count of at most 9 digits (no sign, no spaces), else nil.
    static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 9, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// The shard `name` belongs to among `total`.
    public static func index(of name: String, total: Int) -> Int {
        // The first 8 bytes of SHA-256, big-endian (16 hex digits always parse as a UInt64).
        let prefix = UInt64(Digest.sha256(of: Array(name.utf8)).encoded.prefix(16), radix: 16) ?? 0
        return Int(prefix % UInt64(max(1, total)))
    }

    public func contains(_ name: String) -> Bool { Self.index(of: name, total: total) == index }

    /// `2/4`, 1-based as the user wrote it.
    public var description: String { "\(index + 1)/\(total)" }
}
