#!/usr/bin/env bash
# Builds pier's own image with `pier build`, distroless-style: the packaged binary, the system libraries it still
# links (copied from this machine, which must match the tarball's architecture), the CA bundle, and a non-root user
# (pier, 65532) whose home holds the temporary directory. Reproducible: every file's time is SOURCE_DATE_EPOCH
# (default: the commit's time), so the same tarball on the same system gives the same digest.
#
#   bash scripts/image.sh TARBALL --output oci:DIR[:tag] [--shell]
#
# --shell adds a static busybox as /bin/sh (and the usual applets), for CI systems whose jobs need a shell
# (GitLab's script:). The pier used to build is the one in the tarball.
set -euo pipefail
cd "$(dirname "$0")/.."

tarball="${1:?usage: image.sh TARBALL --output oci:DIR[:tag] [--shell]}"
shift
output="" shell=false
while [ $# -gt 0 ]; do
  case "$1" in
    --output) output="$2"; shift 2 ;;
    --shell) shell=true; shift ;;
    *) echo "image.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done
[ -n "$output" ] || { echo "image.sh: --output oci:DIR[:tag] is required" >&2; exit 64; }
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
pier="$(find "$work" -path '*/bin/pier' -type f | head -n 1)"
[ -x "$pier" ] || { echo "image.sh: $tarball holds no bin/pier" >&2; exit 65; }
version="$("$pier" --version | awk '{ print $1 }')"

# System files, owned by root: the binary, its libraries at the paths ldd resolves them to, the CA bundle, users.
root="$work/root"
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/home/pier/tmp"
cp "$pier" "$root/usr/local/bin/pier"
for lib in $(ldd "$pier" | awk '/=>/ { print $3 } !/=>/ && $1 ~ /^\// { print $1 }'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\npier:x:65532:65532:pier:/home/pier:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\npier:x:65532:\n' > "$root/etc/group"
if $shell; then
  busybox="$(command -v busybox || true)"
  [ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 || {
    echo "image.sh: --shell needs a static busybox (apt-get install busybox-static)" >&2; exit 69; }
  mkdir -p "$root/bin"
  cp -L "$busybox" "$root/bin/busybox"
  for applet in sh ls cat cp mv rm mkdir env printf echo sed tr grep head tail test; do
    ln -s busybox "$root/bin/$applet"
  done
fi

adds=()
for entry in "$root"/*; do
  [ "$(basename "$entry")" = home ] && continue
  adds+=(--add "$entry:/$(basename "$entry")")
done
"$pier" build --base scratch "${adds[@]}" --output "oci:$work/system" >&2
# The user's home (and TMPDIR) in a layer of its own, owned by the user.
"$pier" build --base "oci:$work/system" --add "$root/home:/home" --chown 65532:65532 \
  --user 65532:65532 --workdir /home/pier --entrypoint '["/usr/local/bin/pier"]' \
  --env HOME=/home/pier --env TMPDIR=/home/pier/tmp --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --label org.opencontainers.image.title=pier --label "org.opencontainers.image.version=$version" \
  --output "$output" >&2
"$pier" digest "$output"
