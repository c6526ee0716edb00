import Foundation

/// The one error type pier throws, from the OCI model up to the CLI.
///
/// It carries the context a person needs to act on a failure: what pier was doing, against which registry,
/// repository and reference, what the registry answered, and a hint. The CLI renders it in one place
/// (`ErrorRendering.swift`); no other layer formats errors for people.
public struct PierError: Error, Sendable, CustomStringConvertible {
    /// What class of failure this is. Each kind maps to one documented exit code in the CLI.
    public enum Kind: String, Sendable, Codable {
        /// Wrong flags or arguments, malformed references.
        case usage
        /// Input that is malformed: a corrupt layout or archive, a malformed manifest, a bad config file.
        case invalidInput
        /// The image, tag, manifest or blob does not exist.
        case notFound
        /// Credentials are missing, wrong, or lack permission.
        case auth
        /// The host could not be reached, timed out, or answered 5xx after retries.
        case network
        /// Bytes did not match their digest, or a registry answered with a different digest.
        case verification
        /// A tag exists with different content and the conflict policy says stop.
        case conflict
        /// The registry refused an operation it does not support (DELETE disabled, immutable tags).
        case unsupported
        /// Some destinations succeeded and some failed.
        case partial
        /// Anything else: a bug or an unexpected answer.
        case other
    }

    /// One entry of a registry's `{"errors":[{"code","message","detail"}]}` body (distribution-spec §Error Codes).
    public struct RegistryErrorDetail: Sendable, Codable, Equatable {
        public var code: String
        public var message: String
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    public var kind: Kind
    /// What pier was doing, in a few words: "push blob sha256:ab12…", "get manifest", "read OCI layout".
    public var operation: String
    /// The registry host (`ghcr.io`, `127.0.0.1:5000`) or local path involved.
    public var registry: String?
    public var repository: String?
    /// Tag or digest.
    public var reference: String?
    /// HTTP status the registry answered with, when there was one.
    public var status: Int?
    public var registryErrors: [RegistryErrorDetail]
    /// A short statement of what went wrong.
    public var message: String
    /// What the user can do about it.
    public var hint: String?
    /// The underlying error, rendered; never contains credentials.
    public var cause: String?
    /// Trying again cannot help: pier refused the registry's answer on purpose (a redirect from https to http).
    public var isFinal = false

    public init(
        _ kind: Kind, operation: String, message: String, registry: String? = nil, repository: String? = nil,
        reference: String? = nil, status: Int? = nil, registryErrors: [RegistryErrorDetail] = [], hint: String? = nil,
        cause: String? = nil
    ) {
        self.kind = kind
        self.operation = operation
        self.message = message
        self.registry = registry
        self.repository = repository
        self.reference = reference
        self.status = status
        self.registryErrors = registryErrors
        self.hint = hint
        self.cause = cause
    }

    /// A plain one-line rendering, for logs and tests. The CLI has its own renderer.
    public var description: String {
        var where_ = ""
        if let registry { where_ = registry }
        if let repository { where_ += (where_.isEmpty ? "" : "/") + repository }
        var line = operation
        if !where_.isEmpty { line += " (\(where_))" }
        line += ": "
        if let status { line += "\(status) " }
        line += message
        if let cause { line += " (\(cause))" }
        return line
    }

    /// Copy with the location fields filled where they are still empty.
    public func located(registry: String? = nil, repository: String? = nil, reference: String? = nil) -> PierError {
        var copy = self
        copy.registry = copy.registry ?? registry
        copy.repository = copy.repository ?? repository
        copy.reference = copy.reference ?? reference
        return copy
    }
}
