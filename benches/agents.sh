#!/usr/bin/env bash
# The control plane under load: a release `patchpilot server` on SQLite or PostgreSQL and
# `patchpilot bench agents` driving it over loopback HTTP from the same machine.
# usage: benches/agents.sh sqlite|postgres [COUNT] [CONCURRENCY]
#   CONCURRENCY: requests in flight (default 64). At 64 the server is saturated and
#   latency is mostly queueing (Little's law: p50 ~ 64 / throughput); a lower value
#   shows the latency at a given throughput.
#   postgres uses $PATCHPILOT_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
#   in a fresh schema, dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?sqlite or postgres}
count=${2:-10000}
concurrency=${3:-64}
shared=${PATCHPILOT_SHARED_DATA:-$(pwd)/../shared/data}
bin=$(pwd)/target/release/patchpilot
[ -x "$bin" ] || cargo build --release -q -p patchpilot
tmp=$(mktemp -d)
"$bin" --data-dir "$tmp/data" feeds import "$shared"/feeds/osv/*/all.zip >/dev/null
case "$backend" in
  sqlite) url="sqlite://$tmp/server.db" ;;
  postgres)
    base=${PATCHPILOT_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
    schema="pp_bench_$$"
    psql "$base" -qc "CREATE SCHEMA $schema"
    url="$base?options=-c%20search_path%3D$schema" ;;
  *) echo "unknown backend $backend" >&2; exit 2 ;;
esac
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PATCHPILOT_BOOTSTRAP_TOKEN=bench-admin-token RUST_LOG=warn \
  "$bin" --data-dir "$tmp/data" server --listen "127.0.0.1:$port" --database-url "$url" 2>"$tmp/server.log" &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true
  if [ "$backend" = postgres ]; then psql "$base" -qc "SET client_min_messages = warning; DROP SCHEMA $schema CASCADE" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
until grep -q "listening on" "$tmp/server.log"; do sleep 0.2; done
# Templates: a real Debian 12 host's dpkg status plus the shared Cargo.locks (real names
# and versions, so reports produce real findings).
templates=(--template "$shared/inventories/dpkg/debian12-host.status")
while IFS= read -r f; do templates+=(--template "$f"); done < <(find "$shared/lockfiles" -name Cargo.lock | sort | head -40)
"$bin" bench agents --server "http://127.0.0.1:$port" --admin-token bench-admin-token \
  --count "$count" --concurrency "$concurrency" --heartbeat-secs 20 "${templates[@]}" > "$tmp/report.json"
# Where an inventory report's time went on the server (wall time per phase; `store`
# includes waiting for the writer / the batch).
curl -s "http://127.0.0.1:$port/metrics" | grep '^patchpilot_inventory_phase_seconds_total' > "$tmp/phases.txt" || true
python3 - "$tmp/report.json" "$tmp/phases.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f'agents {r["agents"]}, concurrency {r["concurrency"]}, {r["packages_per_report"]} packages per report')
for k in ("enroll", "inventory", "heartbeat", "changed_inventory"):
    p = r[k]
    print(f'{k:<18} {p["ok"]:>8} ok {p["errors"]:>4} err {p["per_second"]:>9.1f}/s  p50 {p["p50_ms"]:7.2f} ms  p99 {p["p99_ms"]:7.2f} ms')
v = r["verification"]
print(f'verification: {v["acks_checked"]} acknowledged reports checked, missing {v["missing"]}, current mismatch {v["current_mismatch"]}, errors {v["errors"]}')
reports = r["inventory"]["ok"] + r["changed_inventory"]["ok"]
for line in open(sys.argv[2]):
    name, value = line.split()
    phase = name.split('"')[1]
    print(f'  server phase {phase:<14} {float(value) / max(reports, 1) * 1000:8.2f} ms per report (wall)')
PY
