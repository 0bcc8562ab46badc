//! `patchpilot bench`: the release-mode benchmark behind BENCHMARKS.md.
//!
//! It imports the shared OSV feeds into a temporary data directory, then measures database
//! load, version comparisons per scheme, and scan throughput for three workloads:
//! (a) the shared Debian host's dpkg status, (b) a 5,000-package Cargo.lock and
//! (c) 10,000 simulated hosts × 1,500 packages. Simulated data comes from a fixed-seed
//! generator over real package names and versions from the feeds, so runs are comparable.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use patchpilot_advisory_db::Database;
use patchpilot_matcher::Index;
use patchpilot_osv::Event;
use patchpilot_types::Ecosystem;
use patchpilot_version::Scheme;
use rayon::prelude::*;

use crate::args::BenchArgs;

/// SplitMix64: a tiny deterministic generator, so workloads are identical run to run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let r = f();
        times.push(t.elapsed());
        last = Some(r);
    }
    (median(times), last.expect("ran at least once"))
}

fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn run(data_dir: &Path, args: BenchArgs) -> crate::Result<ExitCode> {
    let Some(shared) = &args.shared else {
        anyhow::bail!("bench: --shared DIR (or PATCHPILOT_SHARED_DATA) is required");
    };
    let feeds: Vec<_> = ["crates.io", "Go", "PyPI"]
        .iter()
        .map(|e| shared.join("feeds/osv").join(e).join("all.zip"))
        .collect();
    let _ = data_dir; // the benchmark never touches the user's database
    let tmp = std::env::temp_dir().join(format!("patchpilot-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;

    crate::out::outln!(
        "# patchpilot bench ({} threads)",
        rayon::current_num_threads()
    )?;
    let t = Instant::now();
    let summary = patchpilot_advisory_db::import(&tmp, &feeds, &mut |_| {})?;
    crate::out::outln!(
        "import: {} records from 3 OSV all.zip feeds in {:.2} s",
        summary.imported,
        t.elapsed().as_secs_f64()
    )?;
    let (load, db) = time(args.runs.max(5), || Database::open(&tmp));
    let db = db?;
    let size = std::fs::metadata(tmp.join("advisories.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    crate::out::outln!(
        "database load: {:.1} ms median ({} advisories, {:.1} MiB file)",
        load.as_secs_f64() * 1e3,
        db.len(),
        size as f64 / 1048576.0
    )?;
    let (load_one, one) = time(args.runs.max(5), || {
        Database::open_for(&tmp, &["crates.io"])
    });
    crate::out::outln!(
        "database load, crates.io section only (what a Cargo.lock scan reads): {:.1} ms median ({} advisories)",
        load_one.as_secs_f64() * 1e3,
        one?.len()
    )?;
    let (build, index) = time(args.runs, || Index::build(db.advisories()));
    crate::out::outln!(
        "index build: {:.1} ms median ({} affected entries, {} warnings)",
        build.as_secs_f64() * 1e3,
        index.len(),
        index.warnings().len()
    )?;

    bench_compare(shared)?;

    // Workload (a): the real Debian 12 host.
    let status = shared.join("inventories/dpkg/debian12-host.status");
    let (ta, (n, hits)) = time(args.runs, || -> (usize, usize) {
        let inv = patchpilot_inventory::read_path(&status, None).expect("shared status parses");
        let hits = inv
            .packages
            .iter()
            .map(|p| {
                let mut p = p.clone();
                p.ecosystem = Ecosystem::Debian;
                p.release = Some("12".into());
                index.matches(&p).map(|m| m.len()).unwrap_or(0)
            })
            .sum();
        (inv.packages.len(), hits)
    });
    crate::out::outln!(
        "workload (a) debian12 dpkg status: {n} packages, {hits} findings, {:.2} ms ({:.0} packages/s, parse + match)",
        ta.as_secs_f64() * 1e3,
        n as f64 / ta.as_secs_f64()
    )?;

    // The pool of real (ecosystem, name, version) triples from the feeds.
    let pool = pool(&db);

    // Workload (b): a 5,000-package Cargo.lock.
    let lock = cargo_lock(&pool, 5_000);
    let lock_path = tmp.join("Cargo.lock");
    std::fs::write(&lock_path, &lock)?;
    let (tb, (n, hits)) = time(args.runs, || -> (usize, usize) {
        let inv = patchpilot_inventory::read_path(&lock_path, None).expect("generated lock parses");
        let hits = inv
            .packages
            .par_iter()
            .map(|p| index.matches(p).map(|m| m.len()).unwrap_or(0))
            .sum();
        (inv.packages.len(), hits)
    });
    crate::out::outln!(
        "workload (b) Cargo.lock: {n} packages, {hits} findings, {:.2} ms ({:.0} packages/s, parse + match)",
        tb.as_secs_f64() * 1e3,
        n as f64 / tb.as_secs_f64(),
    )?;

    // Workload (c): simulated fleet.
    let (hosts, per) = (args.hosts, args.packages);
    let (tc, (hits, errors)) = time(args.runs.min(3), || {
        (0..hosts)
            .into_par_iter()
            .map(|h| {
                let mut rng = Rng(0xC0FFEE ^ (h as u64).wrapping_mul(0x1000_0000_01B3));
                let (mut hits, mut errors) = (0usize, 0usize);
                for _ in 0..per {
                    let (eco, name, version) = &pool[rng.below(pool.len())];
                    match index.matches_raw(eco, Some("12"), name, version) {
                        Ok(m) => hits += m.len(),
                        Err(_) => errors += 1,
                    }
                }
                (hits, errors)
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    let instances = hosts * per;
    crate::out::outln!(
        "workload (c) {hosts} hosts x {per} packages = {instances} instances: {:.2} s median ({:.2} M instances/s), {hits} findings, {errors} unparsable",
        tc.as_secs_f64(),
        instances as f64 / tc.as_secs_f64() / 1e6
    )?;
    if let Some(mib) = peak_rss_mib() {
        crate::out::outln!("peak memory (VmHWM): {mib:.0} MiB")?;
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(ExitCode::SUCCESS)
}

/// Real package triples. Every (ecosystem, package) that has advisories contributes up to
/// four of its real event versions (so hits exercise real ranges, and a package with
/// hundreds of advisories such as Go's `stdlib` weighs no more than any other); then three
/// times as many packages that no advisory names are added, so one instance in four hits
/// the index, roughly what a host with distro and language packages sees.
fn pool(db: &Database) -> Vec<(Ecosystem, String, String)> {
    let mut per_name: std::collections::BTreeMap<(Ecosystem, String), Vec<String>> =
        std::collections::BTreeMap::new();
    for adv in db.advisories() {
        for aff in &adv.affected {
            let Some(scheme) = aff.ecosystem.scheme() else {
                continue;
            };
            let versions = per_name
                .entry((aff.ecosystem.clone(), aff.name.clone()))
                .or_default();
            for r in &aff.ranges {
                for e in &r.events {
                    let v = match e {
                        Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) => v,
                        Event::Limit(_) => continue,
                    };
                    let v = if aff.ecosystem == Ecosystem::Go {
                        format!("v{v}")
                    } else {
                        v.clone()
                    };
                    if versions.len() < 4
                        && v != "0"
                        && scheme.parse(&v).is_ok()
                        && !versions.contains(&v)
                    {
                        versions.push(v);
                    }
                }
            }
        }
    }
    let mut out: Vec<_> = per_name
        .into_iter()
        .flat_map(|((eco, name), vs)| vs.into_iter().map(move |v| (eco.clone(), name.clone(), v)))
        .collect();
    let hits = out.len();
    for i in 0..3 * hits {
        out.push((Ecosystem::Debian, format!("pkg-{i}"), format!("1.{i}-1")));
    }
    out
}

fn cargo_lock(pool: &[(Ecosystem, String, String)], n: usize) -> String {
    let crates: Vec<_> = pool
        .iter()
        .filter(|(e, _, v)| *e == Ecosystem::CratesIo && Scheme::Semver.parse(v).is_ok())
        .collect();
    let mut rng = Rng(42);
    let mut seen = std::collections::HashSet::new();
    let mut s = String::from("version = 3\n\n");
    let mut i = 0;
    while seen.len() < n {
        // One in four packages is a crate with advisories; the rest are plain crates.
        let (name, version) = if i % 4 == 0 && !crates.is_empty() {
            let (_, name, v) = crates[rng.below(crates.len())];
            (name.clone(), v.clone())
        } else {
            (format!("crate-{i}"), format!("0.{}.{}", i % 17, i % 5))
        };
        i += 1;
        if !seen.insert((name.clone(), version.clone())) {
            continue; // a lockfile lists each (name, version) once
        }
        s.push_str(&format!(
            "[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n"
        ));
    }
    s
}

/// Comparisons per second for each scheme on the osv-scalibr vectors, parse included.
fn bench_compare(shared: &Path) -> crate::Result<()> {
    let files = [
        (Scheme::Deb, "debian-versions-generated.txt"),
        (Scheme::Rpm, "redhat-versions.txt"),
        (Scheme::Apk, "alpine-versions-generated.txt"),
        (Scheme::Semver, "semver-versions.txt"),
        (Scheme::Pep440, "pypi-versions-generated.txt"),
        (Scheme::Maven, "maven-versions-generated.txt"),
        (Scheme::Nuget, "nuget-versions.txt"),
        (Scheme::Gem, "rubygems-versions-generated.txt"),
        (Scheme::Composer, "packagist-versions-generated.txt"),
    ];
    for (scheme, file) in files {
        let text = std::fs::read_to_string(shared.join("vectors/osv-scalibr").join(file))
            .with_context(|| format!("reading vector file {file}"))?;
        let pairs: Vec<(&str, &str)> = text
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                let (a, op, b) = (it.next()?, it.next()?, it.next()?);
                matches!(op, "<" | "=" | ">").then_some((a, b))
            })
            .filter(|(a, b)| scheme.compare(a, b).is_ok())
            .collect();
        if pairs.is_empty() {
            continue;
        }
        let reps = (1_000_000 / pairs.len()).max(1);
        let t = Instant::now();
        let mut checksum = 0usize;
        for _ in 0..reps {
            for (a, b) in &pairs {
                checksum += scheme.compare(a, b).map(|o| o as i8 as usize).unwrap_or(0);
            }
        }
        let n = reps * pairs.len();
        let el = t.elapsed();
        std::hint::black_box(checksum);
        crate::out::outln!(
            "compare {:<8} {:>6.2} M comparisons/s (parse both + compare; {} distinct pairs)",
            scheme.name(),
            n as f64 / el.as_secs_f64() / 1e6,
            pairs.len()
        )?;
    }
    Ok(())
}
