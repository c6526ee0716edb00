import Foundation
import PierModel
import Yams

/// Which keys sign and verify images: references to a PEM file or to an environment variable (`env://NAME`, as
/// cosign names them), never the key itself, which on a command line would be visible to every user of the machine
/// and in shell history.
public struct SigningSettings: Sendable, Equatable {
    /// The private key `publish` signs with (`--sign-key`, pier.yml `signing.key`) and `sign` uses without `--key`.
    public var key: String?
    /// The public key `rollback` and `sync` require a valid signature from (`--verify-key`, pier.yml
    /// `signing.verify_key`), and `verify` uses without `--key`.
    public var verifyKey: String?

    public init() {}

    /// The largest key file pier reads: a PEM key is a few hundred bytes.
    static let maximumKeySize = 64 << 10
    /// The prefix of a key held in an environment variable.
    public static let environmentPrefix = "env://"

    /// The PEM text a reference names, and how to name it in messages. Nothing read is ever part of an error.
    static func read(_ reference: String, flag: String, environment: [String: String]) throws(PierError)
        -> (pem: String, origin: String)
    {
        if reference.contains("-----BEGIN") || reference.contains(where: \.isNewline) {
            throw PierError(
                .usage, operation: "read key", message: "\(flag) takes a file or env://NAME, not the key itself",
                hint:
                    "a key on the command line is visible to every user of the machine; put it in a file or a variable")
        }
        if reference.hasPrefix(environmentPrefix) {
            let name = String(reference.dropFirst(environmentPrefix.count))
            guard let value = environment[name], !value.isEmpty else {
                throw PierError(
                    .usage, operation: "read key", message: "\(flag) \(reference): the variable \(name) is not set")
            }
            return (value, reference)
        }
        guard let handle = FileHandle(forReadingAtPath: reference) else {
            // Not quoted: what cannot be opened as a file may be key text pasted where a path belongs.
            throw PierError(
                .usage, operation: "read key", message: "\(flag): cannot read the file it names",
                hint: "give a PEM file's path or env://NAME; the value is not shown, in case it is the key itself")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maximumKeySize + 1)) ?? Data()
        guard data.count <= maximumKeySize, let text = String(data: data, encoding: .utf8) else {
            throw PierError(.usage, operation: "read key", message: "\(flag) \(reference) is not a PEM key file")
        }
        return (text, reference)
    }
}

extension Settings {
    /// The private key `reference` (else pier.yml's `signing.key`) names, or nil when neither names one.
    public func signingKey(_ reference: String? = nil, flag: String) throws(PierError) -> SigningKey? {
        guard let reference = reference ?? signing.key else { return nil }
        let (pem, origin) = try SigningSettings.read(reference, flag: flag, environment: environment)
        return try SigningKey(pem: pem, origin: origin)
    }

    /// The public key `reference` (else pier.yml's `signing.verify_key`) names, or nil when neither names one.
    public func verificationKey(_ reference: String? = nil, flag: String) throws(PierError) -> VerificationKey? {
        guard let reference = reference ?? signing.verifyKey else { return nil }
        let (pem, origin) = try SigningSettings.read(reference, flag: flag, environment: environment)
        return try VerificationKey(pem: pem, origin: origin)
    }
}

extension PierConfig {
    /// `signing:`: `key` (the private key publish signs with) and `verify_key` (the public key rollback and sync
    /// require a signature from), each a file or env://NAME.
    static func parseSigning(_ node: Node, reader: Reader) throws(PierError) -> SigningSettings {
        let entry = try reader.mapping(node, "signing", allowed: ["key", "verify_key"])
        var signing = SigningSettings()
        signing.key = try entry["key"].map { (n) throws(PierError) in try reader.string(n, "signing.key") }
        signing.verifyKey = try entry["verify_key"].map { (n) throws(PierError) in
            try reader.string(n, "signing.verify_key")
        }
        return signing
    }
}
