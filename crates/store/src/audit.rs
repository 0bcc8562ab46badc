//! The append-only audit log's hash chain, as pure functions so both backends and
//! `patchpilot audit verify` share one definition.
//!
//! Record `n` stores `prev_hash` = the hash of record `n-1` (64 zeros for the first) and
//! `hash` = SHA-256 over its own fields and `prev_hash`, each length-prefixed so no two
//! different records hash the same bytes. `before`/`after` are JSON *text*, stored
//! verbatim (TEXT, not `jsonb`, which would reorder keys and break the hash).
//!
//! [`verify`] finds an edited record (its hash no longer matches), a deleted one (a gap
//! in `seq` or a broken link) and reordered ones (a broken link). A chain cut short at
//! the end, or rewritten from some record on with every hash recomputed, still links: it
//! is only visible against a head recorded apart from the chain, an [`Anchor`]. The
//! database's own `audit_head` row is one (it stops a naive cut); a head written outside
//! the database (the server's anchor log) stops one that rewinds that row as well. The
//! hash of record `n` commits to every record before it, so one anchor checks the
//! whole chain up to its `seq`.

use crate::{Actor, Ts};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit record: who did what, when, with the state before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Record {
    /// 1, 2, 3, ... without gaps.
    pub seq: i64,
    pub at: Ts,
    pub actor: Actor,
    /// `asset.create`, `inventory.apply`, `token.revoke`, ...
    pub action: String,
    /// What it acted on: `asset:12`, `token:3`, `job:7`.
    pub target: String,
    /// JSON text of the state before (absent for creations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// JSON text of the state after (absent for deletions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// What a backend appends; it fills `seq`, `prev_hash` and `hash` with [`seal`] inside
/// the same transaction as the change, holding the chain's head row lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at: Ts,
    pub actor: Actor,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Entry {
    /// An entry whose before/after are serialized from values (`None` stays absent).
    pub fn new<B: Serialize, A: Serialize>(
        at: Ts,
        actor: &Actor,
        action: &str,
        target: impl Into<String>,
        before: Option<&B>,
        after: Option<&A>,
    ) -> Entry {
        let text = |v: &dyn erased::Json| v.json();
        Entry {
            at,
            actor: actor.clone(),
            action: action.to_string(),
            target: target.into(),
            before: before.map(|b| text(b)),
            after: after.map(|a| text(a)),
        }
    }
}

mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self)
                .unwrap_or_else(|e| format!("{{\"unserializable\":{:?}}}", e.to_string()))
        }
    }
}

/// The hash of a record with these contents.
pub fn record_hash(seq: i64, e: &Entry, prev_hash: &str) -> String {
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    field(b"patchpilot-audit-v1");
    field(&seq.to_le_bytes());
    field(&e.at.0.to_le_bytes());
    field(e.actor.principal.as_bytes());
    field(e.actor.role.as_str().as_bytes());
    field(e.action.as_bytes());
    field(e.target.as_bytes());
    for v in [&e.before, &e.after] {
        match v {
            None => field(b"\x00absent"),
            Some(s) => field(s.as_bytes()),
        }
    }
    field(prev_hash.as_bytes());
    hex::encode(h.finalize())
}

/// Seal `entry` as record `seq` after a head with hash `prev_hash`.
pub fn seal(seq: i64, prev_hash: &str, entry: Entry) -> Record {
    let hash = record_hash(seq, &entry, prev_hash);
    Record {
        seq,
        at: entry.at,
        actor: entry.actor,
        action: entry.action,
        target: entry.target,
        before: entry.before,
        after: entry.after,
        prev_hash: prev_hash.to_string(),
        hash,
    }
}

/// A break in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub seq: i64,
    pub reason: String,
}

/// A head recorded apart from the chain: the chain must hold record `seq`, with `hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
    /// Where it was recorded, for messages: "the database's audit_head row",
    /// "/var/lib/patchpilot/audit-head.log line 12 (2026-03-01T10:00:00Z)".
    pub source: String,
}

/// The result of checking a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub records: u64,
    /// `(seq, hash)` of the last record, to anchor elsewhere.
    pub head: Option<(i64, String)>,
    pub problems: Vec<Problem>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Incremental verifier: feed records in the order the store returns them (by `seq`).
#[derive(Debug, Default)]
pub struct Verifier {
    expect_seq: i64,
    prev_hash: Option<String>,
    out: Option<Verification>,
    /// Anchors by `seq`, checked as the chain passes them.
    anchors: std::collections::BTreeMap<i64, Vec<Anchor>>,
}

impl Verifier {
    pub fn new() -> Verifier {
        Verifier {
            expect_seq: 1,
            prev_hash: Some(GENESIS.to_string()),
            out: Some(Verification {
                records: 0,
                head: None,
                problems: Vec::new(),
            }),
            anchors: Default::default(),
        }
    }

    /// Check the chain against a head recorded apart from it: record `seq` must be there,
    /// with `hash`. Add anchors before pushing records. Anchors at `seq` 0 (an empty
    /// log) hold for any chain.
    pub fn anchor(&mut self, a: Anchor) {
        if a.seq > 0 {
            let at = self.anchors.entry(a.seq).or_default();
            if !at.contains(&a) {
                at.push(a);
            }
        }
    }

    pub fn push(&mut self, r: &Record) {
        let out = self.out.get_or_insert_with(|| Verification {
            records: 0,
            head: None,
            problems: Vec::new(),
        });
        out.records += 1;
        if r.seq != self.expect_seq {
            let reason = if r.seq > self.expect_seq {
                format!(
                    "records {}..{} are missing (deleted)",
                    self.expect_seq,
                    r.seq - 1
                )
            } else {
                format!(
                    "out of order: expected {} after {}",
                    self.expect_seq,
                    self.expect_seq - 1
                )
            };
            out.problems.push(Problem { seq: r.seq, reason });
        }
        let entry = Entry {
            at: r.at,
            actor: r.actor.clone(),
            action: r.action.clone(),
            target: r.target.clone(),
            before: r.before.clone(),
            after: r.after.clone(),
        };
        if record_hash(r.seq, &entry, &r.prev_hash) != r.hash {
            out.problems.push(Problem {
                seq: r.seq,
                reason: "contents do not match its hash (edited)".into(),
            });
        }
        if let Some(prev) = &self.prev_hash {
            if *prev != r.prev_hash {
                out.problems.push(Problem {
                    seq: r.seq,
                    reason: "does not link to the previous record (deleted, inserted or reordered)"
                        .into(),
                });
            }
        }
        if let Some(anchors) = self.anchors.remove(&r.seq) {
            for a in anchors.iter().filter(|a| a.hash != r.hash) {
                out.problems.push(Problem {
                    seq: r.seq,
                    reason: format!(
                        "differs from the head recorded in {} (the chain was rewritten \
                         up to here)",
                        a.source
                    ),
                });
            }
        }
        self.prev_hash = Some(r.hash.clone());
        self.expect_seq = r.seq + 1;
        out.head = Some((r.seq, r.hash.clone()));
    }

    /// Finish; if `expected_head` (recorded elsewhere) is given, a chain that no longer
    /// reaches it (records cut off the end, or a rewritten tail) is a problem. Anchors
    /// ([`Verifier::anchor`]) beyond the chain's end are records cut off the end.
    pub fn finish(mut self, expected_head: Option<(i64, &str)>) -> Verification {
        let mut out = self.out.take().unwrap_or(Verification {
            records: 0,
            head: None,
            problems: Vec::new(),
        });
        let end = out.head.as_ref().map_or(0, |h| h.0);
        // The furthest anchor past the end names the cut; those at or below the end that
        // the chain did not pass are records missing inside it, reported already.
        if let Some((&seq, anchors)) = self.anchors.range(end + 1..).next_back() {
            let sources: Vec<&str> = anchors.iter().map(|a| a.source.as_str()).collect();
            out.problems.push(Problem {
                seq: end + 1,
                reason: format!(
                    "records {}..{seq} were cut off the end (the head recorded in {} is \
                     record {seq})",
                    end + 1,
                    sources.join(" and ")
                ),
            });
        }
        if let Some((seq, hash)) = expected_head {
            match &out.head {
                Some((s, _)) if *s < seq => out.problems.push(Problem {
                    seq: s + 1,
                    reason: format!("records {}..{seq} are missing at the end", s + 1),
                }),
                None if seq > 0 => out.problems.push(Problem {
                    seq: 1,
                    reason: format!("the log is empty but record {seq} was anchored"),
                }),
                _ => {}
            }
            // The anchored record must still carry the anchored hash; the caller passes
            // records through push, so compare when we are at that seq.
            if out
                .head
                .as_ref()
                .is_some_and(|(s, h)| *s == seq && h != hash)
            {
                out.problems.push(Problem {
                    seq,
                    reason: "the anchored head hash differs (the tail was rewritten)".into(),
                });
            }
        }
        out
    }
}

/// Verify a whole chain in memory against heads recorded apart from it.
pub fn verify_anchored(records: &[Record], anchors: &[Anchor]) -> Verification {
    let mut v = Verifier::new();
    for a in anchors {
        v.anchor(a.clone());
    }
    for r in records {
        v.push(r);
    }
    v.finish(None)
}

/// Verify a whole chain in memory.
pub fn verify(records: &[Record], expected_head: Option<(i64, &str)>) -> Verification {
    let mut v = Verifier::new();
    for r in records {
        v.push(r);
    }
    v.finish(expected_head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    fn chain(n: i64) -> Vec<Record> {
        let actor = Actor {
            principal: "token:1".into(),
            role: Role::Admin,
        };
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let e = Entry::new(
                    Ts(seq * 1000),
                    &actor,
                    "asset.update",
                    format!("asset:{seq}"),
                    Some(&serde_json::json!({"tier": 3})),
                    Some(&serde_json::json!({"tier": 1})),
                );
                let r = seal(seq, &prev, e);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        let v = verify(&c, Some((5, &c[4].hash)));
        assert!(v.ok(), "{:?}", v.problems);
        assert_eq!(v.records, 5);
        assert_eq!(v.head, Some((5, c[4].hash.clone())));
    }

    #[test]
    fn edited_record_is_found() {
        let mut c = chain(5);
        c[2].after = Some(r#"{"tier":4}"#.into());
        let v = verify(&c, None);
        assert_eq!(v.problems.len(), 1);
        assert_eq!(v.problems[0].seq, 3);
        assert!(v.problems[0].reason.contains("edited"));
    }

    #[test]
    fn edited_and_rehashed_record_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].actor.principal = "token:9".into();
        let e = Entry {
            at: c[2].at,
            actor: c[2].actor.clone(),
            action: c[2].action.clone(),
            target: c[2].target.clone(),
            before: c[2].before.clone(),
            after: c[2].after.clone(),
        };
        c[2].hash = record_hash(3, &e, &c[2].prev_hash);
        let v = verify(&c, None);
        assert_eq!(
            v.problems.iter().map(|p| p.seq).collect::<Vec<_>>(),
            vec![4]
        );
    }

    #[test]
    fn deleted_record_is_found() {
        let mut c = chain(5);
        c.remove(1);
        let v = verify(&c, None);
        assert!(v
            .problems
            .iter()
            .any(|p| p.seq == 3 && p.reason.contains("missing")));
    }

    #[test]
    fn reordered_records_are_found() {
        let mut c = chain(5);
        c.swap(1, 2);
        let v = verify(&c, None);
        assert!(!v.ok());
        assert!(v.problems.iter().any(|p| p.reason.contains("link")));
    }

    #[test]
    fn truncated_tail_needs_the_anchor() {
        let c = chain(5);
        let anchor = (5, c[4].hash.as_str());
        assert!(verify(&c[..3], None).ok());
        let v = verify(&c[..3], Some(anchor));
        assert!(v
            .problems
            .iter()
            .any(|p| p.reason.contains("missing at the end")));
    }

    fn anchor(seq: i64, hash: &str) -> Anchor {
        Anchor {
            seq,
            hash: hash.to_string(),
            source: "the test".into(),
        }
    }

    #[test]
    fn anchors_inside_and_at_the_end_of_an_intact_chain_hold() {
        let c = chain(5);
        let anchors = [
            anchor(0, GENESIS),
            anchor(2, &c[1].hash),
            anchor(5, &c[4].hash),
        ];
        let v = verify_anchored(&c, &anchors);
        assert!(v.ok(), "{:?}", v.problems);
    }

    #[test]
    fn tail_cut_off_is_found_against_an_anchor() {
        let c = chain(5);
        let v = verify_anchored(&c[..3], &[anchor(5, &c[4].hash)]);
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert_eq!(v.problems[0].seq, 4);
        assert!(
            v.problems[0]
                .reason
                .contains("records 4..5 were cut off the end"),
            "{}",
            v.problems[0].reason
        );
        let v = verify_anchored(&[], &[anchor(5, &c[4].hash)]);
        assert!(v.problems[0].reason.contains("records 1..5"), "{v:?}");
    }

    /// A smarter cut: records removed and new ones appended after them, every hash
    /// recomputed, so the chain links and is as long as before.
    #[test]
    fn rewritten_tail_is_found_against_an_earlier_anchor() {
        let c = chain(5);
        let mut forged = c[..2].to_vec();
        let actor = Actor::system();
        for seq in 3..=6 {
            let prev = forged.last().unwrap().hash.clone();
            let e = Entry::new::<(), ()>(Ts(seq), &actor, "noop", "x", None, None);
            forged.push(seal(seq, &prev, e));
        }
        assert!(verify(&forged, None).ok());
        let v = verify_anchored(&forged, &[anchor(4, &c[3].hash)]);
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert_eq!(v.problems[0].seq, 4);
        assert!(v.problems[0].reason.contains("rewritten"));
    }

    #[test]
    fn absent_and_empty_json_differ() {
        let actor = Actor::system();
        let a = Entry::new::<(), ()>(Ts(1), &actor, "x", "y", None, None);
        let mut b = a.clone();
        b.before = Some(String::new());
        assert_ne!(record_hash(1, &a, GENESIS), record_hash(1, &b, GENESIS));
    }
}
