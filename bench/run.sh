#!/usr/bin/env bash
# Benchmarks: pier against skopeo and the machine's floor (curl), on real docker-registry instances on loopback.
#   bash bench/run.sh            # all cases, 3 runs each
#   RUNS=5 CASES=many-16m bash bench/run.sh
#   PRUNE_ONLY=1 bash bench/run.sh   # the prune plan at 500, 2,000, 5,000 tags (bench/prune.py) instead
#   ORG_ONLY=1 bash bench/run.sh     # sync and status over 50, 200, 800 repositories × 20 tags (bench/org.py)
#   CASES=build-100m,build-100m-text,pull-256m,fan-1g BENCH_NICE=-19 setsid bash bench/run.sh
#       # the build, pull and fan-out rows, interleaved, ahead of other work on a shared machine
#   BENCH_REGISTRY_DIR=/dev/shm CASES=pull-256m,fan-1g RUNS=5 bash bench/run.sh
#       # registries on tmpfs: the tools and the registries' CPU, without the disk's run-to-run swings
#   PACKAGED=1 CASES=pull-256m RUNS=7 bash bench/run.sh   # the packaged (shipped, statically linked) binary
# Output: bench/out/results.md (table) and bench/out/results.json. No figure is a test expectation.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
swift build -c release --product pier
if [ "${ORG_ONLY:-0}" = 1 ]; then
  PIER="$(swift build -c release --show-bin-path)/pier" exec python3 bench/org.py "$@"
fi
if [ "${PRUNE_ONLY:-0}" = 1 ]; then
  PIER="$(swift build -c release --show-bin-path)/pier" exec python3 bench/prune.py "$@"
fi
pier="$(swift build -c release --show-bin-path)/pier"
if [ "${PACKAGED:-0}" = 1 ]; then
  # The binary a release ships (static Swift runtime and Foundation): it starts in about half the time, since the
  # dynamic loader has few symbols to bind (docs/benchmarks.md, third pass).
  tarball="$(PIER_DIST=.build/bench-dist bash scripts/package.sh 0.0.0-bench | tail -n 1)"
  rm -rf .build/bench-dist/unpacked && mkdir -p .build/bench-dist/unpacked
  tar -xzf "$tarball" -C .build/bench-dist/unpacked
  pier="$(ls .build/bench-dist/unpacked/*/bin/pier)"
fi
PIER="$pier" python3 bench/bench.py "$@"
