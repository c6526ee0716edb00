#!/usr/bin/env bash
# swift-format with the repository's .swift-format (120 columns, 4 spaces):
#   bash scripts/format.sh           rewrite Sources, Tests and Package.swift in place
#   bash scripts/format.sh --check   change nothing; exit 1 and list what is not formatted (CI runs this)
# swift-format ships with the Swift 6 toolchain (`swift format`).
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Sources Tests Package.swift)
if [ "${1:-}" = "--check" ]; then
  swift format lint --strict --recursive --parallel "${paths[@]}"
else
  swift format format --in-place --recursive --parallel "${paths[@]}"
fi
