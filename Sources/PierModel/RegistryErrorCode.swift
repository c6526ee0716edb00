/// A `code` from a registry's `{"errors":[{"code":…}]}` body: the fourteen of distribution-spec §Error Codes
/// (code-1 to code-14), and any other code kept as the registry sent it (ECR's `TAG_INVALID`, Harbor's
/// `PRECONDITION`). Encodes as that string.
public enum RegistryErrorCode: Sendable, Hashable, Codable, CustomStringConvertible {
    /// code-1: blob unknown to registry.
    case blobUnknown
    /// code-2: blob upload invalid.
    case blobUploadInvalid
    /// code-3: blob upload unknown to registry.
    case blobUploadUnknown
    /// code-4: provided digest did not match uploaded content.
    case digestInvalid
    /// code-5: blob unknown to registry (a manifest references a blob the repository does not hold).
    case manifestBlobUnknown
    /// code-6: manifest invalid.
    case manifestInvalid
    /// code-7: manifest unknown to registry.
    case manifestUnknown
    /// code-8: invalid repository name.
    case nameInvalid
    /// code-9: repository name not known to registry.
    case nameUnknown
    /// code-10: provided length did not match content length.
    case sizeInvalid
    /// code-11: authentication required.
    case unauthorized
    /// code-12: requested access to the resource is denied.
    case denied
    /// code-13: the operation is unsupported.
    case unsupported
    /// code-14: too many requests.
    case tooManyRequests
    /// A code outside the spec, as the registry sent it (already cut to length by the decoder).
    case other(String)

    /// The spec's fourteen codes.
    public static let specified: [RegistryErrorCode] = [
        .blobUnknown, .blobUploadInvalid, .blobUploadUnknown, .digestInvalid, .manifestBlobUnknown, .manifestInvalid,
        .manifestUnknown, .nameInvalid, .nameUnknown, .sizeInvalid, .unauthorized, .denied, .unsupported,
        .tooManyRequests,
    ]
    private static let byName = Dictionary(uniqueKeysWithValues: specified.map { ($0.name, $0) })

    /// The code for a wire name: the spec's names match as the spec writes them (upper case), anything else is
    /// `other`.
    public init(_ name: String) {
        self = Self.byName[name] ?? .other(name)
    }

    /// The wire name: `BLOB_UNKNOWN`, …, or the other code as it came.
    public var name: String {
        switch self {
        case .blobUnknown: "BLOB_UNKNOWN"
        case .blobUploadInvalid: "BLOB_UPLOAD_INVALID"
        case .blobUploadUnknown: "BLOB_UPLOAD_UNKNOWN"
        case .digestInvalid: "DIGEST_INVALID"
        case .manifestBlobUnknown: "MANIFEST_BLOB_UNKNOWN"
        case .manifestInvalid: "MANIFEST_INVALID"
        case .manifestUnknown: "MANIFEST_UNKNOWN"
        case .nameInvalid: "NAME_INVALID"
        case .nameUnknown: "NAME_UNKNOWN"
        case .sizeInvalid: "SIZE_INVALID"
        case .unauthorized: "UNAUTHORIZED"
        case .denied: "DENIED"
        case .unsupported: "UNSUPPORTED"
        case .tooManyRequests: "TOOMANYREQUESTS"
        case .other(let name): name
        }
    }

    public var description: String { name }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

extension PierError.RegistryErrorDetail {
    /// `code` as a distribution-spec error code, or `other` with the code as sent.
    public var errorCode: RegistryErrorCode { RegistryErrorCode(code) }
}
