#!/usr/bin/env bash
# Installs what pier's tests and demo need, from Debian's packages, when missing:
# docker-registry (CNCF distribution), skopeo and umoci (independent peers), buildah (pier build's Dockerfile
# builder in CI), htpasswd, openssl, zlib and zstd headers (zstd to read zstd layers back).
set -euo pipefail
need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
command -v umoci >/dev/null || need+=(umoci)
command -v buildah >/dev/null || need+=(buildah)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v openssl >/dev/null || need+=(openssl)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
[ -f /usr/include/zstd.h ] || need+=(libzstd-dev)
command -v zstd >/dev/null || need+=(zstd)
command -v curl >/dev/null || need+=(curl)
# pier's image, shell variant (scripts/image.sh --shell) and its test.
command -v busybox >/dev/null || need+=(busybox-static)
# A real browser for the status page test (pier status --html): DOM checks and a screenshot.
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# moto (PyPI) serves ECR's API for the ECR delete tests.
if ! command -v moto_server >/dev/null || ! python3 -c 'import moto.server, boto3' 2>/dev/null; then
  python3 -m pip install -q 'moto[server]' boto3 >/dev/null
fi
# check-jsonschema (PyPI) ships the GitHub workflow and action schemas and GitLab's CI schema; the shipping tests
# validate .github/workflows, action.yml and templates/ with it, offline.
if ! command -v check-jsonschema >/dev/null; then
  python3 -m pip install -q check-jsonschema >/dev/null
fi
# skopeo refuses to run without a signature policy; Debian's package ships one, a bare container may not.
if [ ! -f /etc/containers/policy.json ] && [ ! -f "$HOME/.config/containers/policy.json" ]; then
  mkdir -p "$HOME/.config/containers"
  echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$HOME/.config/containers/policy.json"
fi
