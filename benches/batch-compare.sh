#!/usr/bin/env bash
# Throughput of `patchpilot version compare SCHEME --batch`: 1,000,000 pairs from the
# osv-scalibr vectors of each scheme, piped through the release binary (median of 5 runs).
# usage: benches/batch-compare.sh   (needs hyperfine and a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${PATCHPILOT_SHARED_DATA:-$(pwd)/../shared/data}
bin=$(pwd)/target/release/patchpilot
[ -x "$bin" ] || cargo build --release -q -p patchpilot
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for pair in deb:debian-versions-generated rpm:redhat-versions pep440:pypi-versions-generated \
            semver:semver-versions maven:maven-versions-generated; do
  scheme=${pair%%:*}; file=$shared/vectors/osv-scalibr/${pair#*:}.txt
  awk '$2 ~ /^[<=>]$/ && NF == 3 { print $1, $3 }' "$file" > "$tmp/one"
  python3 -c "
import sys, itertools
lines = open('$tmp/one').read().splitlines()
out = open('$tmp/$scheme', 'w')
for l in itertools.islice(itertools.cycle(lines), 1_000_000): out.write(l + '\n')"
  hyperfine --runs 5 --warmup 1 -i --export-json "$tmp/$scheme.json" \
    "$bin version compare $scheme --batch < $tmp/$scheme > /dev/null" >/dev/null 2>&1
  python3 -c "
import json
m = json.load(open('$tmp/$scheme.json'))['results'][0]['median']
print(f'{\"$scheme\":<8} 1,000,000 pairs in {m:.3f} s median = {1e6/m/1e6:.2f} M pairs/s')"
done
