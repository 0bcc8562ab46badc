//! Matching inside the server: an owned advisory index, the inventory diff, and the
//! incremental re-match after a feed update.
//!
//! Incremental by construction: an inventory report re-matches only the packages that
//! were added or changed version, and a feed update re-matches only the (ecosystem,
//! package) pairs named by advisories that were added, changed or removed, found by
//! comparing per-advisory fingerprints of the old and new databases. The test suite
//! checks both against a full re-match.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use patchpilot_advisory_db::Database;
use patchpilot_matcher::Index;
use patchpilot_osv::Advisory;
use patchpilot_store::{Finding, NewFinding, PackageName, PackageRow, Ts};
use patchpilot_types::{Ecosystem, Package};
use sha2::{Digest, Sha256};

self_cell::self_cell!(
    struct Loaded {
        owner: Database,
        #[covariant]
        dependent: Index,
    }
);

/// An advisory database with its index, plus each advisory's fingerprint.
pub struct Matcher {
    loaded: Loaded,
    /// id → (fingerprint, the (ecosystem, normalized name) pairs it names).
    fingerprints: HashMap<String, (u64, Vec<PackageName>)>,
    digest: String,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("advisories", &self.fingerprints.len())
            .field("digest", &self.digest)
            .finish()
    }
}

/// The (ecosystem, name) key an advisory's affected entry is filed under.
fn affected_keys(adv: &Advisory) -> Vec<PackageName> {
    let mut keys: Vec<PackageName> = adv
        .affected
        .iter()
        .map(|a| PackageName {
            ecosystem: a.ecosystem.as_str().to_string(),
            name: a.ecosystem.normalize_name(&a.name).into_owned(),
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn fingerprint(adv: &Advisory) -> u64 {
    // Everything that can change a match or its fix list.
    let body = serde_json::to_vec(&(
        &adv.withdrawn,
        &adv.affected,
        &adv.severity,
        &adv.aliases,
        &adv.database_specific,
    ))
    .unwrap_or_default();
    let d = Sha256::digest(&body);
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

impl Matcher {
    /// Load `<data_dir>/advisories.db` (an empty matcher when there is none).
    pub fn load(data_dir: &Path) -> Result<Matcher, patchpilot_advisory_db::DbError> {
        let db = Database::open(data_dir)?;
        Ok(Matcher::from_database(db))
    }

    /// [`Matcher::load`]; with `keep_file`, also the bytes of the file it was decoded from
    /// (`None` when there is no file), read once, so that they are exactly the database
    /// loaded even if an import replaces the file meanwhile.
    pub fn load_with_file(
        data_dir: &Path,
        keep_file: bool,
    ) -> Result<(Matcher, Option<Vec<u8>>), patchpilot_advisory_db::DbError> {
        if !keep_file {
            return Ok((Matcher::load(data_dir)?, None));
        }
        let (db, bytes) = Database::open_with_file(data_dir)?;
        Ok((Matcher::from_database(db), bytes))
    }

    /// An advisory database file received as bytes (another replica's, from the store).
    pub fn from_file_bytes(
        data_dir: &Path,
        bytes: &[u8],
    ) -> Result<Matcher, patchpilot_advisory_db::DbError> {
        Ok(Matcher::from_database(Database::from_file_bytes(
            data_dir, bytes,
        )?))
    }

    pub fn from_database(db: Database) -> Matcher {
        let mut fingerprints = HashMap::with_capacity(db.advisories().len());
        let mut all = Sha256::new();
        for adv in db.advisories() {
            let fp = fingerprint(adv);
            all.update(adv.id.as_bytes());
            all.update(fp.to_le_bytes());
            fingerprints.insert(adv.id.clone(), (fp, affected_keys(adv)));
        }
        let digest = hex::encode(all.finalize());
        let loaded = Loaded::new(db, |db| Index::build(db.advisories()));
        Matcher {
            loaded,
            fingerprints,
            digest,
        }
    }

    /// A digest of every advisory's fingerprint: equal digests match identically.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    pub fn written_at(&self) -> Option<u64> {
        self.loaded.borrow_owner().written_at()
    }

    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// The advisory with this id (not an alias), as matched against.
    pub fn advisory(&self, id: &str) -> Option<&Advisory> {
        self.loaded.borrow_owner().get(id)
    }

    /// The findings `pkg` has on `asset_id` now.
    pub fn findings_for(&self, asset_id: i64, pkg: &PackageRow, now: Ts) -> Vec<NewFinding> {
        let index = self.loaded.borrow_dependent();
        let p = to_package(pkg);
        let Ok(matches) = index.matches(&p) else {
            // An unparsable installed version cannot be matched; the scanner reports
            // such versions, the server skips them (it has no one to tell but the log).
            return Vec::new();
        };
        matches
            .into_iter()
            .map(|m| NewFinding {
                asset_id,
                package: pkg.clone(),
                advisory_id: m.advisory.id.clone(),
                fixed_versions: m.fixed_versions.iter().map(|s| s.to_string()).collect(),
                severity: m.advisory.severity_level().map(|l| {
                    serde_json::to_value(l)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                }),
                first_seen: now,
            })
            .collect()
    }

    /// The (ecosystem, name) pairs whose advisories differ between `old` and `self`.
    pub fn changed_keys(&self, old: Option<&Matcher>) -> BTreeSet<PackageName> {
        let mut keys = BTreeSet::new();
        let empty = HashMap::new();
        let old_fp = old.map(|o| &o.fingerprints).unwrap_or(&empty);
        for (id, (fp, k)) in &self.fingerprints {
            if old_fp.get(id).map(|(ofp, _)| ofp) != Some(fp) {
                keys.extend(k.iter().cloned());
            }
        }
        for (id, (fp, k)) in old_fp {
            if self.fingerprints.get(id).map(|(nfp, _)| nfp) != Some(fp) {
                keys.extend(k.iter().cloned());
            }
        }
        keys
    }
}

/// The store's row as the matcher's package.
pub fn to_package(row: &PackageRow) -> Package {
    let (ecosystem, _) = Ecosystem::parse_osv(&row.ecosystem);
    Package {
        name: row.name.clone(),
        version: row.version.clone(),
        ecosystem,
        release: row.release.clone(),
        purl: row.purl.clone(),
        source_name: row.source_name.clone(),
        source_version: row.source_version.clone(),
    }
}

/// `new` minus `old` and `old` minus `new`, both sorted: one merge pass, no hashing.
/// Lists not already sorted and free of duplicates (as `canonicalize` and the stores
/// leave them; checking costs one pass) are put in that order first.
pub fn diff(
    old: &mut Vec<PackageRow>,
    new: &mut Vec<PackageRow>,
) -> (Vec<PackageRow>, Vec<PackageRow>) {
    for list in [&mut *old, &mut *new] {
        if !list.windows(2).all(|w| w[0] < w[1]) {
            list.sort_unstable();
            list.dedup();
        }
    }
    let (old, new) = (&old[..], &new[..]);
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < old.len() && j < new.len() {
        match old[i].cmp(&new[j]) {
            std::cmp::Ordering::Less => {
                removed.push(old[i].clone());
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                added.push(new[j].clone());
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    removed.extend_from_slice(&old[i..]);
    added.extend_from_slice(&new[j..]);
    (added, removed)
}

/// The identity of a finding while it is not fixed.
type FindingKey = (i64, PackageRow, String);

/// What changes, given the findings that should exist now (`want`, for some set of
/// packages) and the unfixed findings that exist for the same packages (`have`).
/// Findings that persist keep their row (and first_seen); a finding whose package changed
/// version but is still affected by the same advisory is closed and reopened on the new
/// version carrying the old `first_seen`, so the exposure window is not reset.
pub struct Reconciled {
    pub open: Vec<NewFinding>,
    pub fix: Vec<i64>,
    pub update: Vec<(i64, Vec<String>, Option<String>)>,
}

pub fn reconcile(want: Vec<NewFinding>, have: &[Finding]) -> Reconciled {
    let mut have_by: HashMap<FindingKey, &Finding> = HashMap::new();
    // (asset, ecosystem, name, release, advisory) → earliest first_seen among unfixed rows,
    // to carry over across version changes.
    let mut carried: BTreeMap<(i64, String, String, Option<String>, String), Ts> = BTreeMap::new();
    for f in have {
        have_by.insert((f.asset_id, f.package.clone(), f.advisory_id.clone()), f);
        let k = (
            f.asset_id,
            f.package.ecosystem.clone(),
            f.package.name.clone(),
            f.package.release.clone(),
            f.advisory_id.clone(),
        );
        let e = carried.entry(k).or_insert(f.first_seen);
        if f.first_seen < *e {
            *e = f.first_seen;
        }
    }
    let mut out = Reconciled {
        open: Vec::new(),
        fix: Vec::new(),
        update: Vec::new(),
    };
    let mut kept: HashSet<i64> = HashSet::new();
    for mut w in want {
        match have_by.get(&(w.asset_id, w.package.clone(), w.advisory_id.clone())) {
            Some(f) => {
                kept.insert(f.id);
                if f.fixed_versions != w.fixed_versions || f.severity != w.severity {
                    out.update.push((f.id, w.fixed_versions, w.severity));
                }
            }
            None => {
                let k = (
                    w.asset_id,
                    w.package.ecosystem.clone(),
                    w.package.name.clone(),
                    w.package.release.clone(),
                    w.advisory_id.clone(),
                );
                if let Some(first) = carried.get(&k) {
                    w.first_seen = (*first).min(w.first_seen);
                }
                out.open.push(w);
            }
        }
    }
    for f in have {
        if !kept.contains(&f.id) {
            out.fix.push(f.id);
        }
    }
    out.fix.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, version: &str) -> PackageRow {
        PackageRow {
            ecosystem: "crates.io".into(),
            name: name.into(),
            version: version.into(),
            release: None,
            source_name: None,
            source_version: None,
            purl: None,
        }
    }

    #[test]
    fn diff_is_set_difference_in_any_input_order() {
        let (a, b, c, d) = (row("a", "1"), row("b", "1"), row("b", "2"), row("c", "1"));
        // Unsorted, with a duplicate: put in canonical order first.
        let mut old = vec![c.clone(), a.clone(), b.clone(), a.clone()];
        let mut new = vec![d.clone(), a.clone(), c.clone()];
        let (added, removed) = diff(&mut old, &mut new);
        assert_eq!(added, vec![d.clone()]);
        assert_eq!(removed, vec![b.clone()]);
        // Sorted inputs, tails on either side.
        let (added, removed) = diff(&mut vec![a.clone()], &mut vec![a.clone(), b.clone(), c]);
        assert_eq!(added.len(), 2);
        assert!(removed.is_empty());
        let (added, removed) = diff(&mut vec![a, b, d], &mut Vec::new());
        assert!(added.is_empty());
        assert_eq!(removed.len(), 3);
    }
}
