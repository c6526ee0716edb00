import PierHTTP
import PierHostedAPIs
import PierModel

/// ECR's scan of a published image (`DescribeImageScanFindings`): its status and findings by severity, shown in
/// `publish --json` and `pier status`, and a release gate (`--fail-on-severity`) over them. The gate fails closed:
/// an ECR repository without a completed scan of the digest fails it as findings would.
public enum ECRScanGate {
    /// Reads of a scan still in progress before the gate gives up on it (about 5 minutes): ECR's basic scan of an
    /// image takes seconds to a few minutes.
    static let pollLimit = 60
    static let pollInterval: Duration = .seconds(5)
    /// Digests looked up by one `pier status`: a scan lookup per image, not per tag, and no more than this.
    public static let maximumLookups = 100
    /// The status given to an image ECR has no scan of (`ScanNotFoundException`).
    public static let notScanned = "NOT_SCANNED"

    /// `severity` when it is one of ECR's, upper-cased; else a usage error naming the flag.
    public static func checkedSeverity(_ severity: String) throws(PierError) -> String {
        let upper = severity.uppercased()
        guard ECRScanFindings.severities.contains(upper) else {
            throw PierError(
                .usage, operation: "read options",
                message:
                    "--fail-on-severity \(severity) is not one of \(ECRScanFindings.severities.joined(separator: ", "))"
            )
        }
        return upper
    }

    /// The scan of `digest` in `target`, nil when the registry is not ECR. With `wait`, a scan in progress (or not
    /// yet started, as right after a push) is read again until it ends or `pollLimit` reads were made.
    public static func findings(_ target: ImageReference, digest: Digest, session: Session, wait: Bool)
        async throws(PierError) -> ECRScanFindings?
    {
        guard
            case .native(let api) = try RegistryAPISelection.choose(
                for: target.registry, operation: "read scan findings", session: session),
            let ecr = api as? ECRAPI
        else { return nil }
        var polls = 0
        while true {
            polls += 1
            let found = try await ecr.scanFindings(target.repository, digest: digest)
            let status = found?.status ?? notScanned
            guard wait, ["IN_PROGRESS", "PENDING", notScanned].contains(status), polls < pollLimit,
                await RetryPolicy.sleep(pollInterval)
            else { return found ?? ECRScanFindings(status: notScanned, countsBySeverity: [:]) }
            if polls == 1 {
                session.logger.info("waiting for ECR's scan of \(digest.short) in \(target.repositoryName)")
            }
        }
    }

    /// ECR's scans of the digests `status` shows in each ECR repository of `targets`, at most `maximumLookups`
    /// reads in all, without waiting; nil when no repository is ECR. A repository whose scans cannot be read is
    /// left out (and logged, unless there are no AWS credentials to read them with).
    public static func statusScans(_ status: RegistryStatus, targets: [ImageReference], session: Session) async
        -> [String: [String: ECRScanFindings]]?
    {
        var scans: [String: [String: ECRScanFindings]] = [:]
        var lookups = 0
        for target in targets {
            let digests = Set(status.rows.compactMap { $0.digests[target.repositoryName] ?? nil })
            for digest in digests.sorted(by: { $0.description < $1.description }) where lookups < maximumLookups {
                lookups += 1
                do {
                    guard let found = try await findings(target, digest: digest, session: session, wait: false) else {
                        break
                    }
                    scans[target.repositoryName, default: [:]][digest.description] = found
                } catch {
                    // No AWS credentials (logged in with docker or a helper): no scans to show, and nothing wrong.
                    if error.kind == .auth, error.status == nil { break }
                    session.logger.warning(
                        "warning: cannot read ECR's scans of \(target.repositoryName): \(error.message)")
                    break
                }
            }
        }
        return scans.isEmpty ? nil : scans
    }

    /// The gate's verdict over the scans of one digest by repository: nil when every scan is complete with no
    /// finding at or above `threshold`.
    public static func failure(_ scans: [String: ECRScanFindings], threshold: String) -> PierError? {
        guard !scans.isEmpty else {
            return PierError(
                .verification, operation: "check scan findings",
                message: "--fail-on-severity \(threshold): no target is an ECR repository, so nothing was scanned",
                hint: "publish to ECR (or pass --registry-api ecr), or drop --fail-on-severity")
        }
        var problems: [String] = []
        for (repository, scan) in scans.sorted(by: { $0.key < $1.key }) {
            if scan.status != "COMPLETE" {
                problems.append("\(repository): scan \(scan.status)")
            } else if scan.count(atLeast: threshold) > 0 {
                problems.append("\(repository): \(summary(scan))")
            }
        }
        guard !problems.isEmpty else { return nil }
        return PierError(
            .verification, operation: "check scan findings",
            message: "findings at or above \(threshold): " + problems.joined(separator: "; "),
            hint: "fix the findings (describe-image-scan-findings lists them) or raise --fail-on-severity")
    }

    /// `CRITICAL 2, HIGH 1`, most severe first; `no findings` when empty.
    public static func summary(_ scan: ECRScanFindings) -> String {
        let known = ECRScanFindings.severities.filter { (scan.countsBySeverity[$0] ?? 0) > 0 }
        let other = scan.countsBySeverity.keys.filter { !ECRScanFindings.severities.contains($0) }.sorted()
        let parts = (known + other).compactMap { severity in
            scan.countsBySeverity[severity].flatMap { $0 > 0 ? "\(severity) \($0)" : nil }
        }
        return parts.isEmpty ? "no findings" : parts.joined(separator: ", ")
    }
}
