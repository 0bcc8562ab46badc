//! Risk-ranked findings (`GET /api/v1/findings?prioritize=true`): every finding assessed as
//! `patchpilot scan --prioritize` assesses it (`patchpilot-prioritize`), in the context of
//! the asset it is on, with its SLA clock started on the day it was first seen.
//!
//! The threat intelligence (CISA KEV, FIRST EPSS, NVD CVSS from `<data-dir>/feeds/`) and the
//! risk policy form one [`RiskContext`], loaded at start and again on a feed reload, and
//! swapped whole like the advisory index, so a ranking never mixes two versions of a feed.
//!
//! A ranking reads every finding its filters select a page at a time and keeps only the
//! best `limit` of them (a bounded heap), so its memory is two pages (the next page is
//! read while this one is assessed off the async workers), the answer, the assets'
//! contexts and a bounded cache of rank keys, however many findings the fleet has.
//!
//! A finding's risk depends only on its advisory, whether a fix exists, the day it was
//! first seen and its asset's context (the threat intelligence, policy and advisory
//! database are fixed for one ranking), and a fleet has far fewer such combinations than
//! findings: the same advisory on many hosts alike. So a ranking assesses each combination
//! once and keeps only what ranks it ([`QueueKey`] of `patchpilot-risk`, a few bytes, so
//! the cache can hold all the combinations of a large fleet); a finding that makes the
//! answer is assessed again in full. The answer is the same as assessing every finding in full.
//!
//! Informational advisories (RustSec unmaintained, unsound, notices) are not
//! vulnerabilities: as in `scan --prioritize` (the same
//! [`patchpilot_prioritize::assess_finding`]), they carry no `risk`, are due only when the
//! policy sets `[sla] informational`, and rank after every vulnerability
//! ([`patchpilot_risk::QueueKey`]); findings whose advisory is no longer in the database
//! rank last.
//!
//! The asset's stored context maps onto the risk engine's one to one, except data
//! sensitivity, whose three stored levels map onto the engine's four by their ends and
//! middle: low → public, medium → internal (both defaults), high → restricted (the top of
//! each scale, so an asset marked as holding the most sensitive data gets the engine's
//! strongest Human Impact floor). Every value counts as given (`asset context: given`).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::path::Path;
use std::sync::Arc;

use patchpilot_intel::{Date, NvdStore};
use patchpilot_osv::{Advisory, AdvisoryKind};
use patchpilot_prioritize::{Assessment, Intel};
use patchpilot_risk::{
    AssetContext, DataSensitivity, Due, Environment, Exposure, Policy, QueueKey, ResolvedAsset,
    Risk, Tier,
};
use patchpilot_store::{
    Asset, Environment as AssetEnv, Exposure as AssetExposure, Finding, FindingFilter, Sensitivity,
    Store, Ts,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::matching::Matcher;

/// What a ranking reads besides findings and assets.
#[derive(Debug, Default)]
pub struct RiskContext {
    pub intel: Intel,
    pub nvd: Option<NvdStore>,
    pub policy: Policy,
}

impl RiskContext {
    /// KEV, EPSS and NVD from `<data_dir>/feeds/` (each optional: a missing one is logged,
    /// the ranking goes without it; a corrupt one is an error naming the file), under
    /// `policy`.
    pub fn load(
        data_dir: &Path,
        policy: Policy,
    ) -> Result<RiskContext, patchpilot_prioritize::Error> {
        let intel = Intel::load(data_dir)?;
        let nvd = patchpilot_prioritize::load_nvd(data_dir)?;
        for what in intel.missing() {
            tracing::warn!(
                dir = %data_dir.display(),
                "no {what} data: findings are ranked without it (sync or import it, then reload feeds)"
            );
        }
        tracing::info!(
            kev = intel.kev.as_ref().map_or(0, |k| k.len()),
            epss = intel.epss.as_ref().map_or(0, |e| e.len()),
            nvd = nvd.as_ref().map_or(0, |n| n.len()),
            "threat intelligence loaded"
        );
        Ok(RiskContext { intel, nvd, policy })
    }
}

/// A policy file for the server: only what ranks (`epss-threshold`, `[weights]`, `[sla]`)
/// applies. `[asset]` does not (every asset has its stored context), nor do risk
/// acceptances or VEX (the server has finding states for those): they are logged, not used.
pub fn load_policy(path: &Path) -> Result<Policy, patchpilot_prioritize::Error> {
    let p = patchpilot_prioritize::load_policy(path)?;
    if !p.asset.is_empty()
        || !p.exceptions.is_empty()
        || !p.vex.is_empty()
        || !p.vex_files.is_empty()
    {
        tracing::warn!(
            policy = %path.display(),
            "the server ranks with epss-threshold, [weights] and [sla] only; [asset], \
             [[exceptions]] and VEX are not used (accept or suppress findings instead)"
        );
    }
    Ok(p)
}

/// A finding, and with `prioritize=true` its kind and its risk (or, for an informational
/// advisory, its due date).
#[derive(Debug, Serialize, ToSchema)]
pub struct RankedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// With `prioritize=true`: the advisory's kind, `vulnerability` or an informational
    /// kind (`unmaintained`, `unsound`, `notice`), as a finding's `kind` in `patchpilot scan
    /// --format json`. Absent when the finding's advisory is no longer in the advisory
    /// database.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, required = false)]
    pub kind: Option<AdvisoryKind>,
    /// With `prioritize=true`, for a vulnerability: the assessment, the same object as a
    /// finding's `risk` in `patchpilot scan --prioritize --format json`. Absent for an
    /// informational advisory (not ranked among vulnerabilities: it ranks after them), and
    /// when the finding's advisory is no longer in the advisory database (such findings
    /// rank last).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = RiskSchema, required = false)]
    pub risk: Option<Risk>,
    /// With `prioritize=true`, for an informational advisory: its due date, only when the
    /// policy sets `[sla] informational` (rule `informational`), as a finding's `due` in
    /// `patchpilot scan --prioritize --format json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DueSchema>, required = false)]
    pub due: Option<Due>,
}

impl RankedFinding {
    /// `finding` as a ranking returns it: with what its assessment says (nothing when its
    /// advisory is gone).
    fn new(finding: Finding, assessment: Option<Assessment>) -> RankedFinding {
        let kind = assessment.as_ref().map(Assessment::kind);
        let (risk, due) = match assessment {
            Some(Assessment::Vulnerability(r)) => (Some(*r), None),
            Some(Assessment::Informational { due, .. }) => (None, due),
            None => (None, None),
        };
        RankedFinding {
            finding,
            kind,
            risk,
            due,
        }
    }
}

/// The asset's stored context, as the risk engine reads it (see the module docs).
pub fn asset_context(a: &Asset) -> Result<ResolvedAsset, ApiError> {
    let tier =
        Tier::new(a.tier).map_err(|e| ApiError::internal(format!("asset {}: stored {e}", a.id)))?;
    Ok(ResolvedAsset::from(AssetContext {
        environment: match a.environment {
            AssetEnv::Cloud => Environment::Cloud,
            AssetEnv::OnPrem => Environment::OnPrem,
            AssetEnv::Edge => Environment::Edge,
        },
        site: a.site.clone(),
        tier,
        exposure: match a.exposure {
            AssetExposure::InternetFacing => Exposure::InternetFacing,
            AssetExposure::Internal => Exposure::Internal,
            AssetExposure::Isolated => Exposure::Isolated,
        },
        data_sensitivity: match a.sensitivity {
            Sensitivity::Low => DataSensitivity::Public,
            Sensitivity::Medium => DataSensitivity::Internal,
            Sensitivity::High => DataSensitivity::Restricted,
        },
        owner: a.owner.clone(),
        tags: a.tags.clone(),
    }))
}

/// The UTC day of a time: when a finding's SLA clock starts.
pub fn day_of(ts: Ts) -> Date {
    Date::from_days(ts.millis().div_euclid(86_400_000))
}

/// Findings read from the store at a time.
const PAGE: u32 = 5_000;
/// Assets read from the store at a time.
const ASSET_PAGE: u32 = 1_000;
/// Rank keys a ranking keeps at most (about 20 MiB with the maps' own memory); past it
/// the cache starts again empty. Hits come from assets alike recurring across the fleet,
/// so the cache pays only if it holds every combination the fleet has.
const CACHED: usize = 1 << 17;

/// The best `limit` findings `filter` selects (its `after_id` and `limit` are ignored),
/// ranked as `scan --prioritize` ranks ([`QueueKey::queue_cmp`]: vulnerabilities by risk,
/// then informational advisories, then findings whose advisory is gone), then by the lower
/// id.
pub async fn rank(
    store: &dyn Store,
    matcher: Arc<Matcher>,
    ctx: Arc<RiskContext>,
    filter: FindingFilter,
    limit: u32,
) -> Result<Vec<RankedFinding>, ApiError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut top = Top::new(limit as usize);
    let mut risks = Assessments::new(ctx, CACHED);
    if filter.asset_id.is_none() {
        // Fleet-wide: every asset's context in a few pages, not one query per asset.
        let mut after = 0;
        loop {
            let page = store.list_assets(after, ASSET_PAGE).await?;
            for a in &page {
                risks.add_asset(a)?;
            }
            match page.last() {
                Some(a) if page.len() == ASSET_PAGE as usize => after = a.id,
                _ => break,
            }
        }
    }
    let page_after = |after_id| FindingFilter {
        after_id,
        limit: Some(PAGE),
        ..filter.clone()
    };
    let mut page = store.list_findings(page_after(0)).await?;
    loop {
        let full = page.len() == PAGE as usize;
        let Some(last) = page.last() else { break };
        let after = last.id;
        // One asset's findings, or an asset enrolled since the assets were read.
        for f in &page {
            if !risks.has_asset(f.asset_id) {
                let a = store.get_asset(f.asset_id).await?.ok_or_else(|| {
                    ApiError::internal(format!("finding {}: asset {} not found", f.id, f.asset_id))
                })?;
                risks.add_asset(&a)?;
            }
        }
        let m = matcher.clone();
        let assess = tokio::task::spawn_blocking(move || {
            for f in page {
                let (fix, advisory) = (!f.fixed_versions.is_empty(), |id: &str| m.advisory(id));
                let key = risks.queue_key(&f.advisory_id, fix, f.first_seen, f.asset_id, advisory);
                if top.admits(key, f.id) {
                    let a = risks.assess(&f.advisory_id, fix, f.first_seen, f.asset_id, advisory);
                    top.push(Ranked {
                        key,
                        entry: RankedFinding::new(f, a),
                    });
                }
            }
            (top, risks)
        });
        // Read the next page while this one is assessed.
        let (assessed, next) = if full {
            let (assessed, next) = tokio::join!(assess, store.list_findings(page_after(after)));
            (assessed, Some(next))
        } else {
            (assess.await, None)
        };
        (top, risks) =
            assessed.map_err(|e| ApiError::internal(format!("ranking findings: {e}")))?;
        match next {
            Some(next) => page = next?,
            None => break,
        }
    }
    Ok(top.into_sorted())
}

/// What an assessment depends on besides its advisory: fix available, first-seen day and
/// the index of the asset's context.
type AssessmentKey = (bool, Date, u32);

/// The assessments of one ranking, made once per (advisory, fix available, first-seen day,
/// asset context): the threat intelligence, policy and advisory database do not change
/// within it. Assets with equal contexts share their assessments.
struct Assessments {
    ctx: Arc<RiskContext>,
    /// The distinct contexts, and each one's index by its JSON (the engine's input, so
    /// equal JSON is an equal context).
    contexts: Vec<ResolvedAsset>,
    context_index: HashMap<String, u32>,
    /// Asset id → index in `contexts`.
    asset_context: HashMap<i64, u32>,
    /// Advisory id → key → the finding's queue key.
    cache: HashMap<String, HashMap<AssessmentKey, QueueKey>>,
    cached: usize,
    max_cached: usize,
}

impl Assessments {
    fn new(ctx: Arc<RiskContext>, max_cached: usize) -> Assessments {
        Assessments {
            ctx,
            contexts: Vec::new(),
            context_index: HashMap::new(),
            asset_context: HashMap::new(),
            cache: HashMap::new(),
            cached: 0,
            max_cached,
        }
    }

    fn has_asset(&self, id: i64) -> bool {
        self.asset_context.contains_key(&id)
    }

    fn add_asset(&mut self, a: &Asset) -> Result<(), ApiError> {
        let context = asset_context(a)?;
        let key = serde_json::to_string(&context)
            .map_err(|e| ApiError::internal(format!("asset {}: context: {e}", a.id)))?;
        let next = self.contexts.len() as u32;
        let index = *self.context_index.entry(key).or_insert(next);
        if index == next {
            self.contexts.push(context);
        }
        self.asset_context.insert(a.id, index);
        Ok(())
    }

    /// The assessment of a finding of advisory `advisory_id` on asset `asset_id` (added
    /// before), first seen at `first_seen`: `patchpilot_prioritize::assess_finding` in the
    /// asset's context, on the advisory `advisory` finds; none when there is no such
    /// advisory.
    fn assess<'a>(
        &self,
        advisory_id: &str,
        fix: bool,
        first_seen: Ts,
        asset_id: i64,
        advisory: impl FnOnce(&str) -> Option<&'a Advisory>,
    ) -> Option<Assessment> {
        let context = self.asset_context[&asset_id];
        let c = &*self.ctx;
        advisory(advisory_id).map(|adv| {
            patchpilot_prioritize::assess_finding(
                adv,
                fix,
                day_of(first_seen),
                &c.intel,
                c.nvd.as_ref(),
                &self.contexts[context as usize],
                &c.policy,
            )
        })
    }

    /// What ranks [`Assessments::assess`] of the same finding, from the cache when it was
    /// assessed before (`advisory` is asked only when not).
    fn queue_key<'a>(
        &mut self,
        advisory_id: &str,
        fix: bool,
        first_seen: Ts,
        asset_id: i64,
        advisory: impl FnOnce(&str) -> Option<&'a Advisory>,
    ) -> QueueKey {
        let key = (fix, day_of(first_seen), self.asset_context[&asset_id]);
        if let Some(k) = self.cache.get(advisory_id).and_then(|m| m.get(&key)) {
            return *k;
        }
        if self.cached >= self.max_cached {
            self.cache.clear();
            self.cached = 0;
        }
        let rank = self
            .assess(advisory_id, fix, first_seen, asset_id, advisory)
            .map_or(QueueKey::Unassessed, |a| a.queue_key());
        self.cache
            .entry(advisory_id.to_string())
            .or_default()
            .insert(key, rank);
        self.cached += 1;
        rank
    }
}

/// `(queue key, finding id)` in rank order: `Less` ranks first.
fn rank_cmp(a: (QueueKey, i64), b: (QueueKey, i64)) -> Ordering {
    a.0.queue_cmp(&b.0).then(a.1.cmp(&b.1))
}

/// A ranked finding ordered by rank: `Less` ranks first.
struct Ranked {
    key: QueueKey,
    entry: RankedFinding,
}

impl Ranked {
    fn key(&self) -> (QueueKey, i64) {
        (self.key, self.entry.finding.id)
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Ranked) -> Ordering {
        rank_cmp(self.key(), other.key())
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Ranked) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Ranked) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

/// The best `limit` seen so far: a max-heap whose top is the worst kept.
struct Top {
    heap: BinaryHeap<Ranked>,
    limit: usize,
}

impl Top {
    fn new(limit: usize) -> Top {
        Top {
            heap: BinaryHeap::with_capacity(limit.min(PAGE as usize) + 1),
            limit,
        }
    }

    /// Whether a finding with this queue key and this id would be kept (so only those are
    /// assessed in full).
    fn admits(&self, key: QueueKey, id: i64) -> bool {
        self.heap.len() < self.limit
            || self
                .heap
                .peek()
                .is_some_and(|worst| rank_cmp((key, id), worst.key()) == Ordering::Less)
    }

    fn push(&mut self, r: Ranked) {
        if self.heap.len() < self.limit {
            self.heap.push(r);
        } else if self.heap.peek().is_some_and(|worst| r < *worst) {
            self.heap.pop();
            self.heap.push(r);
        }
    }

    fn into_sorted(self) -> Vec<RankedFinding> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.entry)
            .collect()
    }
}

// ------------------------------------------------------------ OpenAPI schema of `risk`
//
// `Risk` lives in the pure `patchpilot-risk`, which does not depend on utoipa; these types
// only describe its JSON for the OpenAPI document (a test checks they name the same
// fields).

/// A finding's risk on its asset: `patchpilot_risk::Risk`, as `patchpilot scan
/// --prioritize --format json` writes it.
#[derive(ToSchema)]
#[schema(as = Risk)]
#[allow(dead_code)]
pub struct RiskSchema {
    /// 0-100, one decimal; higher is more urgent.
    score: f32,
    ssvc: SsvcDecision,
    /// The SSVC decision points: `exploitation`, `exposure`, `automatable`, `human_impact`.
    #[schema(value_type = Object)]
    ssvc_inputs: serde_json::Value,
    due: DueSchema,
    /// Largest effect on the score first, then the SLA rule.
    factors: Vec<FactorSchema>,
    /// The top factors in plain words.
    explanation: String,
    /// The asset context used (`context`) and where each value came from (`origins`).
    #[schema(value_type = Object)]
    asset: serde_json::Value,
}

/// The SSVC deployer decision, least to most urgent.
#[derive(ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum SsvcDecision {
    Defer,
    Scheduled,
    OutOfCycle,
    Immediate,
}

/// When the finding is due and which SLA rule set it: `severity` (`days` after first seen
/// for `severity`), `kev-days` (`days` after the later of first seen and the KEV listing),
/// `kev-due-date` (CISA's own date) or, for an informational advisory, `informational`
/// (`days` after first seen, the policy's `[sla] informational`).
#[derive(ToSchema)]
#[schema(as = RiskDue)]
#[allow(dead_code)]
pub struct DueSchema {
    #[schema(value_type = String, format = Date)]
    date: (),
    /// `severity`, `kev-days`, `kev-due-date` or `informational`.
    rule: String,
    severity: Option<String>,
    days: Option<u32>,
}

/// One piece of evidence behind a risk.
#[derive(ToSchema)]
#[schema(as = RiskFactor)]
#[allow(dead_code)]
pub struct FactorSchema {
    /// `exploitation`, `epss`, `cvss`, `exposure`, `criticality`, `fix` or `sla`.
    name: String,
    value: String,
    source: String,
    #[schema(value_type = Option<String>, format = Date)]
    date: Option<()>,
    /// Score points this factor added (positive) or took away (negative).
    contribution: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: i64) -> Finding {
        serde_json::from_value(serde_json::json!({
            "id": id, "asset_id": 1,
            "package": {"ecosystem": "crates.io", "name": "demo", "version": "1.0.0"},
            "advisory_id": "PP-TEST-0001", "fixed_versions": ["1.2.0"], "state": "open",
            "first_seen": "2026-03-10T12:00:00Z", "updated_at": "2026-03-10T12:00:00Z"
        }))
        .unwrap()
    }

    fn risk(score: f32, due: &str) -> Risk {
        let mut r = patchpilot_risk::assess(
            &patchpilot_risk::Finding {
                cvss: None,
                epss: None,
                kev: None,
                exploit_reference: None,
                fix_available: true,
                first_seen: due.parse().unwrap(),
            },
            &AssetContext::default(),
            &Policy::default(),
        );
        r.score = score;
        r.due.date = due.parse().unwrap();
        r
    }

    /// A vulnerability's queue key.
    fn vuln(score: f32, due: &str) -> QueueKey {
        QueueKey::Ranked(risk(score, due).rank_key())
    }

    /// An informational advisory's queue key.
    fn notice(due: Option<&str>) -> QueueKey {
        QueueKey::Informational {
            due: due.map(|d| d.parse().unwrap()),
        }
    }

    fn ranked(id: i64, key: QueueKey) -> Ranked {
        Ranked {
            key,
            entry: RankedFinding::new(finding(id), None),
        }
    }

    #[test]
    fn top_keeps_the_best_by_score_then_due_date_then_id_and_notices_after_vulnerabilities() {
        let all = [
            (7, vuln(50.0, "2026-05-01")),
            (3, vuln(80.0, "2026-06-01")),
            (9, QueueKey::Unassessed),
            (12, notice(None)),
            (4, vuln(80.0, "2026-04-01")),
            (11, notice(Some("2026-09-01"))),
            (2, vuln(50.0, "2026-05-01")),
            (13, notice(Some("2026-02-01"))),
            (1, vuln(10.0, "2026-01-01")),
        ];
        let top = |limit| {
            let mut t = Top::new(limit);
            for (id, key) in all {
                t.push(ranked(id, key));
            }
            t
        };
        let ids = |t: Top| {
            t.into_sorted()
                .iter()
                .map(|r| r.finding.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(top(20)), [4, 3, 2, 7, 1, 13, 11, 12, 9]);
        assert_eq!(ids(top(6)), [4, 3, 2, 7, 1, 13]);
        assert_eq!(ids(top(3)), [4, 3, 2]);
        assert_eq!(ids(top(0)), Vec::<i64>::new());
        // What `push` would keep, `admits` says beforehand (a ranking builds only those).
        let t = top(3);
        assert!(t.admits(vuln(90.0, "2026-12-01"), 8));
        assert!(
            t.admits(vuln(50.0, "2026-05-01"), 1),
            "ties go to the lower id"
        );
        assert!(!t.admits(vuln(50.0, "2026-05-01"), 5));
        assert!(!t.admits(QueueKey::Unassessed, 0));
        assert!(
            !t.admits(notice(Some("2000-01-01")), 0),
            "a notice never displaces a vulnerability"
        );
        assert!(top(20).admits(QueueKey::Unassessed, 99), "room left");
        assert!(!top(0).admits(vuln(99.0, "2026-01-01"), 1));
    }

    #[test]
    fn stored_asset_context_maps_onto_the_engines() {
        let mut a: Asset = serde_json::from_value(serde_json::json!({
            "id": 5, "name": "web", "environment": "cloud", "tier": 1,
            "exposure": "internet-facing", "sensitivity": "high", "owner": "team",
            "tags": ["pci"], "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        let r = asset_context(&a).unwrap();
        let c = &r.context;
        assert_eq!(
            (c.environment, c.tier.get(), c.exposure, c.data_sensitivity),
            (
                Environment::Cloud,
                1,
                Exposure::InternetFacing,
                DataSensitivity::Restricted
            )
        );
        assert_eq!(
            (c.owner.as_deref(), &c.tags[..]),
            (Some("team"), &["pci".to_string()][..])
        );
        // The stored defaults are the engine's defaults.
        a.environment = AssetEnv::default();
        a.exposure = AssetExposure::default();
        a.sensitivity = Sensitivity::default();
        a.tier = patchpilot_store::default_tier();
        a.owner = None;
        a.tags = Vec::new();
        assert_eq!(asset_context(&a).unwrap().context, AssetContext::default());
        a.tier = 0;
        assert!(asset_context(&a).unwrap_err().message.contains("asset 5"));
    }

    fn asset(id: i64, tier: u8, exposure: &str) -> Asset {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": format!("host-{id}"), "tier": tier, "exposure": exposure,
            "environment": "on-prem", "sensitivity": "medium", "tags": [],
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn advisory(id: &str, cvss: &str) -> Advisory {
        patchpilot_osv::parse_json(
            serde_json::json!({
                "id": id, "modified": "2026-01-01T00:00:00Z",
                "severity": [{"type": "CVSS_V3", "score": cvss}]
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn cached_assessments_equal_fresh_ones_per_context_day_and_fix() {
        let assets = [
            asset(1, 1, "internet-facing"),
            asset(2, 4, "isolated"),
            asset(3, 1, "internet-facing"), // the same context as asset 1
        ];
        let advisories = [
            advisory("PP-1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            advisory("PP-2", "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"),
            patchpilot_osv::parse_json(
                br#"{"id": "PP-NOTE", "modified": "2026-01-01T00:00:00Z",
                     "database_specific": {"informational": "unsound"}}"#,
            )
            .unwrap(),
        ];
        let days = [
            Ts::parse_rfc3339("2026-03-10T01:00:00Z").unwrap(),
            Ts::parse_rfc3339("2026-03-10T23:00:00Z").unwrap(), // the same day
            Ts::parse_rfc3339("2026-05-02T12:00:00Z").unwrap(),
        ];
        // Informational advisories are due 30 days after first seen.
        let mut policy = Policy::default();
        policy.sla.informational = Some(30);
        let ctx = Arc::new(RiskContext {
            policy,
            ..RiskContext::default()
        });
        let fresh = |adv: &Advisory, fix: bool, seen: Ts, a: &Asset| {
            patchpilot_prioritize::assess_finding(
                adv,
                fix,
                day_of(seen),
                &ctx.intel,
                None,
                &asset_context(a).unwrap(),
                &ctx.policy,
            )
        };
        // Every combination (an informational advisory, and one no longer in the database
        // too), twice, in an order
        // that revisits each key after others; with room for everything, and with room for
        // two (the cache starts again often).
        for max_cached in [CACHED, 2] {
            let mut risks = Assessments::new(ctx.clone(), max_cached);
            for a in &assets {
                risks.add_asset(a).unwrap();
            }
            assert_eq!(risks.contexts.len(), 2);
            for _ in 0..2 {
                for seen in days {
                    for fix in [true, false] {
                        for id in ["PP-1", "PP-GONE", "PP-NOTE", "PP-2"] {
                            for a in &assets {
                                let find = |id: &str| advisories.iter().find(|adv| adv.id == id);
                                let want = find(id).map(|adv| fresh(adv, fix, seen, a));
                                let got = risks.queue_key(id, fix, seen, a.id, find);
                                let case = format!("{id} {fix} {seen:?} {}", a.id);
                                let key = want
                                    .as_ref()
                                    .map_or(QueueKey::Unassessed, Assessment::queue_key);
                                assert_eq!(got, key, "{case}");
                                assert_eq!(risks.assess(id, fix, seen, a.id, find), want, "{case}");
                            }
                        }
                    }
                }
            }
            assert!(risks.cached <= max_cached);
        }
        // The cases the cache must keep apart do differ: the same advisory on different
        // contexts, on different days, with and without a fix.
        let fresh = |adv, fix, seen, a| match fresh(adv, fix, seen, a) {
            Assessment::Vulnerability(r) => *r,
            other => panic!("{other:?}"),
        };
        let (adv, seen) = (&advisories[0], days[0]);
        assert_ne!(
            fresh(adv, true, seen, &assets[0]).score,
            fresh(adv, true, seen, &assets[1]).score
        );
        assert_ne!(
            fresh(adv, true, seen, &assets[0]).due,
            fresh(adv, true, days[2], &assets[0]).due
        );
        assert_ne!(
            fresh(adv, true, seen, &assets[0]),
            fresh(adv, false, seen, &assets[0])
        );
    }

    #[test]
    fn the_first_seen_day_is_the_utc_day() {
        assert_eq!(day_of(Ts(0)), "1970-01-01".parse().unwrap());
        let t = Ts::parse_rfc3339("2026-03-10T23:59:59.999Z").unwrap();
        assert_eq!(day_of(t), "2026-03-10".parse().unwrap());
        assert_eq!(day_of(Ts(-1)), "1969-12-31".parse().unwrap());
    }

    /// The property names of a schema, as the OpenAPI document has them.
    fn properties<T: utoipa::PartialSchema>() -> Vec<String> {
        let v = serde_json::to_value(T::schema()).unwrap();
        let mut keys: Vec<String> = v["properties"]
            .as_object()
            .expect("an object schema")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    fn keys(v: &serde_json::Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    #[test]
    fn the_openapi_schema_of_risk_names_the_fields_risk_serializes() {
        let adv = patchpilot_osv::parse_json(
            br#"{"id": "PP-1", "modified": "2026-01-01T00:00:00Z", "aliases": ["CVE-2099-0001"],
                 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}"#,
        )
        .unwrap();
        let r = patchpilot_prioritize::assess(
            &adv,
            true,
            "2026-03-10".parse().unwrap(),
            &Intel::default(),
            None,
            &ResolvedAsset::default(),
            &Policy::default(),
        );
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(keys(&v), properties::<RiskSchema>());
        let due = properties::<DueSchema>();
        assert!(
            keys(&v["due"]).iter().all(|k| due.contains(k)),
            "{}",
            v["due"]
        );
        let factor = properties::<FactorSchema>();
        for f in v["factors"].as_array().unwrap() {
            assert!(keys(f).iter().all(|k| factor.contains(k)), "{f}");
        }
        let decisions =
            serde_json::to_value(<SsvcDecision as utoipa::PartialSchema>::schema()).unwrap();
        assert!(
            decisions["enum"].as_array().unwrap().contains(&v["ssvc"]),
            "{decisions} {}",
            v["ssvc"]
        );
    }
}
