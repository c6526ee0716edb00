#!/usr/bin/env bash
# pier's main job on an embedded default: starts a throw-away docker-registry on 127.0.0.1, makes a small
# two-platform demo image with pier build, publishes it to a primary and a backup, and reads it back.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
swift build --product pier
PIER="$(swift build --show-bin-path)/pier"
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
start_registry() {  # name → sets $host to host:port (no subshell, so the trap sees the pid)
  local port; port=$(free_port)
  cat > "$work/$1.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/$1-data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YML
  docker-registry serve "$work/$1.yml" >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  host="127.0.0.1:$port"
}
start_registry primary; primary=$host
start_registry backup; backup=$host

mkdir -p "$work/src/amd64" "$work/src/arm64" "$work/src/public"
head -c 4000000 /dev/urandom > "$work/src/amd64/app"
head -c 4000000 /dev/urandom > "$work/src/arm64/app"
echo "hello from pier" > "$work/src/public/index.html"

echo "== pier build: a two-platform image from two binaries and a directory, no builder, no daemon" >&2
"$PIER" build --binary "linux/amd64=$work/src/amd64/app" --binary "linux/arm64=$work/src/arm64/app" \
  --add "$work/src/public:/srv/public" --expose 8080 --user 65532 --label org.opencontainers.image.title=demo \
  --output "oci:$work/demo:1.0.0"
echo "== pier tags plan --version v1.0.0 (from git and flags)" >&2
"$PIER" tags plan --version v1.0.0
echo "== pier publish oci:demo:1.0.0 → $primary/demo/app (primary) and $backup/demo/app (backup)" >&2
"$PIER" publish --source "oci:$work/demo:1.0.0" --version v1.0.0 --to "$primary/demo/app" --to "$backup/demo/app"
echo "== pier publish again: nothing to upload, every tag unchanged" >&2
"$PIER" publish --source "oci:$work/demo:1.0.0" --version v1.0.0 --to "$primary/demo/app" --to "$backup/demo/app"
echo "== pier copy (same registry: blobs are mounted, not uploaded)" >&2
"$PIER" copy "$primary/demo/app:1.0.0" "$primary/demo/mirror:1.0.0"
echo "== pier inspect $backup/demo/app:latest" >&2
"$PIER" inspect "$backup/demo/app:latest"
echo "== pier tags $backup/demo/app" >&2
"$PIER" tags "$backup/demo/app"
