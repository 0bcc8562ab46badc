//! Enrolment: a token enrols a new asset, re-enrolment is explicit, and the token list
//! says what became of every token.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

/// Any fresh enrolment token and the *name* of an existing asset used to return a
/// working agent token for that asset: a clean report from it then closed every open
/// finding of, say, the production database, while the original agent's token kept
/// working. Now: 409 with how to re-enrol, nothing changed, the original agent unharmed.
#[tokio::test]
async fn enrolment_by_name_cannot_take_over_an_asset() {
    for backend in backends("enrolment_by_name_cannot_take_over_an_asset") {
        let db = fixture_db();
        let srv = TestServer::start(&backend, Some(db.path())).await;
        let admin = srv.admin.clone();
        let (asset, agent) = srv.enroll("prod-db").await;
        let vulnerable = report(
            "k1",
            &[
                ("crates.io", "demo-crate", "1.0.0"),
                ("PyPI", "Django", "4.1"),
            ],
        );
        let (s, ack) = srv
            .post("/api/v1/agent/inventory", &agent, vulnerable)
            .await;
        assert_eq!((s, &ack["findings_opened"]), (200, &json!(2)), "{ack}");

        // The takeover attempt: a fresh enrolment token, the victim's name.
        let e = srv.token("enroll").await;
        let before = srv.audit_len().await;
        let (s, v) = srv
            .post("/api/v1/enroll", &e, json!({"asset": {"name": "prod-db"}}))
            .await;
        assert_eq!(s, 409, "{}: {v}", backend.name());
        assert_eq!(v["error"]["code"], "conflict");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("asset {asset}")) && msg.contains("\"asset_id\""),
            "says which asset and how to re-enrol it: {msg}"
        );
        assert_eq!(srv.audit_len().await, before, "nothing written");

        // The findings stay open, the original agent keeps working, and the enrolment
        // token was not used up: it still enrols a new asset.
        let (_, f) = srv
            .get(&format!("/api/v1/findings?asset_id={asset}"), &admin)
            .await;
        assert_eq!(open_findings(&f).len(), 2, "{f}");
        let (s, _) = srv.post("/api/v1/agent/heartbeat", &agent, json!({})).await;
        assert_eq!(s, 204);
        let (s, v) = srv
            .post("/api/v1/enroll", &e, json!({"asset": {"name": "new-host"}}))
            .await;
        assert_eq!(s, 201, "{v}");
        assert_ne!(v["asset"]["id"].as_i64(), Some(asset));

        // An asset an operator created is no easier to take.
        let (s, a) = srv
            .post(
                "/api/v1/assets",
                &admin,
                json!({"name": "ops-db", "tier": 1}),
            )
            .await;
        assert_eq!(s, 201, "{a}");
        let e = srv.token("enroll").await;
        let (s, v) = srv
            .post("/api/v1/enroll", &e, json!({"asset": {"name": "ops-db"}}))
            .await;
        assert_eq!(s, 409, "{v}");
        srv.stop().await;
    }
}

/// An admin mints an enrolment token bound to an asset; enrolling with it re-enrols that
/// asset (keeping its context) and the old agent token stops working at once, although
/// the server had it cached.
#[tokio::test]
async fn reenrolment_token_binds_to_the_asset_and_revokes_the_old_agent() {
    for backend in backends("reenrolment_token_binds_to_the_asset_and_revokes_the_old_agent") {
        let srv = TestServer::start(&backend, None).await;
        let admin = srv.admin.clone();
        let (asset, old_agent) = srv.enroll("web-1").await;
        let (s, _) = srv
            .post("/api/v1/agent/heartbeat", &old_agent, json!({}))
            .await;
        assert_eq!(s, 204, "the old token works (and is cached now)");

        let mint = |body: Value| srv.post("/api/v1/tokens", &admin, body);
        let (s, v) = mint(json!({"name": "x", "role": "enroll", "asset_id": 999_999})).await;
        assert_eq!(s, 404, "{v}");
        let (s, v) = mint(json!({"name": "x", "role": "auditor", "asset_id": asset})).await;
        assert_eq!(s, 422, "asset_id is for enrolment tokens only: {v}");
        let (s, v) =
            mint(json!({"name": "web-1 reinstall", "role": "enroll", "asset_id": asset})).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["info"]["asset_id"], json!(asset));
        let bound_id = v["info"]["id"].as_i64().unwrap();
        let bound = v["token"].as_str().unwrap().to_string();

        // Handed to the wrong host: refused, and not used up.
        let (s, v) = srv
            .post(
                "/api/v1/enroll",
                &bound,
                json!({"asset": {"name": "web-2"}}),
            )
            .await;
        assert_eq!(s, 409, "{v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("web-1"),
            "{v}"
        );

        let before = srv.audit_len().await;
        let (s, v) = srv
            .post(
                "/api/v1/enroll",
                &bound,
                json!({"asset": {"name": "web-1", "tier": 1, "exposure": "isolated"}}),
            )
            .await;
        assert_eq!(s, 201, "{}: {v}", backend.name());
        assert_eq!(v["asset"]["id"], json!(asset));
        assert_eq!(
            (&v["asset"]["tier"], &v["asset"]["exposure"]),
            (&json!(3), &json!("internal")),
            "a re-enrolment keeps the asset's context: {v}"
        );
        let new_agent = v["token"].as_str().unwrap().to_string();
        assert_eq!(srv.audit_len().await, before + 1);

        let (s, v) = srv
            .post("/api/v1/agent/heartbeat", &old_agent, json!({}))
            .await;
        assert_eq!(s, 401, "the old agent token is revoked at once: {v}");
        let (s, _) = srv
            .post("/api/v1/agent/heartbeat", &new_agent, json!({}))
            .await;
        assert_eq!(s, 204);
        let (s, v) = srv
            .post(
                "/api/v1/enroll",
                &bound,
                json!({"asset": {"name": "web-1"}}),
            )
            .await;
        assert_eq!(s, 401, "used once: {v}");

        // The audit record names the revoked token; the list shows it revoked.
        let (_, recs) = srv.get("/api/v1/audit?limit=10000", &admin).await;
        let last = recs.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["action"], "agent.reenroll", "{last}");
        assert_eq!(last["target"], format!("asset:{asset}"));
        assert_eq!(last["actor"]["principal"], format!("token:{bound_id}"));
        let after: Value = serde_json::from_str(last["after"].as_str().unwrap()).unwrap();
        let revoked = after["revoked_tokens"].as_array().unwrap();
        assert_eq!(revoked.len(), 1, "{after}");
        let old_id = revoked[0]["id"].as_i64().unwrap();
        let (_, list) = srv.get("/api/v1/tokens", &admin).await;
        let find = |id: i64| {
            list.as_array()
                .unwrap()
                .iter()
                .find(|t| t["id"] == json!(id))
                .cloned()
                .unwrap()
        };
        let old = find(old_id);
        assert_eq!(
            (&old["state"], &old["role"], &old["asset_id"]),
            (&json!("revoked"), &json!("agent"), &json!(asset)),
            "{old}"
        );
        assert_eq!(find(bound_id)["state"], "used");
        let (_, ver) = srv.get("/api/v1/audit/verify", &admin).await;
        assert_eq!(ver["ok"], true, "{ver}");
        srv.stop().await;
    }
}

/// The token list left out what was not set (`skip_serializing_if`), never said whether
/// a token could still be used, and an enrolment token did not record the asset it
/// enrolled. Every token now shows `expires_at`, `used_at`, `revoked_at`, `asset_id`
/// (`null` when unset) and its `state`.
#[tokio::test]
async fn token_list_shows_use_revocation_expiry_and_asset() {
    for backend in backends("token_list_shows_use_revocation_expiry_and_asset") {
        let srv = TestServer::start(&backend, None).await;
        let admin = srv.admin.clone();
        let (asset, _agent) = srv.enroll("web-1").await;
        let (s, v) = srv
            .post(
                "/api/v1/tokens",
                &admin,
                json!({"name": "gone", "role": "auditor", "expires_in_secs": 0}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let expired = v["info"]["id"].as_i64().unwrap();
        let (_, v) = srv
            .post(
                "/api/v1/tokens",
                &admin,
                json!({"name": "ops", "role": "operator"}),
            )
            .await;
        let revoked = v["info"]["id"].as_i64().unwrap();
        let (s, _) = srv
            .call(
                Method::DELETE,
                &format!("/api/v1/tokens/{revoked}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(s, 204);
        let (s, list) = srv.get("/api/v1/tokens", &admin).await;
        assert_eq!(s, 200, "{list}");
        let list = list.as_array().unwrap();
        for t in list {
            for key in [
                "id",
                "name",
                "role",
                "created_at",
                "expires_at",
                "revoked_at",
                "used_at",
                "asset_id",
                "state",
            ] {
                assert!(
                    t.get(key).is_some(),
                    "{}: {key} missing in {t}",
                    backend.name()
                );
            }
        }
        let by = |f: &dyn Fn(&Value) -> bool| list.iter().find(|t| f(t)).cloned().unwrap();
        let enrol = by(&|t| t["role"] == "enroll");
        assert_eq!(
            (&enrol["state"], &enrol["asset_id"]),
            (&json!("used"), &json!(asset)),
            "{enrol}"
        );
        assert!(enrol["used_at"].is_string(), "{enrol}");
        let agent = by(&|t| t["role"] == "agent");
        assert_eq!(
            (&agent["state"], &agent["asset_id"], &agent["revoked_at"]),
            (&json!("active"), &json!(asset), &Value::Null),
            "{agent}"
        );
        let r = by(&|t| t["id"] == json!(revoked));
        assert_eq!(r["state"], "revoked");
        assert!(r["revoked_at"].is_string(), "{r}");
        let e = by(&|t| t["id"] == json!(expired));
        assert_eq!(e["state"], "expired", "{e}");
        assert!(e["expires_at"].is_string());
        let a = by(&|t| t["role"] == "admin");
        assert_eq!(
            (&a["state"], &a["asset_id"], &a["expires_at"]),
            (&json!("active"), &Value::Null, &Value::Null),
            "{a}"
        );
        srv.stop().await;
    }
}
