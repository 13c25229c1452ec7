#!/usr/bin/env bash
# Status page benchmark: wrk on loopback (2 threads, 256 connections) against
# Wheelhouse's /status and nginx serving a static copy of the same /status
# HTML as the reference, interleaved RUNS times (nginx's own rate varies from
# run to run here), then /api/v2/summary.json once. Prints requests per
# second, p99 latency and errors of each run, and the median ratio of
# Wheelhouse's rate to nginx's.
# Run: scripts/bench-status.sh [SECONDS] [RUNS]   (defaults: 20 s, 3 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
runs="${2:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wheelhouse-target}"

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  echo "==> installing wrk and nginx (Debian packages)"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get install -y -q wrk nginx-light >/dev/null
fi

echo "==> building wheelhouse (release)"
cargo build -q --release -p server --bin wheelhouse
bin="$CARGO_TARGET_DIR/release/wheelhouse"

work="$(mktemp -d)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cleanup() { kill "${wh_pid:-}" "${nginx_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

db="sqlite://$work/wheelhouse.db"
"$bin" --database-url "$db" user add --email ic@example.com --role responder </dev/null >/dev/null
token="$("$bin" --database-url "$db" token create --name bench --role admin | awk '/whk_/ {print $NF}')"
wh_port="$(free_port)"
WHEELHOUSE_CLUSTER=sim "$bin" --database-url "$db" --listen "127.0.0.1:$wh_port" serve >"$work/wheelhouse.log" 2>&1 &
wh_pid=$!
base="http://127.0.0.1:$wh_port"
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.2; done

# One incident with a public update, so the page shows what it would during an outage.
api() { curl -fs -H "Authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
id="$(api -d '{"title":"Checkout is slow","severity":"SEV2","category":"application_failure","commander":"ic@example.com"}' "$base/api/v1/incidents" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
api -d '{"audience":"public","purpose":"identified","move_status":true,"text":"Some payments take longer than usual. We have found the cause and are fixing it."}' "$base/api/v1/incidents/$id/updates" >/dev/null
for _ in $(seq 1 100); do curl -fs "$base/status" | grep -q 'Some payments take longer' && break; sleep 0.1; done
mkdir -p "$work/www/status"
curl -fs "$base/status" >"$work/www/status/index.html"
# nginx's workers run as an unprivileged user: let them read the copy.
chmod 755 "$work" && chmod -R a+rX "$work/www"

nginx_port="$(free_port)"
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    location = /status { default_type text/html; try_files /status/index.html =404; }
  }
}
CONF
nginx -c "$work/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$nginx_port/status" >/dev/null && break; sleep 0.1; done

run() {
  local name="$1" url="$2"
  local out; out="$(wrk -t2 -c256 -d"${seconds}s" --latency "$url")"
  local rps p99 errors
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  errors="$(awk '/Socket errors|Non-2xx/ {print}' <<<"$out" | tr '\n' ' ')"
  printf '  %-34s %10s req/s   p99 %-9s errors: %s\n' "$name" "$rps" "$p99" "${errors:-none}" >&2
  echo "$rps"
}

echo "==> wrk -t2 -c256, ${seconds} s each, ${runs} interleaved runs (2 cores shared by wrk and the server)"
ratios=()
for i in $(seq 1 "$runs"); do
  echo "  run $i:"
  nginx_rps="$(run "nginx, static copy of /status" "http://127.0.0.1:$nginx_port/status")"
  wh_rps="$(run "wheelhouse /status" "$base/status")"
  ratios+=("$(python3 -c "print(f'{$wh_rps / $nginx_rps:.2f}')")")
done
run "wheelhouse /api/v2/summary.json" "$base/api/v2/summary.json" >/dev/null
median="$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
echo "  wheelhouse /status : nginx, per run: ${ratios[*]}; median ratio $median"
