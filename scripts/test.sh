#!/usr/bin/env bash
# The test command: installs test dependencies when missing, builds, runs every test (unit, integration against
# real docker-registry instances, interop with skopeo/umoci, quirk tests against the in-process fake registry).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
swift build --build-tests
PIER_BIN="$(swift build --show-bin-path)/pier" swift test --skip-build "$@"
