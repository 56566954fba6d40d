#!/usr/bin/env bash
# Builds the helm CLI from the Go module proxy once and caches it. Prints its path on stdout.
set -euo pipefail
VERSION="${HELM_VERSION:-v3.22.0}"
CACHE="${DOWNSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/downstream}"
BIN="$CACHE/helm-$VERSION"
log() { printf '[helm] %s\n' "$*" >&2; }
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
if command -v helm >/dev/null && helm version --short 2>/dev/null | grep -q '^v3'; then command -v helm; exit 0; fi
command -v go >/dev/null || { log "Go is required to build helm: install Go and retry"; exit 1; }
mkdir -p "$CACHE"
gobin=$(mktemp -d)
trap 'rm -rf "$gobin"' EXIT
log "building helm.sh/helm/v3@$VERSION from the Go module proxy (first time only)"
start=$(date +%s)
GOBIN="$gobin" go install "helm.sh/helm/v3/cmd/helm@$VERSION" 2>"$gobin/build.log" || { log "build failed:"; tail -20 "$gobin/build.log" >&2; exit 1; }
mv "$gobin/helm" "$BIN"
log "built $BIN in $(( $(date +%s) - start ))s"
echo "$BIN"
