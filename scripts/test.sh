#!/usr/bin/env bash
# The test command: installs test dependencies when missing, builds, runs every test (unit, integration against
# real docker-registry instances, interop with skopeo/umoci, quirk tests against the in-process fake registry).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
swift build --build-tests
# Package pier as a release is packaged (static Swift runtime and Foundation, stripped, completions, man page); the
# debug configuration reuses the build above. ShippingTests run that tarball in a chroot and as pier's own image.
PIER_PACKAGE="$(PIER_PACKAGE_CONFIGURATION=debug PIER_DIST=.build/dist-test bash scripts/package.sh 0.0.0-test)"
export PIER_PACKAGE
# Every temporary file of the run (the tests', pier's, the registries' and tools' they start) goes into one directory,
# removed when the run ends, whatever a test left behind.
PIER_TEST_TMP="$(mktemp -d "${TMPDIR:-/tmp}/pier-tests.XXXXXX")"
trap 'rm -rf "$PIER_TEST_TMP"' EXIT
export TMPDIR="$PIER_TEST_TMP"
# Serial: tests block on child processes (pier, skopeo) while in-process fakes (token server, fake registries)
# answer on the same cooperative thread pool; on a 2-core machine parallel suites starved those fakes.
# The fuzz targets throw on most inputs; the test library would record a backtrace for every throw.
SWT_SWIFT_ERROR_BACKTRACING_ENABLED=0 PIER_BIN="$(swift build --show-bin-path)/pier" swift test --skip-build --no-parallel "$@"
