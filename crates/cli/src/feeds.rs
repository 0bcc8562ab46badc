//! `patchpilot feeds import`, `feeds sync` and `feeds status`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use patchpilot_advisory_db::{import as db_import, Database, Progress};

use crate::args::{ImportArgs, SyncArgs};

/// What `feeds import` does with one path besides OSV records.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Intel(Intel),
    Distro(patchpilot_distro::Format),
    /// A saved NVD CVE API 2.0 response page.
    Nvd,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Intel {
    Kev,
    Epss,
}

/// Recognize a CISA KEV catalog, a FIRST EPSS file, an NVD CVE API page or a distro
/// tracker file by its name and first bytes (read once); `None` for anything else, which
/// the OSV import reads.
fn sniff(path: &Path) -> Option<Kind> {
    use std::io::Read;
    if !path.is_file() {
        return None;
    }
    let mut head = vec![0u8; 8192];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .ok()?;
    let head = &head[..n];
    if head.starts_with(&[0x1f, 0x8b]) {
        // A gzip: EPSS ships as .csv.gz (OSV never does).
        return Some(Kind::Intel(Intel::Epss));
    }
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start();
    if t.starts_with("#model_version") || t.starts_with("cve,epss") {
        return Some(Kind::Intel(Intel::Epss));
    }
    if t.starts_with('{') && t.contains("\"catalogVersion\"") {
        return Some(Kind::Intel(Intel::Kev));
    }
    if t.starts_with('{') && t.contains("\"NVD_CVE\"") && t.contains("\"format\"") {
        return Some(Kind::Nvd);
    }
    let name = path.file_name()?.to_string_lossy();
    match patchpilot_distro::detect(head, &name)? {
        f @ (patchpilot_distro::Format::DebianTracker
        | patchpilot_distro::Format::AlpineSecDb
        | patchpilot_distro::Format::RedHatSecurityData
        | patchpilot_distro::Format::RedHatCsafVex) => Some(Kind::Distro(f)),
        _ => None,
    }
}

/// Files under `dir`, sorted, recursively; hidden entries skipped, symlinked folders not
/// followed (as the OSV folder import walks).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> crate::Result<()> {
    let mut entries = std::fs::read_dir(dir)
        .and_then(|rd| rd.collect::<std::io::Result<Vec<_>>>())
        .with_context(|| format!("{}: cannot read the folder", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        let ty = e
            .file_type()
            .with_context(|| format!("{}: cannot stat", path.display()))?;
        if ty.is_dir() {
            walk(&path, out)?;
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// The distro tracker files of a folder (e.g. Red Hat per-CVE JSON files, which have no
/// extension), or `None` for a folder of OSV records. Its first file that is a tracker
/// file or has an OSV record's extension decides; other files (README, LICENSE) are
/// passed over. A tracker folder must not also hold OSV records: that is an error rather
/// than half an import.
fn distro_dir(dir: &Path) -> crate::Result<Option<Vec<(PathBuf, patchpilot_distro::Format)>>> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    let record_ext = |p: &Path| {
        p.extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .is_some_and(|e| matches!(e.as_str(), "json" | "yaml" | "yml"))
    };
    let mut out: Vec<(PathBuf, patchpilot_distro::Format)> = Vec::new();
    for f in files {
        match sniff(&f) {
            Some(Kind::Distro(format)) => out.push((f, format)),
            _ if record_ext(&f) => match out.first() {
                None => return Ok(None),
                Some((first, _)) => bail!(
                    "{}: not a distro tracker file, in a folder of them ({}); import OSV records and tracker files from separate folders",
                    f.display(),
                    first.display()
                ),
            },
            _ => {}
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

/// `dir/name` of a path, to label an import.
fn label(p: &Path) -> String {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string());
    match p.parent().and_then(|d| d.file_name()) {
        Some(d) => format!("{}/{name}", d.to_string_lossy()),
        None => name,
    }
}

/// The deepest folder holding every path (for the source entry of a multi-file import).
fn common_dir(paths: &[PathBuf]) -> PathBuf {
    let abs: Vec<PathBuf> = paths
        .iter()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let mut common = abs[0].parent().map(Path::to_path_buf).unwrap_or_default();
    for p in &abs[1..] {
        while !p.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    common
}

/// Convert every distro tracker file of this import, merge advisories with the same id
/// (Alpine `main` + `community`, one CVE from several files) and import them in one
/// transaction as one source: the argument itself, or for several arguments their common
/// folder. Any bad file fails the import before the database is touched.
fn import_distro(
    data_dir: &Path,
    args: &[PathBuf],
    files: &[(PathBuf, patchpilot_distro::Format)],
) -> crate::Result<()> {
    // A Debian tracker or Alpine secdb file is the distro's whole feed for the releases it
    // names; Red Hat's per-CVE documents are individual records.
    let (mut all, mut whole) = (Vec::new(), Vec::new());
    for (p, format) in files {
        let bytes = std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?;
        let converted = patchpilot_distro::convert(*format, &bytes, &p.display().to_string())?;
        if matches!(
            format,
            patchpilot_distro::Format::DebianTracker | patchpilot_distro::Format::AlpineSecDb
        ) {
            whole.extend(converted);
        } else {
            all.extend(converted);
        }
    }
    let mut coverage = patchpilot_advisory_db::SourceCoverage::feed_of(&whole);
    coverage.add(patchpilot_advisory_db::SourceCoverage::records_of(&all));
    all.append(&mut whole);
    let records = patchpilot_distro::merge(all);
    let n = records.len();
    let (source, name, what) = match args {
        [one] if files.len() == 1 => (one.clone(), label(one), one.display().to_string()),
        [one] => (
            one.clone(),
            label(one),
            format!("{} files in {}", files.len(), one.display()),
        ),
        _ => {
            let dir = common_dir(args);
            let what = format!("{} files", files.len());
            (dir.clone(), format!("{} ({what})", label(&dir)), what)
        }
    };
    let summary =
        patchpilot_advisory_db::import_converted(data_dir, &source, &name, records, coverage)?;
    crate::out::outln!(
        "imported {n} advisories converted from {what}; the database now holds {}",
        summary.total_in_db
    )?;
    Ok(())
}

/// Validate a KEV or EPSS file and store it where `feeds sync` keeps it (atomically).
fn import_intel(data_dir: &Path, path: &Path, kind: Intel) -> crate::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let (dest, what) = match kind {
        Intel::Kev => {
            let k =
                patchpilot_intel::parse_kev(&bytes).with_context(|| path.display().to_string())?;
            (
                patchpilot_feeds::kev_file(data_dir),
                format!(
                    "CISA KEV catalog {} ({} entries)",
                    k.version,
                    k.entries.len()
                ),
            )
        }
        Intel::Epss => {
            let e =
                patchpilot_intel::parse_epss(&bytes).with_context(|| path.display().to_string())?;
            (
                patchpilot_feeds::epss_file(data_dir),
                format!("FIRST EPSS scores ({} CVEs)", e.scores.len()),
            )
        }
    };
    let dir = dest.parent().expect("feed files live in a folder");
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    // EPSS is stored gzipped, as downloaded; a plain CSV is stored as is (readers sniff).
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("{}: cannot create a temp file", dir.display()))?;
    std::io::Write::write_all(&mut tmp, &bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("{}: cannot write", dest.display()))?;
    tmp.persist(&dest)
        .with_context(|| format!("{}: cannot replace", dest.display()))?;
    Ok(what)
}

pub fn import(data_dir: &Path, args: ImportArgs) -> crate::Result<ExitCode> {
    // KEV and EPSS files are validated and stored first; distro tracker files (and
    // folders of them) are converted, merged and imported together; everything else is
    // OSV.
    let mut osv = Vec::new();
    let mut nvd_pages = Vec::new();
    let (mut distro_args, mut distro_files) = (Vec::new(), Vec::new());
    for p in &args.paths {
        if p.is_dir() {
            match distro_dir(p)? {
                Some(files) => {
                    distro_args.push(p.clone());
                    distro_files.extend(files);
                }
                None => osv.push(p.clone()),
            }
            continue;
        }
        let kind = sniff(p);
        if kind == Some(Kind::Nvd) {
            let bytes =
                std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?;
            let page =
                patchpilot_intel::parse_nvd(&bytes).with_context(|| p.display().to_string())?;
            nvd_pages.push(page);
        } else if let Some(Kind::Intel(intel)) = kind {
            let what = import_intel(data_dir, p, intel)?;
            crate::out::outln!("imported {what} from {}", p.display())?;
        } else if let Some(Kind::Distro(format)) = kind {
            distro_args.push(p.clone());
            distro_files.push((p.clone(), format));
        } else {
            osv.push(p.clone());
        }
    }
    if !distro_files.is_empty() {
        import_distro(data_dir, &distro_args, &distro_files)?;
    }
    if !nvd_pages.is_empty() {
        // All pages are parsed before the store is touched: one bad file changes nothing.
        let files = nvd_pages.len();
        let n = patchpilot_feeds::import_nvd(data_dir, nvd_pages)?;
        crate::out::outln!(
            "imported {} NVD CVE records from {files} page(s): {} added, {} updated, {} removed, {} not newer or without CVSS; {} holds {} CVEs",
            n.read,
            n.merge.added,
            n.merge.updated,
            n.merge.removed,
            n.merge.kept,
            patchpilot_feeds::nvd_file(data_dir).display(),
            n.total
        )?;
    }
    if osv.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let args = ImportArgs { paths: osv };
    // indicatif draws nothing when stderr is not a terminal.
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg:30!} [{bar:30}] {pos}/{len} records")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut on_progress = |p: Progress| match p {
        Progress::Start { source, records } => {
            bar.reset();
            bar.set_length(records);
            bar.set_message(source);
        }
        Progress::Record => bar.inc(1),
        Progress::Done { .. } => {}
    };
    let summary = db_import(data_dir, &args.paths, &mut on_progress)?;
    bar.finish_and_clear();
    for r in &summary.rejected {
        eprintln!("patchpilot: rejected {}: {}", r.name, r.reason);
    }
    crate::out::outln!(
        "imported {} record(s), rejected {}; the database now holds {} advisories ({})",
        summary.imported,
        summary.rejected.len(),
        summary.total_in_db,
        data_dir.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn sync(data_dir: &Path, args: SyncArgs) -> crate::Result<ExitCode> {
    let mut config = patchpilot_feeds::Config::default();
    if let Some(base) = args.osv_base {
        config.osv_base = base;
    }
    if !args.ecosystems.is_empty() {
        // `--ecosystem none`: no OSV source (a distro-only or intel-only sync).
        config.ecosystems = args
            .ecosystems
            .into_iter()
            .filter(|e| e != "none")
            .collect();
    }
    let url = |u: String| (u != "none").then_some(u);
    if let Some(u) = args.kev_url {
        config.kev_url = url(u);
    }
    if let Some(u) = args.epss_url {
        config.epss_url = url(u);
    }
    config.osv_full_refresh = args.full;
    for d in &args.distros {
        match d.trim().to_ascii_lowercase().as_str() {
            "debian" => {
                config.debian_url = Some(patchpilot_feeds::DEFAULT_DEBIAN_URL.into());
            }
            "alpine" => {
                config.alpine = Some(patchpilot_feeds::AlpineConfig::default());
            }
            "redhat" | "rhel" => {
                config.redhat = Some(patchpilot_feeds::RedHatConfig::default());
            }
            "" => {}
            other => bail!("--distro {other:?}: expected debian, alpine or redhat"),
        }
    }
    if let Some(u) = args.debian_url {
        config.debian_url = Some(u);
    }
    if args.alpine_url.is_some() || !args.alpine_branches.is_empty() {
        let alpine = config.alpine.get_or_insert_with(Default::default);
        if let Some(u) = args.alpine_url {
            alpine.base = u;
        }
        if !args.alpine_branches.is_empty() {
            alpine.branches = args.alpine_branches;
        }
    }
    if let Some(u) = args.redhat_url {
        config.redhat.get_or_insert_with(Default::default).base = u;
    }
    let key = match args.nvd_api_key {
        Some(k) => patchpilot_feeds::ApiKey::parse(k)
            .map_err(|e| anyhow!("--nvd-api-key / {}: {e}", crate::env::NVD_API_KEY))?,
        None => None,
    };
    match key {
        Some(key) => {
            let mut nvd = patchpilot_feeds::NvdConfig::new(key);
            if let Some(u) = args.nvd_url {
                nvd.url = u;
            }
            if let Some(r) = args.nvd_rate.as_deref() {
                nvd.rate = parse_rate(r)?;
            }
            config.nvd = Some(nvd);
        }
        None if args.nvd_url.is_some() || args.nvd_rate.is_some() => {
            eprintln!(
                "patchpilot: warning: NVD is not synced without an API key (--nvd-api-key or PATCHPILOT_NVD_API_KEY)"
            );
        }
        None => {}
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg:24!} {bytes}/{total_bytes} {bar:30}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let documents = ProgressStyle::with_template("{msg:24!} {pos}/{len} documents {bar:30}")
        .expect("valid template")
        .progress_chars("=> ");
    let bytes = bar.style();
    let report = patchpilot_feeds::sync(data_dir, &config, &mut |p| match p {
        patchpilot_feeds::Progress::Download {
            source,
            done,
            total,
        } => {
            bar.set_style(bytes.clone());
            bar.set_message(source.to_string());
            bar.set_length(total.unwrap_or(done));
            bar.set_position(done);
        }
        patchpilot_feeds::Progress::Documents {
            source,
            done,
            total,
        } => {
            bar.set_style(documents.clone());
            bar.set_message(source.to_string());
            bar.set_length(total);
            bar.set_position(done);
        }
        patchpilot_feeds::Progress::Import(_) => {}
    })?;
    bar.finish_and_clear();
    for s in &report.sources {
        if let Ok(o) = &s.result {
            for r in &o.rejected {
                eprintln!("patchpilot: {}: skipped {r}", s.name);
            }
        }
        match &s.result {
            Ok(o) if o.changed && s.name == "nvd" => crate::out::outln!(
                "{}: updated, {} CVEs with CVSS, {} bytes transferred",
                s.name,
                o.records,
                o.transferred
            ),
            Ok(o) if o.changed => crate::out::outln!(
                "{}: updated, {} records, {} bytes transferred",
                s.name,
                o.records,
                o.transferred
            ),
            Ok(o) => crate::out::outln!("{}: up to date, {} records", s.name, o.records),
            Err(e) => {
                eprintln!("patchpilot: {}: {e}", s.name);
                Ok(())
            }
        }?;
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// `50/30`: at most 50 requests in any 30 seconds (fractions allowed: `5/0.5`).
fn parse_rate(s: &str) -> crate::Result<patchpilot_feeds::RateLimit> {
    let bad = || anyhow!("--nvd-rate {s:?}: expected REQUESTS/SECONDS, e.g. 50/30");
    let (n, secs) = s.split_once('/').ok_or_else(bad)?;
    let requests: u32 = n.trim().parse().map_err(|_| bad())?;
    let secs: f64 = secs.trim().parse().map_err(|_| bad())?;
    if requests == 0 || !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
        return Err(bad());
    }
    Ok(patchpilot_feeds::RateLimit {
        requests,
        per: std::time::Duration::from_secs_f64(secs),
    })
}

/// `feeds status`: every source with its age and what it covers (each OSV ecosystem,
/// each distro tracker, CISA KEV, FIRST EPSS, NVD), then what is missing.
pub fn status(data_dir: &Path) -> crate::Result<ExitCode> {
    use crate::out::outln;
    let db = Database::open(data_dir)?;
    let now = crate::now_secs();
    outln!("{} advisories in {}", db.len(), data_dir.display())?;
    if !db.sources().is_empty() {
        outln!("advisory sources:")?;
    }
    for s in db.sources() {
        outln!(
            "  {:<24} {:>6} records  {:>4} rejected  imported {} ago  ({})",
            s.name,
            s.records,
            s.rejected,
            age(now.saturating_sub(s.imported_at)),
            s.path
        )?;
        outln!("  {:<24} covers: {}", "", s.describe_coverage())?;
    }
    outln!("threat intelligence:")?;
    let intel = patchpilot_feeds::intel_status(data_dir, now)?;
    for i in &intel {
        match (&i.detail, i.age_secs) {
            (Some(detail), Some(a)) => outln!("  {:<11} {detail}, updated {} ago", i.name, age(a))?,
            _ => outln!("  {:<11} missing", i.name)?,
        }
    }
    let synced = patchpilot_feeds::status(data_dir)?;
    if !synced.is_empty() {
        outln!("synced feeds:")?;
    }
    for s in synced {
        outln!(
            "  {:<24} {:>6} records  synced {} ago  ({})",
            s.name,
            s.records,
            age(s.age_secs),
            s.url
        )?;
    }
    let missing = patchpilot_feeds::missing(&db, &intel);
    if !missing.is_empty() {
        outln!("missing:")?;
        for m in missing {
            outln!("  {m}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}
