#!/usr/bin/env bash
# Builds Wheelhouse (release) and runs it on its embedded defaults: a SQLite
# file and the drill cluster. Extra arguments go to `wheelhouse serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh

LISTEN="${WHEELHOUSE_LISTEN:-127.0.0.1:3000}"
DATABASE_URL="${DATABASE_URL:-sqlite://wheelhouse.db}"

say "building Wheelhouse (release)"
cargo leptos build --release

say "starting Wheelhouse: open http://$LISTEN/"
say "on the first start, the log prints a one-time /setup link that creates the first administrator"
exec "${CARGO_TARGET_DIR:-target}/release/wheelhouse" --listen "$LISTEN" --database-url "$DATABASE_URL" serve "$@"
