#!/usr/bin/env bash
# The risk-ranked findings view at fleet scale (`GET /api/v1/findings?prioritize=true`), on
# SQLite or PostgreSQL.
# usage: benches/ranking.sh sqlite|postgres [COUNT]
#   COUNT: simulated agents (default 10000), each sending a first and a changed 1,500-package
#   report (the templates of benches/agents.sh: a Debian 12 dpkg status and shared
#   Cargo.locks), about 60 open findings each against the shared OSV feeds (crates.io, Go,
#   PyPI).
#   REPS (env, default 5): timed repetitions of each request, after one untimed warm-up.
#   OWNERS (env, default 7): asset owners in the context cycle; OWNERS=COUNT gives every
#   asset its own context (no two assets share an assessment: the ranking's worst case).
#   postgres uses $PATCHPILOT_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
#   in a fresh schema, dropped afterwards.
# Setup: the OSV feeds, the real CISA KEV catalog and the FIRST EPSS sample are imported
# into the data dir before the server starts (no NVD). After the fill every asset gets a
# stored context from a fixed cycle (tier 1-4, exposure, environment, one of OWNERS
# owners: 252 distinct contexts with 7), so assets rank differently; on PostgreSQL the
# tables are analyzed (what autovacuum does after a bulk load; a test instance may run
# without it); then the server is restarted, so the ranking's peak RSS is not hidden in
# memory the allocator kept from the fill.
# Timed (curl time_total: request to last byte on loopback, JSON included):
#   fleet-wide prioritize=true&limit=100 and &limit=10000 (every open finding assessed),
#   one asset's prioritize=true&asset_id=N, and the plain GET /api/v1/findings?limit=1000.
# Peak RSS is VmHWM from /proc/PID/status, the mark reset (clear_refs 5) just before the
# first (cold) fleet-wide ranking of each limit.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?sqlite or postgres}
count=${2:-10000}
reps=${REPS:-5}
owners=${OWNERS:-7}
shared=${PATCHPILOT_SHARED_DATA:-$(pwd)/../shared/data}
bin=$(pwd)/target/release/patchpilot
[ -x "$bin" ] || cargo build --release -q -p patchpilot
tmp=$(mktemp -d)
"$bin" --data-dir "$tmp/data" feeds import "$shared"/feeds/osv/*/all.zip >/dev/null
"$bin" --data-dir "$tmp/data" feeds import "$shared/feeds/kev/known_exploited_vulnerabilities.json" \
  "$shared/feeds/epss/epss_scores-sample.csv.gz"
case "$backend" in
  sqlite) url="sqlite://$tmp/server.db" ;;
  postgres)
    base=${PATCHPILOT_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
    schema="pp_ranking_$$"
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

# Start a server (log to $1); sets server and http.
start_server() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  http="http://127.0.0.1:$port"
  PATCHPILOT_BOOTSTRAP_TOKEN=$token RUST_LOG=${RUST_LOG:-warn} \
    "$bin" --data-dir "$tmp/data" server --listen "127.0.0.1:$port" --database-url "$url" 2>"$1" &
  server=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$http/readyz")" = 200 ]; do
    if ! kill -0 "$server" 2>/dev/null; then
      echo "the server exited before it was ready:" >&2; cat "$1" >&2; exit 1
    fi
    sleep 0.02
  done
}
stop_server() { kill -TERM "$server"; wait "$server" || true; server=; }

# GET $1 once: prints "seconds bytes", keeps the body in $tmp/body.json; fails on non-200.
get() {
  curl -sS --fail-with-body -o "$tmp/body.json" -w '%{time_total} %{size_download}\n' \
    -H "Authorization: Bearer $token" "$http$1"
}

# One warm-up, then REPS timed runs of GET $2; appends "label seconds... | bytes" to results.
timed() {
  local label=$1 path=$2 times=() t b
  get "$path" >/dev/null
  for _ in $(seq "$reps"); do
    read -r t b < <(get "$path")
    times+=("$t")
  done
  echo "$label|$path|$b|${times[*]}" >> "$tmp/results.txt"
  echo "  $label: ${times[*]} s ($b bytes)"
}

open_findings() {
  case "$backend" in
    sqlite) python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM findings WHERE state = '"'"'open'"'"'").fetchone()[0])' "$tmp/server.db" ;;
    postgres) psql "$url" -tAc "SELECT count(*) FROM findings WHERE state = 'open'" ;;
  esac
}

# 1. Fill the fleet.
start_server "$tmp/server1.log"
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
      f'(verification missing {v["missing"]}, mismatch {v["current_mismatch"]}, errors {v["errors"]})')
PY

# 2. Give every asset a stored context from a fixed cycle (one keep-alive connection).
python3 - "$http" "$token" "$owners" <<'PY'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
h = {"Authorization": f"Bearer {sys.argv[2]}", "Content-Type": "application/json"}
def call(method, path, body=None):
    c.request(method, path, body=None if body is None else json.dumps(body), headers=h)
    r = c.getresponse()
    data = r.read()
    if r.status != 200:
        sys.exit(f"{method} {path}: {r.status} {data[:200]!r}")
    return json.loads(data)
ids, after = [], 0
while True:
    page = call("GET", f"/api/v1/assets?after={after}&limit=1000")
    ids += [a["id"] for a in page]
    if len(page) < 1000:
        break
    after = page[-1]["id"]
contexts = set()
for i, id in enumerate(ids):
    ctx = {"tier": 1 + i % 4,
           "exposure": ["internal", "internet-facing", "isolated"][i % 3],
           "environment": ["on-prem", "cloud", "edge"][(i // 12) % 3],
           "owner": f"team-{i % int(sys.argv[3])}"}
    contexts.add(tuple(sorted(ctx.items())))
    call("PATCH", f"/api/v1/assets/{id}", ctx)
print(f"asset contexts: {len(ids)} assets, {len(contexts)} distinct contexts")
PY
stop_server
if [ "$backend" = postgres ]; then psql "$url" -qc "ANALYZE"; fi
open=$(open_findings)
echo "open findings: $open"

# 3. Restart, then time.
start_server "$tmp/server2.log"
: > "$tmp/results.txt"
rss_before=$(kib VmRSS)
echo 5 > "/proc/$server/clear_refs"
read -r cold100 _ < <(get "/api/v1/findings?prioritize=true&limit=100")
hwm100=$(kib VmHWM)
cp "$tmp/body.json" "$tmp/top100.json"
echo "first fleet-wide ranking (limit 100) after the start: $cold100 s, peak RSS $((hwm100 / 1024)) MiB (RSS before $((rss_before / 1024)) MiB)"
rss_before10k=$(kib VmRSS)
echo 5 > "/proc/$server/clear_refs"
read -r cold10k _ < <(get "/api/v1/findings?prioritize=true&limit=10000")
hwm10k=$(kib VmHWM)
cp "$tmp/body.json" "$tmp/top10000.json"
echo "first fleet-wide ranking (limit 10000): $cold10k s, peak RSS $((hwm10k / 1024)) MiB (RSS before $((rss_before10k / 1024)) MiB)"
asset=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["asset_id"])' "$tmp/top100.json")
timed "fleet-wide, prioritize=true&limit=100" "/api/v1/findings?prioritize=true&limit=100"
timed "fleet-wide, prioritize=true&limit=10000" "/api/v1/findings?prioritize=true&limit=10000"
timed "one asset, prioritize=true&asset_id=$asset" "/api/v1/findings?prioritize=true&asset_id=$asset"
cp "$tmp/body.json" "$tmp/asset.json"
timed "plain, limit=1000 (baseline)" "/api/v1/findings?limit=1000"
hwm_all=$(kib VmHWM)
stop_server

python3 - "$backend" "$count" "$open" "$tmp/results.txt" "$tmp/top100.json" "$tmp/top10000.json" \
  "$tmp/asset.json" "$hwm100" "$hwm10k" "$hwm_all" "$rss_before" <<'PY'
import json, statistics, sys
backend, count, open_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
hwm100, hwm10k, hwm_all, rss_before = (int(x) / 1024 for x in sys.argv[8:12])
top100, top10k, one = (json.load(open(p)) for p in sys.argv[5:8])
# Sanity: the top 100 is the head of the top 10,000; both in rank order; all carry a risk.
assert [f["id"] for f in top100] == [f["id"] for f in top10k[:100]], "top 100 is not the head of the top 10000"
assert all("risk" in f for f in top10k), "a ranked finding without risk"
scores = [f["risk"]["score"] for f in top10k]
assert scores == sorted(scores, reverse=True), "not in score order"
kev = sum(any(x["name"] == "exploitation" and x["source"] == "CISA KEV" for x in f["risk"]["factors"]) for f in top10k)
epss = sum(any(x["name"] == "epss" and x["value"] != "not scored" for x in f["risk"]["factors"]) for f in top10k)
print(f"\n{backend}, {count} assets x 1,500 packages, {open_} open findings; {len(one)} on the one asset")
print(f"  top 10,000: scores {scores[0]} .. {scores[-1]}; {kev} with a CISA KEV factor, {epss} with an EPSS score")
print(f"  {'request':<48} {'median s':>9} {'max s':>7} {'bytes':>10}")
for line in open(sys.argv[4]):
    label, path, size, times = line.rstrip("\n").split("|")
    t = [float(x) for x in times.split()]
    print(f"  {label:<48} {statistics.median(t):9.3f} {max(t):7.3f} {int(size):>10}")
print(f"  peak RSS (VmHWM) in the first fleet-wide ranking: limit 100 {hwm100:.0f} MiB, limit 10000 {hwm10k:.0f} MiB "
      f"(RSS after start {rss_before:.0f} MiB); over all the timed runs {hwm_all:.0f} MiB")
PY
# Log levels are coloured even in a file; strip the colours before looking for them.
sed 's/\x1b\[[0-9;]*m//g' "$tmp"/server*.log | grep -E ' (WARN|ERROR) ' > "$tmp/warnings.txt" || true
if [ -s "$tmp/warnings.txt" ]; then
  echo "server log: $(wc -l < "$tmp/warnings.txt") warning/error lines, first ones:"
  head -5 "$tmp/warnings.txt"
fi
