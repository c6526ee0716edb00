#!/usr/bin/env bash
# pier's main job on an embedded default: starts a throw-away docker-registry on 127.0.0.1, makes a small
# multi-layer demo image with umoci, copies it into the registry with pier, and reads it back.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
swift build --product pier
PIER="$(swift build --show-bin-path)/pier"
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
start_registry() {  # name → prints host:port
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
  echo "127.0.0.1:$port"
}
primary=$(start_registry primary)
backup=$(start_registry backup)

umoci init --layout "$work/demo" >/dev/null
umoci new --image "$work/demo:1.0.0" >/dev/null
head -c 4000000 /dev/urandom > "$work/app.bin"
echo "hello from pier" > "$work/hello.txt"
umoci insert --image "$work/demo:1.0.0" "$work/app.bin" /app/app.bin >/dev/null
umoci insert --image "$work/demo:1.0.0" "$work/hello.txt" /app/hello.txt >/dev/null
umoci config --image "$work/demo:1.0.0" --os linux --architecture amd64 --config.entrypoint /app/app.bin \
  --config.label org.opencontainers.image.version=1.0.0 >/dev/null

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
