#!/usr/bin/env bash
# Runs the whole Wheelhouse test suite: domain unit tests, integration tests
# against the real server on SQLite and PostgreSQL (with the real Prometheus
# and Alertmanager), and browser tests in headless Chromium. Installs what is
# missing first; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh

# Real programs the tests drive: Chromium (browser tests), Prometheus and
# Alertmanager (alert intake), all from Debian's packages; an SMTP server from PyPI.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/prometheus ] || missing+=(prometheus)
[ -x /usr/bin/prometheus-alertmanager ] || missing+=(prometheus-alertmanager)
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]} for the tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

ensure_aiosmtpd
ensure_postgres

if ! [ -d tests/browser/node_modules/playwright-core ]; then
  say "installing the browser test driver (playwright-core; it uses Debian's Chromium)"
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi

say "building the server and the wasm bundle"
cargo leptos build

say "unit and integration tests (SQLite and PostgreSQL)"
cargo test --workspace --exclude frontend

say "browser tests (headless Chromium)"
(cd tests/browser && node --test --test-concurrency=1)
