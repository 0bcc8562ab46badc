//! [`VexIndex`]: statements keyed by vulnerability id and alias, for one lookup per finding.

use std::collections::HashMap;

use patchpilot_purl::Purl;

use crate::{time::parse_rfc3339, Statement};

/// Statements from any number of documents, indexed by id and alias (ASCII upper-cased).
#[derive(Debug, Clone, Default)]
pub struct VexIndex {
    statements: Vec<Statement>,
    /// Parsed timestamp per statement (same positions), `None` when undated.
    times: Vec<Option<i128>>,
    by_id: HashMap<String, Vec<usize>>,
}

impl VexIndex {
    /// Index statements; their order is the tie-break order (later wins).
    pub fn new(statements: impl IntoIterator<Item = Statement>) -> Self {
        let mut index = VexIndex::default();
        for s in statements {
            index.push(s);
        }
        index
    }

    /// Add one statement; it comes after every statement already indexed.
    pub fn push(&mut self, s: Statement) {
        let pos = self.statements.len();
        let mut keys: Vec<String> = std::iter::once(&s.vulnerability)
            .chain(&s.aliases)
            .map(|k| k.to_ascii_uppercase())
            .collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            self.by_id.entry(k).or_default().push(pos);
        }
        self.times
            .push(s.timestamp.as_deref().and_then(parse_rfc3339));
        self.statements.push(s);
    }

    /// All indexed statements, in order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    pub fn len(&self) -> usize {
        self.statements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The statement that decides the finding for `purl` under any of `vuln_ids`: among the
    /// statements naming one of the ids with a product matching the purl, the one with the
    /// latest timestamp (undated counts as oldest), ties to the one added last. `None` when
    /// nothing matches or `purl` does not parse.
    pub fn lookup(&self, vuln_ids: &[&str], purl: &str) -> Option<&Statement> {
        let pkg = Purl::parse(purl).ok()?;
        let mut best: Option<usize> = None;
        for id in vuln_ids {
            let Some(positions) = self.by_id.get(&id.to_ascii_uppercase()) else {
                continue;
            };
            for &pos in positions {
                let s = &self.statements[pos];
                if !s.products.iter().any(|p| p.matches(&pkg)) {
                    continue;
                }
                best = match best {
                    Some(b) if (self.times[b], b) > (self.times[pos], pos) => Some(b),
                    _ => Some(pos),
                };
            }
        }
        best.map(|b| &self.statements[b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Product, Status};

    fn st(id: &str, aliases: &[&str], purl: &str, status: Status, ts: Option<&str>) -> Statement {
        Statement {
            vulnerability: id.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            products: vec![Product {
                purl: Some(Purl::parse(purl).unwrap()),
                reference: None,
                name: None,
                version: None,
                versions: vec![],
                within: None,
            }],
            status,
            justification: Some(format!("{status:?}")),
            detail: None,
            timestamp: ts.map(str::to_string),
            author: None,
            source: "test".into(),
        }
    }

    #[test]
    fn latest_timestamp_wins_regardless_of_order() {
        let a = st(
            "CVE-1",
            &[],
            "pkg:npm/a",
            Status::NotAffected,
            Some("2024-01-02T00:00:00Z"),
        );
        let b = st(
            "CVE-1",
            &[],
            "pkg:npm/a",
            Status::Affected,
            Some("2024-01-01T00:00:00Z"),
        );
        for order in [vec![a.clone(), b.clone()], vec![b.clone(), a.clone()]] {
            let idx = VexIndex::new(order);
            assert_eq!(
                idx.lookup(&["CVE-1"], "pkg:npm/a@1").unwrap().status,
                Status::NotAffected
            );
        }
    }

    #[test]
    fn timestamps_compare_with_offsets() {
        // 2024-01-01T10:00+05:00 is 05:00Z, earlier than 06:00Z.
        let a = st(
            "CVE-1",
            &[],
            "pkg:npm/a",
            Status::Fixed,
            Some("2024-01-01T10:00:00+05:00"),
        );
        let b = st(
            "CVE-1",
            &[],
            "pkg:npm/a",
            Status::Affected,
            Some("2024-01-01T06:00:00Z"),
        );
        let idx = VexIndex::new([b, a]);
        assert_eq!(
            idx.lookup(&["CVE-1"], "pkg:npm/a@1").unwrap().status,
            Status::Affected
        );
    }

    #[test]
    fn ties_and_undated_go_to_the_later_statement() {
        let t = Some("2024-01-01T00:00:00Z");
        let idx = VexIndex::new([
            st("CVE-1", &[], "pkg:npm/a", Status::NotAffected, t),
            st("CVE-1", &[], "pkg:npm/a", Status::UnderInvestigation, t),
        ]);
        assert_eq!(
            idx.lookup(&["CVE-1"], "pkg:npm/a@1").unwrap().status,
            Status::UnderInvestigation
        );
        // Undated is older than any dated statement, even when added later.
        let idx = VexIndex::new([
            st("CVE-1", &[], "pkg:npm/a", Status::Fixed, t),
            st("CVE-1", &[], "pkg:npm/a", Status::Affected, None),
        ]);
        assert_eq!(
            idx.lookup(&["CVE-1"], "pkg:npm/a@1").unwrap().status,
            Status::Fixed
        );
        let idx = VexIndex::new([
            st("CVE-1", &[], "pkg:npm/a", Status::Fixed, None),
            st("CVE-1", &[], "pkg:npm/a", Status::Affected, None),
        ]);
        assert_eq!(
            idx.lookup(&["CVE-1"], "pkg:npm/a@1").unwrap().status,
            Status::Affected
        );
    }

    #[test]
    fn ids_aliases_and_products() {
        let idx = VexIndex::new([
            st(
                "GHSA-xxxx-yyyy-zzzz",
                &["CVE-2024-1"],
                "pkg:npm/a",
                Status::NotAffected,
                None,
            ),
            st("CVE-2024-2", &[], "pkg:npm/b@2.0.0", Status::Fixed, None),
        ]);
        assert!(idx.lookup(&["CVE-2024-1"], "pkg:npm/a@1").is_some());
        assert!(idx.lookup(&["cve-2024-1"], "pkg:npm/a@1").is_some());
        assert!(idx.lookup(&["ghsa-xxxx-yyyy-zzzz"], "pkg:npm/a").is_some());
        assert!(idx
            .lookup(&["OSV-1", "CVE-2024-1"], "pkg:npm/a@1")
            .is_some());
        assert!(idx.lookup(&["CVE-2024-1"], "pkg:npm/b@1").is_none());
        assert!(idx.lookup(&["CVE-9"], "pkg:npm/a@1").is_none());
        assert!(idx.lookup(&[], "pkg:npm/a@1").is_none());
        assert!(idx.lookup(&["CVE-2024-2"], "pkg:npm/b@2.0.0").is_some());
        assert!(idx.lookup(&["CVE-2024-2"], "pkg:npm/b@2.0.1").is_none());
        assert!(idx.lookup(&["CVE-2024-1"], "not a purl").is_none());
        assert_eq!(idx.len(), 2);
    }

    #[test]
    fn one_statement_listed_under_id_and_alias_is_found_once() {
        let idx = VexIndex::new([st(
            "CVE-1",
            &["CVE-1", "cve-1"],
            "pkg:npm/a",
            Status::Fixed,
            None,
        )]);
        assert_eq!(idx.by_id.len(), 1);
        assert_eq!(idx.by_id["CVE-1"], vec![0]);
        assert!(idx.lookup(&["CVE-1", "cve-1"], "pkg:npm/a").is_some());
    }
}
