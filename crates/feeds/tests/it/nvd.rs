//! NVD CVE API 2.0 sync against a local server that pages through the real samples of
//! `../shared/data/feeds/distro-samples/nvd` (the full page and the single entry, 39 CVEs,
//! served 20 per page as NVD does when it returns fewer than asked), answers
//! `lastModStartDate`/`lastModEndDate` windows from a list of updated records, and
//! checks the API key header.

use std::collections::HashMap;
use std::fs;
use std::sync::Arc;
use std::time::{Duration, Instant};

use patchpilot_feeds::{
    load_nvd, nvd_file, ApiKey, Config, NvdConfig, RateLimit, SyncReport, NVD_MAX_WINDOW_DAYS,
};
use patchpilot_intel::NvdTime;
use serde_json::{json, Value};

use super::server::{Fault, Handler, Server};
use super::{err, ok, run, snapshot};

const NVD: &str = "/nvd/rest/json/cves/2.0";
const KEY: &str = "test-key-0123";
const PER_PAGE: usize = 20;

fn now() -> NvdTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    NvdTime::from_unix(secs)
}

/// The samples' CVE items (`{"cve": …}`), the full page first.
fn sample_items(test: &str) -> Option<Vec<Value>> {
    let dir = patchpilot_testdata::shared_data(test)?.join("feeds/distro-samples/nvd");
    let mut items = Vec::new();
    for name in ["full-page.json", "single-entry.json"] {
        let v: Value = serde_json::from_slice(&fs::read(dir.join(name)).unwrap()).unwrap();
        items.extend(v["vulnerabilities"].as_array().unwrap().iter().cloned());
    }
    Some(items)
}

fn query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A page of `items[start..]`, at most PER_PAGE of them.
fn page(items: &[Value], start: usize, asked: usize, timestamp: &str) -> Vec<u8> {
    let n = asked.min(PER_PAGE);
    let slice: Vec<&Value> = items.iter().skip(start).take(n).collect();
    serde_json::to_vec(&json!({
        "resultsPerPage": slice.len(),
        "startIndex": start,
        "totalResults": items.len(),
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": timestamp,
        "vulnerabilities": slice,
    }))
    .unwrap()
}

/// Without dates: every sample item, stamped `full_at`. With dates: the `updated` items
/// whose lastModified is in the window, stamped with the window's end (NVD's "now").
fn handler(all: Vec<Value>, updated: Vec<Value>, full_at: String) -> Handler {
    Arc::new(move |q: &str| {
        let q = query(q);
        let start: usize = q.get("startIndex")?.parse().ok()?;
        let asked: usize = q.get("resultsPerPage")?.parse().ok()?;
        match (q.get("lastModStartDate"), q.get("lastModEndDate")) {
            (None, None) => Some(page(&all, start, asked, &full_at)),
            (Some(from), Some(to)) => {
                let (from, to): (NvdTime, NvdTime) = (from.parse().ok()?, to.parse().ok()?);
                assert!(from < to && from.add_days(120) >= to, "window {from}..{to}");
                let items: Vec<Value> = updated
                    .iter()
                    .filter(|i| {
                        let t: NvdTime =
                            i["cve"]["lastModified"].as_str().unwrap().parse().unwrap();
                        from <= t && t <= to
                    })
                    .cloned()
                    .collect();
                Some(page(&items, start, asked, &to.to_string()))
            }
            _ => None,
        }
    })
}

fn config(srv: &Server) -> Config {
    let mut nvd = NvdConfig::new(ApiKey::new(KEY).unwrap());
    nvd.url = srv.url(NVD);
    nvd.rate = RateLimit {
        requests: 50,
        per: Duration::from_millis(10),
    };
    Config {
        ecosystems: vec![],
        kev_url: None,
        epss_url: None,
        nvd: Some(nvd),
        retries: 2,
        backoff: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        ..Config::default()
    }
}

fn score(data: &std::path::Path, cve: &str) -> f32 {
    let store = load_nvd(data).unwrap().unwrap();
    store.get(cve).unwrap().preferred().unwrap().base_score
}

fn watermark(data: &std::path::Path) -> String {
    let st = patchpilot_feeds::load_state(data).unwrap();
    st.sources["nvd"].newest_modified.clone().unwrap()
}

fn nvd_ok(r: &SyncReport) -> &patchpilot_feeds::Outcome {
    ok(r, "nvd")
}

#[test]
fn nvd_sync_pages_retries_rate_limits_then_goes_incremental() {
    let Some(items) = sample_items("nvd_sync_pages_retries_rate_limits_then_goes_incremental")
    else {
        return;
    };
    assert_eq!(items.len(), 39);
    let full_at = now().add_days(-300);
    // CVE-2022-1576, re-scored ten days after the full download.
    let mut rescored = items[38].clone();
    assert_eq!(rescored["cve"]["id"], "CVE-2022-1576");
    let changed_at = full_at.add_days(10);
    rescored["cve"]["lastModified"] = changed_at.to_string().into();
    let v31 = &mut rescored["cve"]["metrics"]["cvssMetricV31"][0]["cvssData"];
    v31["vectorString"] = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:N".into();
    v31["baseScore"] = 8.1.into();

    let srv = Server::start();
    srv.handle(NVD, handler(items, vec![rescored], full_at.to_string()));
    let data = tempfile::tempdir().unwrap();
    let mut cfg = config(&srv);

    // First sync: everything, two pages; the first page is refused twice for going too fast.
    srv.fault(NVD, Fault::Status(403));
    srv.fault(NVD, Fault::Status(429));
    let r1 = run(data.path(), &cfg);
    let o = nvd_ok(&r1);
    assert!(o.changed);
    assert_eq!(o.records, 36, "39 CVEs, 3 without any CVSS");
    let log = srv.take_log();
    let got: Vec<(u16, &str)> = log
        .iter()
        .map(|h| (h.status, &h.path[h.path.find('?').unwrap() + 1..]))
        .collect();
    assert_eq!(
        got,
        [
            (403, "resultsPerPage=2000&startIndex=0"),
            (429, "resultsPerPage=2000&startIndex=0"),
            (200, "resultsPerPage=2000&startIndex=0"),
            (200, "resultsPerPage=2000&startIndex=20"),
        ]
    );
    assert!(log.iter().all(|h| h.api_key.as_deref() == Some(KEY)));
    assert_eq!(score(data.path(), "CVE-2022-1576"), 6.5);
    assert_eq!(
        watermark(data.path()),
        full_at.to_string(),
        "NVD's timestamp"
    );
    let state = fs::read_to_string(data.path().join("feeds/state.json")).unwrap();
    assert!(!state.contains(KEY), "the key is never stored");

    // Second sync: 300 days since, in 120-day windows, at most 2 requests per 400 ms.
    cfg.nvd.as_mut().unwrap().rate = RateLimit {
        requests: 2,
        per: Duration::from_millis(400),
    };
    let t = Instant::now();
    let r2 = run(data.path(), &cfg);
    let elapsed = t.elapsed();
    let o = nvd_ok(&r2);
    assert!(o.changed && o.records == 36, "{o:?}");
    let log = srv.take_log();
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(
        elapsed >= Duration::from_millis(400),
        "the third request waited for the window: {elapsed:?}"
    );
    let windows: Vec<(NvdTime, NvdTime)> = log
        .iter()
        .map(|h| {
            let q = query(&h.path[h.path.find('?').unwrap() + 1..]);
            (
                q["lastModStartDate"].parse().unwrap(),
                q["lastModEndDate"].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(windows[0].0, full_at, "starts at the watermark");
    for pair in windows.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "contiguous");
    }
    for (a, b) in &windows {
        assert!(*b <= a.add_days(i64::from(NVD_MAX_WINDOW_DAYS)));
    }
    assert!(log.iter().all(|h| h.api_key.as_deref() == Some(KEY)));
    assert_eq!(
        score(data.path(), "CVE-2022-1576"),
        8.1,
        "the newer record won"
    );
    let store = load_nvd(data.path()).unwrap().unwrap();
    assert_eq!(
        store.get("CVE-2022-1576").unwrap().last_modified,
        changed_at
    );
    assert_eq!(watermark(data.path()), windows[2].1.to_string());
}

#[test]
fn bad_nvd_pages_keep_the_old_store_and_watermark() {
    let Some(items) = sample_items("bad_nvd_pages_keep_the_old_store_and_watermark") else {
        return;
    };
    let srv = Server::start();
    let full_at = now().add_days(-30);
    srv.handle(NVD, handler(items, vec![], full_at.to_string()));
    let data = tempfile::tempdir().unwrap();
    let cfg = config(&srv);

    // The first download fails on its second page: nothing is written at all.
    let second = format!("{NVD}?resultsPerPage=2000&startIndex=20");
    srv.fault(
        &second,
        Fault::Body(b"<html>Request Rejected</html>".to_vec()),
    );
    let r = run(data.path(), &cfg);
    let e = err(&r, "nvd").to_string();
    assert!(e.contains(&srv.url(&second)), "{e}");
    assert!(e.contains("not an NVD CVE API 2.0 page"), "{e}");
    assert!(!e.contains(KEY) && !e.contains('\n'), "{e}");
    assert!(!nvd_file(data.path()).exists());
    assert!(patchpilot_feeds::load_state(data.path())
        .unwrap()
        .sources
        .is_empty());

    assert!(run(data.path(), &cfg).is_ok());
    let good = snapshot(data.path());
    assert!(good.contains_key(std::path::Path::new("feeds/nvd.json")));
    srv.take_log();
    let cases = [
        Fault::Body(b"{\"format\":\"NVD_CPE\"}".to_vec()),
        Fault::Body(
            br#"{"resultsPerPage":1,"startIndex":0,"totalResults":5,"format":"NVD_CVE","version":"2.0","timestamp":"2024-01-01T00:00:00","vulnerabilities":[]}"#
                .to_vec(),
        ),
        Fault::Status(404),
        Fault::Status(403),
    ];
    for fault in cases {
        let label = format!("{fault:?}");
        let forbidden = matches!(fault, Fault::Status(403));
        for _ in 0..if forbidden { 3 } else { 1 } {
            srv.fault(NVD, fault.clone());
        }
        let r = run(data.path(), &cfg);
        let e = err(&r, "nvd").to_string();
        assert!(e.contains(&srv.url(NVD)), "{label}: {e}");
        if forbidden {
            assert!(e.contains("403") && e.contains("after 3 attempts"), "{e}");
        }
        assert_eq!(snapshot(data.path()), good, "{label}: data changed");
        srv.take_log();
    }
}

#[test]
fn nvd_config_is_checked_and_the_key_stays_secret() {
    assert!(ApiKey::new("  ").is_none());
    let key = ApiKey::new("s3cret").unwrap();
    let cfg = Config {
        nvd: Some(NvdConfig::new(key)),
        ..Config::default()
    };
    assert!(cfg.validate().is_ok());
    assert!(!format!("{cfg:?}").contains("s3cret"));
    for broken in [
        |n: &mut NvdConfig| n.window_days = 121,
        |n: &mut NvdConfig| n.page_size = 0,
        |n: &mut NvdConfig| n.page_size = 2001,
        |n: &mut NvdConfig| n.rate.requests = 0,
        |n: &mut NvdConfig| n.url = "file:///etc/passwd".into(),
    ] {
        let mut c = cfg.clone();
        broken(c.nvd.as_mut().unwrap());
        assert!(c.validate().is_err(), "{c:?}");
    }
}

/// A store written before exploit references were kept (format version 1) is rebuilt by
/// the next sync: everything again, without dates, into a new store that has them.
#[test]
fn an_old_format_nvd_store_is_rebuilt_with_exploit_references() {
    let Some(items) = sample_items("an_old_format_nvd_store_is_rebuilt_with_exploit_references")
    else {
        return;
    };
    let full_at = now().add_days(-30);
    let srv = Server::start();
    srv.handle(NVD, handler(items, vec![], full_at.to_string()));
    let data = tempfile::tempdir().unwrap();
    let cfg = config(&srv);
    assert!(run(data.path(), &cfg).is_ok());
    let store = load_nvd(data.path()).unwrap().unwrap();
    assert!(store.is_current());
    let xss = store.get("CVE-2023-3706").unwrap();
    assert_eq!(
        xss.exploits,
        ["https://wpscan.com/vulnerability/daa4d93a-f8b1-4809-a18e-8ab63a05de5a"]
    );
    srv.take_log();

    // As an older build wrote it: version 1, no exploit references.
    let mut old = store.clone();
    old.version = 1;
    for r in old.records.values_mut() {
        r.exploits.clear();
    }
    fs::write(nvd_file(data.path()), old.to_json()).unwrap();
    assert!(!load_nvd(data.path()).unwrap().unwrap().is_current());

    let r = run(data.path(), &cfg);
    assert_eq!(nvd_ok(&r).records, 36);
    let log = srv.take_log();
    assert!(
        log.iter().all(|h| !h.path.contains("lastModStartDate")),
        "a full pull, not an increment: {log:?}"
    );
    let rebuilt = load_nvd(data.path()).unwrap().unwrap();
    assert!(rebuilt.is_current());
    assert_eq!(rebuilt.records, store.records);
}
