//! Asset context: where a finding lives and how much that matters.
//!
//! Every field has a documented default so an inventory with no context at all still ranks
//! sensibly, as a "typical internal server": on-prem, tier 3, internal, internal data.
//! These defaults sit in the middle of each scale on purpose: an unknown asset neither
//! jumps the queue nor vanishes from it.
//!
//! The type is TOML-friendly (kebab-case values, `tier = 1`), e.g.
//!
//! ```toml
//! environment = "cloud"
//! site = "eu-west-1"
//! tier = 1
//! exposure = "internet-facing"
//! data-sensitivity = "restricted"
//! owner = "payments-team"
//! tags = ["pci"]
//! ```
//!
//! # Layers
//! Context comes from several places, each giving some fields ([`AssetPatch`]): the policy
//! file's `[asset]`, labels carried by the inventory, and command-line flags. A
//! [`ResolvedAsset`] starts from the defaults and takes each field from the strongest layer
//! that sets it, remembering where it came from ([`ContextOrigin`]), so a risk can say
//! *why* an asset counts as tier 1. The order is the caller's; the CLI applies
//! policy, then labels, then flags (flags win), and documents why.
//!
//! # Labels
//! Inventories carry context as name/value labels in the `patchpilot:asset:` namespace
//! ([`LABEL_PREFIX`]): `patchpilot:asset:tier = 1`, `:exposure`, `:environment`, `:site`,
//! `:data-sensitivity`, `:owner`, and `:tag` (repeatable, one tag each). Values are read
//! like the TOML ones, leniently in spelling (`tier-1`, `Internet_Facing`), strictly in
//! meaning: a value out of range, an unknown key in the namespace, or one key given two
//! different values is an error ([`LabelError`]), never ignored — a mistyped
//! `patchpilot:asset:teir` must not quietly rank a crown-jewel host as tier 3. Labels
//! outside the namespace belong to other tools and are ignored. Where labels sit in each
//! inventory format is the inventory crate's business.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where the asset runs. Default: `on-prem`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Environment {
    Cloud,
    #[default]
    OnPrem,
    Edge,
}

/// Network exposure, ordered from least to most exposed. Default: `internal`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Exposure {
    /// No network path from outside its segment (air-gapped, OT island).
    Isolated,
    /// Reachable only from the organisation's networks.
    #[default]
    Internal,
    /// Reachable from the internet.
    InternetFacing,
}

impl Exposure {
    pub const ALL: [Exposure; 3] = [
        Exposure::Isolated,
        Exposure::Internal,
        Exposure::InternetFacing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Isolated => "isolated",
            Exposure::Internal => "internal",
            Exposure::InternetFacing => "internet-facing",
        }
    }
}

/// The most sensitive data the asset holds, ordered. Default: `internal`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum DataSensitivity {
    Public,
    #[default]
    Internal,
    Confidential,
    /// Regulated or safety-relevant data (PII, PHI, cardholder data, control systems).
    Restricted,
}

impl DataSensitivity {
    pub const ALL: [DataSensitivity; 4] = [
        DataSensitivity::Public,
        DataSensitivity::Internal,
        DataSensitivity::Confidential,
        DataSensitivity::Restricted,
    ];
}

/// Business criticality tier, 1 (most critical) to 4 (least). Default: 3.
///
/// `Ord` follows the number, so `Tier::new(1) < Tier::new(4)` although tier 1 matters more;
/// use [`Tier::criticality`] when "more critical" is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Tier(u8);

/// Why a tier was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("criticality tier must be 1, 2, 3 or 4 (1 = most critical), got {0:?}")]
pub struct TierError(String);

impl Tier {
    pub const ALL: [Tier; 4] = [Tier(1), Tier(2), Tier(3), Tier(4)];

    pub fn new(n: u8) -> Result<Tier, TierError> {
        if (1..=4).contains(&n) {
            Ok(Tier(n))
        } else {
            Err(TierError(n.to_string()))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// 3 for tier 1 down to 0 for tier 4: larger means more critical.
    pub fn criticality(self) -> u8 {
        4 - self.0
    }
}

impl Default for Tier {
    fn default() -> Tier {
        Tier(3)
    }
}

impl TryFrom<u8> for Tier {
    type Error = TierError;
    fn try_from(n: u8) -> Result<Tier, TierError> {
        Tier::new(n)
    }
}

impl From<Tier> for u8 {
    fn from(t: Tier) -> u8 {
        t.0
    }
}

impl FromStr for Tier {
    type Err = TierError;
    /// `1`, `tier1` or `tier-1` (for CLI flags and inventory labels).
    fn from_str(s: &str) -> Result<Tier, TierError> {
        let t = s.trim().to_ascii_lowercase();
        let n = match t.strip_prefix("tier") {
            Some(rest) => rest.strip_prefix('-').unwrap_or(rest),
            None => &t,
        };
        n.parse::<u8>()
            .ok()
            .and_then(|n| Tier::new(n).ok())
            .ok_or_else(|| TierError(s.to_string()))
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tier-{}", self.0)
    }
}

/// Why a context value given as text was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {got:?}; expected one of: {expected}")]
pub struct ContextValueError {
    what: &'static str,
    got: String,
    expected: &'static str,
}

macro_rules! from_str_kebab {
    ($ty:ty, $what:literal, $expected:literal, { $($s:literal => $v:expr),* $(,)? }) => {
        impl FromStr for $ty {
            type Err = ContextValueError;
            fn from_str(s: &str) -> Result<$ty, ContextValueError> {
                match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
                    $($s => Ok($v),)*
                    _ => Err(ContextValueError { what: $what, got: s.to_string(), expected: $expected }),
                }
            }
        }
    };
}

from_str_kebab!(Environment, "environment", "cloud, on-prem, edge", {
    "cloud" => Environment::Cloud, "on-prem" => Environment::OnPrem,
    "onprem" => Environment::OnPrem, "edge" => Environment::Edge,
});
from_str_kebab!(Exposure, "exposure", "internet-facing, internal, isolated", {
    "internet-facing" => Exposure::InternetFacing, "internet" => Exposure::InternetFacing,
    "internal" => Exposure::Internal, "isolated" => Exposure::Isolated,
});
from_str_kebab!(DataSensitivity, "data sensitivity", "public, internal, confidential, restricted", {
    "public" => DataSensitivity::Public, "internal" => DataSensitivity::Internal,
    "confidential" => DataSensitivity::Confidential, "restricted" => DataSensitivity::Restricted,
});

/// The context of one asset (host, container image, edge device).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssetContext {
    pub environment: Environment,
    /// Region (cloud) or site (on-prem, edge). Default: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    pub tier: Tier,
    pub exposure: Exposure,
    pub data_sensitivity: DataSensitivity,
    /// Owning person or team. Default: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// The namespace of asset labels in inventories (SBOM properties and annotations).
pub const LABEL_PREFIX: &str = "patchpilot:asset:";

/// The label keys (after [`LABEL_PREFIX`]), in the order the docs list them.
pub const LABEL_KEYS: [&str; 7] = [
    "tier",
    "exposure",
    "environment",
    "site",
    "data-sensitivity",
    "owner",
    "tag",
];

/// Some of an asset's context, as one source gives it: only the fields it sets. Same TOML
/// shape as [`AssetContext`] (the policy's `[asset]`, a host's `asset.toml`), and what
/// inventory labels read into ([`AssetPatch::from_labels`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssetPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Exposure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_sensitivity: Option<DataSensitivity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// A label that cannot be used, named as it was written. Displays as one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("asset label {label}: {reason}")]
pub struct LabelError {
    /// The label as written: `patchpilot:asset:tier = "0"`.
    pub label: String,
    pub reason: String,
}

impl AssetPatch {
    /// Whether it sets nothing.
    pub fn is_empty(&self) -> bool {
        *self == AssetPatch::default()
    }

    /// Read `(name, value)` labels. Names outside [`LABEL_PREFIX`] (compared ignoring ASCII
    /// case) are ignored; inside it, the key is matched ignoring case, with `_` for `-`.
    /// `tag` may repeat; any other key given twice must say the same thing both times.
    pub fn from_labels<'a>(
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<AssetPatch, LabelError> {
        let mut patch = AssetPatch::default();
        // The first value written for each single-valued key, to name both on a conflict.
        let mut first: Vec<(String, &str)> = Vec::new();
        for (name, value) in labels {
            let Some(key) = name
                .get(..LABEL_PREFIX.len())
                .filter(|p| p.eq_ignore_ascii_case(LABEL_PREFIX))
                .map(|_| &name[LABEL_PREFIX.len()..])
            else {
                continue;
            };
            let err = |reason: String| LabelError {
                label: format!("{name} = {value:?}"),
                reason,
            };
            let key = key.trim().to_ascii_lowercase().replace('_', "-");
            let v = value.trim();
            if v.is_empty() {
                return Err(err("empty value".into()));
            }
            let before = patch.clone();
            let parsed = match key.as_str() {
                "tier" => v
                    .parse()
                    .map(|t| patch.tier = Some(t))
                    .map_err(|e| e.to_string()),
                "exposure" => v
                    .parse()
                    .map(|x| patch.exposure = Some(x))
                    .map_err(|e: ContextValueError| e.to_string()),
                "environment" => v
                    .parse()
                    .map(|x| patch.environment = Some(x))
                    .map_err(|e: ContextValueError| e.to_string()),
                "data-sensitivity" => v
                    .parse()
                    .map(|x| patch.data_sensitivity = Some(x))
                    .map_err(|e: ContextValueError| e.to_string()),
                "site" => {
                    patch.site = Some(v.to_string());
                    Ok(())
                }
                "owner" => {
                    patch.owner = Some(v.to_string());
                    Ok(())
                }
                "tag" => {
                    let tags = patch.tags.get_or_insert_with(Vec::new);
                    if !tags.iter().any(|t| t == v) {
                        tags.push(v.to_string());
                    }
                    continue;
                }
                _ => Err(format!(
                    "unknown key {key:?} in the {LABEL_PREFIX} namespace (expected one of: {})",
                    LABEL_KEYS.join(", ")
                )),
            };
            parsed.map_err(err)?;
            match first.iter().find(|(k, _)| *k == key) {
                // Said again: fine if it means the same (`1` and `tier-1`), else an error.
                Some((_, was)) if patch != before => {
                    return Err(err(format!(
                        "given twice with different values ({was:?}, then {v:?})"
                    )));
                }
                Some(_) => {}
                None => first.push((key, v)),
            }
        }
        Ok(patch)
    }
}

/// Where one value of a [`ResolvedAsset`] came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum ContextOrigin {
    /// Nothing set it: the documented default.
    #[default]
    Default,
    /// The caller passed a whole [`AssetContext`] without saying where it came from.
    Given,
    /// The policy file's `[asset]` table.
    Policy {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<String>,
    },
    /// A label of the inventory (`name` as written: `patchpilot:asset:tier`, or a key of a
    /// host's `asset.toml`), in `file`.
    Label { name: String, file: String },
    /// A command-line flag (`--tier`).
    Flag { flag: String },
}

impl ContextOrigin {
    pub fn is_default(&self) -> bool {
        *self == ContextOrigin::Default
    }
}

impl fmt::Display for ContextOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextOrigin::Default => f.write_str("default"),
            ContextOrigin::Given => f.write_str("given"),
            ContextOrigin::Policy { file: None } => f.write_str("policy [asset]"),
            ContextOrigin::Policy { file: Some(p) } => write!(f, "policy [asset] in {p}"),
            ContextOrigin::Label { name, file } => write!(f, "label {name} in {file}"),
            ContextOrigin::Flag { flag } => write!(f, "flag {flag}"),
        }
    }
}

/// Where each field of a [`ResolvedAsset`] came from; fields left at their default are
/// not written out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct ContextOrigins {
    #[serde(skip_serializing_if = "ContextOrigin::is_default")]
    pub environment: ContextOrigin,
    #[serde(skip_serializing_if = "ContextOrigin::is_default")]
    pub site: ContextOrigin,
    #[serde(skip_serializing_if = "ContextOrigin::is_default")]
    pub tier: ContextOrigin,
    #[serde(skip_serializing_if = "ContextOrigin::is_default")]
    pub exposure: ContextOrigin,
    #[serde(skip_serializing_if = "ContextOrigin::is_default")]
    pub data_sensitivity: ContextOrigin,
    #[serde(skip_serializing_if = "ContextOrigin::is_default")]
    pub owner: ContextOrigin,
    #[serde(skip_serializing_if = "ContextOrigin::is_default")]
    pub tags: ContextOrigin,
}

/// The context a finding was assessed on, and where each value came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResolvedAsset {
    pub context: AssetContext,
    pub origins: ContextOrigins,
}

impl ResolvedAsset {
    /// Lay `patch` over what is there: every field it sets replaces the current value (tags
    /// too: the list as a whole), and `origin(field)` records where it came from. `field`
    /// is the kebab-case field name (`tier`, `data-sensitivity`, `tags`).
    pub fn apply(&mut self, patch: &AssetPatch, origin: impl Fn(&'static str) -> ContextOrigin) {
        let (c, o) = (&mut self.context, &mut self.origins);
        if let Some(v) = patch.environment {
            c.environment = v;
            o.environment = origin("environment");
        }
        if let Some(v) = &patch.site {
            c.site = Some(v.clone());
            o.site = origin("site");
        }
        if let Some(v) = patch.tier {
            c.tier = v;
            o.tier = origin("tier");
        }
        if let Some(v) = patch.exposure {
            c.exposure = v;
            o.exposure = origin("exposure");
        }
        if let Some(v) = patch.data_sensitivity {
            c.data_sensitivity = v;
            o.data_sensitivity = origin("data-sensitivity");
        }
        if let Some(v) = &patch.owner {
            c.owner = Some(v.clone());
            o.owner = origin("owner");
        }
        if let Some(v) = &patch.tags {
            c.tags = v.clone();
            o.tags = origin("tags");
        }
    }
}

impl From<AssetContext> for ResolvedAsset {
    /// A context from elsewhere: every field [`ContextOrigin::Given`].
    fn from(context: AssetContext) -> ResolvedAsset {
        let g = || ContextOrigin::Given;
        ResolvedAsset {
            context,
            origins: ContextOrigins {
                environment: g(),
                site: g(),
                tier: g(),
                exposure: g(),
                data_sensitivity: g(),
                owner: g(),
                tags: g(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_a_typical_internal_server() {
        let a = AssetContext::default();
        assert_eq!(a.environment, Environment::OnPrem);
        assert_eq!(a.tier.get(), 3);
        assert_eq!(a.exposure, Exposure::Internal);
        assert_eq!(a.data_sensitivity, DataSensitivity::Internal);
        assert_eq!(a.owner, None);
        // An empty JSON object is the default context.
        let parsed: AssetContext = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, a);
    }

    #[test]
    fn parses_text_values() {
        assert_eq!("tier-1".parse::<Tier>().unwrap().get(), 1);
        assert_eq!("Tier2".parse::<Tier>().unwrap().get(), 2);
        assert_eq!("4".parse::<Tier>().unwrap().get(), 4);
        for bad in ["0", "5", "tier", "", "-1", "tier--1"] {
            let e = bad.parse::<Tier>().unwrap_err().to_string();
            assert!(e.contains("1, 2, 3 or 4"), "{bad}: {e}");
        }
        assert_eq!(
            "Internet_Facing".parse::<Exposure>().unwrap(),
            Exposure::InternetFacing
        );
        assert_eq!(
            "on-prem".parse::<Environment>().unwrap(),
            Environment::OnPrem
        );
        let e = "dmz".parse::<Exposure>().unwrap_err().to_string();
        assert!(e.contains("internet-facing, internal, isolated"), "{e}");
        assert!("secret".parse::<DataSensitivity>().is_err());
    }

    #[test]
    fn json_rejects_bad_values() {
        for bad in [
            r#"{"tier":0}"#,
            r#"{"tier":5}"#,
            r#"{"exposure":"dmz"}"#,
            r#"{"unknown-field":1}"#,
        ] {
            assert!(serde_json::from_str::<AssetContext>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn criticality_reverses_tier_numbers() {
        let c: Vec<u8> = Tier::ALL.iter().map(|t| t.criticality()).collect();
        assert_eq!(c, [3, 2, 1, 0]);
    }

    #[test]
    fn labels_set_the_fields_they_name() {
        let p = AssetPatch::from_labels([
            ("patchpilot:asset:tier", "1"),
            ("patchpilot:asset:exposure", "Internet_Facing"),
            ("patchpilot:asset:environment", "cloud"),
            ("patchpilot:asset:site", " eu-west-1 "),
            ("patchpilot:asset:data_sensitivity", "restricted"),
            ("PatchPilot:Asset:Owner", "payments-team"),
            ("patchpilot:asset:tag", "pci"),
            ("patchpilot:asset:tag", "web"),
            ("patchpilot:asset:tag", "pci"),
            ("patchpilot:asset:tier", "tier-1"),
            ("syft:metadata:source", "ignored: another tool's namespace"),
            ("patchpilot:other", "ignored: not the asset namespace"),
        ])
        .unwrap();
        assert_eq!(
            p,
            AssetPatch {
                environment: Some(Environment::Cloud),
                site: Some("eu-west-1".into()),
                tier: Some(Tier::new(1).unwrap()),
                exposure: Some(Exposure::InternetFacing),
                data_sensitivity: Some(DataSensitivity::Restricted),
                owner: Some("payments-team".into()),
                tags: Some(vec!["pci".into(), "web".into()]),
            }
        );
        assert!(AssetPatch::from_labels([("a", "b")]).unwrap().is_empty());
    }

    #[test]
    fn bad_labels_are_errors_naming_the_label() {
        let cases: [(&[(&str, &str)], &str); 7] = [
            (
                &[("patchpilot:asset:tier", "0")],
                "asset label patchpilot:asset:tier = \"0\": criticality tier must be 1, 2, 3 or 4",
            ),
            (
                &[("patchpilot:asset:exposure", "dmz")],
                "invalid exposure \"dmz\"; expected one of: internet-facing, internal, isolated",
            ),
            (
                &[("patchpilot:asset:data-sensitivity", "secret")],
                "invalid data sensitivity",
            ),
            (&[("patchpilot:asset:environment", "mars")], "invalid environment"),
            (&[("patchpilot:asset:owner", "  ")], "empty value"),
            (
                &[("patchpilot:asset:teir", "1")],
                "unknown key \"teir\" in the patchpilot:asset: namespace (expected one of: tier, exposure",
            ),
            (
                &[("patchpilot:asset:tier", "1"), ("patchpilot:asset:tier", "2")],
                "given twice with different values",
            ),
        ];
        for (labels, want) in cases {
            let e = AssetPatch::from_labels(labels.iter().copied())
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{e:?} should contain {want:?}");
            assert!(!e.contains('\n'), "one line: {e:?}");
        }
        // A value with a newline stays on one line in the message.
        let e = AssetPatch::from_labels([("patchpilot:asset:tier", "1\n2")]).unwrap_err();
        assert!(!e.to_string().contains('\n'), "{e}");
    }

    #[test]
    fn layers_apply_in_order_and_remember_their_origin() {
        let policy: AssetPatch =
            toml::from_str("tier = 2\nowner = \"ops\"\ntags = [\"a\"]").unwrap();
        let labels = AssetPatch::from_labels([
            ("patchpilot:asset:tier", "1"),
            ("patchpilot:asset:tag", "b"),
        ])
        .unwrap();
        let flags = AssetPatch {
            exposure: Some(Exposure::InternetFacing),
            ..AssetPatch::default()
        };
        let mut a = ResolvedAsset::default();
        a.apply(&policy, |_| ContextOrigin::Policy {
            file: Some("p.toml".into()),
        });
        a.apply(&labels, |f| ContextOrigin::Label {
            name: format!("{LABEL_PREFIX}{f}"),
            file: "app.cdx.json".into(),
        });
        a.apply(&flags, |f| ContextOrigin::Flag {
            flag: format!("--{f}"),
        });
        assert_eq!(a.context.tier.get(), 1);
        assert_eq!(
            a.origins.tier.to_string(),
            "label patchpilot:asset:tier in app.cdx.json"
        );
        assert_eq!(a.context.owner.as_deref(), Some("ops"));
        assert_eq!(a.origins.owner.to_string(), "policy [asset] in p.toml");
        assert_eq!(a.context.tags, ["b"], "tags are replaced as a whole");
        assert_eq!(a.context.exposure, Exposure::InternetFacing);
        assert_eq!(a.origins.exposure.to_string(), "flag --exposure");
        assert_eq!(a.context.environment, Environment::OnPrem);
        assert!(a.origins.environment.is_default());

        // JSON: the context, and origins only for what something set.
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["context"]["tier"], 1);
        assert_eq!(v["origins"]["tier"]["from"], "label");
        assert_eq!(v["origins"]["tier"]["file"], "app.cdx.json");
        assert_eq!(v["origins"]["exposure"]["flag"], "--exposure");
        assert!(v["origins"].get("environment").is_none());
        let back: ResolvedAsset = serde_json::from_value(v).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn patch_toml_rejects_unknown_keys_and_bad_values() {
        for bad in ["teir = 1", "tier = 0", "exposure = \"dmz\"", "tags = \"x\""] {
            assert!(toml::from_str::<AssetPatch>(bad).is_err(), "{bad}");
        }
        assert!(toml::from_str::<AssetPatch>("").unwrap().is_empty());
    }
}
