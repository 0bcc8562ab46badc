//! A tiny HTTP/1.1 file server on 127.0.0.1:0 for feed-sync tests: ETag / If-None-Match,
//! Last-Modified / If-Modified-Since, `Range: bytes=N-` with If-Range, OSV records served
//! out of an `all.zip` on the fly, answers computed from the query string (an API's pages),
//! a log of every request, and injectable faults.
//! One connection at a time, `Connection: close` on every response.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Cursor, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the next request for a path gets instead of the normal answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and no body.
    Status(u16),
    /// Send the headers of the normal answer, then only this many body bytes, then close.
    DropAfter(usize),
    /// A complete 200 answer with this body (and its own ETag).
    Body(Vec<u8>),
    /// A complete 200 answer with only the first bytes of the file (a broken mirror).
    Truncate(usize),
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub status: u16,
    pub range: Option<String>,
    pub if_range: Option<String>,
    pub if_none_match: Option<String>,
    /// The `apiKey` header (NVD).
    pub api_key: Option<String>,
    /// Body bytes written.
    pub bytes: usize,
}

#[derive(Clone)]
struct Resource {
    body: Arc<Vec<u8>>,
    etag: String,
    last_modified: String,
}

/// Computes a body from a query string; `None` is a 404.
pub type Handler = Arc<dyn Fn(&str) -> Option<Vec<u8>> + Send + Sync>;

#[derive(Default)]
struct Inner {
    files: HashMap<String, Resource>,
    /// Path without query → handler of the query.
    handlers: HashMap<String, Handler>,
    /// `/osv/<ECO>/` → an all.zip to serve `<id>.json` from.
    record_zips: HashMap<String, Arc<Vec<u8>>>,
    faults: HashMap<String, VecDeque<Fault>>,
    log: Vec<Hit>,
    version: u32,
}

pub struct Server {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// FNV-1a: a content hash for ETags.
fn etag_of(body: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in body {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}-{}\"", body.len())
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let inner = Arc::new(Mutex::new(Inner::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (i, s) = (inner.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = conn {
                    let _ = handle(stream, &i);
                }
            }
        });
        Server {
            addr,
            inner,
            stop,
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serve `body` at `path`; a new body gets a new ETag and Last-Modified.
    pub fn put(&self, path: &str, body: Vec<u8>) {
        let mut g = self.inner.lock().unwrap();
        g.version += 1;
        let last_modified = format!(
            "Mon, 01 Jan 2024 {:02}:{:02}:00 GMT",
            g.version / 60 % 24,
            g.version % 60
        );
        let etag = etag_of(&body);
        g.files.insert(
            path.to_string(),
            Resource {
                body: Arc::new(body),
                etag,
                last_modified,
            },
        );
    }

    pub fn etag(&self, path: &str) -> Option<String> {
        let g = self.inner.lock().unwrap();
        g.files.get(path).map(|r| r.etag.clone())
    }

    /// Answer every request for `path` (any query) with what `handler` makes of the query.
    pub fn handle(&self, path: &str, handler: Handler) {
        let mut g = self.inner.lock().unwrap();
        g.handlers.insert(path.to_string(), handler);
    }

    /// Serve `<prefix><id>.json` from the entries of this zip.
    pub fn records_from(&self, prefix: &str, zip: Vec<u8>) {
        let mut g = self.inner.lock().unwrap();
        g.record_zips.insert(prefix.to_string(), Arc::new(zip));
    }

    /// Queue `fault` for the next request of `path`: exactly that path and query, or any
    /// query when `path` has none and nothing is queued for the exact one.
    pub fn fault(&self, path: &str, fault: Fault) {
        let mut g = self.inner.lock().unwrap();
        g.faults
            .entry(path.to_string())
            .or_default()
            .push_back(fault);
    }

    /// The requests so far, and forget them.
    pub fn take_log(&self) -> Vec<Hit> {
        std::mem::take(&mut self.inner.lock().unwrap().log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn record_from_zip(zip: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).ok()?;
    let mut entry = archive.by_name(name).ok()?;
    let mut out = Vec::new();
    entry.read_to_end(&mut out).ok()?;
    Some(out)
}

fn handle(mut stream: TcpStream, inner: &Mutex<Inner>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let mut headers: HashMap<String, String> = HashMap::new();
    for _ in 0..100 {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }

    let (base, query) = path.split_once('?').unwrap_or((path.as_str(), ""));
    let (fault, resource) = {
        let mut g = inner.lock().unwrap();
        let mut fault = g.faults.get_mut(&path).and_then(VecDeque::pop_front);
        if fault.is_none() && base != path {
            fault = g.faults.get_mut(base).and_then(VecDeque::pop_front);
        }
        let mut resource = g.files.get(&path).cloned();
        if resource.is_none() {
            if let Some(h) = g.handlers.get(base).cloned() {
                resource = h(query).map(|body| Resource {
                    etag: etag_of(&body),
                    body: Arc::new(body),
                    last_modified: "Mon, 01 Jan 2024 00:00:00 GMT".into(),
                });
            }
        }
        if resource.is_none() {
            let found = g.record_zips.iter().find_map(|(prefix, zip)| {
                let id_json = path.strip_prefix(prefix.as_str())?;
                record_from_zip(zip, id_json)
            });
            resource = found.map(|body| Resource {
                etag: etag_of(&body),
                body: Arc::new(body),
                last_modified: "Mon, 01 Jan 2024 00:00:00 GMT".into(),
            });
        }
        (fault, resource)
    };

    let mut hit = Hit {
        path: path.clone(),
        status: 0,
        range: headers.get("range").cloned(),
        if_range: headers.get("if-range").cloned(),
        if_none_match: headers.get("if-none-match").cloned(),
        api_key: headers.get("apikey").cloned(),
        bytes: 0,
    };
    let mut drop_after = None;
    let (status, body, etag, last_modified, content_range) = match (fault, resource) {
        (Some(Fault::Status(code)), _) => (code, Vec::new().into(), None, None, None),
        (Some(Fault::Body(b)), _) => {
            let e = etag_of(&b);
            (200, Arc::new(b), Some(e), None, None)
        }
        (Some(Fault::Truncate(n)), Some(r)) => {
            let b = r.body[..n.min(r.body.len())].to_vec();
            let e = etag_of(&b);
            (200, Arc::new(b), Some(e), None, None)
        }
        (_, None) => (404, Vec::new().into(), None, None, None),
        (fault, Some(r)) => {
            if let Some(Fault::DropAfter(n)) = fault {
                drop_after = Some(n);
            }
            let validator_ok = |v: &str| v == r.etag || v == r.last_modified;
            let range_start = headers
                .get("range")
                .and_then(|v| v.strip_prefix("bytes="))
                .and_then(|v| v.strip_suffix('-'))
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|_| headers.get("if-range").is_none_or(|v| validator_ok(v)));
            let etag = Some(r.etag.clone());
            let lm = Some(r.last_modified.clone());
            if !headers.contains_key("range")
                && (headers.get("if-none-match") == Some(&r.etag)
                    || (!headers.contains_key("if-none-match")
                        && headers.get("if-modified-since") == Some(&r.last_modified)))
            {
                (304, Vec::new().into(), etag, lm, None)
            } else if let Some(start) = range_start {
                let len = r.body.len();
                if start >= len {
                    (
                        416,
                        Vec::new().into(),
                        etag,
                        lm,
                        Some(format!("bytes */{len}")),
                    )
                } else {
                    let part = r.body[start..].to_vec();
                    let cr = format!("bytes {start}-{}/{len}", len - 1);
                    (206, Arc::new(part), etag, lm, Some(cr))
                }
            } else {
                (200, r.body.clone(), etag, lm, None)
            }
        }
    };

    let reason = match status {
        200 => "OK",
        206 => "Partial Content",
        304 => "Not Modified",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head =
        format!("HTTP/1.1 {status} {reason}\r\nConnection: close\r\nAccept-Ranges: bytes\r\n");
    if let Some(e) = etag {
        head.push_str(&format!("ETag: {e}\r\n"));
    }
    if let Some(lm) = last_modified {
        head.push_str(&format!("Last-Modified: {lm}\r\n"));
    }
    if let Some(cr) = content_range {
        head.push_str(&format!("Content-Range: {cr}\r\n"));
    }
    if status != 304 {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let send = if status == 304 {
        0
    } else {
        drop_after.unwrap_or(body.len()).min(body.len())
    };
    hit.bytes = send;
    hit.status = status;
    // Logged before the client can see the end of the answer, so tests never race it.
    inner.lock().unwrap().log.push(hit);
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body[..send])?;
    stream.flush()?;
    let _ = stream.shutdown(Shutdown::Both);
    Ok(())
}
