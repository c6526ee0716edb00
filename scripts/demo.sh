#!/usr/bin/env bash
# pier's main job on an embedded default: starts a throw-away docker-registry on 127.0.0.1, makes a small
# multi-layer demo image with umoci, copies it into the registry with pier, and reads it back.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
swift build --product pier
PIER="$(swift build --show-bin-path)/pier"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done

umoci init --layout "$work/demo" >/dev/null
umoci new --image "$work/demo:1.0.0" >/dev/null
head -c 4000000 /dev/urandom > "$work/app.bin"
echo "hello from pier" > "$work/hello.txt"
umoci insert --image "$work/demo:1.0.0" "$work/app.bin" /app/app.bin >/dev/null
umoci insert --image "$work/demo:1.0.0" "$work/hello.txt" /app/hello.txt >/dev/null
umoci config --image "$work/demo:1.0.0" --os linux --architecture amd64 --config.entrypoint /app/app.bin \
  --config.label org.opencontainers.image.version=1.0.0 >/dev/null

echo "== pier copy oci:demo:1.0.0 → 127.0.0.1:$port/demo/app:1.0.0" >&2
"$PIER" copy "oci:$work/demo:1.0.0" "127.0.0.1:$port/demo/app:1.0.0"
echo "== pier copy (same registry, mounts) → demo/mirror:1.0.0" >&2
"$PIER" copy "127.0.0.1:$port/demo/app:1.0.0" "127.0.0.1:$port/demo/mirror:1.0.0"
echo "== pier inspect" >&2
"$PIER" inspect "127.0.0.1:$port/demo/app:1.0.0"
echo "== pier tags" >&2
"$PIER" tags "127.0.0.1:$port/demo/app"
