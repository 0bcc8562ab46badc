//! VEX statements written inline in a policy file: OpenVEX's vocabulary, as TOML.
//!
//! ```toml
//! [[vex]]
//! vulnerability = "CVE-2023-1234"          # or a GHSA/OSV id
//! aliases = ["GHSA-xxxx-yyyy-zzzz"]         # optional
//! products = ["pkg:cargo/foo@1.2.3"]        # purls; without a version: every version
//! status = "not_affected"                   # not_affected, affected, fixed, under_investigation
//! justification = "vulnerable_code_not_in_execute_path"
//! impact-statement = "..."                  # or `impact`
//! action-statement = "..."                  # or `action`
//! author = "security@example.com"
//! timestamp = "2026-01-01"                  # RFC 3339, or a date
//! ```
//!
//! Every field is optional at the TOML level so that a missing one is reported by
//! [`InlineStatement::to_statement`] with the statement's position, not by the TOML
//! parser; the rules are OpenVEX's, the same as for an OpenVEX document.

use serde::{Deserialize, Serialize};

use crate::openvex::check_not_affected;
use crate::{check_time, parse_purl, Product, Statement, Status, VexError};

/// One `[[vex]]` table of a policy file, as written. Turn it into a [`Statement`] with
/// [`InlineStatement::to_statement`], which checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct InlineStatement {
    /// The vulnerability id (CVE-…, GHSA-…, RUSTSEC-…, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    /// Other ids for the same vulnerability; a finding matches on any of them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Package URLs. A purl without a version covers every version of the package.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<String>,
    /// `not_affected`, `affected`, `fixed` or `under_investigation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// One of [`crate::OPENVEX_JUSTIFICATIONS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    #[serde(alias = "impact", skip_serializing_if = "Option::is_none")]
    pub impact_statement: Option<String>,
    #[serde(alias = "action", skip_serializing_if = "Option::is_none")]
    pub action_statement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD` (a quoted string). Undated statements lose to dated ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl InlineStatement {
    /// Check the statement and turn it into a [`Statement`] whose `source` is `source`.
    /// Errors are [`VexError::Invalid`] with `source` as the document and a reason that
    /// starts with the vulnerability id when there is one.
    pub fn to_statement(&self, source: &str) -> Result<Statement, VexError> {
        let vulnerability = self
            .vulnerability
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| VexError::invalid(source, "no vulnerability id"))?
            .to_string();
        let at = vulnerability.as_str();
        if self.aliases.iter().any(|a| a.trim().is_empty()) {
            return Err(VexError::invalid(source, format!("{at}: empty alias")));
        }
        let status_text = self
            .status
            .as_deref()
            .ok_or_else(|| VexError::invalid(source, format!("{at}: no status")))?;
        let status = Status::from_openvex(status_text).ok_or_else(|| {
            VexError::invalid(
                source,
                format!(
                    "{at}: unknown status {status_text:?} (expected one of: not_affected, affected, fixed, under_investigation)"
                ),
            )
        })?;
        check_not_affected(
            status,
            self.justification.as_deref(),
            self.impact_statement.as_deref(),
            source,
            at,
        )?;
        if self.products.is_empty() {
            return Err(VexError::invalid(
                source,
                format!("{at}: no products (give package URLs, e.g. products = [\"pkg:cargo/foo@1.2.3\"])"),
            ));
        }
        let products = self
            .products
            .iter()
            .enumerate()
            .map(|(j, p)| {
                Ok(Product {
                    purl: Some(parse_purl(
                        p.trim(),
                        source,
                        &format!("{at}: products[{j}]"),
                    )?),
                    reference: None,
                    name: None,
                    version: None,
                    versions: Vec::new(),
                    within: None,
                })
            })
            .collect::<Result<Vec<_>, VexError>>()?;
        let timestamp = check_time(self.timestamp.clone(), source, &format!("{at}: timestamp"))?;
        Ok(Statement {
            vulnerability: vulnerability.clone(),
            aliases: self.aliases.iter().map(|a| a.trim().to_string()).collect(),
            products,
            status,
            justification: self.justification.clone(),
            detail: self
                .impact_statement
                .clone()
                .or_else(|| self.action_statement.clone()),
            timestamp,
            author: self.author.clone().filter(|a| !a.trim().is_empty()),
            source: source.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> InlineStatement {
        InlineStatement {
            vulnerability: Some("CVE-2023-1234".into()),
            products: vec!["pkg:cargo/foo@1.2.3".into()],
            status: Some("not_affected".into()),
            justification: Some("vulnerable_code_not_in_execute_path".into()),
            ..InlineStatement::default()
        }
    }

    #[test]
    fn valid_statements_become_statements() {
        let s = base().to_statement("policy.toml vex[0]").unwrap();
        assert_eq!(s.status, Status::NotAffected);
        assert_eq!(s.source, "policy.toml vex[0]");
        assert_eq!(
            s.justification.as_deref(),
            Some("vulnerable_code_not_in_execute_path")
        );
        let pkg = patchpilot_purl::Purl::parse("pkg:cargo/foo@1.2.3").unwrap();
        assert!(s.products[0].matches(&pkg));

        // An impact statement alone is enough for not_affected; a date is a timestamp.
        let s = InlineStatement {
            justification: None,
            impact_statement: Some("never called".into()),
            timestamp: Some("2026-01-01".into()),
            author: Some("sec-team".into()),
            products: vec!["pkg:cargo/foo".into()],
            ..base()
        }
        .to_statement("p")
        .unwrap();
        assert_eq!(s.detail.as_deref(), Some("never called"));
        assert_eq!(s.author.as_deref(), Some("sec-team"));
        let any_version = patchpilot_purl::Purl::parse("pkg:cargo/foo@9.9.9").unwrap();
        assert!(s.products[0].matches(&any_version), "version-less purl");

        for status in ["fixed", "affected", "under_investigation"] {
            let s = InlineStatement {
                status: Some(status.into()),
                justification: None,
                ..base()
            };
            assert_eq!(s.to_statement("p").unwrap().status.as_str(), status);
        }
    }

    #[test]
    fn bad_statements_say_why() {
        let cases: Vec<(InlineStatement, &str)> = vec![
            (
                InlineStatement {
                    vulnerability: None,
                    ..base()
                },
                "no vulnerability id",
            ),
            (
                InlineStatement {
                    vulnerability: Some("  ".into()),
                    ..base()
                },
                "no vulnerability id",
            ),
            (
                InlineStatement {
                    status: None,
                    ..base()
                },
                "CVE-2023-1234: no status",
            ),
            (
                InlineStatement {
                    status: Some("not-affected".into()),
                    ..base()
                },
                "unknown status \"not-affected\"",
            ),
            (
                InlineStatement {
                    justification: None,
                    ..base()
                },
                "not_affected needs a justification or an impact statement",
            ),
            (
                InlineStatement {
                    justification: Some("code_not_reachable".into()),
                    ..base()
                },
                "unknown justification \"code_not_reachable\"",
            ),
            (
                InlineStatement {
                    products: vec![],
                    ..base()
                },
                "no products",
            ),
            (
                InlineStatement {
                    products: vec!["foo@1.2.3".into()],
                    ..base()
                },
                "products[0]",
            ),
            (
                InlineStatement {
                    timestamp: Some("last tuesday".into()),
                    ..base()
                },
                "not an RFC 3339 timestamp",
            ),
            (
                InlineStatement {
                    aliases: vec!["".into()],
                    ..base()
                },
                "empty alias",
            ),
        ];
        for (s, want) in cases {
            let e = s.to_statement("vex[3]").unwrap_err().to_string();
            assert!(e.starts_with("vex[3]: "), "{e}");
            assert!(e.contains(want), "{e:?} should contain {want:?}");
        }
    }
}
