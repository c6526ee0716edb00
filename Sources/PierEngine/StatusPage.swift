import Foundation
import PierModel

/// `pier status --html FILE`: one self-contained page (inline CSS, no scripts, no external resources) of
/// repositories × registries × tags, with short digests and ages, drift, missing and extra tags marked, and the
/// retention plan's preview where rules are configured.
///
/// Every string that came from a registry or a config (repository names, tags, digests, rules) goes through
/// `escape`, so a hostile tag cannot inject markup. Classes the page uses, one per tag row: `cell ok`, `cell drift`
/// (missing or diverged on a backup) or `cell extra` on the state cell; `digest absent` / `digest differs` on
/// repository cells; `plan keep|untag|delete` on the retention cell.
public enum StatusPage {
    /// One set of repositories (a primary and its backups) as `pier status` saw it.
    public struct Section: Sendable {
        public var status: RegistryStatus
        /// Image dates by repository, then tag (from push times, annotations or configs; absent when undated).
        public var dates: [String: [String: Date]]
        /// The primary's retention plan, when retention rules are configured.
        public var retention: [RetentionDecision]?
        /// Why the section could not be read, for an organisation-wide page (the other sections still show).
        public var failure: String?

        public init(
            status: RegistryStatus, dates: [String: [String: Date]] = [:], retention: [RetentionDecision]? = nil,
            failure: String? = nil
        ) {
            self.status = status
            self.dates = dates
            self.retention = retention
            self.failure = failure
        }
    }

    /// Escapes text for HTML element content and double- or single-quoted attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters have no business on the page; show them as code points.
                if character.value < 0x20 || (0x7f...0x9f).contains(character.value) {
                    out += "&#xFFFD;"
                } else {
                    out.unicodeScalars.append(character)
                }
            }
        }
        return out
    }

    /// An age as people read it: 45s, 12m, 5h, 3d, 8w, 2y.
    public static func age(of date: Date, now: Date) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3_600: return "\(seconds / 60)m"
        case ..<86_400: return "\(seconds / 3_600)h"
        case ..<(14 * 86_400): return "\(seconds / 86_400)d"
        case ..<(730 * 86_400): return "\(seconds / (7 * 86_400))w"
        default: return "\(seconds / (365 * 86_400))y"
        }
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f24;background:#fff}
        h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 6px}
        .meta{color:#57606a;margin-bottom:16px}
        table{border-collapse:collapse;margin-bottom:8px}
        th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
        th{background:#f6f8fa}
        td.tag{font-family:ui-monospace,monospace;font-weight:600}
        .digest{font-family:ui-monospace,monospace}
        .age{color:#57606a;font-size:12px;margin-left:6px}
        .absent{background:#ffebe9;color:#82071e}
        .differs{background:#fff8c5}
        .cell.ok{background:#dafbe1;color:#116329}
        .cell.drift{background:#ff8182;color:#4c0007;font-weight:700}
        .cell.extra{background:#ddf4ff;color:#0a3069}
        .plan.delete{background:#ffebe9;color:#82071e}.plan.untag{background:#fff8c5}.plan.keep{color:#116329}
        .summary span{display:inline-block;margin-right:14px}
        .failure{color:#82071e;font-weight:600}
        """

    /// The page for `sections`, dated `now` (ages are relative to it).
    public static func render(_ sections: [Section], now: Date) -> String {
        let rows = sections.flatMap(\.status.rows)
        let drifted = rows.filter(\.state.isDrift).count
        let extra = rows.filter { $0.state == .extra }.count
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>pier status</title>
            <meta name="viewport" content="width=device-width,initial-scale=1">
            <style>\(style)</style></head><body>
            <h1>pier status</h1>
            <div class="meta">\(escape(ImageDate.rfc3339(now)))</div>
            <div class="summary"><span id="sections">\(sections.count) \(sections.count == 1 ? "repository" : "repositories")</span>\
            <span id="tags">\(rows.count) tags</span><span id="drifted">\(drifted) drifted</span>\
            <span id="extra">\(extra) extra</span>\
            <span id="failed">\(sections.filter { $0.failure != nil }.count) failed</span></div>

            """
        for section in sections { html += render(section, now: now) }
        html += "</body></html>\n"
        return html
    }

    static func render(_ section: Section, now: Date) -> String {
        let status = section.status
        let repositories = status.repositories
        var html = "<section><h2>\(escape(repositories.first ?? ""))</h2>\n"
        if let failure = section.failure {
            return html + "<p class=\"failure\">\(escape(failure))</p></section>\n"
        }
        let plan = section.retention.map { Dictionary($0.map { ($0.tag, $0) }, uniquingKeysWith: { a, _ in a }) }
        html += "<table><thead><tr><th>tag</th>"
        for (index, repository) in repositories.enumerated() {
            html += "<th>\(escape(repository))\(index == 0 ? " (primary)" : "")</th>"
        }
        html += "<th>state</th>" + (plan == nil ? "" : "<th>retention</th>") + "</tr></thead><tbody>\n"
        for row in status.rows {
            let primary = repositories.first.flatMap { row.digests[$0] ?? nil }
            html += "<tr><td class=\"tag\">\(escape(row.tag))</td>"
            for repository in repositories {
                guard let digest = row.digests[repository] ?? nil else {
                    html += "<td class=\"digest absent\">—</td>"
                    continue
                }
                let differs = primary != nil && digest != primary
                html += "<td class=\"digest\(differs ? " differs" : "")\" title=\"\(escape(digest.description))\">"
                html += escape(digest.short)
                if let dated = section.dates[repository] {
                    // Dates were read: a tag without one is undated (prune never deletes it), not of unknown age.
                    html +=
                        "<span class=\"age\">\(dated[row.tag].map { escape(age(of: $0, now: now)) } ?? "undated")</span>"
                }
                html += "</td>"
            }
            let kind = row.state.isDrift ? "drift" : row.state == .extra ? "extra" : "ok"
            html += "<td class=\"cell \(kind)\" data-state=\"\(row.state.rawValue)\">\(row.state.rawValue)</td>"
            if let plan {
                if let decision = plan[row.tag] {
                    html +=
                        "<td class=\"plan \(decision.action.rawValue)\" title=\"\(escape(decision.rule))\">"
                        + "\(decision.action.rawValue)</td>"
                } else {
                    html += "<td></td>"
                }
            }
            html += "</tr>\n"
        }
        html += "</tbody></table>\n"
        if let decisions = section.retention {
            // The counts are over the tags the table shows (a `tags:` filter hides some); the plan itself covers
            // every tag of the primary, as prune does, so the rest is named apart.
            let shownTags = Set(status.rows.map(\.tag))
            let shown = decisions.filter { shownTags.contains($0.tag) }
            let removing = shown.filter { $0.action != .keep }.count
            html +=
                "<p class=\"retention\">retention preview for \(escape(repositories.first ?? "")): "
                + "\(shown.count - removing) kept, \(removing) to remove"
            if shown.count < decisions.count {
                let hidden = decisions.count - shown.count
                let hiddenRemoving = decisions.filter { !shownTags.contains($0.tag) && $0.action != .keep }.count
                html += " of the tags shown; prune also plans \(hidden) tags not shown (\(hiddenRemoving) to remove)"
            }
            html += "</p>\n"
        }
        return html + "</section>\n"
    }
}
