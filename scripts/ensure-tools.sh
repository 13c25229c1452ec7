#!/usr/bin/env bash
# Installs what building Wheelhouse needs, skipping whatever is already there:
# the wasm target, cargo-leptos, the wasm-bindgen CLI matching the pinned crate,
# and wasm-opt from npm's binaryen (Debian's binaryen builds broken bundles).
# Source it: it puts the tools on PATH for the calling script.
set -euo pipefail

WHEELHOUSE_TOOLS="${WHEELHOUSE_TOOLS:-$HOME/.cache/wheelhouse-tools}"
export PATH="$HOME/.cargo/bin:$WHEELHOUSE_TOOLS/node_modules/.bin:$PATH"
mkdir -p "$WHEELHOUSE_TOOLS"

say() { echo "==> $*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "0.3.10"; then
  say "installing cargo-leptos 0.3.10 (takes about 15 minutes on 2 cores, once)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --locked --version 0.3.10
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "0.2.130"; then
  say "installing wasm-bindgen-cli 0.2.130 (matches the wasm-bindgen crate pin)"
  # Without --locked: the crates mirror lacks a version its lockfile names.
  cargo install wasm-bindgen-cli --version 0.2.130
fi

if ! [ -x "$WHEELHOUSE_TOOLS/node_modules/.bin/wasm-opt" ]; then
  say "installing wasm-opt (npm binaryen 132)"
  npm install --silent --no-audit --no-fund --prefix "$WHEELHOUSE_TOOLS" binaryen@132.0.0
fi

# Helpers for the scripts that run tests and benchmarks (called, not run here).

# A real SMTP server for the subscriber tests and benchmark: aiosmtpd from PyPI.
ensure_aiosmtpd() {
  if ! python3 -c "import aiosmtpd" 2>/dev/null; then
    say "installing aiosmtpd (PyPI)"
    python3 -m pip install --quiet --disable-pip-version-check aiosmtpd==1.4.6
  fi
}

# PostgreSQL on 127.0.0.1:5432, started if it is not running; waits up to 30 s for it.
ensure_postgres() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
}
