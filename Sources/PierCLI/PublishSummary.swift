import ArgumentParser
import Foundation
import PierEngine
import PierModel

/// The human rendering of a publish report, and its exit status.
enum PublishSummary {
    /// The first line says how it ended: a failed publish never starts with "published".
    static func headline(_ report: PublishReport) -> String {
        if report.dryRun { return "plan for \(report.source) \(report.digest)" }
        let failed = report.registries.filter { $0.error != nil }.count
        switch report.status {
        case .ok: return "published \(report.source) \(report.digest)"
        case .partial:
            return
                "published \(report.source) \(report.digest) to \(report.registries.count - failed) of \(report.registries.count) registries"
        case .failed: return "failed to publish \(report.source) \(report.digest)"
        }
    }

    static func print(_ report: PublishReport) {
        let out = Terminal.shared
        out.print(headline(report))
        if !report.platforms.isEmpty { out.print("platforms: \(report.platforms.joined(separator: ", "))") }
        out.print("tags: \(report.tags.map(\.name).joined(separator: ", ")) (from \(report.context.origin))")
        for registry in report.registries {
            let state =
                registry.error != nil
                ? "FAILED" : report.dryRun ? "dry run" : registry.verified ? "verified" : "not verified"
            out.print("\(registry.repository) [\(registry.role.rawValue)]: \(state)")
            for tag in registry.tags {
                var line = "  \(tag.tag): \(tag.action.rawValue)"
                if let before = tag.before, tag.action != .unchanged { line += " (was \(before.short))" }
                if let backup = tag.backup { line += ", old image kept as \(backup)" }
                out.print(line)
            }
            if report.dryRun {
                out.print("  would upload \(registry.wouldUpload.count) blob(s)")
            } else if registry.error == nil {
                out.print(
                    String(
                        format: "  blobs: %d uploaded, %d mounted, %d present; %@ in %.1fs", registry.blobsUploaded,
                        registry.blobsMounted, registry.blobsSkipped, ProgressDisplay.format(registry.bytesUploaded),
                        registry.seconds))
            }
            for referrer in registry.referrers { out.print("  " + ReferrersCommand.line(referrer)) }
            if let signature = registry.signature { out.print("  signature: \(signature), verified") }
            if let rateLimit = registry.rateLimit { out.print("  rate limit: \(rateLimit)") }
        }
    }

    /// 0 when every registry succeeded; the registry's own code when the only registry failed; 75 when some did.
    /// Each failure is printed once, here, on stderr.
    static func exitStatus(_ report: PublishReport) throws {
        let failures = report.registries.compactMap(\.pierError)
        guard !failures.isEmpty else { return }
        for failure in failures { Terminal.shared.log(ErrorRendering.render(failure)) }
        if failures.count == report.registries.count, let first = failures.first {
            throw ExitCode(
                ErrorRendering.exitCode(for: failures.allSatisfy { $0.kind == first.kind } ? first.kind : .partial))
        }
        throw ExitCode(ErrorRendering.exitCode(for: .partial))
    }
}
