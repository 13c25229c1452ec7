#!/usr/bin/env bash
# Every benchmark in the repository: built once (release), then run one after
# another, each alone on the machine; prints one table of their figures at the
# end (and keeps each benchmark's full output in $BENCH_LOGS, default
# target-dir/bench-logs). The status page comparison is the median ratio of
# three interleaved wrk runs against nginx (scripts/bench-status.sh).
# Run: scripts/bench.sh [NAME...]   (names: status drill scale fanout detection
#      actions alerts evidence insights sign_in subscribers failover; default all)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wheelhouse-target}"
logs="${BENCH_LOGS:-$CARGO_TARGET_DIR/bench-logs}"
mkdir -p "$logs"

all=(status drill scale fanout detection actions alerts evidence insights sign_in subscribers failover)
wanted=("$@")
[ "${#wanted[@]}" -gt 0 ] || wanted=("${all[@]}")

# What some benchmarks drive: aiosmtpd, PostgreSQL (bench-status.sh installs wrk and nginx).
ensure_aiosmtpd
ensure_postgres

say "building every benchmark and the release server once"
# Package by package, as they are run below: a workspace-wide build would
# unify features differently and the runs would build again.
cargo build -q --release -p server --bin wheelhouse
for package in tests drill server; do
  cargo bench -q -p "$package" --no-run 2>&1 | grep -v '^ *Executable' || true
done

package_of() {
  case "$1" in
    drill) echo drill ;;
    failover) echo server ;;
    *) echo tests ;;
  esac
}

for name in "${wanted[@]}"; do
  say "$name"
  if [ "$name" = status ]; then
    scripts/bench-status.sh 20 3 2>&1 | tee "$logs/$name.log"
  else
    cargo bench -q -p "$(package_of "$name")" --bench "$name" 2>&1 | tee "$logs/$name.log"
  fi
done

# The table: each benchmark's figure lines (indented lines and table rows it printed).
echo
echo "| benchmark | figure |"
echo "| --- | --- |"
for name in "${wanted[@]}"; do
  grep -E '^  [^ ]|^\| [^-]' "$logs/$name.log" | grep -v '^| database\|^| from the kill' | sed 's/^ *//; s/|/\\|/g' \
    | while IFS= read -r line; do echo "| $name | $line |"; done
done
