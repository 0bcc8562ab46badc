//! `patchpilot server` and `patchpilot agent` as processes, for what only a process
//! shows: 15,000 stalled connections held and closed (both ends of them would not fit
//! in one process's file limit), and the log lines on stderr (lifecycle, `RUST_LOG`, no
//! colour codes when stderr is not a terminal).

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::support::bin;

const ADMIN: &str = "conn-admin-0123456789abcdef0123456789abcdef";

/// A child process whose stderr lines arrive on a channel as they are written.
struct Logged {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    /// Every line so far.
    seen: Vec<String>,
}

impl Logged {
    fn spawn(cmd: &mut Command) -> Logged {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn patchpilot");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            let mut r = std::io::BufReader::new(stderr);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        // Lossy: an ESC byte survives, which is what the tests look for.
                        let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                        if tx.send(line).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Logged {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Wait for a line that contains `needle`; fails after `secs` or when the process
    /// closes stderr first.
    async fn wait_for(&mut self, needle: &str, secs: u64) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Ok(None) => panic!(
                    "stderr closed before a line with {needle:?}:\n{}",
                    self.seen.join("\n")
                ),
                Err(_) => panic!(
                    "no line with {needle:?} within {secs} s:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Everything written so far, after the process ended.
    fn finish(mut self) -> Vec<String> {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `patchpilot server` on 127.0.0.1:0 with SQLite in `dir`; returns it and its base URL.
async fn server(dir: &Path, extra: &[&str]) -> (Logged, String) {
    let data = dir.join("data");
    let mut cmd = bin();
    cmd.args(["--data-dir", &data.display().to_string(), "server"])
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .env(
            "PATCHPILOT_DATABASE_URL",
            format!("sqlite://{}", dir.join("server.db").display()),
        )
        .env("PATCHPILOT_BOOTSTRAP_TOKEN", ADMIN)
        .env_remove("RUST_LOG");
    let mut p = Logged::spawn(&mut cmd);
    let line = p.wait_for("listening on http://", 120).await;
    let base = line[line.find("http://").unwrap()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    (p, base)
}

fn no_escape_codes(who: &str, lines: &[String]) {
    let bad: Vec<_> = lines.iter().filter(|l| l.contains('\x1b')).collect();
    assert!(
        bad.is_empty(),
        "{who} wrote colour codes to a pipe: {bad:?}"
    );
}

/// The "Done when": 15,000 connections that each sent half a request head and
/// stalled are held at once while a normal request is served promptly, and the server
/// closes every one of them within 45 s. The server runs with the file limit it is
/// given (20,000 here, so its cap is 18,000) and a header timeout of 20 s: all 15,000
/// must be open before the first times out, and the last closed within 45 s of the
/// first, so opening them may take up to 20 s (12 s on a loaded 2-core machine). On the
/// old `axum::serve` they were never closed, and a few thousand more took the process to
/// its file limit (`accept error: Too many open files`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifteen_thousand_stalled_connections_are_closed_while_others_are_served() {
    const TEST: &str = "fifteen_thousand_stalled_connections_are_closed_while_others_are_served";
    const STALLED: usize = 15_000;
    // This process holds the client ends (and the other tests' files).
    let want = STALLED as u64 + 3_000;
    let (soft, hard) = rlimit::Resource::NOFILE.get().expect("getrlimit");
    if soft < want && hard >= want {
        rlimit::Resource::NOFILE
            .set(want, hard)
            .expect("raise the soft file limit");
    }
    if !patchpilot_testdata::require(
        TEST,
        soft >= want || hard >= want,
        &format!("the open-file limit {soft}/{hard} is below {want}"),
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (mut srv, base) = server(tmp.path(), &["--header-timeout-secs", "20"]).await;
    let cap_line = srv
        .seen
        .iter()
        .find(|l| l.contains("serving at most"))
        .cloned()
        .expect("the server logs its connection cap before it listens");
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let http = reqwest::Client::new();
    let gauge = |text: &str, name: &str| -> i64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics"))
    };
    let metrics = || async {
        http.get(format!("{base}/metrics"))
            .send()
            .await
            .expect("/metrics")
            .text()
            .await
            .unwrap()
    };
    let cap = gauge(&metrics().await, "patchpilot_http_connection_limit");
    assert!(cap >= STALLED as i64, "cap {cap}: {cap_line}");

    // Open them 512 at a time; each sends half a head and stalls.
    let t0 = Instant::now();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(512));
    let mut opening = tokio::task::JoinSet::new();
    for _ in 0..STALLED {
        let permit = slots.clone().acquire_owned().await.unwrap();
        opening.spawn(async move {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .await
                .expect("half a head");
            drop(permit);
            s
        });
    }
    let mut stalled = Vec::with_capacity(STALLED);
    while let Some(s) = opening.join_next().await {
        stalled.push(s.unwrap());
    }
    let opened = t0.elapsed();

    // Connections are accepted in the order they arrived: once this new one is
    // answered, every stalled one has been accepted.
    let t1 = Instant::now();
    let resp = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("a normal request is served");
    assert_eq!(resp.status(), 200);
    let served_in = t1.elapsed();
    let held = gauge(&metrics().await, "patchpilot_http_connections");
    assert!(
        held >= STALLED as i64,
        "only {held} connections held at once (opening took {opened:?})"
    );
    assert!(
        served_in < Duration::from_secs(5),
        "the normal request took {served_in:?}"
    );

    // The server closes every one within 45 s of the first stalling.
    let mut closing = tokio::task::JoinSet::new();
    for mut s in stalled {
        closing.spawn(async move {
            let mut buf = [0u8; 256];
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => Ok(()),
                Ok(n) => Err(String::from_utf8_lossy(&buf[..n]).into_owned()),
            }
        });
    }
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(45).saturating_sub(t0.elapsed());
    let mut closed = 0;
    while closed < STALLED {
        match tokio::time::timeout_at(deadline, closing.join_next()).await {
            Ok(Some(r)) => {
                if let Err(answer) = r.unwrap() {
                    panic!("a stalled connection got an answer: {answer:?}");
                }
                closed += 1;
            }
            Ok(None) => break,
            Err(_) => panic!(
                "{} of {STALLED} stalled connections still open 45 s after the first",
                STALLED - closed
            ),
        }
    }
    let all_closed = t0.elapsed();
    let m = metrics().await;
    let dropped = m
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "patchpilot_http_connections_closed_by_server_total{reason=\"header_timeout\"} ",
            )?
            .parse::<u64>()
            .ok()
        })
        .unwrap_or(0);
    assert!(dropped >= STALLED as u64, "{m}");
    eprintln!(
        "{STALLED} stalled connections: opened in {opened:.1?}, {held} held at once, a normal \
         request served in {served_in:.1?} meanwhile, all closed {all_closed:.1?} after the \
         first (header timeout 20 s); {cap_line}"
    );
    let resp = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200, "still serving afterwards");
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-TERM", &srv.child.id().to_string()])
            .status();
    }
    let status = srv.child.wait().unwrap();
    assert!(status.success(), "clean shutdown: {status}");
    no_escape_codes("the server", &srv.finish());
}

/// The agent says what it does on stderr (enrolled, reported, jobs, retrying against a
/// dead server), honours `RUST_LOG`, and neither it nor the server writes colour codes
/// into a pipe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_logs_its_lifecycle_without_colour_codes_and_honours_rust_log() {
    let tmp = tempfile::tempdir().unwrap();
    let (srv, base) = server(tmp.path(), &[]).await;
    let http = reqwest::Client::new();
    let post = |path: &'static str, body: serde_json::Value| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let r = http
                .post(format!("{base}{path}"))
                .bearer_auth(ADMIN)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let lock = tmp.path().join("Cargo.lock");
    std::fs::write(
        &lock,
        "version = 3\n\n[[package]]\nname = \"smallvec\"\nversion = \"0.6.9\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let agent = |name: &str, token: &str, rust_log: Option<&str>| {
        let mut cmd = bin();
        cmd.args(["--data-dir", &tmp.path().join("d").display().to_string()])
            .args(["agent", "--server", &base])
            .args(["--state-dir", &tmp.path().join(name).display().to_string()])
            .args(["--enroll-token", token, "--name", name, "--no-os"])
            .args(["--path", &lock.display().to_string()])
            .args(["--heartbeat-secs", "1", "--collect-secs", "1"]);
        match rust_log {
            Some(l) => cmd.env("RUST_LOG", l),
            None => cmd.env_remove("RUST_LOG"),
        };
        Logged::spawn(&mut cmd)
    };
    let enroll_token = |name: &'static str| async move {
        let (s, t) = post(
            "/api/v1/tokens",
            serde_json::json!({"name": name, "role": "enroll"}),
        )
        .await;
        assert_eq!(s, 201, "{t}");
        t["token"].as_str().unwrap().to_string()
    };

    // RUST_LOG=warn: the agent enrols and reports, and says nothing about it.
    let quiet_token = enroll_token("quiet").await;
    let quiet = agent("quiet-host", &quiet_token, Some("warn"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let assets: serde_json::Value = http
            .get(format!("{base}/api/v1/assets"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let reported = assets
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "quiet-host" && a["current_snapshot"].is_i64());
        if reported {
            break;
        }
        assert!(Instant::now() < deadline, "the quiet agent did not report");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let quiet_lines = quiet.finish();
    assert!(
        !quiet_lines.iter().any(|l| l.contains("INFO")),
        "RUST_LOG=warn still logged info lines: {quiet_lines:?}"
    );

    // The default (info): every step of its life.
    let token = enroll_token("loud").await;
    let mut a = agent("loud-host", &token, None);
    let enrolled = a.wait_for("enrolled as asset", 60).await;
    let id: i64 = enrolled
        .split("enrolled as asset ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no asset id in {enrolled:?}"));
    a.wait_for("agent started for asset", 30).await;
    let reported = a.wait_for("reported 1 packages: snapshot", 30).await;
    assert!(reported.contains("+1 -0"), "{reported}");
    let (s, job) = post(
        "/api/v1/jobs",
        serde_json::json!({"asset_id": id, "kind": "rescan", "payload": {}}),
    )
    .await;
    assert_eq!(s, 201, "{job}");
    let jid = job["id"].as_i64().unwrap();
    a.wait_for(&format!("job {jid} (rescan) claimed"), 60).await;
    a.wait_for(&format!("job {jid} (rescan) finished: succeeded"), 60)
        .await;
    // The server goes away: the agent says it retries, and when.
    no_escape_codes("the server", &srv.finish());
    let retry = a.wait_for("retrying in", 30).await;
    assert!(retry.contains("cannot reach"), "{retry}");
    no_escape_codes("the agent", &a.finish());
}
