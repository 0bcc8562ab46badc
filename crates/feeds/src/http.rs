//! One download: conditional GET, bounded retries with exponential backoff, resume into a
//! `.part` file, a size cap.
//!
//! The body always goes to `<target>.part`; a sidecar `<target>.part.meta` (JSON) holds the
//! URL and the validators (ETag, Last-Modified) of the response the bytes came from. It is
//! written before the first body byte, so even a killed process leaves a resumable part.
//! A resume sends `Range: bytes=N-` with `If-Range: <validator>`: the server answers 206 with
//! the rest when the file is unchanged, or 200 with the whole new file, and both work. A
//! part without a strong validator is never resumed (the bytes could belong to another
//! version). The caller validates the complete part and renames it into place; nothing
//! here touches the target itself.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Config, FeedError, Progress};

/// Validators of one version of a remote file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }

    /// The value for `If-Range`: a strong ETag, else Last-Modified (RFC 9110 §13.1.5).
    fn if_range(&self) -> Option<&str> {
        match &self.etag {
            Some(e) if !e.starts_with("W/") => Some(e),
            _ => self.last_modified.as_deref(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct PartMeta {
    url: String,
    #[serde(flatten)]
    validators: Validators,
}

/// What a download produced.
#[derive(Debug)]
pub(crate) enum Fetch {
    /// 304: the local copy is current; nothing was transferred.
    NotModified,
    /// The complete body is in `part`.
    Complete {
        part: PathBuf,
        validators: Validators,
        /// Body bytes transferred by this call (all attempts).
        transferred: u64,
        /// Set when the completing request continued a part of this many bytes.
        resumed_from: Option<u64>,
    },
}

/// Per-request extras: headers (an API key) and statuses that mean "slow down" for this
/// source (NVD answers 403 when a client goes over its rate limit).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Extra<'a> {
    pub headers: &'a [(&'a str, &'a str)],
    pub retry_on: &'a [u16],
}

pub(crate) struct Client {
    agent: ureq::Agent,
    retries: u32,
    backoff: Duration,
    backoff_max: Duration,
    max_bytes: u64,
}

/// Why one attempt failed, and whether another attempt may help.
enum Failure {
    Retry(String),
    Fatal(FeedError),
}

pub(crate) fn part_path(target: &Path) -> PathBuf {
    let mut s = target.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

fn meta_path(part: &Path) -> PathBuf {
    let mut s = part.as_os_str().to_owned();
    s.push(".meta");
    PathBuf::from(s)
}

/// Remove a part file and its sidecar; missing files are fine.
pub(crate) fn discard_part(part: &Path) {
    let _ = fs::remove_file(part);
    let _ = fs::remove_file(meta_path(part));
}

/// Delay before retry number `attempt` (0-based): `base * 2^attempt`, capped.
pub(crate) fn backoff_delay(base: Duration, max: Duration, attempt: u32) -> Duration {
    base.saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
        .min(max)
}

/// The first byte position of a `Content-Range: bytes FIRST-LAST/TOTAL` header.
pub(crate) fn content_range_start(value: &str) -> Option<u64> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (first, _) = rest.split_once('-')?;
    first.trim().parse().ok()
}

impl Client {
    pub(crate) fn new(cfg: &Config) -> Client {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(cfg.timeout)
            .timeout_read(cfg.timeout)
            .timeout_write(cfg.timeout)
            .user_agent(concat!("patchpilot/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent,
            retries: cfg.retries,
            backoff: cfg.backoff,
            backoff_max: cfg.backoff_max,
            max_bytes: cfg.max_bytes,
        }
    }

    /// Download `url` into `part`. `known` are the validators of the copy we hold (sent as
    /// `If-None-Match` / `If-Modified-Since`); `None` forces a full transfer.
    pub(crate) fn download(
        &self,
        source: &str,
        url: &str,
        part: &Path,
        known: Option<&Validators>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Fetch, FeedError> {
        self.download_with(source, url, part, known, Extra::default(), progress)
    }

    /// [`Client::download`] with extra headers and retryable statuses.
    pub(crate) fn download_with(
        &self,
        source: &str,
        url: &str,
        part: &Path,
        known: Option<&Validators>,
        extra: Extra<'_>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Fetch, FeedError> {
        let mut transferred = 0u64;
        let mut attempt = 0u32;
        loop {
            match self.attempt(source, url, part, known, extra, progress, &mut transferred) {
                Ok(Some((validators, resumed_from))) => {
                    let _ = fs::remove_file(meta_path(part));
                    return Ok(Fetch::Complete {
                        part: part.to_path_buf(),
                        validators,
                        transferred,
                        resumed_from,
                    });
                }
                Ok(None) => return Ok(Fetch::NotModified),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Retry(reason)) => {
                    if attempt >= self.retries {
                        return Err(FeedError::Http {
                            url: url.to_string(),
                            reason: format!("{reason} (after {} attempts)", attempt + 1),
                        });
                    }
                    std::thread::sleep(backoff_delay(self.backoff, self.backoff_max, attempt));
                    attempt += 1;
                }
            }
        }
    }

    /// The bytes already in `part` that a resume may continue, with the `If-Range` value.
    fn resumable(url: &str, part: &Path) -> Option<(u64, String)> {
        let len = fs::metadata(part).ok()?.len();
        let meta: PartMeta = serde_json::from_slice(&fs::read(meta_path(part)).ok()?).ok()?;
        if len == 0 || meta.url != url {
            return None;
        }
        Some((len, meta.validators.if_range()?.to_string()))
    }

    /// One request. `Ok(None)` is a 304; `Ok(Some)` a complete part.
    #[allow(clippy::type_complexity, clippy::too_many_arguments)]
    fn attempt(
        &self,
        source: &str,
        url: &str,
        part: &Path,
        known: Option<&Validators>,
        extra: Extra<'_>,
        progress: &mut dyn FnMut(Progress<'_>),
        transferred: &mut u64,
    ) -> Result<Option<(Validators, Option<u64>)>, Failure> {
        let fatal = |reason: String| {
            Failure::Fatal(FeedError::Http {
                url: url.to_string(),
                reason,
            })
        };
        let io = |path: &Path, error: std::io::Error| {
            Failure::Fatal(FeedError::Io {
                path: path.to_path_buf(),
                error,
            })
        };
        let resume = Self::resumable(url, part);
        if resume.is_none() {
            discard_part(part);
        }
        let mut req = self.agent.get(url);
        for (name, value) in extra.headers {
            req = req.set(name, value);
        }
        if let Some((offset, if_range)) = &resume {
            req = req
                .set("Range", &format!("bytes={offset}-"))
                .set("If-Range", if_range);
        } else if let Some(v) = known {
            if let Some(e) = &v.etag {
                req = req.set("If-None-Match", e);
            }
            if let Some(lm) = &v.last_modified {
                req = req.set("If-Modified-Since", lm);
            }
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(code, _))
                if code >= 500 || code == 429 || extra.retry_on.contains(&code) =>
            {
                return Err(Failure::Retry(format!("HTTP status {code}")));
            }
            Err(ureq::Error::Status(416, _)) if resume.is_some() => {
                // Our part is not a prefix of what the server has now: start over.
                discard_part(part);
                return Err(Failure::Retry("HTTP status 416 on resume".into()));
            }
            Err(ureq::Error::Status(code, _)) => {
                return Err(Failure::Fatal(FeedError::Status {
                    url: url.to_string(),
                    status: code,
                }));
            }
            Err(ureq::Error::Transport(t)) => return Err(Failure::Retry(t.to_string())),
        };
        let header = |name: &str| resp.header(name).map(str::to_string);
        let validators = Validators {
            etag: header("ETag"),
            last_modified: header("Last-Modified"),
        };
        let (append_at, resumed) = match (resp.status(), &resume) {
            (304, None) if known.is_some() => return Ok(None),
            (200, _) => (0, None),
            (206, Some((offset, _))) => {
                let start = resp.header("Content-Range").and_then(content_range_start);
                if start != Some(*offset) {
                    discard_part(part);
                    return Err(Failure::Retry(format!(
                        "HTTP 206 for the wrong range ({:?}, wanted {offset})",
                        resp.header("Content-Range")
                    )));
                }
                (*offset, Some(*offset))
            }
            (code, _) => return Err(fatal(format!("unexpected HTTP status {code}"))),
        };
        let expected: Option<u64> = resp
            .header("Content-Length")
            .and_then(|v| v.trim().parse().ok());
        let total = expected.map(|n| n.saturating_add(append_at));
        if let Some(t) = total {
            if t > self.max_bytes {
                discard_part(part);
                return Err(Failure::Fatal(FeedError::TooLarge {
                    url: url.to_string(),
                    limit: self.max_bytes,
                }));
            }
        }

        // Record where the bytes come from before the first byte lands.
        let meta = PartMeta {
            url: url.to_string(),
            validators: validators.clone(),
        };
        let meta_file = meta_path(part);
        let meta_json = serde_json::to_vec(&meta).map_err(|e| fatal(e.to_string()))?;
        fs::write(&meta_file, meta_json).map_err(|e| io(&meta_file, e))?;
        let mut file = if append_at > 0 {
            fs::OpenOptions::new().append(true).open(part)
        } else {
            fs::File::create(part)
        }
        .map_err(|e| io(part, e))?;

        let mut reader = resp.into_reader();
        let mut buf = vec![0u8; 64 * 1024];
        let mut done = append_at;
        progress(Progress::Download {
            source,
            done,
            total,
        });
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = file.sync_all();
                    return Err(Failure::Retry(format!(
                        "download interrupted at byte {done}: {e}"
                    )));
                }
            };
            done += n as u64;
            *transferred += n as u64;
            if done > self.max_bytes {
                drop(file);
                discard_part(part);
                return Err(Failure::Fatal(FeedError::TooLarge {
                    url: url.to_string(),
                    limit: self.max_bytes,
                }));
            }
            file.write_all(&buf[..n]).map_err(|e| io(part, e))?;
            progress(Progress::Download {
                source,
                done,
                total,
            });
        }
        if let Some(t) = total {
            if done != t {
                let _ = file.sync_all();
                return Err(Failure::Retry(format!(
                    "download ended at byte {done} of {t}"
                )));
            }
        }
        file.sync_all().map_err(|e| io(part, e))?;
        Ok(Some((validators, resumed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let ms = Duration::from_millis;
        let cases = [
            (0, 100),
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1000),
            (40, 1000),
        ];
        for (attempt, want) in cases {
            assert_eq!(
                backoff_delay(ms(100), ms(1000), attempt),
                ms(want),
                "{attempt}"
            );
        }
    }

    #[test]
    fn content_range_start_parses() {
        let cases = [
            ("bytes 100-199/200", Some(100)),
            ("bytes 0-0/1", Some(0)),
            ("bytes  7-9/*", Some(7)),
            ("bytes */200", None),
            ("items 1-2/3", None),
            ("", None),
        ];
        for (v, want) in cases {
            assert_eq!(content_range_start(v), want, "{v}");
        }
    }

    #[test]
    fn if_range_prefers_a_strong_etag() {
        let v = |e: Option<&str>, lm: Option<&str>| Validators {
            etag: e.map(str::to_string),
            last_modified: lm.map(str::to_string),
        };
        let date = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(v(Some("\"a\""), Some(date)).if_range(), Some("\"a\""));
        assert_eq!(v(Some("W/\"a\""), Some(date)).if_range(), Some(date));
        assert_eq!(v(Some("W/\"a\""), None).if_range(), None);
        assert_eq!(v(None, None).if_range(), None);
    }
}
