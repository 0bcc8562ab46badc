//! `patchpilot version compare`.

use std::cmp::Ordering;
use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use patchpilot_version::Scheme;

use crate::args::CompareArgs;

fn symbol(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

pub fn compare(args: CompareArgs) -> crate::Result<ExitCode> {
    let scheme = Scheme::from_name(&args.scheme).ok_or_else(|| {
        anyhow!(
            "unknown version scheme {:?} (expected one of: {})",
            args.scheme,
            Scheme::ALL.map(|s| s.name()).join(", ")
        )
    })?;
    if !args.batch {
        let (a, b) = (args.a.unwrap_or_default(), args.b.unwrap_or_default());
        let o = scheme.compare(&a, &b)?;
        crate::out::outln!("{}", symbol(o))?;
        return Ok(ExitCode::SUCCESS);
    }
    // Batch: one result line per input line, in order; a bad pair gets an `error:` line
    // and processing continues. Exit 2 at the end if any line was bad.
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut bad = 0usize;
    for (n, line) in stdin.lines().enumerate() {
        let line = line.with_context(|| format!("stdin line {}", n + 1))?;
        let mut it = line.split_whitespace();
        let result = match (it.next(), it.next(), it.next()) {
            (Some(a), Some(b), None) => scheme.compare(a, b).map(symbol).map_err(|e| e.to_string()),
            _ => Err(format!(
                "line {}: expected two versions separated by whitespace, got {line:?}",
                n + 1
            )),
        };
        match result {
            Ok(s) => writeln!(out, "{s}"),
            Err(e) => {
                bad += 1;
                writeln!(out, "error: {e}")
            }
        }
        .map_err(crate::out::error)?;
    }
    out.flush().map_err(crate::out::error)?;
    if bad > 0 {
        eprintln!("patchpilot: {bad} line(s) could not be compared");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
