//! Raw serde structs → validated [`Advisory`].
//!
//! Strict where the OSV schema is strict and feeds follow it (ids, timestamps, package,
//! range types, one-key events, an `introduced` per range, `repo` on GIT ranges);
//! lenient where real feeds deviate or the schema grows (unknown severity types, unknown
//! reference types, unparsable CVSS vectors, ranges mixing `fixed` and `last_affected`,
//! unknown RustSec informational words, extra fields).

use serde_json::Value;

use crate::raw::{RawAdvisory, RawAffected, RawRange, RawSeverity, Text};
use crate::time::Timestamp;
use crate::{
    severity, Advisory, AdvisoryKind, Affected, Ecosystem, Event, OsvError, Range, RangeType,
    Reference, Severity, SeverityType,
};

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> OsvError {
    OsvError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

pub(crate) fn convert(raw: RawAdvisory) -> Result<Advisory, OsvError> {
    let id = raw.id.ok_or(OsvError::Missing("id"))?;
    check_identifier("id", &id)?;
    let modified = raw.modified.ok_or(OsvError::Missing("modified"))?;
    check_time("modified", &modified)?;
    if let Some(p) = &raw.published {
        check_time("published", p)?;
    }
    if let Some(w) = &raw.withdrawn {
        check_time("withdrawn", w)?;
    }
    let aliases = raw.aliases.unwrap_or_default();
    for (i, a) in aliases.iter().enumerate() {
        check_identifier(&format!("aliases[{i}]"), a)?;
    }
    let related = raw.related.unwrap_or_default();
    for (i, r) in related.iter().enumerate() {
        check_identifier(&format!("related[{i}]"), r)?;
    }
    let severity = severities("severity", raw.severity)?;

    let mut kind = informational(raw.database_specific.as_ref());
    let mut affected = Vec::new();
    for (i, a) in raw.affected.unwrap_or_default().into_iter().enumerate() {
        if kind.is_none() {
            kind = informational(a.database_specific.as_ref());
        }
        affected.push(convert_affected(&format!("affected[{i}]"), a)?);
    }

    let mut references = Vec::new();
    for (i, r) in raw.references.unwrap_or_default().into_iter().enumerate() {
        let field = format!("references[{i}]");
        let ty = r.ty.filter(|t| !t.is_empty());
        let url = r.url.filter(|u| !u.is_empty());
        match (ty, url) {
            (Some(ty), Some(url)) => references.push(Reference { ty, url }),
            (None, _) => return Err(invalid(field, "missing `type`")),
            (_, None) => return Err(invalid(field, "missing `url`")),
        }
    }

    Ok(Advisory {
        id,
        modified,
        published: raw.published,
        withdrawn: raw.withdrawn,
        aliases,
        related,
        summary: raw.summary,
        details: raw.details,
        severity,
        affected,
        references,
        kind: kind.unwrap_or(AdvisoryKind::Vulnerability),
        database_specific: json_text(raw.database_specific),
    })
}

fn check_identifier(field: &str, s: &str) -> Result<(), OsvError> {
    if s.trim().is_empty() {
        return Err(invalid(field, "is empty"));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(field, format!("{s:?} contains whitespace")));
    }
    Ok(())
}

fn check_time(field: &str, s: &str) -> Result<(), OsvError> {
    Timestamp::parse(s)
        .map(drop)
        .map_err(|e| invalid(field, format!("{s:?} is not an RFC 3339 timestamp: {e}")))
}

/// `null` and `{}` carry nothing and are dropped; anything else is kept as compact JSON.
fn json_text(v: Option<Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) if m.is_empty() => None,
        Some(v) => Some(v.to_string()),
    }
}

/// RustSec marks informational advisories with `database_specific.informational`.
/// An unknown word is still informational, never a vulnerability: it becomes `Notice`.
fn informational(ds: Option<&Value>) -> Option<AdvisoryKind> {
    match ds?.get("informational")? {
        Value::String(s) => Some(match s.to_ascii_lowercase().as_str() {
            "unmaintained" => AdvisoryKind::Unmaintained,
            "unsound" => AdvisoryKind::Unsound,
            _ => AdvisoryKind::Notice,
        }),
        _ => None,
    }
}

fn severities(field: &str, raw: Option<Vec<RawSeverity>>) -> Result<Vec<Severity>, OsvError> {
    let mut out = Vec::new();
    for (i, s) in raw.unwrap_or_default().into_iter().enumerate() {
        let field = format!("{field}[{i}]");
        let ty = s.ty.ok_or_else(|| invalid(&field, "missing `type`"))?;
        let Text(text) = s.score.ok_or_else(|| invalid(&field, "missing `score`"))?;
        let ty = match ty.as_str() {
            "CVSS_V2" => SeverityType::CvssV2,
            "CVSS_V3" => SeverityType::CvssV3,
            "CVSS_V4" => SeverityType::CvssV4,
            "Ubuntu" => SeverityType::Ubuntu,
            _ => SeverityType::Other,
        };
        out.push(severity::score(ty, text));
    }
    Ok(out)
}

fn convert_affected(field: &str, a: RawAffected) -> Result<Affected, OsvError> {
    let pkg = a
        .package
        .ok_or_else(|| invalid(field, "missing `package`"))?;
    let eco_text = pkg
        .ecosystem
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| invalid(format!("{field}.package"), "missing `ecosystem`"))?;
    let name = pkg
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| invalid(format!("{field}.package"), "missing `name`"))?;
    let (ecosystem, release) = Ecosystem::parse_osv(&eco_text);
    let purl = pkg.purl.filter(|p| !p.is_empty());
    if let Some(p) = &purl {
        if !p.starts_with("pkg:") {
            return Err(invalid(
                format!("{field}.package.purl"),
                format!("{p:?} is not a package URL (no `pkg:` scheme)"),
            ));
        }
    }

    let mut ranges = Vec::new();
    for (i, r) in a.ranges.unwrap_or_default().into_iter().enumerate() {
        ranges.push(convert_range(&format!("{field}.ranges[{i}]"), r)?);
    }
    let mut versions = Vec::new();
    for (i, Text(v)) in a.versions.unwrap_or_default().into_iter().enumerate() {
        if v.is_empty() {
            return Err(invalid(format!("{field}.versions[{i}]"), "is empty"));
        }
        versions.push(v);
    }
    Ok(Affected {
        ecosystem,
        release,
        name,
        purl,
        ranges,
        versions,
        severity: severities(&format!("{field}.severity"), a.severity)?,
        ecosystem_specific: json_text(a.ecosystem_specific),
        database_specific: json_text(a.database_specific),
    })
}

fn convert_range(field: &str, r: RawRange) -> Result<Range, OsvError> {
    let ty_text = r.ty.ok_or_else(|| invalid(field, "missing `type`"))?;
    let ty = match ty_text.as_str() {
        "ECOSYSTEM" => RangeType::Ecosystem,
        "SEMVER" => RangeType::Semver,
        "GIT" => RangeType::Git,
        other => {
            return Err(invalid(
                field,
                format!("unknown range type {other:?} (expected ECOSYSTEM, SEMVER or GIT)"),
            ))
        }
    };
    let repo = r.repo.filter(|s| !s.is_empty());
    if ty == RangeType::Git && repo.is_none() {
        return Err(invalid(field, "a GIT range needs `repo`"));
    }
    let raw_events = r.events.unwrap_or_default();
    if raw_events.is_empty() {
        return Err(invalid(field, "has no events"));
    }
    let mut events = Vec::with_capacity(raw_events.len());
    for (i, e) in raw_events.into_iter().enumerate() {
        let efield = format!("{field}.events[{i}]");
        if e.len() != 1 {
            let keys: Vec<&str> = e.keys().map(String::as_str).collect();
            return Err(invalid(
                efield,
                format!("an event must have exactly one key, found {keys:?}"),
            ));
        }
        let Some((key, value)) = e.into_iter().next() else {
            return Err(invalid(efield, "empty event"));
        };
        let Some(Text(v)) = value else {
            return Err(invalid(efield, format!("`{key}` is null")));
        };
        if v.is_empty() {
            return Err(invalid(efield, format!("`{key}` is empty")));
        }
        events.push(match key.as_str() {
            "introduced" => Event::Introduced(v),
            "fixed" => Event::Fixed(v),
            "last_affected" => Event::LastAffected(v),
            "limit" => Event::Limit(v),
            other => {
                return Err(invalid(
                    efield,
                    format!(
                    "unknown event {other:?} (expected introduced, fixed, last_affected or limit)"
                ),
                ))
            }
        });
    }
    if !events.iter().any(|e| matches!(e, Event::Introduced(_))) {
        return Err(invalid(field, "has no `introduced` event"));
    }
    Ok(Range { ty, repo, events })
}
