import Crypto
import Foundation

/// A content digest, `algorithm:encoded`, as defined by the OCI image spec (descriptor.md §Digests).
///
/// Only `sha256` is accepted, with lowercase hex of the exact length, so a digest can safely name a file under
/// `blobs/sha256/<encoded>` (no separators, no `..`) and every digest pier meets is one it verifies. sha256 is the
/// algorithm image-spec requires (descriptor.md §Registered algorithms: sha512 is optional); a manifest or reference
/// naming sha512 is refused rather than trusted unchecked.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let algorithm: String
    public let encoded: String

    public init(_ string: String) throws(PierError) {
        guard let colon = string.firstIndex(of: ":") else {
            throw PierError(
                .usage, operation: "parse digest", message: "invalid digest \"\(string)\": expected algorithm:hex")
        }
        let algorithm = String(string[..<colon])
        let encoded = String(string[string.index(after: colon)...])
        guard algorithm == "sha256" else {
            throw PierError(
                .usage, operation: "parse digest",
                message:
                    "unsupported digest algorithm \"\(algorithm)\" in \"\(string)\" (pier verifies sha256 digests, the algorithm OCI requires)"
            )
        }
        let expected = 64
        guard encoded.utf8.count == expected,
            encoded.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) })
        else {
            throw PierError(
                .usage, operation: "parse digest",
                message: "invalid digest \"\(string)\": \(algorithm) needs \(expected) lowercase hex characters")
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// The sha256 digest of `bytes`.
    public static func sha256(of bytes: some DataProtocol) -> Digest {
        Digest(trustedSHA256: SHA256.hash(data: bytes))
    }

    /// Wraps a finished SHA-256 hash.
    public init(trustedSHA256 hash: SHA256.Digest) {
        self.algorithm = "sha256"
        self.encoded = hash.hexString
    }

    public var description: String { "\(algorithm):\(encoded)" }
    /// `sha256:0123456789ab`: the first 12 hex characters, for humans.
    public var short: String { "\(algorithm):\(encoded.prefix(12))" }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        do { self = try Digest(string) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Incremental hashing for streams: feed chunks, then read the digest and the byte count.
public struct DigestHasher: Sendable {
    private var hasher = SHA256()
    public private(set) var count: Int64 = 0
    public init() {}
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
        count += Int64(bytes.count)
    }
    public mutating func update(_ bytes: some DataProtocol) {
        hasher.update(data: bytes)
        count += Int64(bytes.count)
    }
    public func finalize() -> Digest { Digest(trustedSHA256: hasher.finalize()) }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hex, without per-byte String(format:) (that is slow).
    public var hexString: String {
        let table: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in self {
            out.append(table[Int(byte >> 4)])
            out.append(table[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
