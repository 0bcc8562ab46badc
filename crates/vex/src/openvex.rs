//! OpenVEX JSON: 0.2 (`vulnerability.name`, `products[].@id`), plus the 0.0.x shapes
//! (`vulnerability` as a string, products and statement-level `subcomponents` as strings).
//!
//! Checked as the spec says: a justification is one of the five labels, and `not_affected`
//! needs a justification or an `impact_statement`.

use serde::Deserialize;

use crate::{
    check_justification, check_time, parse_purl, Product, Statement, Status, VexError,
    OPENVEX_JUSTIFICATIONS,
};

#[derive(Deserialize)]
struct Document {
    timestamp: Option<String>,
    author: Option<String>,
    statements: Option<Vec<RawStatement>>,
}

#[derive(Deserialize)]
struct RawStatement {
    vulnerability: Option<Vuln>,
    #[serde(default)]
    products: Vec<RawProduct>,
    /// 0.0.x: subcomponents at statement level, applying to every product.
    #[serde(default)]
    subcomponents: Vec<RawProduct>,
    status: Option<String>,
    justification: Option<String>,
    impact_statement: Option<String>,
    action_statement: Option<String>,
    timestamp: Option<String>,
    last_updated: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Vuln {
    Id(String),
    Object {
        name: Option<String>,
        #[serde(rename = "@id")]
        id: Option<String>,
        #[serde(default)]
        aliases: Vec<String>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawProduct {
    Id(String),
    Object {
        #[serde(rename = "@id")]
        id: Option<String>,
        identifiers: Option<Identifiers>,
        #[serde(default)]
        subcomponents: Vec<RawProduct>,
    },
}

#[derive(Deserialize)]
struct Identifiers {
    purl: Option<String>,
}

pub(crate) fn from_value(
    value: serde_json::Value,
    source: &str,
) -> Result<Vec<Statement>, VexError> {
    let doc: Document = serde_json::from_value(value).map_err(|e| VexError::json(source, &e))?;
    let statements = doc
        .statements
        .ok_or_else(|| VexError::invalid(source, "OpenVEX document has no statements array"))?;
    let doc_time = check_time(doc.timestamp, source, "timestamp")?;
    let mut out = Vec::with_capacity(statements.len());
    for (i, s) in statements.into_iter().enumerate() {
        let at = format!("statements[{i}]");
        let (vulnerability, aliases) = match s.vulnerability {
            Some(Vuln::Id(id)) => (id, Vec::new()),
            Some(Vuln::Object { name, id, aliases }) => match name.or(id) {
                Some(n) => (n, aliases),
                None => {
                    return Err(VexError::invalid(
                        source,
                        format!("{at}: vulnerability has neither name nor @id"),
                    ))
                }
            },
            None => return Err(VexError::invalid(source, format!("{at}: no vulnerability"))),
        };
        if vulnerability.trim().is_empty() {
            return Err(VexError::invalid(
                source,
                format!("{at}: empty vulnerability id"),
            ));
        }
        let st = s.status.as_deref().ok_or_else(|| {
            VexError::invalid(source, format!("{at} ({vulnerability}): no status"))
        })?;
        let status = Status::from_openvex(st).ok_or_else(|| {
            VexError::invalid(
                source,
                format!("{at} ({vulnerability}): unknown status {st:?}"),
            )
        })?;
        let at_id = format!("{at} ({vulnerability})");
        check_not_affected(
            status,
            s.justification.as_deref(),
            s.impact_statement.as_deref(),
            source,
            &at_id,
        )?;
        let mut products = Vec::new();
        for (j, p) in s.products.iter().enumerate() {
            let pat = format!("{at}.products[{j}]");
            let (id, mut subs) = match p {
                RawProduct::Id(id) => (Some(id.clone()), Vec::new()),
                RawProduct::Object {
                    id, subcomponents, ..
                } => (
                    id.clone().or_else(|| identifier_purl(p)),
                    subcomponents.iter().collect(),
                ),
            };
            subs.extend(s.subcomponents.iter());
            if subs.is_empty() {
                products.push(product(p, None, source, &pat)?);
            } else {
                for sub in subs {
                    products.push(product(sub, id.clone(), source, &pat)?);
                }
            }
        }
        if products.is_empty() {
            return Err(VexError::invalid(
                source,
                format!("{at} ({vulnerability}): no products"),
            ));
        }
        let timestamp = check_time(
            s.last_updated.or(s.timestamp),
            source,
            &format!("{at}: timestamp"),
        )?
        .or_else(|| doc_time.clone());
        out.push(Statement {
            vulnerability,
            aliases,
            products,
            status,
            justification: s.justification,
            detail: s.impact_statement.or(s.action_statement),
            timestamp,
            author: doc.author.clone().filter(|a| !a.trim().is_empty()),
            source: source.to_string(),
        });
    }
    Ok(out)
}

/// OpenVEX's rules for a statement's reason: a justification is one of the five labels;
/// `not_affected` needs a justification or an impact statement (shared with inline
/// statements).
pub(crate) fn check_not_affected(
    status: Status,
    justification: Option<&str>,
    impact: Option<&str>,
    source: &str,
    at: &str,
) -> Result<(), VexError> {
    check_justification(justification, &OPENVEX_JUSTIFICATIONS, source, at)?;
    let has = |s: Option<&str>| s.is_some_and(|s| !s.trim().is_empty());
    if status == Status::NotAffected && !has(justification) && !has(impact) {
        return Err(VexError::invalid(
            source,
            format!("{at}: not_affected needs a justification or an impact statement"),
        ));
    }
    Ok(())
}

fn identifier_purl(p: &RawProduct) -> Option<String> {
    match p {
        RawProduct::Object {
            identifiers: Some(Identifiers { purl: Some(u) }),
            ..
        } => Some(u.clone()),
        _ => None,
    }
}

fn product(
    p: &RawProduct,
    within: Option<String>,
    source: &str,
    at: &str,
) -> Result<Product, VexError> {
    let id = match p {
        RawProduct::Id(id) => Some(id.clone()),
        RawProduct::Object { id, .. } => id.clone(),
    };
    let purl_str = match (&id, identifier_purl(p)) {
        (Some(i), _) if i.starts_with("pkg:") => Some(i.clone()),
        (_, from_identifiers) => from_identifiers,
    };
    if id.is_none() && purl_str.is_none() {
        return Err(VexError::invalid(
            source,
            format!("{at}: product with neither @id nor identifiers.purl"),
        ));
    }
    let purl = purl_str
        .map(|s| parse_purl(&s, source, &format!("{at}: purl")))
        .transpose()?;
    let reference = id.filter(|i| !i.starts_with("pkg:"));
    Ok(Product {
        purl,
        reference,
        name: None,
        version: None,
        versions: Vec::new(),
        within,
    })
}
