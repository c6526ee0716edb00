#!/usr/bin/env bash
# Packages pier for release: a build with the Swift runtime and Foundation linked statically, stripped, with shell
# completions (bash, zsh, fish) and a man page, as dist/pier-VERSION-linux-ARCH.tar.gz plus dist/SHA256SUMS.
#
#   bash scripts/package.sh [VERSION]     VERSION defaults to `git describe` without its leading v
#
# Environment: PIER_PACKAGE_CONFIGURATION (release, the default; debug only for quick local tests),
# PIER_DIST (output directory, default dist). The tarball holds pier-VERSION-linux-ARCH/{bin/pier,
# share/man/man1/pier.1, share/bash-completion/completions/pier, share/zsh/site-functions/_pier,
# share/fish/vendor_completions.d/pier.fish, LICENSE-NOTICE}. The binary still links glibc, libstdc++, libgcc_s,
# libm, zlib and libzstd from the system (README, Install).
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:-$(git describe --tags --always 2>/dev/null || echo 0.0.0)}"
version="${version#v}"
case "$version" in *[!0-9A-Za-z.+-]* | "") echo "package: '$version' is not a version" >&2; exit 64 ;; esac
commit="$(git rev-parse --short=12 HEAD)"
configuration="${PIER_PACKAGE_CONFIGURATION:-release}"
dist="${PIER_DIST:-dist}"
case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
name="pier-$version-linux-$arch"

# The version and commit go into BuildInfo.swift for this build only; the committed file comes back afterwards.
info=Sources/PierCLI/BuildInfo.swift
saved="$(mktemp)"
cp "$info" "$saved"
trap 'cp "$saved" "$info"; rm -f "$saved"' EXIT
sed -i -e "s/static let version = \".*\"/static let version = \"$version\"/" \
  -e "s/static let commit = \".*\"/static let commit = \"$commit\"/" "$info"

# The man page comes from swift-argument-parser's generate-manual plugin, which builds the package (dynamically
# linked) in the same configuration and reads pier's --experimental-dump-help; dated by the commit, so the page is
# reproducible. It runs before the static build: the static link must be the last one.
swift package generate-manual --configuration "$configuration" --date "$(git log -1 --format=%cs)" >&2
manual="$(find .build/plugins -path '*GenerateManual*' -name pier.1 -newer "$saved" | head -n 1)"
[ -n "$manual" ] || { echo "package: generate-manual wrote no pier.1" >&2; exit 70; }

# The static link reuses the objects of the ordinary (dynamically linked) build, so both share one build
# directory. Objects compiled for a dynamic Foundation do not autolink Foundation's own static helper libraries
# (CoreFoundation, _FoundationCShims, _FoundationCollections, _FoundationICU); name every one the toolchain has.
static_dir="$(dirname "$(swift -print-target-info | sed -n 's/.*"runtimeResourcePath": "\(.*\)".*/\1/p' | head -n 1)")/swift_static/linux"
helpers=()
for archive in "$static_dir"/libCoreFoundation.a "$static_dir"/lib_Foundation*.a; do
  [ -f "$archive" ] || continue
  library="$(basename "$archive" .a)"
  helpers+=(-Xlinker "-l${library#lib}")
done
# The toolchain's static-stdlib-args.lnk links with -export-dynamic, which puts every Swift symbol of the
# executable into .dynsym/.dynstr (about 4 MB that strip keeps); nothing loads pier's symbols dynamically.
swift build -c "$configuration" --product pier --static-swift-stdlib "${helpers[@]}" -Xlinker -s \
  -Xlinker --no-export-dynamic >&2
bin="$(swift build -c "$configuration" --show-bin-path)/pier"

stage="$(mktemp -d)"
trap 'cp "$saved" "$info"; rm -f "$saved"; rm -rf "$stage"' EXIT
root="$stage/$name"
mkdir -p "$root/bin" "$root/share/man/man1" "$root/share/bash-completion/completions" \
  "$root/share/zsh/site-functions" "$root/share/fish/vendor_completions.d"
cp "$bin" "$root/bin/pier"
strip "$root/bin/pier" 2>/dev/null || true
"$root/bin/pier" --generate-completion-script bash > "$root/share/bash-completion/completions/pier"
"$root/bin/pier" --generate-completion-script zsh > "$root/share/zsh/site-functions/_pier"
"$root/bin/pier" --generate-completion-script fish > "$root/share/fish/vendor_completions.d/pier.fish"
cp "$manual" "$root/share/man/man1/pier.1"
cat > "$root/LICENSE-NOTICE" <<EOF
pier $version (commit $commit), built with Swift $(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9.]*\).*/\1/p' | head -n 1).
Statically linked: the Swift standard library and Foundation (Apache-2.0 with Runtime Library Exception),
swift-nio, swift-nio-ssl (BoringSSL), async-http-client, swift-crypto, swift-log, swift-argument-parser, Yams,
swift-mustache (Apache-2.0 / MIT); see each project's LICENSE.
EOF

mkdir -p "$dist"
# Reproducible archive: sorted names, fixed owner and mtime (the commit's time).
mtime="$(git log -1 --format=%ct)"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -C "$stage" -cf - "$name" \
  | gzip -n -9 > "$dist/$name.tar.gz"
(cd "$dist" && sha256sum -- *.tar.gz > SHA256SUMS)
echo "$dist/$name.tar.gz"
