#!/usr/bin/env bash
# The fleet-wide re-match after an advisory database change, on SQLite or PostgreSQL: the
# incremental one (`POST /api/v1/feeds/reload`) and the full one a server runs when it
# starts on a database whose digest differs from the stored feed state.
# usage: benches/rematch.sh sqlite|postgres [COUNT]
#   COUNT: simulated agents (default 1000), each with one 1,500-package first report
#   (the templates of benches/agents.sh: a Debian 12 dpkg status and shared Cargo.locks).
#   postgres uses $PATCHPILOT_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
#   in a fresh schema, dropped afterwards.
# Steps, on one database:
#   1. advisory database = OSV Go only (it names nothing the fleet has); start; fill the
#      fleet (`patchpilot bench agents`, no heartbeat phase); no finding is open.
#   2. import OSV crates.io (908 names, many in the fleet's Cargo.locks) and time the
#      reload: one incremental pass that opens the crates.io findings of every asset.
#      Then a reload with nothing changed: the advisory index load alone, the part of
#      the reload that does not depend on the fleet.
#   3. stop, import OSV PyPI (a real change, digest differs), start: the server re-matches
#      every name the index knows (Go + crates.io + PyPI, 2,945 keys) while /readyz says
#      503, so "process start -> /readyz 200" is the full re-match. Then stop and start
#      again with nothing changed: the same start without a re-match (the baseline).
# Peak RSS is VmHWM from /proc/PID/status: the reload runs in a server restarted after the
# fill, with the mark reset (clear_refs 5) just before it, so it is the reload's own peak.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?sqlite or postgres}
count=${2:-1000}
shared=${PATCHPILOT_SHARED_DATA:-$(pwd)/../shared/data}
osv=$shared/feeds/osv
bin=$(pwd)/target/release/patchpilot
[ -x "$bin" ] || cargo build --release -q -p patchpilot
tmp=$(mktemp -d)
"$bin" --data-dir "$tmp/data" feeds import "$osv/Go/all.zip" >/dev/null
case "$backend" in
  sqlite) url="sqlite://$tmp/server.db" ;;
  postgres)
    base=${PATCHPILOT_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
    schema="pp_rematch_$$"
    psql "$base" -qc "CREATE SCHEMA $schema"
    url="$base?options=-c%20search_path%3D$schema" ;;
  *) echo "unknown backend $backend" >&2; exit 2 ;;
esac
token=bench-admin-token
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ "$backend" = postgres ]; then psql "$base" -qc "SET client_min_messages = warning; DROP SCHEMA $schema CASCADE" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$server/status"; }

# Start a server (log to $1); sets server, http and ready_ms (process start -> /readyz 200).
start_server() {
  local port t0
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  http="http://127.0.0.1:$port"
  t0=$(date +%s%N)
  PATCHPILOT_BOOTSTRAP_TOKEN=$token RUST_LOG=${RUST_LOG:-warn} \
    "$bin" --data-dir "$tmp/data" server --listen "127.0.0.1:$port" --database-url "$url" 2>"$1" &
  server=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$http/readyz")" = 200 ]; do
    if ! kill -0 "$server" 2>/dev/null; then
      echo "the server exited before it was ready:" >&2; cat "$1" >&2; exit 1
    fi
    sleep 0.02
  done
  ready_ms=$(ms_since "$t0")
}
stop_server() { kill -TERM "$server"; wait "$server" || true; server=; }

# Sets reload_json and reload_ms.
reload() {
  local t0
  t0=$(date +%s%N)
  reload_json=$(curl -sS --fail-with-body -X POST -H "Authorization: Bearer $token" "$http/api/v1/feeds/reload")
  reload_ms=$(ms_since "$t0")
}

findings_by_state() {
  case "$backend" in
    sqlite) python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(", ".join(f"{s} {n}" for s, n in c.execute("SELECT state, count(*) FROM findings GROUP BY state ORDER BY state")) or "none")' "$tmp/server.db" ;;
    postgres) psql "$url" -tAc "SELECT coalesce(string_agg(state || ' ' || n, ', ' ORDER BY state), 'none') FROM (SELECT state, count(*) n FROM findings GROUP BY state) t" ;;
  esac
}

# 1. Go-only database, empty fleet; fill it.
start_server "$tmp/server1.log"
echo "start on an empty store (OSV Go): ready in $ready_ms ms"
templates=(--template "$shared/inventories/dpkg/debian12-host.status")
while IFS= read -r f; do templates+=(--template "$f"); done < <(find "$shared/lockfiles" -name Cargo.lock | sort | head -40)
t0=$(date +%s%N)
"$bin" bench agents --server "$http" --admin-token "$token" --count "$count" \
  --heartbeat-secs 0 "${templates[@]}" > "$tmp/fill.json" 2>"$tmp/fill.err" || { cat "$tmp/fill.err" >&2; exit 1; }
fill_ms=$(ms_since "$t0")
python3 - "$tmp/fill.json" "$fill_ms" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
v = r["verification"]
print(f'fleet: {r["enrolled"]} agents x {r["packages_per_report"]} packages in {int(sys.argv[2]) / 1000:.1f} s '
      f'(first reports {r["inventory"]["per_second"]:.0f}/s, changed reports {r["changed_inventory"]["per_second"]:.0f}/s; '
      f'verification missing {v["missing"]}, mismatch {v["current_mismatch"]}, errors {v["errors"]})')
PY
echo "findings before the reload: $(findings_by_state)"

# 2. Restart (same database: no re-match), so the reload's peak RSS is not hidden in memory
# the allocator kept from the fill; add crates.io and reload (incremental), then reload
# with nothing changed.
stop_server
start_server "$tmp/server1b.log"
"$bin" --data-dir "$tmp/data" feeds import "$osv/crates.io/all.zip" >/dev/null
rss_before=$(kib VmRSS)
echo 5 > "/proc/$server/clear_refs"
reload
reload1_json=$reload_json reload1_ms=$reload_ms reload1_hwm=$(kib VmHWM)
echo "reload after adding OSV crates.io: $reload1_ms ms, peak RSS $((reload1_hwm / 1024)) MiB (RSS before $((rss_before / 1024)) MiB)"
echo "  $reload1_json"
echo "findings after the reload: $(findings_by_state)"
reload
reload0_json=$reload_json reload0_ms=$reload_ms
echo "reload with nothing changed (index load only): $reload0_ms ms  $reload0_json"
stop_server

# 3. Add PyPI while no server runs; start (full re-match), then start again (none).
"$bin" --data-dir "$tmp/data" feeds import "$osv/PyPI/all.zip" >/dev/null
start_server "$tmp/server2.log"
full_ms=$ready_ms full_hwm=$(kib VmHWM)
echo "start after adding OSV PyPI (full re-match before ready): ready in $full_ms ms, peak RSS $((full_hwm / 1024)) MiB"
echo "findings after it: $(findings_by_state)"
stop_server
# How many (ecosystem, name) keys that start re-matched: every name the index knows.
keys=$(python3 - "$osv" <<'PY'
import json, re, sys, zipfile
keys = set()
for eco in ("Go", "crates.io", "PyPI"):
    z = zipfile.ZipFile(f"{sys.argv[1]}/{eco}/all.zip")
    for n in z.namelist():
        for a in json.loads(z.read(n)).get("affected", []):
            p = a.get("package", {})
            name = p.get("name", "").strip()
            if p.get("ecosystem") == "PyPI":
                name = re.sub(r"[-_.]+", "-", name).lower()
            keys.add((p.get("ecosystem"), name))
print(len(keys))
PY
)
start_server "$tmp/server3.log"
plain_ms=$ready_ms plain_hwm=$(kib VmHWM)
echo "start with nothing changed (no re-match): ready in $plain_ms ms, peak RSS $((plain_hwm / 1024)) MiB"
stop_server

python3 - "$backend" "$count" "$reload1_json" "$reload1_ms" "$reload0_ms" "$reload1_hwm" "$full_ms" "$plain_ms" "$full_hwm" "$plain_hwm" "$keys" <<'PY'
import json, math, sys
backend, count = sys.argv[1], int(sys.argv[2])
r = json.loads(sys.argv[3])
reload_ms, noop_ms, reload_hwm, full_ms, plain_ms, full_hwm, plain_hwm, keys = map(int, sys.argv[4:12])
print(f'\n{backend}, {count} assets x 1,500 packages')
print(f'  reload (crates.io added): {reload_ms / 1000:7.2f} s wall, of which index load ~{noop_ms / 1000:.2f} s; '
      f'{r["packages_rematched"]} keys re-matched, {r["findings_opened"]} opened, {r["findings_fixed"]} fixed, '
      f'{r["findings_updated"]} updated; peak RSS {reload_hwm / 1024:.0f} MiB')
print(f'    beyond the index load: {(reload_ms - noop_ms) / count:.2f} ms per asset')
print(f'  start with a changed database (full re-match, {keys} keys = {math.ceil(keys / 5000)} pass(es)): {full_ms / 1000:7.2f} s to ready, '
      f'{plain_ms / 1000:.2f} s without re-match -> re-match ~{(full_ms - plain_ms) / 1000:.2f} s '
      f'({(full_ms - plain_ms) / count:.2f} ms per asset); peak RSS {full_hwm / 1024:.0f} MiB (vs {plain_hwm / 1024:.0f} MiB)')
PY
# Log levels are coloured even in a file; strip the colours before looking for them.
sed 's/\x1b\[[0-9;]*m//g' "$tmp"/server*.log | grep -E ' (WARN|ERROR) ' > "$tmp/warnings.txt" || true
if [ -s "$tmp/warnings.txt" ]; then
  echo "server log: $(wc -l < "$tmp/warnings.txt") warning/error lines, first ones:"
  head -5 "$tmp/warnings.txt"
fi
