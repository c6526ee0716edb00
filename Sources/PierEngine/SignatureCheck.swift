import PierModel

/// One signature layer checked against a key.
public struct SignatureCheck: Sendable, Encodable, Equatable {
    /// `repository:tag` (or `repository@digest` for a referrer) the signature was found under.
    public var location: String
    /// The digest of the signed payload blob.
    public var payload: Digest
    /// Why it does not verify; nil when it does.
    public var problem: SignatureProblem?

    public var isValid: Bool { problem == nil }

    enum CodingKeys: String, CodingKey { case location, payload, valid, problem }

    public init(location: String, payload: Digest, problem: SignatureProblem?) {
        self.location = location
        self.payload = payload
        self.problem = problem
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(location, forKey: .location)
        try container.encode(payload, forKey: .payload)
        try container.encode(isValid, forKey: .valid)
        try container.encodeIfPresent(problem?.description, forKey: .problem)
    }

}
