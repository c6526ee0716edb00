import Foundation
import PierEngine

/// The human rendering of a prune plan or result: one row per tag, newest first.
enum PruneTable {
    static func print(_ result: Pruner.Result, allowUntagFallback: Bool) {
        let out = Terminal.shared
        out.print("\(result.repository)\(result.applied ? "" : " (dry run: nothing deleted; --apply deletes)")")
        let width = max(3, result.decisions.map(\.tag.count).max() ?? 3)
        out.print(
            "  " + "TAG".padding(toLength: width, withPad: " ", startingAt: 0)
                + "  DIGEST               AGE      DATED BY          ACTION  RULE")
        let now = Date()
        for decision in result.decisions {
            let ageText: String = decision.date.map { age(now.timeIntervalSince($0)) } ?? "undated"
            let tag = decision.tag.padding(toLength: width, withPad: " ", startingAt: 0)
            let ageCell = ageText.padding(toLength: 7, withPad: " ", startingAt: 0)
            let source = decision.dateSource.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)
            var action = decision.action.rawValue
            switch decision.untagRoute {
            case .fallback: action += "*"
            case .impossible: action += "!"
            case .native, nil: break
            }
            var rule = decision.rule
            if let looked = decision.dateLooked { rule += " (looked at: \(looked.joined(separator: "; ")))" }
            out.print(
                "  \(tag)  \(decision.digest.short)  \(ageCell)  \(source)  \(action.padding(toLength: 6, withPad: " ", startingAt: 0))  \(rule)"
            )
        }
        let going = result.decisions.filter { $0.action != .keep }.count
        var summary = "  \(result.decisions.count - going) kept, \(going) to remove"
        if result.undatedCount > 0 { summary += ", \(result.undatedCount) undated (kept)" }
        if result.applied { summary += ", \(result.removed.count) removed, \(result.failures.count) failed" }
        out.print(summary)
        let referrers = result.referrers.values.reduce(0) { $0 + $1.count }
        if referrers > 0 {
            out.print("  referrers (signatures, SBOMs) deleted with their images: \(referrers)")
        }
        if !result.untagged.isEmpty {
            let deleting = result.untagged.filter { $0.action == .delete }
            out.print(
                "  untagged manifests: \(deleting.count) to delete, \(result.untagged.count - deleting.count) kept")
            for decision in result.untagged {
                let ageText = decision.date.map { Self.age(now.timeIntervalSince($0)) } ?? "undated"
                out.print(
                    "    \(decision.digest.short)  \(ageText.padding(toLength: 7, withPad: " ", startingAt: 0))  \(decision.action.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))  \(decision.rule)"
                )
            }
        }
        let fallback = result.needingUntagFallback.count
        if fallback > 0, !result.applied {
            out.print(
                "  * \(fallback) tag(s) can only be untagged through the fallback: --apply needs --allow-untag-fallback"
                    + (allowUntagFallback ? " (given)" : ""))
        }
        let impossible = result.decisions.filter { $0.untagRoute == .impossible }.count
        if impossible > 0 { out.print("  ! \(impossible) tag(s) cannot be removed alone on this registry and stay") }
    }

    static func age(_ seconds: TimeInterval) -> String {
        if seconds >= 86400 { return "\(Int(seconds / 86400))d" }
        if seconds >= 3600 { return "\(Int(seconds / 3600))h" }
        return "\(Int(max(0, seconds) / 60))m"
    }
}
