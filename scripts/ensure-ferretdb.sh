#!/usr/bin/env bash
# Builds FerretDB 1.x (MongoDB wire protocol on SQLite) from the Go module proxy once and caches it.
# Prints the binary's path on stdout; progress goes to stderr.
set -euo pipefail
VERSION="${FERRETDB_VERSION:-v1.24.2}"
CACHE="${DOWNSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/downstream}"
# "-idx": built with the _id index fix below; a binary cached without it is not reused.
BIN="$CACHE/ferretdb-$VERSION-idx"
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
# FerretDB 1.x's SQLite backend filters _id lookups with `_ferretdb_sjson->'$._id'` while the _id index is
# built on `_ferretdb_sjson->"_id"`. Both mean the same thing, but SQLite's planner matches index
# expressions as written, so every lookup by _id scanned the whole table. `->'_id'` is the same path
# written the way the index is: lookups by _id become index searches, as they are on MongoDB.
meta="$work/src/internal/backends/sqlite/metadata/metadata.go"
grep -q "IDColumn = DefaultColumn + \"->'\$._id'\"" "$meta" || { log "unexpected FerretDB source: IDColumn not found in $meta"; exit 1; }
sed -i "s/IDColumn = DefaultColumn + \"->'\$._id'\"/IDColumn = DefaultColumn + \"->'_id'\"/" "$meta"
cd "$work/src"
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
