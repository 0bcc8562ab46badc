//! Measure `Database::open` (and optionally an import first).
//!
//! ```text
//! cargo run --release -p patchpilot-advisory-db --example open_time -- DATA_DIR [INPUT...]
//! ```
//! With inputs (e.g. the three `all.zip` feeds) they are imported into DATA_DIR first.

use std::path::PathBuf;
use std::time::Instant;

use patchpilot_advisory_db::{import, Database, FILE_NAME};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let data_dir = args.next().ok_or("usage: open_time DATA_DIR [INPUT...]")?;
    let inputs: Vec<PathBuf> = args.collect();
    if !inputs.is_empty() {
        let t = Instant::now();
        let s = import(&data_dir, &inputs, &mut |_| {})?;
        println!(
            "import: {} records ({} rejected) in {:.0} ms",
            s.imported,
            s.rejected.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    let size = std::fs::metadata(data_dir.join(FILE_NAME))?.len();
    let mut times = Vec::new();
    let mut n = 0;
    for _ in 0..20 {
        let t = Instant::now();
        let db = Database::open(&data_dir)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        n = db.len();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "open: {n} advisories, file {size} bytes ({:.1} MiB); min {:.1} ms, median {:.1} ms, max {:.1} ms (20 runs)",
        size as f64 / (1 << 20) as f64,
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
    Ok(())
}
