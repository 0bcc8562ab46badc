//! `patchpilot feeds import` and `feeds status`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use patchpilot_advisory_db::{import as db_import, Database, Progress};

use crate::args::ImportArgs;

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
