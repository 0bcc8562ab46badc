#!/usr/bin/env bash
# `feeds sync --distro redhat` at Red Hat's scale, on a synthetic CSAF VEX folder served
# from 127.0.0.1: COUNT documents (default 50,000; Red Hat's folder holds one per CVE the
# portfolio touches) made from the three hand-written fixtures of
# crates/distro/tests/fixtures/csaf, each under its own CVE id, in a
# csaf_vex_<date>.tar.zst built with GNU tar and zstd, plus CHANGED documents (default 500)
# listed in changes.csv after the archive's date.
# usage: benches/redhat-sync.sh [COUNT] [CHANGED]
# Prints, for the first sync (archive + changed documents) and for an increment (CHANGED
# more documents changed upstream): wall time, peak RSS (GNU time), documents per second.
# Needs python3, GNU tar with zstd, /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-50000}
changed=${2:-500}
bin=$(pwd)/target/release/patchpilot
cargo build --release -q -p patchpilot
tmp=$(mktemp -d)
trap 'kill $srv 2>/dev/null || true; rm -rf "$tmp"' EXIT
python3 - "$tmp" "$count" "$changed" <<'EOF'
import json, os, pathlib, sys
tmp, count, changed = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
fixtures = pathlib.Path("crates/distro/tests/fixtures/csaf")
templates = []
for f in sorted(fixtures.glob("cve-*.json")):
    cve = f.stem.upper()
    templates.append((cve, f.read_text()))
stage = tmp / "stage"
vex = tmp / "vex"
def doc(i, bump=""):
    cve, text = templates[i % len(templates)]
    new = f"CVE-{2000 + i // 90000}-{10000 + i % 90000}"
    return new, text.replace(cve, new) + bump
for i in range(count):
    new, text = doc(i)
    year = new.split("-")[1]
    p = stage / year / f"{new.lower()}.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    if i < 2 * changed:
        q = vex / year / f"{new.lower()}.json"
        q.parent.mkdir(parents=True, exist_ok=True)
        q.write_text(text)
rows = []
for i in range(changed):
    new, _ = doc(i)
    rows.append(f'"{new.split("-")[1]}/{new.lower()}.json","2024-02-01T08:00:{i % 60:02d}+00:00"')
(vex / "changes.csv").write_text("\n".join(reversed(rows)) + "\n")
(vex / "deletions.csv").write_text("")
(vex / "archive_latest.txt").write_text("csaf_vex_2024-01-10.tar.zst\n")
later = [f'"{doc(i)[0].split("-")[1]}/{doc(i)[0].lower()}.json","2024-03-01T08:00:{i % 60:02d}+00:00"' for i in range(changed, 2 * changed)]
(tmp / "changes-later.csv").write_text("\n".join(reversed(later)) + "\n" + "\n".join(reversed(rows)) + "\n")
EOF
tar -C "$tmp/stage" --zstd -cf "$tmp/vex/csaf_vex_2024-01-10.tar.zst" .
echo "archive: $count documents, $(du -k "$tmp/vex/csaf_vex_2024-01-10.tar.zst" | cut -f1) KiB zstd, $(du -sk "$tmp/stage" | cut -f1) KiB unpacked"
rm -rf "$tmp/stage"
port=$((20000 + RANDOM % 20000))
(cd "$tmp" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
srv=$!
sleep 1
sync() {
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$bin" --data-dir "$tmp/data" feeds sync \
    --ecosystem none --kev-url none --epss-url none \
    --redhat-url "http://127.0.0.1:$port/vex" >"$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
  read -r secs kib <"$tmp/time"
  echo "$1: $(grep redhat "$tmp/out"), ${secs} s, peak RSS $((kib / 1024)) MiB, $(python3 -c "print(round($2 / $secs))") documents/s"
}
sync "first sync (archive + $changed changed)" $((count + changed))
cp "$tmp/changes-later.csv" "$tmp/vex/changes.csv"
sync "increment ($changed changed, fetched 8 at a time)" "$changed"
