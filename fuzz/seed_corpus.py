#!/usr/bin/env python3
"""Seed fuzz/corpus/<target>/ with real inputs from the shared test data.

Usage: python3 fuzz/seed_corpus.py [SHARED_DATA_DIR]

SHARED_DATA_DIR defaults to $PATCHPILOT_SHARED_DATA, then ../shared/data next to the repository.
The corpus directory is gitignored: nothing written here is ever committed. Seeding is optional;
every target also runs from an empty corpus, it only finds deep paths sooner with real inputs.
"""

import hashlib
import json
import os
import sqlite3
import struct
import sys
import tempfile
import zipfile
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
CORPUS = FUZZ / "corpus"

# inventory target -> (folders under the data dir, file-name filter)
INVENTORY = {
    "inventory_apk_installed": (["inventories/osv-scalibr/apk"], None),
    "inventory_dpkg_status": (["inventories/dpkg", "inventories/osv-scalibr/dpkg"], None),
    "inventory_rpm_qa": (["inventories/osv-scalibr/rpm"], lambda p: p.suffix != ".sqlite"),
    "inventory_rpmdb_sqlite": (["inventories/osv-scalibr/rpm"], lambda p: p.suffix == ".sqlite"),
    "inventory_cargo_lock": (
        ["lockfiles/cargo-audit-fixtures", "lockfiles/osv-scalibr/rust/cargolock"],
        lambda p: p.name.endswith(".lock") or "cargolock" in str(p),
    ),
    "inventory_go_mod": (["lockfiles/osv-scalibr/golang/gomod"], lambda p: p.suffix == ".mod"),
    "inventory_package_lock_json": (["lockfiles/osv-scalibr/javascript/packagelockjson"], None),
    "inventory_yarn_lock": (["lockfiles/osv-scalibr/javascript/yarnlock"], None),
    "inventory_pnpm_lock": (["lockfiles/osv-scalibr/javascript/pnpmlock"], None),
    "inventory_requirements_txt": (["lockfiles/osv-scalibr/python/requirements"], None),
    "inventory_poetry_lock": (["lockfiles/osv-scalibr/python/poetrylock"], None),
    "inventory_pipfile_lock": (["lockfiles/osv-scalibr/python/pipfilelock"], None),
    "inventory_uv_lock": (["lockfiles/osv-scalibr/python/uvlock"], None),
    "inventory_cyclonedx_json": (
        ["sboms/cyclonedx-examples", "sboms/osv-scanner", "vex"],
        lambda p: p.suffix == ".json" and "spdx" not in p.name,
    ),
    "inventory_cyclonedx_xml": (["sboms/osv-scanner", "vex"], lambda p: p.suffix == ".xml"),
    "inventory_spdx_json": (["sboms/osv-scanner"], lambda p: "spdx" in p.name),
    # Not inventories, but seeded the same way: real files of each kind.
    "sbom_labels": (["sboms/osv-scanner"], lambda p: p.suffix in (".json", ".xml")),
    "distro_trackers": (
        ["feeds/distro-samples/debian", "feeds/distro-samples/alpine", "feeds/distro-samples/rhel/oval/input/cve/full", "feeds/distro-samples/alma"],
        lambda p: p.stat().st_size < 2_000_000,
    ),
    "intel_feeds": (["feeds/kev/history", "feeds/epss", "feeds/distro-samples/nvd"], lambda p: p.stat().st_size < 4_000_000),
    "feed_indexes": (["feeds/osv"], lambda p: p.name == "modified_id.csv"),
    "vex_documents": (["vex"], None),
}

# version target -> osv-scalibr vector file prefixes and univers/other files
VERSION = {
    "version_apk": ["alpine", "univers/alpine_version_cmp.json"],
    "version_deb": ["debian", "dpkg-version-pairs.txt", "univers/deb_version_python_pkg_test.json"],
    "version_rpm": ["redhat", "rpm-version-pairs.txt"],
    "version_semver": ["semver", "node-semver/comparisons.json", "node-semver/valid-versions.json"],
    "version_pep440": ["pypi", "pep440-strictly-increasing.txt"],
    "version_maven": ["maven", "univers/maven_version_cmp.json"],
    "version_nuget": ["nuget", "univers/nuget_version_cmp.json"],
    "version_gem": ["rubygems"],
    "version_composer": ["packagist"],
    "version_alpm": ["univers/alpm_version_cmp.json"],
    "version_gentoo": ["univers/gentoo_version_cmp.json"],
    "version_pub": ["pub"],
    "version_cran": ["cran"],
    "version_hackage": ["hackage"],
    "version_conan": ["univers/conan_version_cmp.json"],
    "version_openssl": ["univers/openssl_version_cmp.json"],
}

MAX_FILE = 1 << 20  # libFuzzer's default -max_len is far below this anyway
MAX_VERSION_SEEDS = 2000  # the vector files hold ~50k lines; a few thousand cover them well


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    if not data or len(data) > MAX_FILE:
        return 0
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)
    return 1


def strings_in(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, list):
        for x in obj:
            yield from strings_in(x)
    elif isinstance(obj, dict):
        for x in obj.values():
            yield from strings_in(x)


def version_seeds(data, spec):
    """Yield version strings and 'a\\nb' pairs from a vector file."""
    vec = data / "vectors"
    if "/" in spec or spec.endswith((".txt", ".json")):
        files = [vec / spec]
    else:
        files = sorted((vec / "osv-scalibr").glob(f"{spec}-versions*.txt"))
    for f in files:
        if not f.exists():
            continue
        if f.suffix == ".json":
            try:
                doc = json.loads(f.read_text())
            except ValueError:
                continue
            items = doc if isinstance(doc, list) else [doc]
            for item in items:
                vals = [s for s in strings_in(item.get("input", item) if isinstance(item, dict) else item)
                        if len(s) < 200]
                yield from vals
                if len(vals) >= 2:
                    yield f"{vals[0]}\n{vals[1]}"
            continue
        for line in f.read_text(errors="replace").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) >= 3 and parts[1] in ("<", "=", ">"):
                a, b = parts[0], parts[2]
            elif len(parts) >= 3:
                a, b = parts[0], parts[1]
            else:
                yield from parts
                continue
            yield a
            yield b
            yield f"{a}\n{b}"


def rpm_header_blob(name, version, release, epoch, arch, sourcerpm):
    """An rpm header blob laid out as rpm stores it: counts, index entries, data store."""
    entries = [(1000, 6, name), (1001, 6, version), (1002, 6, release)]
    if epoch is not None:
        entries.append((1003, 4, struct.pack(">I", epoch)))
    if arch:
        entries.append((1022, 6, arch))
    if sourcerpm:
        entries.append((1044, 6, sourcerpm))
    index, store = b"", b""
    for tag, ty, payload in entries:
        if ty == 4:
            store += b"\0" * (-len(store) % 4)
        else:
            payload = payload.encode() + b"\0"
        index += struct.pack(">IIII", tag, ty, len(store), 1)
        store += payload
    return struct.pack(">II", len(entries), len(store)) + index + store


def rpmdb_sqlite(blobs):
    """A minimal rpmdb.sqlite (rpm >= 4.16 layout: table Packages(hnum, blob))."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "rpmdb.sqlite"
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
        con.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
        con.commit()
        con.close()
        return path.read_bytes()


def main():
    arg = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PATCHPILOT_SHARED_DATA")
    data = Path(arg) if arg else FUZZ.parent.parent / "shared" / "data"
    if not data.is_dir():
        sys.exit(f"no shared data at {data}: pass its path")
    counts = {}

    for target, (dirs, keep) in INVENTORY.items():
        n = 0
        for d in dirs:
            for p in sorted((data / d).rglob("*")):
                if p.is_file() and p.name != "LICENSE" and (keep is None or keep(p)):
                    n += put(target, p.read_bytes())
        counts[target] = n

    # Formats the shared data has no real sample of: the repository's own fixtures
    # (Red Hat CSAF VEX, hand-written after the spec).
    for p in sorted((FUZZ.parent / "crates/distro/tests/fixtures").rglob("*.json")):
        counts["distro_trackers"] += put("distro_trackers", p.read_bytes())

    for target, specs in VERSION.items():
        seeds = sorted({s for spec in specs for s in version_seeds(data, spec)})
        step = max(1, len(seeds) // MAX_VERSION_SEEDS)
        counts[target] = sum(put(target, s) for s in seeds[::step])

    # rpm: header blobs, and a real SQLite rpmdb holding them (no such file in the shared data).
    blobs = [
        rpm_header_blob("openssl-libs", "3.0.7", "24.el9", 1, "x86_64", "openssl-3.0.7-24.el9.src.rpm"),
        rpm_header_blob("bash", "5.1.8", "6.el9", None, "x86_64", "bash-5.1.8-6.el9.src.rpm"),
        rpm_header_blob("gpg-pubkey", "fd431d51", "4ae0493b", None, None, None),
    ]
    counts["inventory_rpm_header"] = sum(put("inventory_rpm_header", b) for b in blobs)
    counts["inventory_rpm_header"] += put("inventory_rpm_header", b"\x8e\xad\xe8\x01\0\0\0\0" + blobs[0])
    counts["inventory_rpmdb_sqlite"] += put("inventory_rpmdb_sqlite", rpmdb_sqlite(blobs))

    n = 0
    for f in sorted((data / "vectors" / "purl-spec").rglob("*.json")):
        try:
            doc = json.loads(f.read_text())
        except ValueError:
            continue
        n += sum(put("purl", s) for s in strings_in(doc) if s.startswith("pkg:"))
    counts["purl"] = n

    # OSV: up to 150 records from each ecosystem's all.zip; YAML is a superset of JSON,
    # so the same records seed osv_yaml.
    for target in ("osv_json", "osv_yaml"):
        counts[target] = 0
    for z in sorted((data / "feeds" / "osv").glob("*/all.zip")):
        with zipfile.ZipFile(z) as zf:
            for name in zf.namelist()[:150]:
                rec = zf.read(name)
                counts["osv_json"] += put("osv_json", rec)
                counts["osv_yaml"] += put("osv_yaml", rec)

    for target, n in sorted(counts.items()):
        print(f"{target}: {n} seed files")


if __name__ == "__main__":
    main()
