//! Remediation due dates from policy.
//!
//! A finding is due `days(severity)` after it was first seen; when its CVE is in CISA KEV it
//! is also due `kev` days after the later of first-seen and the KEV listing (BOD 22-01 gives
//! 14 days), or on KEV's own `dueDate` if that is earlier, and the earliest deadline wins.
//! So a finding first seen after KEV's deadline is due at once (overdue): that is the
//! federal deadline, and a policy that wants grace can raise `kev` and ignore nothing else.
//!
//! Informational advisories (unmaintained, unsound, notices) are not vulnerabilities: they
//! get no due date unless the policy sets `informational` (days after first seen, the
//! same on every tier).
//!
//! Every number can be overridden per criticality tier:
//!
//! ```toml
//! [sla]
//! critical = 15
//! [sla.tiers.1]
//! critical = 7
//! kev = 7
//! ```

use serde::{Deserialize, Serialize};

use crate::asset::Tier;
use crate::cvss::Severity;
use crate::KevSignal;
use patchpilot_intel::Date;

/// Days to remediate, by KEV listing and by severity. Defaults: KEV 14 (BOD 22-01),
/// critical 15, high 30, medium 90, low 180; unknown severity counts as medium.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct SlaPolicy {
    pub kev: u32,
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    /// Also used for severity `none` (a 0.0 base score).
    pub low: u32,
    /// Severity assumed when a finding has no CVSS score. Default: medium.
    pub unknown_severity: Severity,
    /// Days to act on an informational advisory (unmaintained, unsound, notice). Default:
    /// none, no due date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub informational: Option<u32>,
    pub tiers: TierSla,
}

impl Default for SlaPolicy {
    fn default() -> SlaPolicy {
        SlaPolicy {
            kev: 14,
            critical: 15,
            high: 30,
            medium: 90,
            low: 180,
            unknown_severity: Severity::Medium,
            informational: None,
            tiers: TierSla::default(),
        }
    }
}

/// Per-tier overrides (`[sla.tiers.1]` ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TierSla {
    #[serde(rename = "1", skip_serializing_if = "SlaOverride::is_empty")]
    pub tier1: SlaOverride,
    #[serde(rename = "2", skip_serializing_if = "SlaOverride::is_empty")]
    pub tier2: SlaOverride,
    #[serde(rename = "3", skip_serializing_if = "SlaOverride::is_empty")]
    pub tier3: SlaOverride,
    #[serde(rename = "4", skip_serializing_if = "SlaOverride::is_empty")]
    pub tier4: SlaOverride,
}

/// Any subset of the SLA numbers for one tier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaOverride {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kev: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub critical: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medium: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low: Option<u32>,
}

impl SlaOverride {
    pub fn is_empty(&self) -> bool {
        *self == SlaOverride::default()
    }
}

/// Which rule set the due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "rule")]
pub enum DueRule {
    /// `days` after first seen, for this severity.
    Severity { severity: Severity, days: u32 },
    /// `days` after the later of first seen and the KEV listing.
    KevDays { days: u32 },
    /// CISA's own KEV due date.
    KevDueDate,
    /// `days` after first seen, for an informational advisory (`[sla] informational`).
    Informational { days: u32 },
}

/// A due date and the rule that set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    pub date: Date,
    #[serde(flatten)]
    pub rule: DueRule,
}

impl SlaPolicy {
    fn tier(&self, t: Tier) -> &SlaOverride {
        match t.get() {
            1 => &self.tiers.tier1,
            2 => &self.tiers.tier2,
            3 => &self.tiers.tier3,
            _ => &self.tiers.tier4,
        }
    }

    /// Days for `severity` on a `tier` asset (tier override, else the default).
    pub fn days(&self, severity: Severity, tier: Tier) -> u32 {
        let o = self.tier(tier);
        match severity {
            Severity::Critical => o.critical.unwrap_or(self.critical),
            Severity::High => o.high.unwrap_or(self.high),
            Severity::Medium => o.medium.unwrap_or(self.medium),
            Severity::Low | Severity::None => o.low.unwrap_or(self.low),
        }
    }

    /// KEV days on a `tier` asset.
    pub fn kev_days(&self, tier: Tier) -> u32 {
        self.tier(tier).kev.unwrap_or(self.kev)
    }

    /// The due date of an informational advisory first seen on `first_seen`: `None`
    /// unless the policy sets `informational`.
    pub fn informational_due(&self, first_seen: Date) -> Option<Due> {
        self.informational.map(|days| Due {
            date: first_seen.add_days(i64::from(days)),
            rule: DueRule::Informational { days },
        })
    }

    /// The due date of a finding first seen on `first_seen`.
    pub fn due(
        &self,
        severity: Severity,
        kev: Option<&KevSignal>,
        tier: Tier,
        first_seen: Date,
    ) -> Due {
        let days = self.days(severity, tier);
        let mut best = Due {
            date: first_seen.add_days(i64::from(days)),
            rule: DueRule::Severity { severity, days },
        };
        if let Some(k) = kev {
            let days = self.kev_days(tier);
            let start = first_seen.max(k.date_added);
            for cand in [
                Due {
                    date: start.add_days(i64::from(days)),
                    rule: DueRule::KevDays { days },
                },
                Due {
                    date: k.due_date,
                    rule: DueRule::KevDueDate,
                },
            ] {
                if cand.date < best.date {
                    best = cand;
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_by_severity() {
        let p = SlaPolicy::default();
        let t = Tier::default();
        let seen = d("2024-01-01");
        let cases = [
            (Severity::Critical, "2024-01-16"),
            (Severity::High, "2024-01-31"),
            (Severity::Medium, "2024-03-31"),
            (Severity::Low, "2024-06-29"),
            (Severity::None, "2024-06-29"),
        ];
        for (sev, want) in cases {
            assert_eq!(p.due(sev, None, t, seen).date, d(want), "{sev:?}");
        }
    }

    #[test]
    fn kev_rules() {
        let p = SlaPolicy::default();
        let t = Tier::default();
        let kev = |added, due| KevSignal {
            date_added: d(added),
            due_date: d(due),
            ransomware: false,
        };
        // Listed before first seen, CISA's date later than 14 days from first seen.
        let due = p.due(
            Severity::Low,
            Some(&kev("2024-01-01", "2024-03-01")),
            t,
            d("2024-02-01"),
        );
        assert_eq!(due.date, d("2024-02-15"));
        assert_eq!(due.rule, DueRule::KevDays { days: 14 });
        // CISA's due date earlier than 14 days: it wins.
        let due = p.due(
            Severity::Low,
            Some(&kev("2024-02-01", "2024-02-08")),
            t,
            d("2024-02-01"),
        );
        assert_eq!((due.date, due.rule), (d("2024-02-08"), DueRule::KevDueDate));
        // Listed after first seen: 14 days count from the listing, not from first seen.
        let due = p.due(
            Severity::Low,
            Some(&kev("2024-05-02", "2024-05-30")),
            t,
            d("2024-01-01"),
        );
        assert_eq!(due.date, d("2024-05-16"));
        // Severity deadline already earlier than the KEV one: it stays.
        let due = p.due(
            Severity::Critical,
            Some(&kev("2024-05-02", "2024-05-30")),
            t,
            d("2024-05-01"),
        );
        assert_eq!(due.date, d("2024-05-16"));
        assert_eq!(
            due.rule,
            DueRule::Severity {
                severity: Severity::Critical,
                days: 15
            }
        );
    }

    #[test]
    fn informational_advisories_are_due_only_when_the_policy_says() {
        let mut p = SlaPolicy::default();
        assert_eq!(p.informational_due(d("2024-01-01")), None);
        p = toml::from_str("informational = 180").unwrap();
        let due = p.informational_due(d("2024-01-01")).unwrap();
        assert_eq!(due.date, d("2024-06-29"));
        assert_eq!(due.rule, DueRule::Informational { days: 180 });
    }

    #[test]
    fn tier_overrides() {
        let mut p = SlaPolicy::default();
        p.tiers.tier1 = SlaOverride {
            critical: Some(7),
            kev: Some(3),
            ..SlaOverride::default()
        };
        let t1 = Tier::new(1).unwrap();
        let t2 = Tier::new(2).unwrap();
        assert_eq!(p.days(Severity::Critical, t1), 7);
        assert_eq!(p.days(Severity::High, t1), 30);
        assert_eq!(p.days(Severity::Critical, t2), 15);
        assert_eq!(p.kev_days(t1), 3);
        assert_eq!(p.kev_days(t2), 14);
    }
}
