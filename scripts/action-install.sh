#!/usr/bin/env bash
# Installs a released pier for the GitHub Action (action.yml) or any CI job: downloads
# pier-VERSION-linux-ARCH.tar.gz and SHA256SUMS from the release, verifies the tarball's SHA-256 against
# SHA256SUMS, unpacks it into a cache directory and prints the binary's path on stdout.
#
# Inputs (environment only, so no value is ever interpolated into shell code):
#   PIER_VERSION        release version, with or without a leading v (for example 0.2.0); required
#   PIER_DOWNLOAD_BASE  where releases live (default https://github.com/pier-dev/pier/releases/download);
#                       assets are read from $PIER_DOWNLOAD_BASE/vVERSION/
#   PIER_CACHE_DIR      install root (default ${RUNNER_TOOL_CACHE:-$HOME/.cache}/pier); VERSION/ARCH/ below it
#   PIER_ARCH           amd64 or arm64 (default: from uname -m)
# Exit codes: 0 installed (or already cached and verified), 3 no release for this version/platform
# (the caller may build from source), 1 anything else, including a checksum mismatch.
set -euo pipefail

version="${PIER_VERSION:?PIER_VERSION is required}"
version="${version#v}"
case "$version" in
  *[!0-9A-Za-z.+-]* | "") echo "pier install: version '$version' is not a version" >&2; exit 1 ;;
esac
base="${PIER_DOWNLOAD_BASE:-https://github.com/pier-dev/pier/releases/download}"
case "$base" in
  http://* | https://*) ;;
  *) echo "pier install: PIER_DOWNLOAD_BASE must be an http or https URL" >&2; exit 1 ;;
esac
os="$(uname -s)"
[ "$os" = Linux ] || { echo "pier install: no release for $os; build from source" >&2; exit 3; }
arch="${PIER_ARCH:-$(uname -m)}"
case "$arch" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "pier install: no release for linux/$arch; build from source" >&2; exit 3 ;;
esac
name="pier-$version-linux-$arch.tar.gz"
root="${PIER_CACHE_DIR:-${RUNNER_TOOL_CACHE:-$HOME/.cache}/pier}/$version/$arch"

# A cached install is reused only if its recorded checksum still matches SHA256SUMS' line for the tarball.
if [ -x "$root/pier" ] && [ -f "$root/$name.sha256" ]; then
  echo "pier install: using cached $root/pier" >&2
  echo "$root/pier"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fetch() { # URL FILE: exit 3 on 404 (no such release), 1 on other failures
  local code
  code=$(curl -sS -L --proto '=https,http' --retry 3 --retry-delay 1 -o "$2" -w '%{http_code}' "$1") || {
    echo "pier install: cannot download $1" >&2; exit 1; }
  [ "$code" = 404 ] && { echo "pier install: no release asset at $1; build from source" >&2; exit 3; }
  [ "$code" = 200 ] || { echo "pier install: $1 answered HTTP $code" >&2; exit 1; }
}
fetch "$base/v$version/SHA256SUMS" "$work/SHA256SUMS"
fetch "$base/v$version/$name" "$work/$name"
expected=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$work/SHA256SUMS")
[ -n "$expected" ] || { echo "pier install: SHA256SUMS has no line for $name" >&2; exit 1; }
actual=$(sha256sum "$work/$name" | awk '{ print $1 }')
if [ "$expected" != "$actual" ]; then
  echo "pier install: checksum mismatch for $name: SHA256SUMS says $expected, the download is $actual" >&2
  exit 1
fi
mkdir -p "$work/unpacked"
tar -xzf "$work/$name" -C "$work/unpacked" --no-same-owner
binary=$(find "$work/unpacked" -type f -name pier -perm -u+x | head -n 1)
[ -n "$binary" ] || { echo "pier install: $name holds no pier binary" >&2; exit 1; }
mkdir -p "$root"
cp -R "$(dirname "$binary")/." "$root/"
echo "$actual  $name" > "$root/$name.sha256"
echo "pier install: installed pier $version ($arch) into $root" >&2
echo "$root/pier"
