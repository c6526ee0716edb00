import PierModel

/// What a copy or publish reports while it moves blobs, per destination, so the CLI can show one line per
/// registry. Sizes come from manifests: the total is what a destination would upload if it had none of the blobs;
/// blobs it already has, or mounts, count as done at once.
public enum TransferEvent: Sendable, Equatable {
    /// A destination starts moving blobs.
    case started(destination: String, totalBytes: Int64)
    /// Bytes that need no upload (present or mounted).
    case skipped(destination: String, bytes: Int64)
    /// Bytes sent.
    case sent(destination: String, bytes: Int64)
    /// A destination has every blob (not sent when it failed: its error says what happened).
    case finished(destination: String)

    public var destination: String {
        switch self {
        case .started(let name, _), .skipped(let name, _), .sent(let name, _), .finished(let name): return name
        }
    }
}

/// Receives transfer events; called from many tasks at once.
public typealias TransferProgress = @Sendable (TransferEvent) -> Void
