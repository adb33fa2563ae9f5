//! Reading a perfcore endpoint: `GET /snapshot.json` and `GET /observations.json` with a
//! small HTTP/1.1 client on std's sockets (no body limit: a snapshot of thousands of
//! functions runs to megabytes).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::TopError;
use crate::monitor::{MetricKind, Observation};
use crate::stats::Snapshot;

/// A base URL taken apart: `http://host[:port]`, with any path (`/metrics`) dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The host as written (an IPv6 address keeps its brackets).
    host: String,
    port: u16,
    /// The base path the routes go under, without a trailing `/` (empty for the root).
    base: String,
}

impl Endpoint {
    /// Parses `http://host[:port][/prefix][/metrics]` (the scheme may be left out), with the
    /// monitor's URL reader (the one webhooks and pushes use).
    pub(crate) fn parse(url: &str) -> Result<Self, TopError> {
        let bad =
            |reason: &str| TopError::InvalidUrl { url: url.to_owned(), reason: reason.to_owned() };
        let trimmed = url.trim();
        let with_scheme =
            if trimmed.contains("://") { trimmed.to_owned() } else { format!("http://{trimmed}") };
        let parsed = crate::monitor::http::HttpUrl::parse(&with_scheme).map_err(|e| match e {
            crate::monitor::MonitorError::InvalidUrl { reason, .. } => bad(&reason),
            other => bad(&other.to_string()),
        })?;
        let path = parsed.path.split(['?', '#']).next().unwrap_or("");
        let base = path.trim_end_matches('/');
        let base = base.strip_suffix("/metrics").unwrap_or(base).trim_end_matches('/');
        Ok(Self { host: parsed.host, port: parsed.port, base: base.to_owned() })
    }

    /// `http://host:port/base`, as shown in the header and messages.
    pub(crate) fn display(&self) -> String {
        format!("http://{}:{}{}", self.host, self.port, self.base)
    }

    /// GETs `route` (`/snapshot.json`) within `timeout`: the status and the body.
    fn get(&self, route: &str, timeout: Duration) -> Result<(u16, Vec<u8>), String> {
        let deadline = Instant::now() + timeout;
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<_> = (host, self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.host))?
            .collect();
        let mut last = String::from("no address");
        let mut stream = None;
        for addr in addrs {
            let left =
                deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = e.to_string(),
            }
        }
        let mut stream = stream.ok_or(last)?;
        let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        stream.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
        stream.set_write_timeout(Some(left)).map_err(|e| e.to_string())?;
        let request = format!(
            "GET {}{route} HTTP/1.1\r\nHost: {}:{}\r\nAccept: application/json\r\nUser-Agent: perfcore-top\r\nConnection: close\r\n\r\n",
            self.base, self.host, self.port
        );
        stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
        let mut raw = Vec::with_capacity(64 << 10);
        let mut chunk = [0u8; 64 << 10];
        // Once the headers are in: the answer's whole length, if it has a Content-Length.
        let mut head: Option<Option<usize>> = None;
        loop {
            if Instant::now() > deadline {
                return Err(format!("no complete answer within {timeout:?}"));
            }
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    raw.extend_from_slice(&chunk[..n]);
                    if raw.len() > MAX_ANSWER {
                        return Err(format!("the answer is over {} MiB", MAX_ANSWER >> 20));
                    }
                    // The headers are read once; then only the length is compared.
                    if head.is_none() {
                        head = answer_length(&raw);
                    }
                    if let Some(Some(total)) = head
                        && raw.len() >= total
                    {
                        return parse_response(&raw, false);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(format!("no complete answer within {timeout:?}"));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        parse_response(&raw, true)
    }

    /// One refresh: the snapshot, and the observations (none when the endpoint has no
    /// `/observations.json`, an older perfcore).
    pub(crate) fn fetch(&self, timeout: Duration) -> Result<(Snapshot, Vec<Observation>), String> {
        let (status, body) = self.get("/snapshot.json", timeout)?;
        if status != 200 {
            return Err(format!(
                "GET {}/snapshot.json answered {status}{}",
                self.base,
                if status == 404 {
                    " (not a perfcore endpoint, or one without JSON routes)"
                } else {
                    ""
                }
            ));
        }
        let text = String::from_utf8_lossy(&body);
        let snapshot =
            Snapshot::from_json(&text).map_err(|e| format!("bad /snapshot.json: {e}"))?;
        let observations = match self.get("/observations.json", timeout)? {
            (200, body) => parse_observations(&String::from_utf8_lossy(&body))
                .map_err(|e| format!("bad /observations.json: {e}"))?,
            _ => Vec::new(),
        };
        Ok((snapshot, observations))
    }
}

/// The most of an answer read (a snapshot of many thousand functions is tens of MiB).
const MAX_ANSWER: usize = 512 << 20;

/// `None` while the headers are incomplete; then the whole answer's length (headers and
/// body) when it has a `Content-Length`, `Some(None)` when it has none (read to the close).
fn answer_length(raw: &[u8]) -> Option<Option<usize>> {
    let end = find(&raw[..raw.len().min(64 << 10)], b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    Some(head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok().map(|n| end + 4 + n))?
    }))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses an answer: status line, headers, a body by `Content-Length`, chunks, or up to
/// the close.
fn parse_response(raw: &[u8], closed: bool) -> Result<(u16, Vec<u8>), String> {
    let end = find(raw, b"\r\n\r\n").ok_or("the answer is not HTTP (no end of headers)")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|s| s.get(2..5))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("the answer is not HTTP: {status_line:?}"))?;
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    let body = &raw[end + 4..];
    if let Some(length) = header("content-length") {
        let n: usize = length.parse().map_err(|_| format!("bad Content-Length {length:?}"))?;
        if body.len() < n {
            return Err(format!("the answer ended after {} of {n} bytes", body.len()));
        }
        return Ok((status, body[..n].to_vec()));
    }
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        return dechunk(body).map(|b| (status, b));
    }
    if !closed {
        return Err("the answer has no length".to_owned());
    }
    Ok((status, body.to_vec()))
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = find(body, b"\r\n").ok_or("a chunk size line is cut")?;
        let size_text = String::from_utf8_lossy(&body[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        body = &body[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size {
            return Err("a chunk is cut".to_owned());
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or(&[]);
    }
}

/// The `/observations.json` document.
#[derive(serde::Deserialize)]
struct Document {
    observations: Vec<Entry>,
}

#[derive(serde::Deserialize)]
struct Entry {
    name: String,
    #[serde(default)]
    help: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    /// `null` for a value JSON cannot hold (NaN).
    #[serde(default)]
    value: Option<f64>,
}

/// Reads `{"observations":[{"name":…,"kind":"gauge","help":…,"labels":{…},"value":…}]}`.
pub(crate) fn parse_observations(json: &str) -> Result<Vec<Observation>, serde_json::Error> {
    let doc: Document = serde_json::from_str(json)?;
    Ok(doc
        .observations
        .into_iter()
        .map(|e| Observation {
            name: Cow::Owned(e.name),
            help: Cow::Owned(e.help),
            kind: if e.kind.as_deref() == Some("counter") {
                MetricKind::Counter
            } else {
                MetricKind::Gauge
            },
            labels: e.labels.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect(),
            value: e.value.unwrap_or(f64::NAN),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::TcpListener;

    #[test]
    fn parses_base_urls_and_strips_metrics() {
        let e = Endpoint::parse("http://127.0.0.1:9464/metrics").unwrap();
        assert_eq!(e.display(), "http://127.0.0.1:9464");
        let e = Endpoint::parse("127.0.0.1:9464").unwrap();
        assert_eq!(e.display(), "http://127.0.0.1:9464");
        let e = Endpoint::parse("http://[::1]:80/app/metrics/").unwrap();
        assert_eq!(e.display(), "http://[::1]:80/app");
        assert_eq!(Endpoint::parse("http://host").unwrap().port, 80);
        for bad in [
            "https://x:1",
            "ftp://x",
            "http://:1",
            "http://x:0",
            "http://x:99999",
            "http://u@x:1",
            "http://[::1",
        ] {
            let err = Endpoint::parse(bad).unwrap_err();
            assert!(matches!(err, TopError::InvalidUrl { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn reads_content_length_chunked_and_closed_answers() {
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", false).unwrap(),
            (200, b"hi".to_vec())
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n1\r\n!\r\n0\r\n\r\n", true).unwrap(),
            (200, b"hi!".to_vec())
        );
        assert_eq!(
            parse_response(b"HTTP/1.0 404 Not Found\r\n\r\nno", true).unwrap(),
            (404, b"no".to_vec())
        );
        assert!(parse_response(b"garbage", true).is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhi", true).is_err());
    }

    #[test]
    fn the_length_is_known_once_the_headers_are_in() {
        assert_eq!(answer_length(b"HTTP/1.1 200 OK\r\nContent-Len"), None);
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(answer_length(head), Some(Some(head.len() + 2)));
        assert_eq!(answer_length(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody"), Some(None));
    }

    #[test]
    fn reads_observations_in_the_endpoint_shape() {
        let obs = parse_observations(
            r#"{"observations":[{"name":"system_cpu_utilization_ratio","kind":"gauge","help":"CPU.","labels":{},"value":0.42},
                {"name":"alerts","kind":"gauge","help":"","labels":{"alertname":"cpu","alertstate":"firing","severity":"critical"},"value":1},
                {"name":"hits_total","kind":"counter","labels":{"cache":"users"},"value":null}]}"#,
        )
        .unwrap();
        assert_eq!(obs.len(), 3);
        assert_eq!(obs[0].value, 0.42);
        assert_eq!(obs[1].label_value("alertstate"), Some("firing"));
        assert_eq!(obs[2].kind, MetricKind::Counter);
        assert!(obs[2].value.is_nan());
        assert!(parse_observations("{}").is_err());
    }

    #[test]
    fn fetches_from_a_server_and_reports_a_refused_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let p = crate::PerformanceProfiler::new();
        {
            let _g = p.scope("served").unwrap();
        }
        let json = p.snapshot().to_json();
        let server = std::thread::spawn(move || {
            for (i, stream) in listener.incoming().take(2).enumerate() {
                let mut s = stream.unwrap();
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).unwrap();
                let body = if i == 0 { json.clone() } else { r#"{"observations":[]}"#.to_owned() };
                // The snapshot answer is close-delimited, the other has a length.
                let head = if i == 0 {
                    "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_owned()
                } else {
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
                };
                s.write_all(head.as_bytes()).unwrap();
                s.write_all(body.as_bytes()).unwrap();
            }
        });
        let e = Endpoint::parse(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
        let (snap, obs) = e.fetch(Duration::from_secs(5)).unwrap();
        assert_eq!(snap.function("served").unwrap().count, 1);
        assert!(obs.is_empty());
        server.join().unwrap();
        // Nothing listens there any more.
        let err = e.fetch(Duration::from_secs(2)).unwrap_err();
        assert!(!err.is_empty());
    }

    proptest! {
        #[test]
        fn random_answers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), closed: bool) {
            let _ = parse_response(&bytes, closed);
            let _ = answer_length(&bytes);
            let _ = dechunk(&bytes);
        }

        #[test]
        fn random_urls_never_panic(url in "(http|https)?(://)?[a-z0-9:\\[\\]/?@. ]{0,30}") {
            let _ = Endpoint::parse(&url);
        }
    }
}
