//! `patchpilot feeds import` and `feeds status`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use patchpilot_advisory_db::{import as db_import, Database, Progress};

use crate::args::{ImportArgs, SyncArgs};

pub fn import(data_dir: &Path, args: ImportArgs) -> crate::Result<ExitCode> {
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
    let summary = db_import(data_dir, &args.paths, &mut on_progress)
        .with_context(|| format!("importing into {}", data_dir.display()))?;
    bar.finish_and_clear();
    for r in &summary.rejected {
        eprintln!("patchpilot: rejected {}: {}", r.name, r.reason);
    }
    println!(
        "imported {} record(s), rejected {}; the database now holds {} advisories ({})",
        summary.imported,
        summary.rejected.len(),
        summary.total_in_db,
        data_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn sync(data_dir: &Path, args: SyncArgs) -> crate::Result<ExitCode> {
    let mut config = patchpilot_feeds::Config::default();
    if let Some(base) = args.osv_base {
        config.osv_base = base;
    }
    if !args.ecosystems.is_empty() {
        config.ecosystems = args.ecosystems;
    }
    let url = |u: String| (u != "none").then_some(u);
    if let Some(u) = args.kev_url {
        config.kev_url = url(u);
    }
    if let Some(u) = args.epss_url {
        config.epss_url = url(u);
    }
    config.osv_full_refresh = args.full;
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg:24!} {bytes}/{total_bytes} {bar:30}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let report = patchpilot_feeds::sync(data_dir, &config, &mut |p| {
        if let patchpilot_feeds::Progress::Download {
            source,
            done,
            total,
        } = p
        {
            bar.set_message(source.to_string());
            bar.set_length(total.unwrap_or(done));
            bar.set_position(done);
        }
    })
    .with_context(|| format!("syncing feeds into {}", data_dir.display()))?;
    bar.finish_and_clear();
    for s in &report.sources {
        match &s.result {
            Ok(o) if o.changed => println!(
                "{}: updated, {} records, {} bytes transferred",
                s.name, o.records, o.transferred
            ),
            Ok(o) => println!("{}: up to date, {} records", s.name, o.records),
            Err(e) => eprintln!("patchpilot: {}: {e}", s.name),
        }
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

pub fn status(data_dir: &Path) -> crate::Result<ExitCode> {
    let db = Database::open(data_dir)
        .with_context(|| format!("opening the advisory database in {}", data_dir.display()))?;
    println!("{} advisories in {}", db.len(), data_dir.display());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    for s in db.sources() {
        println!(
            "  {:<24} {:>6} records  {:>4} rejected  imported {} ago  ({})",
            s.name,
            s.records,
            s.rejected,
            age(now.saturating_sub(s.imported_at)),
            s.path
        );
    }
    let synced = patchpilot_feeds::status(data_dir)
        .with_context(|| format!("reading feed state in {}", data_dir.display()))?;
    if !synced.is_empty() {
        println!("synced feeds:");
    }
    for s in synced {
        println!(
            "  {:<24} {:>6} records  synced {} ago  ({})",
            s.name,
            s.records,
            age(s.age_secs),
            s.url
        );
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
