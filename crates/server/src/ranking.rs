//! Risk-ranked findings (`GET /api/v1/findings?prioritize=true`): every finding assessed as
//! `patchpilot scan --prioritize` assesses it (`patchpilot-prioritize`), in the context of
//! the asset it is on, with its SLA clock started on the day it was first seen.
//!
//! The threat intelligence (CISA KEV, FIRST EPSS, NVD CVSS from `<data-dir>/feeds/`) and the
//! risk policy form one [`RiskContext`], loaded at start and again on a feed reload, and
//! swapped whole like the advisory index, so a ranking never mixes two versions of a feed.
//!
//! A ranking reads every finding its filters select a page at a time and keeps only the
//! best `limit` of them (a bounded heap), so its memory is a page, the answer and the
//! assets' contexts, however many findings the fleet has. The assessment of a page runs
//! off the async workers.
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
use patchpilot_prioritize::Intel;
use patchpilot_risk::{
    AssetContext, DataSensitivity, Environment, Exposure, Policy, ResolvedAsset, Risk, Tier,
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

/// A finding, and with `prioritize=true` its risk.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// With `prioritize=true`: the assessment, the same object as a finding's `risk` in
    /// `patchpilot scan --prioritize --format json`. Absent when the finding's advisory is
    /// no longer in the advisory database (such findings rank last).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = RiskSchema, required = false)]
    pub risk: Option<Risk>,
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

/// The best `limit` findings `filter` selects (its `after_id` and `limit` are ignored),
/// ranked as `scan --prioritize` ranks ([`Risk::rank_cmp`]), then by the lower id.
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
    let mut assets: HashMap<i64, ResolvedAsset> = HashMap::new();
    if filter.asset_id.is_none() {
        // Fleet-wide: every asset's context in a few pages, not one query per asset.
        let mut after = 0;
        loop {
            let page = store.list_assets(after, ASSET_PAGE).await?;
            for a in &page {
                assets.insert(a.id, asset_context(a)?);
            }
            match page.last() {
                Some(a) if page.len() == ASSET_PAGE as usize => after = a.id,
                _ => break,
            }
        }
    }
    let mut after = 0;
    loop {
        let page = store
            .list_findings(FindingFilter {
                after_id: after,
                limit: Some(PAGE),
                ..filter.clone()
            })
            .await?;
        let full = page.len() == PAGE as usize;
        let Some(last) = page.last() else { break };
        after = last.id;
        // One asset's findings, or an asset enrolled since the assets were read.
        for f in &page {
            if !assets.contains_key(&f.asset_id) {
                let a = store.get_asset(f.asset_id).await?.ok_or_else(|| {
                    ApiError::internal(format!("finding {}: asset {} not found", f.id, f.asset_id))
                })?;
                assets.insert(a.id, asset_context(&a)?);
            }
        }
        let (m, c) = (matcher.clone(), ctx.clone());
        (top, assets) = tokio::task::spawn_blocking(move || {
            for f in page {
                let risk = m.advisory(&f.advisory_id).map(|adv| {
                    patchpilot_prioritize::assess(
                        adv,
                        !f.fixed_versions.is_empty(),
                        day_of(f.first_seen),
                        &c.intel,
                        c.nvd.as_ref(),
                        &assets[&f.asset_id],
                        &c.policy,
                    )
                });
                top.push(Ranked(RankedFinding { finding: f, risk }));
            }
            (top, assets)
        })
        .await
        .map_err(|e| ApiError::internal(format!("ranking findings: {e}")))?;
        if !full {
            break;
        }
    }
    Ok(top.into_sorted())
}

/// A ranked finding ordered by rank: `Less` ranks first.
struct Ranked(RankedFinding);

impl Ord for Ranked {
    fn cmp(&self, other: &Ranked) -> Ordering {
        match (&self.0.risk, &other.0.risk) {
            (Some(a), Some(b)) => a.rank_cmp(b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
        .then(self.0.finding.id.cmp(&other.0.finding.id))
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
            .map(|r| r.0)
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
/// for `severity`), `kev-days` (`days` after the later of first seen and the KEV listing)
/// or `kev-due-date` (CISA's own date).
#[derive(ToSchema)]
#[schema(as = RiskDue)]
#[allow(dead_code)]
pub struct DueSchema {
    #[schema(value_type = String, format = Date)]
    date: (),
    /// `severity`, `kev-days` or `kev-due-date`.
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
                exploit_reference: false,
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

    fn ranked(id: i64, r: Option<(f32, &str)>) -> Ranked {
        Ranked(RankedFinding {
            finding: finding(id),
            risk: r.map(|(s, d)| risk(s, d)),
        })
    }

    #[test]
    fn top_keeps_the_best_by_score_then_due_date_then_id() {
        let all = [
            (7, Some((50.0, "2026-05-01"))),
            (3, Some((80.0, "2026-06-01"))),
            (9, None),
            (4, Some((80.0, "2026-04-01"))),
            (2, Some((50.0, "2026-05-01"))),
            (1, Some((10.0, "2026-01-01"))),
        ];
        let ids = |limit| {
            let mut t = Top::new(limit);
            for (id, r) in all {
                t.push(ranked(id, r));
            }
            t.into_sorted()
                .iter()
                .map(|r| r.finding.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(10), [4, 3, 2, 7, 1, 9]);
        assert_eq!(ids(3), [4, 3, 2]);
        assert_eq!(ids(0), Vec::<i64>::new());
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
