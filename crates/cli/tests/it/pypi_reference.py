"""Reference OSV matcher for PyPI, written independently of Patchpilot's Rust matcher.

Reads the PyPI all.zip and a list of `name==version` pins; prints one JSON line per
(normalized name, version, advisory id) that the OSV specification says is affected.
Uses Python `packaging` (the copy vendored in pip) for PEP 440.
"""
import json
import re
import sys
import zipfile

from pip._vendor.packaging.version import InvalidVersion, Version


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def affected(v, aff):
    for vs in aff.get("versions") or []:
        try:
            if Version(vs) == v:
                return True
        except InvalidVersion:
            pass
    for r in aff.get("ranges") or []:
        if r.get("type") != "ECOSYSTEM":
            continue
        events = []
        try:
            for e in r["events"]:
                (kind, val), = e.items()
                key = (0, None) if (kind == "introduced" and val == "0") else (1, Version(val))
                events.append((key, kind, val))
        except InvalidVersion:
            continue  # a range we cannot evaluate
        limits = [k[1] for k, kind, _ in events if kind == "limit"]
        if limits and v >= min(limits):
            continue
        # OSV spec evaluation: sorted events toggle the state.
        events.sort(key=lambda x: (x[0][0], x[0][1] if x[0][1] is not None else Version("0")))
        state = False
        for (_, ver), kind, _ in events:
            if kind == "introduced" and (ver is None or v >= ver):
                state = True
            elif kind == "fixed" and v >= ver:
                state = False
            elif kind == "last_affected" and v > ver:
                state = False
        if state:
            return True
    return False


def main():
    zip_path, pins_path = sys.argv[1], sys.argv[2]
    by_name = {}
    with zipfile.ZipFile(zip_path) as z:
        for n in z.namelist():
            rec = json.loads(z.read(n))
            if rec.get("withdrawn"):
                continue
            for aff in rec.get("affected") or []:
                pkg = aff.get("package") or {}
                if pkg.get("ecosystem") != "PyPI":
                    continue
                by_name.setdefault(norm(pkg["name"]), []).append((rec["id"], aff))
    for line in open(pins_path):
        name, ver = line.strip().split("==")
        v = Version(ver)
        seen = set()
        for adv_id, aff in by_name.get(norm(name), []):
            if adv_id not in seen and affected(v, aff):
                seen.add(adv_id)
                print(json.dumps([norm(name), ver, adv_id]))


main()
