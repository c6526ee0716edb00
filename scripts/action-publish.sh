#!/usr/bin/env bash
# The publish step of the GitHub Action (action.yml): runs `pier publish --json`, writes the step outputs (digest,
# tags, report) on exit 0 and 75, a job summary (tags × registries with digests and pull commands) and
# ::error::/::warning:: annotations. Every input comes from the environment; nothing is evaluated as shell code.
#   PIER                 the pier binary
#   INPUT_SOURCE, INPUT_TO (one per line), INPUT_CONFIG, INPUT_ON_CONFLICT, INPUT_ARGS (split on whitespace)
#   GITHUB_OUTPUT, GITHUB_STEP_SUMMARY (set by the runner; default /dev/null)
set -uo pipefail

report="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/pier-report.json"
args=(publish --json --source "$INPUT_SOURCE" --on-conflict "${INPUT_ON_CONFLICT:-fail}")
[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
while IFS= read -r repo; do
  repo="${repo#"${repo%%[![:space:]]*}"}"; repo="${repo%"${repo##*[![:space:]]}"}"
  [ -n "$repo" ] && args+=(--to "$repo")
done <<< "${INPUT_TO:-}"
extra=()
# read -ra splits on whitespace only: no globbing, no quotes, no expansion.
[ -n "${INPUT_ARGS:-}" ] && read -ra extra <<< "$(tr '\n' ' ' <<< "$INPUT_ARGS")"

"$PIER" "${args[@]}" "${extra[@]}" > "$report"
status=$?

output="${GITHUB_OUTPUT:-/dev/null}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
if [ "$status" = 0 ] || [ "$status" = 75 ]; then
  python3 - "$report" "$output" "$summary" <<'PY'
import json, sys
report_path, output_path, summary_path = sys.argv[1:4]
with open(report_path) as f:
    report = json.load(f)
digest = report.get("digest", "")
tags = [t["name"] for t in report.get("tags", [])]
with open(output_path, "a") as out:
    out.write(f"digest={digest}\n")
    out.write(f"tags={','.join(tags)}\n")
    out.write(f"report={report_path}\n")
def cell(text):
    # Registry names and tags are plain words; keep table syntax and HTML out of the summary anyway.
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
lines = [f"### pier publish: `{cell(digest)}`", "", "| registry | role | tag | action | digest |", "|---|---|---|---|---|"]
for registry in report.get("registries", []):
    repo = registry.get("repository", "")
    for tag in registry.get("tags", []):
        lines.append(f"| {cell(repo)} | {cell(registry.get('role', ''))} | {cell(tag.get('tag', ''))} | "
                     f"{cell(tag.get('action', ''))} | `{cell(digest)}` |")
    error = registry.get("error")
    if error:
        # One annotation per failed registry; the message is pier's own, already free of control characters.
        print(f"::warning title=pier publish::{repo}: {str(error.get('message', '')).splitlines()[0] if error.get('message') else 'failed'}")
lines += ["", "Pull:", "", "```"]
for registry in report.get("registries", []):
    if not registry.get("error"):
        lines.append(f"docker pull {registry.get('repository', '')}@{digest}")
lines += ["```", ""]
with open(summary_path, "a") as out:
    out.write("\n".join(lines) + "\n")
PY
fi
case "$status" in
  0) ;;
  75) echo "::warning title=pier publish::some registries failed (exit 75); the digest and tags outputs describe the registries that succeeded" ;;
  *) echo "::error title=pier publish::pier publish failed with exit code $status (see the log above)" ;;
esac
exit "$status"
