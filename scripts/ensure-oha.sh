#!/usr/bin/env bash
# Builds oha (an open-loop HTTP load generator: requests at a fixed rate, latency counted from the
# time each was due) from the Rust crate registry once and caches it. Prints its path on stdout.
# The benchmarks' fixed-rate latency runs use it; autocannon's rate limit sends each second's quota
# back to back.
set -euo pipefail
VERSION="${OHA_VERSION:-1.16.0}"
CACHE="${DOWNSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/downstream}"
BIN="$CACHE/oha-$VERSION"
log() { printf '[oha] %s\n' "$*" >&2; }
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
if command -v oha >/dev/null && [ "$(oha --version 2>/dev/null)" = "oha $VERSION" ]; then command -v oha; exit 0; fi
CARGO="$(command -v cargo || true)"
[ -n "$CARGO" ] || { [ -x "$HOME/.cargo/bin/cargo" ] && CARGO="$HOME/.cargo/bin/cargo"; }
[ -n "$CARGO" ] || { log "Rust's cargo is required to build oha: install it (rustup or apt-get install cargo) and retry"; exit 1; }
mkdir -p "$CACHE"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
log "building oha $VERSION from the Rust crate registry (first time only, several minutes)"
start=$(date +%s)
"$CARGO" install oha --version "$VERSION" --locked --root "$root" --quiet 2>"$root/build.log" || { log "build failed:"; tail -20 "$root/build.log" >&2; exit 1; }
mv "$root/bin/oha" "$BIN"
log "built $BIN in $(( $(date +%s) - start ))s"
echo "$BIN"
