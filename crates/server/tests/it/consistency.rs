//! The API answers the same on both backends: the same text and size rules, bounded
//! durations with RFC 3339 times, and no hint about other assets' jobs.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

/// A NUL byte in an asset name was 201 on SQLite and 422 on PostgreSQL. Every stored
/// string is now refused alike (422) when it holds a control character, and nothing is
/// written.
#[tokio::test]
async fn control_characters_are_refused_alike_on_every_backend() {
    for backend in backends("control_characters_are_refused_alike_on_every_backend") {
        let db = fixture_db();
        let srv = TestServer::start(&backend, Some(db.path())).await;
        let admin = srv.admin.clone();
        let (asset, agent) = srv.enroll("host-1").await;
        let (s, ack) = srv
            .post(
                "/api/v1/agent/inventory",
                &agent,
                report("k1", &[("crates.io", "demo-crate", "1.0.0")]),
            )
            .await;
        assert_eq!((s, &ack["findings_opened"]), (200, &json!(1)), "{ack}");
        let (_, f) = srv
            .get(&format!("/api/v1/findings?asset_id={asset}"), &admin)
            .await;
        let finding = f[0]["id"].as_i64().unwrap();
        let enrol_tokens: Vec<String> = {
            let mut v = Vec::new();
            for _ in 0..2 {
                v.push(srv.token("enroll").await);
            }
            v
        };
        let before = srv.audit_len().await;
        let bad_report = report("k2", &[("npm", "left\u{0}pad", "1.0.0")]);
        let mut bad_sources = report("k3", &[("npm", "left-pad", "1.0.0")]);
        bad_sources["sources"] = json!(["/srv/app\u{0}/package-lock.json"]);
        let bad_version = report("k4", &[("npm", "left-pad", "1.0.0\u{1b}[2J")]);
        let cases: Vec<(&str, Method, String, &str, Value)> = vec![
            (
                "NUL in an asset name",
                Method::POST,
                "/api/v1/assets".into(),
                &admin,
                json!({"name": "nul\u{0}host"}),
            ),
            (
                "escape sequence in an asset name",
                Method::POST,
                "/api/v1/assets".into(),
                &admin,
                json!({"name": "\u{1b}[31mred"}),
            ),
            (
                "newline in a site",
                Method::POST,
                "/api/v1/assets".into(),
                &admin,
                json!({"name": "ok-name", "site": "eu\nwest"}),
            ),
            (
                "control character in an owner",
                Method::PATCH,
                format!("/api/v1/assets/{asset}"),
                &admin,
                json!({"owner": "ops\u{7}"}),
            ),
            (
                "NUL in a tag",
                Method::PATCH,
                format!("/api/v1/assets/{asset}"),
                &admin,
                json!({"tags": ["pci\u{0}"]}),
            ),
            (
                "NUL in an enrolled asset's name",
                Method::POST,
                "/api/v1/enroll".into(),
                &enrol_tokens[0],
                json!({"asset": {"name": "agent\u{0}host"}}),
            ),
            (
                "C1 control in an enrolled asset's tag",
                Method::POST,
                "/api/v1/enroll".into(),
                &enrol_tokens[1],
                json!({"asset": {"name": "fine", "tags": ["\u{9b}"]}}),
            ),
            (
                "NUL in a token name",
                Method::POST,
                "/api/v1/tokens".into(),
                &admin,
                json!({"name": "ci\u{0}", "role": "auditor"}),
            ),
            (
                "NUL in a job kind",
                Method::POST,
                "/api/v1/jobs".into(),
                &admin,
                json!({"asset_id": asset, "kind": "re\u{0}scan", "payload": {}}),
            ),
            (
                "NUL in a finding's reason",
                Method::PATCH,
                format!("/api/v1/findings/{finding}"),
                &admin,
                json!({"state": "accepted", "reason": "ok\u{0}"}),
            ),
            (
                "NUL in a package name",
                Method::POST,
                "/api/v1/agent/inventory".into(),
                &agent,
                bad_report,
            ),
            (
                "NUL in an inventory source",
                Method::POST,
                "/api/v1/agent/inventory".into(),
                &agent,
                bad_sources,
            ),
            (
                "escape sequence in a version",
                Method::POST,
                "/api/v1/agent/inventory".into(),
                &agent,
                bad_version,
            ),
        ];
        for (what, method, path, token, body) in cases {
            let (s, v) = srv.call(method, &path, Some(token), Some(body)).await;
            assert_eq!(
                (s, v["error"]["code"].as_str()),
                (422, Some("invalid")),
                "{}: {what}: {v}",
                backend.name()
            );
        }
        let (s, v) = srv.get("/api/v1/findings?advisory=PP%00TEST", &admin).await;
        assert_eq!(s, 422, "{}: NUL in a query: {v}", backend.name());
        assert_eq!(srv.audit_len().await, before, "nothing was written");
        // The refused enrolments did not use up their tokens.
        let (s, v) = srv
            .post(
                "/api/v1/enroll",
                &enrol_tokens[0],
                json!({"asset": {"name": "agent-host", "tags": ["pci", "höst-✓"]}}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        srv.stop().await;
    }
}

/// 10,000 tags of 1,000 characters were accepted and made `GET /assets` 10 MB. Names,
/// sites, owners and tags are bounded, on every route that sets them.
#[tokio::test]
async fn asset_sizes_are_bounded_on_every_route() {
    use patchpilot_api::limits;
    for backend in backends("asset_sizes_are_bounded_on_every_route") {
        let srv = TestServer::start(&backend, None).await;
        let admin = srv.admin.clone();
        let (asset, _) = srv.enroll("sized").await;
        let before = srv.audit_len().await;
        let many = |n: usize, len: usize| -> Vec<String> {
            (0..n).map(|i| format!("{i:0>len$}")).collect()
        };
        let long = |n: usize| "x".repeat(n);
        let bad: Vec<(&str, Value)> = vec![
            // (of 100 characters: 1,000 would pass the test server's 4 MB body limit)
            ("10,000 tags", json!(many(10_000, 100))),
            ("one tag too many", json!(many(limits::TAGS + 1, 4))),
            ("a tag too long", json!([long(limits::TAG + 1)])),
            ("an empty tag", json!([""])),
        ];
        for (what, tags) in &bad {
            let (s, v) = srv
                .post("/api/v1/assets", &admin, json!({"name": "t", "tags": tags}))
                .await;
            assert_eq!(s, 422, "{}: create, {what}: {v}", backend.name());
            let (s, v) = srv
                .call(
                    Method::PATCH,
                    &format!("/api/v1/assets/{asset}"),
                    Some(&admin),
                    Some(json!({"tags": tags})),
                )
                .await;
            assert_eq!(s, 422, "{}: patch, {what}: {v}", backend.name());
            let e = srv.token("enroll").await;
            let (s, v) = srv
                .post(
                    "/api/v1/enroll",
                    &e,
                    json!({"asset": {"name": "t", "tags": tags}}),
                )
                .await;
            assert_eq!(s, 422, "{}: enrol, {what}: {v}", backend.name());
        }
        let before = before + bad.len(); // the enrolment tokens minted above
        for (field, max) in [
            ("name", limits::NAME),
            ("site", limits::SITE),
            ("owner", limits::OWNER),
        ] {
            let mut body = json!({"name": "n"});
            body[field] = json!(long(max + 1));
            let (s, v) = srv.post("/api/v1/assets", &admin, body).await;
            assert_eq!(s, 422, "{}: {field} too long: {v}", backend.name());
            if field != "name" {
                let (s, v) = srv
                    .call(
                        Method::PATCH,
                        &format!("/api/v1/assets/{asset}"),
                        Some(&admin),
                        Some(json!({ field: long(max + 1) })),
                    )
                    .await;
                assert_eq!(s, 422, "{}: patch {field} too long: {v}", backend.name());
            }
        }
        assert_eq!(srv.audit_len().await, before, "nothing was written");
        // At the limits: accepted.
        let (s, v) = srv
            .post(
                "/api/v1/assets",
                &admin,
                json!({
                    "name": long(limits::NAME),
                    "site": long(limits::SITE),
                    "owner": long(limits::OWNER),
                    "tags": many(limits::TAGS, limits::TAG),
                }),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        srv.stop().await;
    }
}

/// `expires_in_secs: 18446744073709551615` was 201 with
/// `"expires_at": "9223372036854775807"`, not a date-time. Lifetimes are at most ten
/// years (422 beyond), and every time the API returns is RFC 3339.
#[tokio::test]
async fn token_lifetime_is_bounded_and_times_are_rfc3339() {
    use patchpilot_api::{limits, Ts};
    for backend in backends("token_lifetime_is_bounded_and_times_are_rfc3339") {
        let srv = TestServer::start(&backend, None).await;
        let admin = srv.admin.clone();
        let before = srv.audit_len().await;
        for secs in [u64::MAX, i64::MAX as u64, limits::EXPIRES_IN_SECS + 1] {
            let (s, v) = srv
                .post(
                    "/api/v1/tokens",
                    &admin,
                    json!({"name": "forever", "role": "auditor", "expires_in_secs": secs}),
                )
                .await;
            assert_eq!(s, 422, "{}: {secs}: {v}", backend.name());
        }
        assert_eq!(srv.audit_len().await, before);
        let (s, v) = srv
            .post(
                "/api/v1/tokens",
                &admin,
                json!({"name": "ten years", "role": "auditor",
                       "expires_in_secs": limits::EXPIRES_IN_SECS}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let created = Ts::parse_rfc3339(v["info"]["created_at"].as_str().unwrap()).unwrap();
        let expires = v["info"]["expires_at"].as_str().unwrap();
        let expires = Ts::parse_rfc3339(expires)
            .unwrap_or_else(|| panic!("expires_at is not RFC 3339: {expires}"));
        assert_eq!(
            expires.millis() - created.millis(),
            limits::EXPIRES_IN_SECS as i64 * 1000
        );
        // Every time in the token list parses.
        let (_, list) = srv.get("/api/v1/tokens", &admin).await;
        for t in list.as_array().unwrap() {
            for k in ["created_at", "expires_at", "used_at", "revoked_at"] {
                if let Some(x) = t[k].as_str() {
                    assert!(Ts::parse_rfc3339(x).is_some(), "{k}: {x}");
                }
            }
        }
        srv.stop().await;
    }
}

/// An agent finishing another asset's job got 409 "belongs to another asset", which told
/// it the job exists. It now gets the 404 of a job that does not exist.
#[tokio::test]
async fn another_assets_job_is_not_found() {
    for backend in backends("another_assets_job_is_not_found") {
        let srv = TestServer::start(&backend, None).await;
        let admin = srv.admin.clone();
        let (a, agent_a) = srv.enroll("job-a").await;
        let (_b, agent_b) = srv.enroll("job-b").await;
        let (s, job) = srv
            .post(
                "/api/v1/jobs",
                &admin,
                json!({"asset_id": a, "kind": "rescan", "payload": {}}),
            )
            .await;
        assert_eq!(s, 201, "{job}");
        let id = job["id"].as_i64().unwrap();
        let (_, claimed) = srv.get("/api/v1/agent/jobs?wait=0", &agent_a).await;
        assert_eq!(claimed[0]["id"], json!(id), "{claimed}");
        let res = json!({"success": true, "output": {}});
        let before = srv.audit_len().await;
        let (s, theirs) = srv
            .post(
                &format!("/api/v1/agent/jobs/{id}/result"),
                &agent_b,
                res.clone(),
            )
            .await;
        assert_eq!(s, 404, "{}: {theirs}", backend.name());
        let none = 999_999;
        let (s, missing) = srv
            .post(
                &format!("/api/v1/agent/jobs/{none}/result"),
                &agent_b,
                res.clone(),
            )
            .await;
        assert_eq!(s, 404, "{missing}");
        assert_eq!(
            theirs["error"]["message"]
                .as_str()
                .unwrap()
                .replace(&id.to_string(), "N"),
            missing["error"]["message"]
                .as_str()
                .unwrap()
                .replace(&none.to_string(), "N"),
            "another asset's job and no job are told apart by nothing"
        );
        assert_eq!(srv.audit_len().await, before);
        let (s, v) = srv
            .post(&format!("/api/v1/agent/jobs/{id}/result"), &agent_a, res)
            .await;
        assert_eq!((s, &v["state"]), (200, &json!("succeeded")), "{v}");
        srv.stop().await;
    }
}
