//! Distro trackers: the Debian security tracker JSON (one file) and Alpine secdb (one file
//! per branch and repository), through the same converters and database import as
//! `patchpilot feeds import`.
//!
//! A tracker is one source made of files: every file is requested conditionally (ETag /
//! Last-Modified from its own state entry); when all answer 304 nothing else happens. When
//! any changed, *every* file of the source is converted (the new download or the copy kept
//! from last time), the advisories are merged by id ([`patchpilot_distro::merge`]: the same
//! CVE in Alpine `main` and `community`, or in two branches, becomes one advisory with both
//! `affected` entries) and imported in one transaction. Only then do the downloads replace
//! the kept copies (`feeds/debian.json`, `feeds/alpine/<branch>/<repo>.json`) and the state
//! move on. Any failure, a bad download or a failed import, leaves the database, the kept
//! copies and the state as they were. The kept copies cost disk space (the Debian tracker
//! is tens of MB) but are what makes a partial change (one Alpine repository) cheap and
//! correct.
//!
//! Converted advisories get the sync time as `modified` (the trackers carry none), so a
//! newer sync supersedes an older one in the database.

use std::fs;
use std::path::{Path, PathBuf};

use patchpilot_distro::Format;
use patchpilot_intel::NvdTime;

use crate::http::{discard_part, part_path, Fetch, Validators};
use crate::{AlpineConfig, FeedError, Outcome, Progress, Syncer};

/// One file of a tracker source.
struct TrackerFile {
    /// The state entry: `debian`, `alpine/v3.20/main`.
    state_name: String,
    url: String,
    /// The kept copy.
    target: PathBuf,
}

/// `2026-08-07T16:45:47Z` for unix seconds.
pub(crate) fn rfc3339(secs: u64) -> String {
    let t = NvdTime::from_unix(secs).to_string();
    format!("{}Z", &t[..19])
}

pub(crate) fn sync_debian(
    s: &mut Syncer<'_>,
    url: &str,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Outcome, FeedError> {
    let target = s.feeds_dir.join("debian.json");
    let files = [TrackerFile {
        state_name: "debian".into(),
        url: url.to_string(),
        target: target.clone(),
    }];
    sync_tracker(
        s,
        "debian",
        Format::DebianTracker,
        &files,
        &target,
        progress,
    )
}

pub(crate) fn sync_alpine(
    s: &mut Syncer<'_>,
    cfg: &AlpineConfig,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Outcome, FeedError> {
    let dir = s.feeds_dir.join("alpine");
    let base = cfg.base.trim_end_matches('/');
    let files: Vec<TrackerFile> = cfg
        .files()?
        .into_iter()
        .map(|rel| {
            let stem = rel
                .strip_suffix(".json")
                .or_else(|| rel.strip_suffix(".yaml"))
                .unwrap_or(&rel);
            TrackerFile {
                state_name: format!("alpine/{stem}"),
                url: format!("{base}/{rel}"),
                target: dir.join(&rel),
            }
        })
        .collect();
    sync_tracker(s, "alpine", Format::AlpineSecDb, &files, &dir, progress)
}

/// Sync the files of one tracker; `source_path` and `name` label the import in the
/// database. `Outcome::records` counts the advisories converted, summed over the files.
fn sync_tracker(
    s: &mut Syncer<'_>,
    name: &str,
    format: Format,
    files: &[TrackerFile],
    source_path: &Path,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Outcome, FeedError> {
    let db_exists = s.data_dir.join(patchpilot_advisory_db::FILE_NAME).is_file();
    let mut out = Outcome::default();
    // Downloads that completed: (part, validators) per file, `None` for a 304.
    let mut fetched: Vec<Option<(PathBuf, Validators)>> = Vec::with_capacity(files.len());
    let discard = |fetched: &[Option<(PathBuf, Validators)>]| {
        for (part, _) in fetched.iter().flatten() {
            discard_part(part);
        }
    };
    for f in files {
        if let Some(dir) = f.target.parent() {
            fs::create_dir_all(dir).map_err(|error| FeedError::Io {
                path: dir.to_path_buf(),
                error,
            })?;
        }
        // Without the database or the kept copy, a 304 would leave nothing to import.
        let known = s
            .state
            .sources
            .get(&f.state_name)
            .filter(|e| db_exists && e.url == f.url && f.target.is_file())
            .map(|e| e.validators.clone())
            .filter(|v| !v.is_empty());
        let result = s.client.download(
            &f.state_name,
            &f.url,
            &part_path(&f.target),
            known.as_ref(),
            progress,
        );
        match result {
            Err(e) => {
                discard(&fetched);
                return Err(e);
            }
            Ok(Fetch::NotModified) => fetched.push(None),
            Ok(Fetch::Complete {
                part,
                validators,
                transferred,
                resumed_from,
            }) => {
                out.transferred += transferred;
                out.resumed_from = out.resumed_from.or(resumed_from);
                fetched.push(Some((part, validators)));
            }
        }
    }

    if fetched.iter().all(Option::is_none) {
        for f in files {
            let mut e = s
                .state
                .sources
                .get(&f.state_name)
                .cloned()
                .unwrap_or_default();
            e.synced_at = s.now;
            out.records += e.records;
            s.save_source(&f.state_name, e)?;
        }
        return Ok(out);
    }

    // Convert every file, new or kept, and merge.
    let modified = rfc3339(s.now);
    let mut all = Vec::new();
    let mut counts = Vec::with_capacity(files.len());
    for (f, got) in files.iter().zip(&fetched) {
        let path = got.as_ref().map_or(&f.target, |(part, _)| part);
        let converted = fs::read(path)
            .map_err(|error| FeedError::Io {
                path: path.clone(),
                error,
            })
            .and_then(|bytes| {
                let invalid = |reason: String| FeedError::Invalid {
                    url: f.url.clone(),
                    reason,
                };
                let advisories = patchpilot_distro::convert(format, &bytes, &f.state_name)
                    .map_err(|e| invalid(e.to_string()))?;
                // An empty Debian tracker is a broken mirror, not a Debian without CVEs.
                if advisories.is_empty() && format == Format::DebianTracker {
                    return Err(invalid("the tracker lists no vulnerabilities".into()));
                }
                Ok(advisories)
            });
        let mut advisories = match converted {
            Ok(a) => a,
            Err(e) => {
                discard(&fetched);
                return Err(e);
            }
        };
        for a in &mut advisories {
            a.modified.clone_from(&modified);
        }
        counts.push(advisories.len());
        all.extend(advisories);
    }
    let converted_total: usize = counts.iter().sum();
    let merged = patchpilot_distro::merge(all);
    // The tracker is the distro's whole feed for every release it names.
    let coverage = patchpilot_advisory_db::SourceCoverage::feed_of(&merged);
    if let Err(e) =
        patchpilot_advisory_db::import_converted(s.data_dir, source_path, name, merged, coverage)
    {
        discard(&fetched);
        return Err(FeedError::Import(e));
    }

    // The database has the new data: keep the downloads and move the state on.
    for ((f, got), records) in files.iter().zip(fetched).zip(counts) {
        let mut e = s
            .state
            .sources
            .get(&f.state_name)
            .cloned()
            .unwrap_or_default();
        if let Some((part, validators)) = got {
            fs::rename(&part, &f.target).map_err(|error| FeedError::Io {
                path: f.target.clone(),
                error,
            })?;
            e.validators = validators;
            e.updated_at = s.now;
        }
        e.url.clone_from(&f.url);
        e.records = records;
        e.synced_at = s.now;
        s.save_source(&f.state_name, e)?;
    }
    if let Ok(dir) = fs::File::open(&s.feeds_dir) {
        let _ = dir.sync_all();
    }
    out.changed = true;
    out.records = converted_total;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_time_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn alpine_branches_expand_to_files() {
        let cfg = |b: &[&str]| AlpineConfig {
            base: "http://x".into(),
            branches: b.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(
            cfg(&["v3.20", "v3.19/main", "edge/community.yaml", "v3.20/main"])
                .files()
                .unwrap(),
            [
                "v3.20/main.json",
                "v3.20/community.json",
                "v3.19/main.json",
                "edge/community.yaml"
            ]
        );
        assert_eq!(AlpineConfig::default().files().unwrap().len(), 8);
        for bad in [
            "",
            "../etc",
            "v3.20/../x",
            "a/b/c",
            ".hidden",
            "v3.20/ma in",
        ] {
            assert!(cfg(&[bad]).files().is_err(), "{bad}");
        }
    }
}
