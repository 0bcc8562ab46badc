#!/usr/bin/env bash
# Side by side, in one run: median wall time of 10 runs of `cargo audit` and of
# `patchpilot scan` on the same Cargo.lock with the same RustSec advisories
# (cargo audit reads the native database, patchpilot the OSV export, imported beforehand).
# usage: benches/vs-cargo-audit.sh [Cargo.lock]   (needs hyperfine, cargo-audit, a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${PATCHPILOT_SHARED_DATA:-$(pwd)/../shared/data}
lock=${1:-$shared/lockfiles/cargo-audit-fixtures/branch-regression/Cargo.lock}
bin=$(pwd)/target/release/patchpilot
[ -x "$bin" ] || cargo build --release -q -p patchpilot
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$shared/../tools/rustsec-git-db.sh" "$tmp/db" >/dev/null
"$bin" --data-dir "$tmp/data" feeds import "$shared/feeds/osv/crates.io/all.zip" >/dev/null
"$bin" --data-dir "$tmp/all" feeds import "$shared"/feeds/osv/*/all.zip >/dev/null
echo "lockfile: $lock ($(grep -c '^\[\[package\]\]' "$lock") packages)"
hyperfine -N --runs 10 --warmup 1 -i --export-json "$tmp/h.json" \
  -n "cargo audit" "cargo audit --db $tmp/db --no-fetch --stale --no-yanked --json -f $lock" \
  -n "patchpilot scan (crates.io feed)" "$bin --data-dir $tmp/data scan --format json $lock" \
  -n "patchpilot scan (all 3 feeds)" "$bin --data-dir $tmp/all scan --format json $lock" >/dev/null
python3 - "$tmp/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["median"]
for x in r:
    print(f'{x["command"]:<34} median {x["median"]*1e3:8.1f} ms   ({base / x["median"]:.1f}x vs cargo audit)')
PY
