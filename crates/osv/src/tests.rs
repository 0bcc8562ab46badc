//! Unit tests for parsing and validation (the real feeds are in `tests/it`).

use serde_json::{json, Value};

use super::*;

fn minimal() -> Value {
    json!({
        "id": "TEST-2024-0001",
        "modified": "2024-01-02T03:04:05Z",
        "affected": [{
            "package": {"ecosystem": "crates.io", "name": "foo", "purl": "pkg:cargo/foo"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.3"}]}]
        }]
    })
}

fn parse_value(v: &Value) -> Result<Advisory, OsvError> {
    parse_json(v.to_string().as_bytes())
}

/// Apply `edit` to the minimal record.
fn with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut v = minimal();
    edit(&mut v);
    v
}

#[test]
fn minimal_record_parses() {
    let a = parse_value(&minimal()).unwrap();
    assert_eq!(a.id, "TEST-2024-0001");
    assert_eq!(a.modified, "2024-01-02T03:04:05Z");
    assert_eq!(a.kind, AdvisoryKind::Vulnerability);
    assert_eq!(a.affected.len(), 1);
    let af = &a.affected[0];
    assert_eq!(af.ecosystem, Ecosystem::CratesIo);
    assert_eq!(af.release, None);
    assert_eq!(af.name, "foo");
    assert_eq!(af.purl.as_deref(), Some("pkg:cargo/foo"));
    assert_eq!(
        af.ranges,
        vec![Range {
            ty: RangeType::Semver,
            repo: None,
            events: vec![Event::Introduced("0".into()), Event::Fixed("1.2.3".into())],
        }]
    );
    assert!(a.aliases.is_empty() && a.related.is_empty() && a.severity.is_empty());
    assert_eq!(a.database_specific, None);
    assert!(!a.is_withdrawn());
}

#[test]
fn full_record_fields() {
    let v = json!({
        "schema_version": "1.7.0",
        "id": "DSA-1-1",
        "modified": "2024-01-02T03:04:05.123456Z",
        "published": "2023-12-31T00:00:00Z",
        "withdrawn": "2024-02-01T00:00:00Z",
        "aliases": ["CVE-2024-1", "GHSA-aaaa-bbbb-cccc"],
        "related": ["CVE-2024-2"],
        "upstream": ["CVE-2024-1"],
        "summary": "s",
        "details": "d",
        "credits": [{"name": "x"}],
        "references": [{"type": "WEB", "url": "https://example.com"}],
        "database_specific": {"b": 1, "a": [true, null]},
        "affected": [{
            "package": {"ecosystem": "Debian:12", "name": "openssl"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "3.0.1-1"}]},
                {"type": "GIT", "repo": "https://git.example/x", "events": [
                    {"introduced": "abc"}, {"limit": "def"}]}
            ],
            "versions": ["3.0.0-1", "3.0.1-1"],
            "ecosystem_specific": {"urgency": "high"},
            "database_specific": {"source": "x"}
        }]
    });
    let a = parse_value(&v).unwrap();
    assert_eq!(a.published.as_deref(), Some("2023-12-31T00:00:00Z"));
    assert_eq!(a.withdrawn.as_deref(), Some("2024-02-01T00:00:00Z"));
    assert!(a.is_withdrawn());
    assert_eq!(a.aliases, ["CVE-2024-1", "GHSA-aaaa-bbbb-cccc"]);
    assert_eq!(a.related, ["CVE-2024-2"]);
    assert_eq!(a.summary.as_deref(), Some("s"));
    assert_eq!(a.details.as_deref(), Some("d"));
    assert_eq!(
        a.references,
        vec![Reference {
            ty: "WEB".into(),
            url: "https://example.com".into()
        }]
    );
    // Compact JSON text, round-trips to the same value.
    assert_eq!(
        a.database_specific.as_deref(),
        Some(r#"{"a":[true,null],"b":1}"#)
    );
    let af = &a.affected[0];
    assert_eq!(af.ecosystem, Ecosystem::Debian);
    assert_eq!(af.release.as_deref(), Some("12"));
    assert_eq!(af.purl, None);
    assert_eq!(af.versions, ["3.0.0-1", "3.0.1-1"]);
    assert_eq!(
        af.ecosystem_specific.as_deref(),
        Some(r#"{"urgency":"high"}"#)
    );
    assert_eq!(af.database_specific.as_deref(), Some(r#"{"source":"x"}"#));
    assert_eq!(
        af.ranges[0].events,
        [
            Event::Introduced("0".into()),
            Event::LastAffected("3.0.1-1".into())
        ]
    );
    assert_eq!(af.ranges[1].ty, RangeType::Git);
    assert_eq!(af.ranges[1].repo.as_deref(), Some("https://git.example/x"));
    assert_eq!(
        af.ranges[1].events,
        [Event::Introduced("abc".into()), Event::Limit("def".into())]
    );
    let t = a.modified_time().unwrap();
    assert_eq!(t.nanos, 123_456_000);
}

#[test]
fn ecosystem_release_split() {
    let cases = [
        ("Debian:12", Ecosystem::Debian, Some("12")),
        ("Alpine:v3.18", Ecosystem::Alpine, Some("v3.18")),
        ("Ubuntu:22.04:LTS", Ecosystem::Ubuntu, Some("22.04:LTS")),
        ("PyPI", Ecosystem::PyPI, None),
        ("Go", Ecosystem::Go, None),
        ("Hex", Ecosystem::Other("Hex".into()), None),
    ];
    for (text, eco, release) in cases {
        let v = with(|v| v["affected"][0]["package"]["ecosystem"] = json!(text));
        let a = parse_value(&v).unwrap();
        assert_eq!(a.affected[0].ecosystem, eco, "{text}");
        assert_eq!(a.affected[0].release.as_deref(), release, "{text}");
    }
}

#[test]
fn validation_errors_name_the_field() {
    type Edit = fn(&mut Value);
    let cases: &[(&str, Edit, &str)] = &[
        (
            "missing id",
            |v| drop(v.as_object_mut().unwrap().remove("id")),
            "missing required field `id`",
        ),
        ("empty id", |v| v["id"] = json!(""), "id: is empty"),
        (
            "id with space",
            |v| v["id"] = json!("A B"),
            "id: \"A B\" contains whitespace",
        ),
        (
            "missing modified",
            |v| drop(v.as_object_mut().unwrap().remove("modified")),
            "missing required field `modified`",
        ),
        (
            "bad modified",
            |v| v["modified"] = json!("yesterday"),
            "modified: \"yesterday\" is not an RFC 3339 timestamp",
        ),
        (
            "date-only modified",
            |v| v["modified"] = json!("2024-01-02"),
            "modified:",
        ),
        (
            "bad published",
            |v| v["published"] = json!("2024-13-01T00:00:00Z"),
            "published: ",
        ),
        (
            "bad withdrawn",
            |v| v["withdrawn"] = json!("2024-01-01T00:00:00"),
            "withdrawn: ",
        ),
        (
            "empty alias",
            |v| v["aliases"] = json!(["CVE-1", ""]),
            "aliases[1]: is empty",
        ),
        (
            "no package",
            |v| drop(v["affected"][0].as_object_mut().unwrap().remove("package")),
            "affected[0]: missing `package`",
        ),
        (
            "no package name",
            |v| {
                drop(
                    v["affected"][0]["package"]
                        .as_object_mut()
                        .unwrap()
                        .remove("name"),
                )
            },
            "affected[0].package: missing `name`",
        ),
        (
            "empty package name",
            |v| v["affected"][0]["package"]["name"] = json!(" "),
            "affected[0].package: missing `name`",
        ),
        (
            "no ecosystem",
            |v| {
                drop(
                    v["affected"][0]["package"]
                        .as_object_mut()
                        .unwrap()
                        .remove("ecosystem"),
                )
            },
            "affected[0].package: missing `ecosystem`",
        ),
        (
            "bad purl",
            |v| v["affected"][0]["package"]["purl"] = json!("cargo/foo"),
            "affected[0].package.purl:",
        ),
        (
            "unknown range type",
            |v| v["affected"][0]["ranges"][0]["type"] = json!("DATE"),
            "unknown range type \"DATE\"",
        ),
        (
            "range without type",
            |v| {
                drop(
                    v["affected"][0]["ranges"][0]
                        .as_object_mut()
                        .unwrap()
                        .remove("type"),
                )
            },
            "affected[0].ranges[0]: missing `type`",
        ),
        (
            "git without repo",
            |v| v["affected"][0]["ranges"][0]["type"] = json!("GIT"),
            "a GIT range needs `repo`",
        ),
        (
            "no events",
            |v| v["affected"][0]["ranges"][0]["events"] = json!([]),
            "affected[0].ranges[0]: has no events",
        ),
        (
            "two keys in one event",
            |v| v["affected"][0]["ranges"][0]["events"][1] = json!({"fixed": "1", "limit": "2"}),
            "affected[0].ranges[0].events[1]: an event must have exactly one key",
        ),
        (
            "zero keys",
            |v| v["affected"][0]["ranges"][0]["events"][1] = json!({}),
            "exactly one key, found []",
        ),
        (
            "unknown event",
            |v| v["affected"][0]["ranges"][0]["events"][1] = json!({"patched": "1"}),
            "unknown event \"patched\"",
        ),
        (
            "null event",
            |v| v["affected"][0]["ranges"][0]["events"][1] = json!({"fixed": null}),
            "`fixed` is null",
        ),
        (
            "empty event",
            |v| v["affected"][0]["ranges"][0]["events"][1] = json!({"fixed": ""}),
            "`fixed` is empty",
        ),
        (
            "no introduced",
            |v| v["affected"][0]["ranges"][0]["events"] = json!([{"fixed": "1"}]),
            "affected[0].ranges[0]: has no `introduced` event",
        ),
        (
            "empty version",
            |v| v["affected"][0]["versions"] = json!(["1", ""]),
            "affected[0].versions[1]: is empty",
        ),
        (
            "severity without score",
            |v| v["severity"] = json!([{"type": "CVSS_V3"}]),
            "severity[0]: missing `score`",
        ),
        (
            "reference without url",
            |v| v["references"] = json!([{"type": "WEB"}]),
            "references[0]: missing `url`",
        ),
        (
            "wrong JSON type",
            |v| v["aliases"] = json!("CVE-1"),
            "invalid JSON: invalid type: string \"CVE-1\", expected a sequence",
        ),
        (
            "float version",
            |v| v["affected"][0]["versions"] = json!([1.5]),
            "quote it",
        ),
    ];
    for (what, edit, want) in cases {
        let v = with(*edit);
        let err = parse_value(&v).expect_err(what).to_string();
        assert!(
            err.contains(want),
            "{what}: got {err:?}, want it to contain {want:?}"
        );
        assert!(!err.contains('\n'), "{what}: one-line message: {err:?}");
    }
}

#[test]
fn syntax_errors_are_one_line() {
    for (bytes, want) in [
        (&b""[..], "invalid JSON: EOF"),
        (b"{", "invalid JSON"),
        (
            b"[]",
            "invalid JSON: invalid type: sequence, expected an OSV record",
        ),
        (b"42", "invalid JSON: invalid type: integer"),
        (b"\xff\xfe", "invalid JSON"),
    ] {
        let e = parse_json(bytes).unwrap_err().to_string();
        assert!(e.starts_with(want), "{e}");
    }
    let e = parse_yaml(b"- a\n- b\n").unwrap_err().to_string();
    assert!(e.contains("expected an OSV record"), "{e}");
    let e = parse_yaml(b"id: [unclosed\n  modified: x\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("invalid YAML: ") && !e.contains('\n'), "{e}");
}

#[test]
fn lenient_where_feeds_deviate() {
    // Unknown severity type, unknown reference type, fixed + last_affected in one range,
    // nulls for optional lists, a BOM, an affected entry with neither ranges nor versions.
    let v = with(|v| {
        v["severity"] = json!([{"type": "CVSS_V5", "score": "CVSS:5.0/X"}]);
        v["references"] = json!([{"type": "SOMETHING_NEW", "url": "u"}]);
        v["aliases"] = Value::Null;
        v["affected"][0]["ranges"][0]["events"] =
            json!([{"introduced": "0"}, {"fixed": "2"}, {"last_affected": "3"}]);
        v["affected"][0]["versions"] = Value::Null;
        v["affected"]
            .as_array_mut()
            .unwrap()
            .push(json!({"package": {"ecosystem": "PyPI", "name": "loguru"}}));
    });
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(v.to_string().as_bytes());
    let a = parse_json(&bytes).unwrap();
    assert_eq!(a.severity[0].ty, SeverityType::Other);
    assert_eq!(a.severity[0].score, "CVSS:5.0/X");
    assert_eq!(a.severity[0].base_score, None);
    assert_eq!(a.references[0].ty, "SOMETHING_NEW");
    assert!(a.aliases.is_empty());
    assert_eq!(a.affected[0].ranges[0].events.len(), 3);
    assert!(a.affected[1].ranges.is_empty() && a.affected[1].versions.is_empty());
}

#[test]
fn bad_cvss_vector_keeps_record() {
    let v = with(|v| {
        v["severity"] = json!([
            {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"},
            {"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"}
        ])
    });
    let a = parse_value(&v).unwrap();
    assert_eq!(
        a.severity[0].score,
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"
    );
    assert_eq!(
        (a.severity[0].base_score, a.severity[0].level),
        (None, None)
    );
    assert_eq!(a.severity[1].base_score, Some(7.5));
    // A scored v2 is preferred over an unscorable v3.
    assert_eq!(a.cvss_vector().map(|s| s.ty), Some(SeverityType::CvssV2));
    assert_eq!(a.severity_level(), Some(SeverityLevel::High));
}

#[test]
fn severity_level_and_vector_preference() {
    let v3 = json!({"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"}); // 5.3
    let v4 = json!({"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}); // 9.3
    let v2 = json!({"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:C/I:C/A:C"}); // 10.0, High
    let ubuntu = json!({"type": "Ubuntu", "score": "low"});
    struct Case {
        record: Value,
        affected: Value,
        ds: Value,
        level: Option<SeverityLevel>,
        vector: Option<SeverityType>,
    }
    let cases = [
        Case {
            record: json!([v3, v4, v2]),
            affected: json!([]),
            ds: Value::Null,
            level: Some(SeverityLevel::Critical),
            vector: Some(SeverityType::CvssV4),
        },
        Case {
            record: json!([v2, v3]),
            affected: json!([]),
            ds: Value::Null,
            level: Some(SeverityLevel::High),
            vector: Some(SeverityType::CvssV3),
        },
        Case {
            record: json!([v2]),
            affected: json!([]),
            ds: Value::Null,
            level: Some(SeverityLevel::High),
            vector: Some(SeverityType::CvssV2),
        },
        Case {
            record: json!([ubuntu]),
            affected: json!([]),
            ds: Value::Null,
            level: Some(SeverityLevel::Low),
            vector: None,
        },
        // Per-affected severity counts too.
        Case {
            record: json!([v3]),
            affected: json!([v4]),
            ds: Value::Null,
            level: Some(SeverityLevel::Critical),
            vector: Some(SeverityType::CvssV4),
        },
        // Falls back to GHSA's database_specific.severity.
        Case {
            record: json!([]),
            affected: json!([]),
            ds: json!({"severity": "MODERATE"}),
            level: Some(SeverityLevel::Medium),
            vector: None,
        },
        Case {
            record: json!([]),
            affected: json!([]),
            ds: json!({"severity": "HIGH"}),
            level: Some(SeverityLevel::High),
            vector: None,
        },
        // CVSS wins over the word.
        Case {
            record: json!([v3]),
            affected: json!([]),
            ds: json!({"severity": "CRITICAL"}),
            level: Some(SeverityLevel::Medium),
            vector: Some(SeverityType::CvssV3),
        },
        Case {
            record: json!([]),
            affected: json!([]),
            ds: json!({"severity": "weird"}),
            level: None,
            vector: None,
        },
        Case {
            record: json!([]),
            affected: json!([]),
            ds: Value::Null,
            level: None,
            vector: None,
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        let v = with(|v| {
            v["severity"] = c.record.clone();
            v["affected"][0]["severity"] = c.affected.clone();
            v["database_specific"] = c.ds.clone();
        });
        let a = parse_value(&v).unwrap();
        assert_eq!(a.severity_level(), c.level, "case {i}");
        assert_eq!(a.cvss_vector().map(|s| s.ty), c.vector, "case {i}");
    }
    let a = parse_value(&with(|v| v["severity"] = json!([v3, v4]))).unwrap();
    assert_eq!(a.max_base_score(), Some(9.3));
}

#[test]
fn informational_kind() {
    let cases = [
        (json!(null), json!(null), AdvisoryKind::Vulnerability),
        (
            json!({"informational": null}),
            json!(null),
            AdvisoryKind::Vulnerability,
        ),
        (
            json!(null),
            json!({"informational": "unmaintained"}),
            AdvisoryKind::Unmaintained,
        ),
        (
            json!(null),
            json!({"informational": "unsound", "categories": []}),
            AdvisoryKind::Unsound,
        ),
        (
            json!(null),
            json!({"informational": "notice"}),
            AdvisoryKind::Notice,
        ),
        (
            json!(null),
            json!({"informational": "something-new"}),
            AdvisoryKind::Notice,
        ),
        (
            json!({"informational": "unsound"}),
            json!(null),
            AdvisoryKind::Unsound,
        ),
    ];
    for (record_ds, affected_ds, want) in cases {
        let v = with(|v| {
            v["database_specific"] = record_ds.clone();
            v["affected"][0]["database_specific"] = affected_ds.clone();
        });
        assert_eq!(
            parse_value(&v).unwrap().kind,
            want,
            "{record_ds} / {affected_ds}"
        );
    }
}

#[test]
fn yaml_and_json_agree() {
    let yaml = br#"
id: PYSEC-2099-1
modified: 2024-01-02T03:04:05Z
aliases:
- CVE-2099-1
severity:
- type: CVSS_V3
  score: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
affected:
- package:
    name: Foo_Bar
    ecosystem: PyPI
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - fixed: 2
  versions:
  - "1.0"
  - 1
  database_specific:
    x: [1, "a"]
"#;
    let from_yaml = parse_yaml(yaml).unwrap();
    let json = json!({
        "id": "PYSEC-2099-1",
        "modified": "2024-01-02T03:04:05Z",
        "aliases": ["CVE-2099-1"],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{
            "package": {"name": "Foo_Bar", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2"}]}],
            "versions": ["1.0", "1"],
            "database_specific": {"x": [1, "a"]}
        }]
    });
    assert_eq!(from_yaml, parse_value(&json).unwrap());
    assert_eq!(from_yaml.severity[0].base_score, Some(9.8));
    assert_eq!(parse(yaml, Format::Yaml).unwrap(), from_yaml);
    assert_eq!(Format::from_extension("YML"), Some(Format::Yaml));
    assert_eq!(Format::from_extension("toml"), None);
}

#[test]
fn yaml_float_version_is_refused() {
    let yaml = b"id: X-1\nmodified: 2024-01-02T03:04:05Z\naffected:\n- package: {name: a, ecosystem: PyPI}\n  versions: [1.10]\n";
    let e = parse_yaml(yaml).unwrap_err().to_string();
    assert!(e.contains("quote it"), "{e}");
}

#[test]
fn garbage_never_panics() {
    // Every proper prefix of a valid record is malformed and must fail cleanly.
    let text = minimal().to_string();
    for n in 0..text.len() {
        assert!(
            parse_json(&text.as_bytes()[..n]).is_err(),
            "json prefix {n}"
        );
        assert!(
            parse_yaml(&text.as_bytes()[..n]).is_err(),
            "yaml prefix {n}"
        );
    }
    assert!(parse_json(text.as_bytes()).is_ok());
    assert!(parse_yaml(text.as_bytes()).is_ok());
}
