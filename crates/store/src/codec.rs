//! Encodings both backends share, so a row written by one reads back the same way in the
//! other and the rules (limits, package identity, the snapshot blob format) live once.
//! Pure functions; no database types.

use crate::{Environment, Error, Exposure, FindingFilter, PackageRow, Result, Sensitivity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `FindingFilter::limit` when absent.
pub const FINDING_LIMIT_DEFAULT: u32 = 1000;
/// The most any list call returns at once.
pub const LIST_LIMIT_MAX: u32 = 10_000;

/// The effective limit of a finding query.
pub fn finding_limit(f: &FindingFilter) -> u32 {
    f.limit.unwrap_or(FINDING_LIMIT_DEFAULT).min(LIST_LIMIT_MAX)
}

/// A caller's list limit, capped.
pub fn list_limit(limit: u32) -> u32 {
    limit.min(LIST_LIMIT_MAX)
}

pub fn environment_str(e: Environment) -> &'static str {
    match e {
        Environment::Cloud => "cloud",
        Environment::OnPrem => "on-prem",
        Environment::Edge => "edge",
    }
}

pub fn parse_environment(s: &str) -> Result<Environment> {
    Ok(match s {
        "cloud" => Environment::Cloud,
        "on-prem" => Environment::OnPrem,
        "edge" => Environment::Edge,
        _ => return Err(corrupt("environment", s)),
    })
}

pub fn exposure_str(e: Exposure) -> &'static str {
    match e {
        Exposure::InternetFacing => "internet-facing",
        Exposure::Internal => "internal",
        Exposure::Isolated => "isolated",
    }
}

pub fn parse_exposure(s: &str) -> Result<Exposure> {
    Ok(match s {
        "internet-facing" => Exposure::InternetFacing,
        "internal" => Exposure::Internal,
        "isolated" => Exposure::Isolated,
        _ => return Err(corrupt("exposure", s)),
    })
}

pub fn sensitivity_str(s: Sensitivity) -> &'static str {
    match s {
        Sensitivity::Low => "low",
        Sensitivity::Medium => "medium",
        Sensitivity::High => "high",
    }
}

pub fn parse_sensitivity(s: &str) -> Result<Sensitivity> {
    Ok(match s {
        "low" => Sensitivity::Low,
        "medium" => Sensitivity::Medium,
        "high" => Sensitivity::High,
        _ => return Err(corrupt("sensitivity", s)),
    })
}

pub fn parse_role(s: &str) -> Result<crate::Role> {
    crate::Role::parse(s).ok_or_else(|| corrupt("role", s))
}

pub fn parse_finding_state(s: &str) -> Result<crate::FindingState> {
    crate::FindingState::parse(s).ok_or_else(|| corrupt("finding state", s))
}

pub fn parse_job_state(s: &str) -> Result<crate::JobState> {
    crate::JobState::parse(s).ok_or_else(|| corrupt("job state", s))
}

/// A stored value this code did not write (a hand-edited row, a newer schema).
pub fn corrupt(what: &str, value: &str) -> Error {
    Error::Backend(format!("stored {what} {value:?} is not recognized"))
}

/// JSON text of a list of strings (tags, fixed versions).
pub fn strings_json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

pub fn parse_strings(s: &str) -> Result<Vec<String>> {
    serde_json::from_str(s).map_err(|e| Error::Backend(format!("stored string list: {e}")))
}

pub fn json_text(v: &serde_json::Value) -> String {
    v.to_string()
}

pub fn parse_json(s: &str) -> Result<serde_json::Value> {
    serde_json::from_str(s).map_err(|e| Error::Backend(format!("stored JSON: {e}")))
}

/// The name a package is matched under (`PackageRow::key().name`: normalized by its
/// ecosystem, the source package for Debian/Ubuntu/Alpine), borrowed when unchanged.
/// Backends store it so `packages_named`/`findings_on` find rows by the index's keys.
pub fn match_name(p: &PackageRow) -> std::borrow::Cow<'_, str> {
    p.match_name()
}

#[derive(Serialize)]
struct CompactRef<'a>(
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

#[derive(Deserialize)]
struct CompactOwned(
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A snapshot's package list as stored: a JSON array of 7-element arrays (ecosystem,
/// name, version, release, source name, source version, purl), about half the size of
/// the object form. Order is kept.
pub fn encode_packages(packages: &[PackageRow]) -> String {
    let rows: Vec<CompactRef<'_>> = packages
        .iter()
        .map(|p| {
            CompactRef(
                &p.ecosystem,
                &p.name,
                &p.version,
                p.release.as_deref(),
                p.source_name.as_deref(),
                p.source_version.as_deref(),
                p.purl.as_deref(),
            )
        })
        .collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into())
}

pub fn decode_packages(body: &str) -> Result<Vec<PackageRow>> {
    let rows: Vec<CompactOwned> = serde_json::from_str(body)
        .map_err(|e| Error::Backend(format!("stored snapshot packages: {e}")))?;
    Ok(rows
        .into_iter()
        .map(|r| PackageRow {
            ecosystem: r.0,
            name: r.1,
            version: r.2,
            release: r.3,
            source_name: r.4,
            source_version: r.5,
            purl: r.6,
        })
        .collect())
}

/// SHA-256 hex of a stored blob: snapshots with identical package lists share one blob.
/// Computed here rather than trusting the caller's `content_hash`, so a wrong hash can
/// never make one asset's history show another's packages.
pub fn blob_hash(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// `Some("")` clears an optional text field in a patch.
pub fn patch_text(v: Option<String>) -> Option<Option<String>> {
    v.map(|s| if s.is_empty() { None } else { Some(s) })
}

/// Check a hand-set finding state and normalize its reason: `accepted` and `suppressed`
/// need one, `open` may carry one, `fixed` is never set by hand (inventories and feeds
/// close findings).
pub fn check_finding_transition(
    state: crate::FindingState,
    reason: Option<String>,
) -> Result<Option<String>> {
    let reason = reason.filter(|r| !r.trim().is_empty());
    if let Some(r) = &reason {
        crate::check_free_text("reason", r, crate::limits::REASON)?;
    }
    match state {
        crate::FindingState::Fixed => Err(Error::Invalid(
            "a finding is fixed by an inventory or feed change, not by hand".into(),
        )),
        crate::FindingState::Accepted | crate::FindingState::Suppressed if reason.is_none() => {
            Err(Error::Invalid(format!(
                "a finding marked {} needs a reason",
                state.as_str()
            )))
        }
        _ => Ok(reason),
    }
}

/// Decide a `finish_job` against the stored job: `Ok(true)` when it is already finished
/// with this same result (nothing to do), `Ok(false)` when it may be finished now.
pub fn check_finish(job: &crate::Job, asset_id: i64, result: &crate::JobResult) -> Result<bool> {
    use crate::JobState;
    if job.asset_id != asset_id {
        // As if it did not exist: an agent learns nothing about other assets' jobs.
        return Err(job_not_found(job.id));
    }
    match job.state {
        JobState::Claimed => Ok(false),
        JobState::Queued => Err(Error::Conflict(format!("job {} is not claimed", job.id))),
        JobState::Succeeded | JobState::Failed => {
            if job.result.as_ref() == Some(result) {
                Ok(true)
            } else {
                Err(Error::Conflict(format!(
                    "job {} already finished with another result",
                    job.id
                )))
            }
        }
    }
}

/// A job that does not exist, or that is another asset's (the same error for both).
pub fn job_not_found(id: i64) -> Error {
    Error::NotFound(format!("job {id} does not exist"))
}

/// Check the token an enrolment presents (looked up by its hash): an unused, usable
/// enrolment token. `NotFound` if absent, not an enrolment token, revoked or expired;
/// `Conflict` if already used.
pub fn check_enroll_token(token: Option<crate::Token>, now: crate::Ts) -> Result<crate::Token> {
    let t = match token {
        Some(t) if t.role == crate::Role::Enroll => t,
        _ => return Err(Error::NotFound("no such enrolment token".into())),
    };
    if t.used_at.is_some() {
        return Err(Error::Conflict(
            "the enrolment token was already used".into(),
        ));
    }
    if !t.usable_at(now) {
        return Err(Error::NotFound(
            "the enrolment token is revoked or expired".into(),
        ));
    }
    Ok(t)
}

/// An enrolment with an unbound token named an existing asset: it enrols new assets
/// only (taking over an asset by its name would let any enrolment token close its
/// findings). Says how to re-enrol.
pub fn enroll_name_taken(name: &str, existing: Option<i64>) -> Error {
    let (which, id) = match existing {
        Some(id) => (format!("asset {id}"), id.to_string()),
        None => ("that asset".to_string(), "<asset id>".to_string()),
    };
    Error::Conflict(format!(
        "an asset named {name:?} exists{}; an enrolment token enrols a new asset only. \
         To re-enrol {which} (after a reinstall, say), an admin mints an enrolment token \
         bound to it: POST /api/v1/tokens {{\"name\": \"...\", \"role\": \"enroll\", \
         \"asset_id\": {id}}}",
        existing
            .map(|id| format!(" (asset {id})"))
            .unwrap_or_default()
    ))
}

/// A re-enrolment (a token bound to `asset`) must name that asset: a token handed to
/// the wrong host must not make that host the asset.
pub fn check_reenroll_name(asset: &crate::Asset, requested: &str) -> Result<()> {
    if asset.name == requested {
        return Ok(());
    }
    Err(Error::Conflict(format!(
        "this enrolment token re-enrols asset {} ({:?}), but the agent asked for {:?}: \
         run the agent with --name {:?}, or mint a token bound to the right asset",
        asset.id, asset.name, requested, asset.name
    )))
}

/// The name of the agent token an enrolment creates.
pub fn agent_token_name(asset: &crate::Asset) -> String {
    format!("agent:{}", asset.name)
}

/// The one audit record of an enrolment: `agent.enroll` (a new asset) or
/// `agent.reenroll` (a bound token; `revoked` are the asset's agent tokens it revoked,
/// as they are after), by the enrolment token.
pub fn enroll_entry(
    now: crate::Ts,
    enroll_before: &crate::Token,
    enrolled: &crate::Enrolled,
    revoked: &[crate::Token],
) -> crate::audit::Entry {
    let actor = crate::Actor {
        principal: format!("token:{}", enroll_before.id),
        role: crate::Role::Enroll,
    };
    let enroll_after = crate::Token {
        used_at: Some(now),
        asset_id: Some(enrolled.asset.id),
        ..enroll_before.clone()
    };
    let target = format!("asset:{}", enrolled.asset.id);
    if enrolled.asset_created {
        crate::audit::Entry::new(
            now,
            &actor,
            "agent.enroll",
            target,
            Some(&serde_json::json!({ "enroll_token": enroll_before })),
            Some(&serde_json::json!({
                "enroll_token": enroll_after,
                "asset": enrolled.asset,
                "asset_created": true,
                "token": enrolled.token,
            })),
        )
    } else {
        let live: Vec<crate::Token> = revoked
            .iter()
            .map(|t| crate::Token {
                revoked_at: None,
                ..t.clone()
            })
            .collect();
        crate::audit::Entry::new(
            now,
            &actor,
            "agent.reenroll",
            target,
            Some(&serde_json::json!({
                "enroll_token": enroll_before,
                "agent_tokens": live,
            })),
            Some(&serde_json::json!({
                "enroll_token": enroll_after,
                "asset": enrolled.asset,
                "asset_created": false,
                "token": enrolled.token,
                "revoked_tokens": revoked,
            })),
        )
    }
}

/// The actor of a job claim: `claim_jobs` takes no actor, and only the asset's own agent
/// claims its jobs, so the record names the asset (`asset:<id>`, role agent).
pub fn agent_actor(asset_id: i64) -> crate::Actor {
    crate::Actor {
        principal: format!("asset:{asset_id}"),
        role: crate::Role::Agent,
    }
}

/// The one audit record of a claim that took `jobs` (as they are after the claim).
pub fn claim_entry(
    asset_id: i64,
    jobs: &[crate::Job],
    now: crate::Ts,
    lease_until: crate::Ts,
) -> crate::audit::Entry {
    let before: Vec<serde_json::Value> = jobs
        .iter()
        .map(|j| {
            let was = if j.attempts > 1 { "claimed" } else { "queued" };
            serde_json::json!({ "id": j.id, "state": was, "attempts": j.attempts.saturating_sub(1) })
        })
        .collect();
    let after: Vec<serde_json::Value> = jobs
        .iter()
        .map(|j| serde_json::json!({ "id": j.id, "state": "claimed", "attempts": j.attempts }))
        .collect();
    crate::audit::Entry::new(
        now,
        &agent_actor(asset_id),
        "job.claim",
        format!("asset:{asset_id}"),
        Some(&serde_json::json!({ "jobs": before })),
        Some(&serde_json::json!({ "jobs": after, "lease_until": lease_until })),
    )
}

/// Put an inventory in canonical order (sorted, de-duplicated) and return its content
/// hash: SHA-256 over every field, length-prefixed, `None` distinct from empty. The
/// agent compares it to report only on change; the server stores it with the snapshot.
pub fn canonicalize(packages: &mut Vec<PackageRow>) -> String {
    packages.sort();
    packages.dedup();
    let mut h = Sha256::new();
    for p in packages.iter() {
        for f in [
            Some(p.ecosystem.as_str()),
            Some(p.name.as_str()),
            Some(p.version.as_str()),
            p.release.as_deref(),
            p.source_name.as_deref(),
            p.source_version.as_deref(),
            p.purl.as_deref(),
        ] {
            match f {
                Some(s) => {
                    h.update((s.len() as u64).to_le_bytes());
                    h.update(s.as_bytes());
                }
                None => h.update(u64::MAX.to_le_bytes()),
            }
        }
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, release: Option<&str>) -> PackageRow {
        PackageRow {
            ecosystem: "Debian".into(),
            name: name.into(),
            version: "1.0".into(),
            release: release.map(Into::into),
            source_name: None,
            source_version: None,
            purl: None,
        }
    }

    #[test]
    fn package_blob_round_trips() {
        let v = vec![pkg("a", None), pkg("b", Some("12")), pkg("", Some(""))];
        assert_eq!(decode_packages(&encode_packages(&v)).unwrap(), v);
        assert_eq!(decode_packages("[]").unwrap(), vec![]);
        assert!(decode_packages("{").is_err());
    }

    #[test]
    fn matched_by_source_names_follow_the_ecosystems() {
        use patchpilot_types::Ecosystem;
        for name in MATCHED_BY_SOURCE_TOO {
            let (eco, _) = Ecosystem::parse_osv(name);
            assert!(eco.also_matched_by_source(), "{name}");
            assert_eq!(eco.as_str(), name);
        }
        let all = [
            Ecosystem::RedHat,
            Ecosystem::RockyLinux,
            Ecosystem::AlmaLinux,
            Ecosystem::Debian,
            Ecosystem::Ubuntu,
            Ecosystem::Alpine,
            Ecosystem::PyPI,
        ];
        for eco in all.iter().filter(|e| e.also_matched_by_source()) {
            assert!(MATCHED_BY_SOURCE_TOO.contains(&eco.as_str()), "{eco}");
        }
    }

    #[test]
    fn enums_round_trip_as_serde_spells_them() {
        for e in [Environment::Cloud, Environment::OnPrem, Environment::Edge] {
            assert_eq!(parse_environment(environment_str(e)).unwrap(), e);
            assert_eq!(
                serde_json::to_string(&e).unwrap(),
                format!("\"{}\"", environment_str(e))
            );
        }
        for e in [
            Exposure::InternetFacing,
            Exposure::Internal,
            Exposure::Isolated,
        ] {
            assert_eq!(parse_exposure(exposure_str(e)).unwrap(), e);
            assert_eq!(
                serde_json::to_string(&e).unwrap(),
                format!("\"{}\"", exposure_str(e))
            );
        }
        for s in [Sensitivity::Low, Sensitivity::Medium, Sensitivity::High] {
            assert_eq!(parse_sensitivity(sensitivity_str(s)).unwrap(), s);
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", sensitivity_str(s))
            );
        }
        assert!(parse_environment("moon").is_err());
    }

    #[test]
    fn limits_are_capped() {
        assert_eq!(finding_limit(&FindingFilter::default()), 1000);
        let f = FindingFilter {
            limit: Some(50_000),
            ..Default::default()
        };
        assert_eq!(finding_limit(&f), 10_000);
        assert_eq!(list_limit(7), 7);
    }
}

/// The `(ecosystem, match name)` keys a feed re-match asks for, to test decoded package
/// rows against without allocating (`packages_named` in both backends).
#[derive(Debug, Default, Clone)]
pub struct NameSet(std::collections::HashMap<String, std::collections::HashSet<String>>);

impl NameSet {
    pub fn new(keys: &[crate::PackageName]) -> NameSet {
        let mut m: std::collections::HashMap<String, std::collections::HashSet<String>> =
            Default::default();
        for k in keys {
            m.entry(k.ecosystem.clone())
                .or_default()
                .insert(k.name.clone());
        }
        NameSet(m)
    }

    /// The rows of one asset's current list that are filed under one of the keys.
    pub fn pick(&self, asset_id: i64, packages: Vec<PackageRow>) -> Vec<crate::AssetPackage> {
        packages
            .into_iter()
            .filter(|p| self.contains(p))
            .map(|package| crate::AssetPackage { asset_id, package })
            .collect()
    }

    /// Whether `p` is filed under one of the keys (by [`match_name`], or for an RPM also
    /// by [`PackageRow::source_match_name`]).
    pub fn contains(&self, p: &PackageRow) -> bool {
        self.0.get(p.ecosystem.as_str()).is_some_and(|names| {
            names.contains(match_name(p).as_ref())
                || p.source_match_name().is_some_and(|s| names.contains(s))
        })
    }
}

/// The names, as stored in the `ecosystem` column, of the ecosystems whose packages are
/// also matched under their source package name (`Ecosystem::also_matched_by_source`;
/// a test keeps the two in step), for the backends' SQL.
pub const MATCHED_BY_SOURCE_TOO: [&str; 3] = ["Red Hat", "Rocky Linux", "AlmaLinux"];

/// What every backend checks of an inventory change before taking a connection.
pub fn check_inventory(change: &crate::InventoryChange) -> Result<()> {
    if change.idempotency_key.is_empty() || change.idempotency_key.len() > 255 {
        return Err(Error::Invalid(
            "idempotency key must be 1 to 255 characters".into(),
        ));
    }
    if let Some(f) = change.open.iter().find(|f| f.asset_id != change.asset_id) {
        return Err(Error::Invalid(format!(
            "a finding for asset {} in an inventory of asset {}",
            f.asset_id, change.asset_id
        )));
    }
    Ok(())
}

/// The audit record's "after" of an applied inventory change (both backends).
pub fn inventory_summary(
    change: &crate::InventoryChange,
    snapshot_id: i64,
    opened: u64,
    fixed: u64,
) -> serde_json::Value {
    serde_json::json!({
        "snapshot_id": snapshot_id,
        "previous": change.expected_previous,
        "idempotency_key": change.idempotency_key,
        "source": change.source,
        "content_hash": change.content_hash,
        "collected_at": change.collected_at,
        "packages": change.packages.len(),
        "added": change.added.len(),
        "removed": change.removed.len(),
        "opened": opened,
        "fixed": fixed,
    })
}

/// The assets of `basis` whose current snapshot (`current`, as read under the write
/// transaction) is no longer the one the changes were computed from. Ascending.
pub fn stale_assets(basis: &[(i64, i64)], current: &[(i64, Option<i64>)]) -> Vec<i64> {
    let now: std::collections::HashMap<i64, Option<i64>> = current.iter().copied().collect();
    let mut stale: Vec<i64> = basis
        .iter()
        .filter(|(asset, snap)| now.get(asset).copied().flatten() != Some(*snap))
        .map(|(asset, _)| *asset)
        .collect();
    stale.sort_unstable();
    stale.dedup();
    stale
}

/// `changes` without what belongs to the `stale` assets, whose findings are
/// `stale_findings` (ids).
pub fn without_stale(
    changes: &crate::FindingChanges,
    stale: &[i64],
    stale_findings: &std::collections::HashSet<i64>,
) -> crate::FindingChanges {
    crate::FindingChanges {
        open: changes
            .open
            .iter()
            .filter(|f| stale.binary_search(&f.asset_id).is_err())
            .cloned()
            .collect(),
        fix: changes
            .fix
            .iter()
            .copied()
            .filter(|id| !stale_findings.contains(id))
            .collect(),
        update: changes
            .update
            .iter()
            .filter(|u| !stale_findings.contains(&u.0))
            .cloned()
            .collect(),
        now: changes.now,
        cause: changes.cause.clone(),
        basis: Vec::new(),
    }
}
