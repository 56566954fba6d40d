#!/usr/bin/env bash
# Builds FerretDB 1.x (MongoDB wire protocol on SQLite) from the Go module proxy once and caches it.
# Prints the binary's path on stdout; progress goes to stderr.
set -euo pipefail
VERSION="${FERRETDB_VERSION:-v1.24.2}"
CACHE="${DOWNSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/downstream}"
# Our patches to FerretDB (see below); the cached binary is named after them, so changing them rebuilds it.
PATCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ferretdb/id-lookups.patch"
BIN="$CACHE/ferretdb-$VERSION-$(sha256sum "$PATCH" | cut -c1-12)"
log() { printf '[ferretdb] %s\n' "$*" >&2; }

if [ -n "${FERRETDB_BIN:-}" ] && [ -x "$FERRETDB_BIN" ]; then echo "$FERRETDB_BIN"; exit 0; fi
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || { log "Go is required to build FerretDB: install Go >= 1.22 (apt-get install golang) and retry"; exit 1; }
mkdir -p "$CACHE"
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
log "downloading github.com/FerretDB/FerretDB@$VERSION from the Go module proxy"
dir=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$dir" ] || { log "go mod download failed: check GOPROXY/network access to the Go module proxy"; exit 1; }
cp -r "$dir" "$work/src"; chmod -R u+w "$work/src"
echo "$VERSION" > "$work/src/build/version/version.txt"
# Lookups by _id as on MongoDB (scripts/ferretdb/id-lookups.patch): FerretDB 1.x's SQLite backend
# filtered `_id` with `->'$._id'` while the _id index is built on `->"_id"` (same path, but SQLite
# matches index expressions as written, so every lookup scanned the table), and it pushed `_id` down
# only when it was the filter's sole key (`{_id, completed: false}` scanned too).
cd "$work/src"
git apply -p1 "$PATCH" || { log "could not apply $PATCH to FerretDB $VERSION"; exit 1; }
log "building (first time only, takes a few minutes on 2 cores)"
start=$(date +%s)
if ! go build -trimpath -o "$work/ferretdb" ./cmd/ferretdb 2>"$work/build.log"; then
  log "plain build failed; retrying with -checklinkname=0 (Go >= 1.23 linkname restrictions)"
  if ! go build -trimpath -ldflags=-checklinkname=0 -o "$work/ferretdb" ./cmd/ferretdb 2>>"$work/build.log"; then
    log "build failed:"; tail -20 "$work/build.log" >&2; exit 1
  fi
fi
mv "$work/ferretdb" "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
log "built $BIN in $(( $(date +%s) - start ))s"
echo "$BIN"
