//! Every route, every role: allowed or denied as the table below says (written here, not
//! read from the server, so the test checks the server against an independent list). A
//! denied role is denied (403) also when the request is otherwise bad: the role is
//! checked before the path, query and body are parsed.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

const ROLES: [&str; 6] = [
    "admin", "operator", "approver", "auditor", "agent", "enroll",
];

struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
    allowed: &'static [&'static str],
    /// The same route with a bad path or query (or `path`), and a bad body (a field of
    /// the wrong type, an unknown field; or, for a route without a body, ignored junk).
    bad_path: String,
    bad_body: Value,
}

/// A body no route accepts: wrong types and an unknown field.
fn junk() -> Value {
    json!({"name": 42, "asset": [], "state": 7, "kind": {}, "role": "nobody", "bogus": true})
}

#[tokio::test]
async fn every_route_allows_and_denies_each_role() {
    for backend in backends("every_route_allows_and_denies_each_role") {
        let srv = TestServer::start(&backend, None).await;
        let admin = srv.admin.clone();
        let (asset, _) = srv.enroll("fixture").await;
        let (_, job) = srv
            .post(
                "/api/v1/jobs",
                &admin,
                json!({"asset_id": asset, "kind": "rescan", "payload": {}}),
            )
            .await;
        let job = job["id"].as_i64().unwrap();
        const READ: &[&str] = &["admin", "operator", "approver", "auditor"];
        const OPS: &[&str] = &["admin", "operator"];
        let c = |method: Method,
                 path: &str,
                 body: Option<Value>,
                 allowed: &'static [&'static str]| Case {
            method,
            path: path.to_string(),
            body,
            allowed,
            bad_path: bad_path(path),
            bad_body: junk(),
        };
        let mut n = 0;
        let cases = |n: &mut i32| {
            *n += 1;
            vec![
                c(Method::GET, "/api/v1/assets", None, READ),
                c(
                    Method::POST,
                    "/api/v1/assets",
                    Some(json!({"name": format!("new-{n}")})),
                    OPS,
                ),
                c(Method::GET, &format!("/api/v1/assets/{asset}"), None, READ),
                c(
                    Method::PATCH,
                    &format!("/api/v1/assets/{asset}"),
                    Some(json!({"owner": "ops"})),
                    OPS,
                ),
                c(
                    Method::GET,
                    &format!("/api/v1/assets/{asset}/snapshots"),
                    None,
                    READ,
                ),
                c(
                    Method::GET,
                    "/api/v1/snapshots/diff?from=1&to=1",
                    None,
                    READ,
                ),
                c(Method::GET, "/api/v1/findings", None, READ),
                c(
                    Method::PATCH,
                    "/api/v1/findings/1",
                    Some(json!({"state": "open"})),
                    &["admin", "approver"],
                ),
                c(Method::GET, "/api/v1/tokens", None, &["admin"]),
                c(
                    Method::POST,
                    "/api/v1/tokens",
                    Some(json!({"name": "x", "role": "auditor"})),
                    &["admin"],
                ),
                c(Method::DELETE, "/api/v1/tokens/999999", None, &["admin"]),
                c(Method::GET, "/api/v1/jobs", None, READ),
                c(
                    Method::POST,
                    "/api/v1/jobs",
                    Some(json!({"asset_id": asset, "kind": "rescan", "payload": {}})),
                    OPS,
                ),
                c(Method::GET, &format!("/api/v1/jobs/{job}"), None, READ),
                c(Method::GET, "/api/v1/audit", None, &["admin", "auditor"]),
                c(
                    Method::GET,
                    "/api/v1/audit/verify",
                    None,
                    &["admin", "auditor"],
                ),
                c(Method::GET, "/api/v1/feeds", None, READ),
                c(Method::POST, "/api/v1/feeds/reload", None, OPS),
                c(
                    Method::POST,
                    "/api/v1/enroll",
                    Some(json!({"asset": {"name": format!("enrolled-{n}")}})),
                    &["enroll"],
                ),
                c(
                    Method::POST,
                    "/api/v1/agent/heartbeat",
                    Some(json!({})),
                    &["agent"],
                ),
                c(
                    Method::POST,
                    "/api/v1/agent/inventory",
                    Some(report(&format!("k{n}"), &[("npm", "a", "1.0.0")])),
                    &["agent"],
                ),
                c(Method::GET, "/api/v1/agent/jobs?wait=0", None, &["agent"]),
                c(
                    Method::POST,
                    &format!("/api/v1/agent/jobs/{job}/result"),
                    Some(json!({"success": true, "output": {}})),
                    &["agent"],
                ),
            ]
        };
        let mut checked = 0;
        let mut bad_checked = 0;
        for role in ROLES {
            for case in cases(&mut n) {
                // Fresh credentials per call: enrolment tokens work once.
                let token = match role {
                    "admin" => admin.clone(),
                    "agent" => srv.enroll(&format!("agent-{checked}")).await.1,
                    r => srv.token(r).await,
                };
                let (s, v) = srv
                    .call(
                        case.method.clone(),
                        &case.path,
                        Some(&token),
                        case.body.clone(),
                    )
                    .await;
                let allowed = case.allowed.contains(&role);
                if allowed {
                    assert!(
                        s != 401 && s != 403,
                        "{}: {role} {} {} should be allowed, got {s} {v}",
                        backend.name(),
                        case.method,
                        case.path
                    );
                } else {
                    assert_eq!(
                        s,
                        403,
                        "{}: {role} {} {} should be forbidden: {v}",
                        backend.name(),
                        case.method,
                        case.path
                    );
                    assert_eq!(v["error"]["code"], "forbidden");
                    // And with a bad path or query and a bad body: still 403, not the
                    // 400/422 that would tell a caller without the role about the route.
                    let token = match role {
                        "admin" => admin.clone(),
                        "agent" => srv.enroll(&format!("agent-bad-{checked}")).await.1,
                        r => srv.token(r).await,
                    };
                    let (s, v) = srv
                        .call(
                            case.method.clone(),
                            &case.bad_path,
                            Some(&token),
                            Some(case.bad_body.clone()),
                        )
                        .await;
                    assert_eq!(
                        (s, v["error"]["code"].as_str()),
                        (403, Some("forbidden")),
                        "{}: {role} {} {} with a bad request should be forbidden: {v}",
                        backend.name(),
                        case.method,
                        case.bad_path
                    );
                    bad_checked += 1;
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 6 * 23);
        // The denied (role, route) pairs of the table: 84.
        assert_eq!(bad_checked, 84);
        srv.stop().await;
    }
}

/// `path` made bad: a non-numeric id, or a query parameter of the wrong type.
fn bad_path(path: &str) -> String {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let mut segs: Vec<String> = p.split('/').map(str::to_string).collect();
    if let Some(s) = segs.iter_mut().find(|s| s.parse::<i64>().is_ok()) {
        *s = "not-a-number".into();
    }
    let p = segs.join("/");
    let q = if q.is_empty() {
        "limit=-1&after=x&wait=x&from=x&prioritize=maybe".to_string()
    } else {
        q.split('&')
            .map(|kv| format!("{}=x", kv.split('=').next().unwrap_or(kv)))
            .collect::<Vec<_>>()
            .join("&")
    };
    format!("{p}?{q}")
}
