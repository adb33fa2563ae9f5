//! The metrics endpoint: a small HTTP/1.1 server on a background thread that answers
//! `GET /metrics` with the exposition, and survives what the network sends it.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::sources::Sources;
use super::{MonitorError, Observation};
use crate::Snapshot;
use crate::report::{ExpositionFormat, PrometheusOptions};

/// The longest request head (request line and headers) the endpoint reads.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// How often the accept loop looks at its stop flag while no one connects.
const ACCEPT_POLL: Duration = Duration::from_millis(25);

/// How an endpoint listens and what it serves.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let options = perfcore::monitor::ServerOptions::new("127.0.0.1:0")
///     .timeout(Duration::from_secs(2))
///     .max_connections(8);
/// assert_eq!(options.addr(), "127.0.0.1:0");
/// ```
#[derive(Clone)]
pub struct ServerOptions {
    addr: String,
    prometheus: PrometheusOptions,
    timeout: Duration,
    max_connections: usize,
    sources: Sources,
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("addr", &self.addr)
            .field("prometheus", &self.prometheus)
            .field("timeout", &self.timeout)
            .field("max_connections", &self.max_connections)
            .field("sources", &self.sources)
            .finish()
    }
}

impl ServerOptions {
    /// An endpoint on `addr` (`host:port`; port 0 picks a free one) serving the global
    /// profiler, the global application metrics and every started monitor's observations,
    /// with a 5 s timeout per connection and at most 32 connections at once.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::ServerOptions::new("127.0.0.1:9464").addr(), "127.0.0.1:9464");
    /// ```
    #[must_use]
    pub fn new(addr: impl Into<String>) -> Self {
        Self {
            addr: addr.into(),
            prometheus: PrometheusOptions::new(),
            timeout: Duration::from_secs(5),
            max_connections: 32,
            sources: Sources::default(),
        }
    }

    /// The address as given.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::ServerOptions::new("[::1]:0").addr(), "[::1]:0");
    /// ```
    #[must_use]
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The namespace and const labels (an `instance` or `service` label, say). The text
    /// format is negotiated per scrape: OpenMetrics when the scraper's `Accept` asks for it
    /// (Prometheus does), the classic text format otherwise.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::ServerOptions;
    /// use perfcore::report::PrometheusOptions;
    /// let o = ServerOptions::new("127.0.0.1:0").prometheus(PrometheusOptions::new().namespace("shop"));
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn prometheus(mut self, options: PrometheusOptions) -> Self {
        self.prometheus = options;
        self
    }

    /// How long a connection may take to send its request or read the answer before it is
    /// dropped (default 5 s): a slow client never holds a worker for longer.
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// let o = perfcore::monitor::ServerOptions::new("127.0.0.1:0").timeout(Duration::from_secs(1));
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How many connections are answered at once (default 32, at least 1); one more is
    /// answered `503 Service Unavailable` at once.
    ///
    /// # Examples
    /// ```
    /// let o = perfcore::monitor::ServerOptions::new("127.0.0.1:0").max_connections(4);
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Takes the function statistics from `snapshot` instead of the global profiler.
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// let profiler = Arc::new(perfcore::PerformanceProfiler::new());
    /// let p = Arc::clone(&profiler);
    /// let o = perfcore::monitor::ServerOptions::new("127.0.0.1:0").snapshot(move || p.snapshot());
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn snapshot(mut self, snapshot: impl Fn() -> Snapshot + Send + Sync + 'static) -> Self {
        self.sources.set_snapshot(Arc::new(snapshot));
        self
    }

    /// Adds a source of observations, read at every scrape.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::{Observation, ServerOptions};
    /// let o = ServerOptions::new("127.0.0.1:0")
    ///     .source(|| vec![Observation::gauge("build_info", "The build.", 1.0).label("version", "1.2")]);
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn source(mut self, source: impl Fn() -> Vec<Observation> + Send + Sync + 'static) -> Self {
        self.sources.add(Arc::new(source));
        self
    }

    /// Whether the global application metrics and the started monitors are served too
    /// (default yes).
    ///
    /// # Examples
    /// ```
    /// let o = perfcore::monitor::ServerOptions::new("127.0.0.1:0").default_sources(false);
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn default_sources(mut self, on: bool) -> Self {
        self.sources.set_defaults(on);
        self
    }

    /// Starts the endpoint.
    ///
    /// # Errors
    /// [`MonitorError::InvalidAddress`] if the address does not parse or resolve,
    /// [`MonitorError::Bind`] if it cannot listen there (a port in use),
    /// [`MonitorError::Thread`] if its thread cannot start.
    ///
    /// # Examples
    /// ```
    /// let server = perfcore::monitor::ServerOptions::new("127.0.0.1:0").start()?;
    /// assert_ne!(server.local_addr().port(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn start(self) -> Result<MetricsServer, MonitorError> {
        MetricsServer::start(self)
    }
}

/// What an endpoint has answered.
#[derive(Debug, Default)]
struct Counters {
    scrapes: AtomicU64,
    errors: AtomicU64,
    rejected: AtomicU64,
    last_scrape_ns: AtomicU64,
    active: AtomicUsize,
}

/// A running metrics endpoint. Dropping it (or [`stop`](Self::stop)) stops it: the accept
/// loop ends within 25 ms and the thread is joined; connections being answered finish on
/// their own threads, each bounded by the timeout.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

/// What a connection's thread needs.
struct Serve {
    prometheus: PrometheusOptions,
    timeout: Duration,
    sources: Sources,
    counters: Arc<Counters>,
}

impl MetricsServer {
    fn start(options: ServerOptions) -> Result<Self, MonitorError> {
        let invalid =
            |reason: String| MonitorError::InvalidAddress { addr: options.addr.clone(), reason };
        let addrs: Vec<SocketAddr> =
            options.addr.to_socket_addrs().map_err(|e| invalid(e.to_string()))?.collect();
        if addrs.is_empty() {
            return Err(invalid("resolves to no address".to_owned()));
        }
        let listener = TcpListener::bind(&addrs[..])
            .map_err(|source| MonitorError::Bind { addr: options.addr.clone(), source })?;
        let bind_err = |source| MonitorError::Bind { addr: options.addr.clone(), source };
        let addr = listener.local_addr().map_err(bind_err)?;
        listener
            .set_nonblocking(true)
            .map_err(|source| MonitorError::Bind { addr: options.addr.clone(), source })?;
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let serve = Arc::new(Serve {
            prometheus: options.prometheus,
            timeout: options.timeout,
            sources: options.sources,
            counters: Arc::clone(&counters),
        });
        let max = options.max_connections;
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("perfcore-metrics".to_owned())
            .spawn(move || accept_loop(&listener, &flag, &serve, max))
            .map_err(|source| MonitorError::Thread { what: "metrics endpoint", source })?;
        Ok(Self { addr, stop, counters, thread: Some(thread) })
    }

    /// The address it listens on (with the port chosen, if 0 was asked for).
    ///
    /// # Examples
    /// ```
    /// let server = perfcore::monitor::ServerOptions::new("127.0.0.1:0").start()?;
    /// assert!(server.local_addr().ip().is_loopback());
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of its metrics: `http://<addr>/metrics`.
    ///
    /// # Examples
    /// ```
    /// let server = perfcore::monitor::ServerOptions::new("127.0.0.1:0").start()?;
    /// assert!(server.url().ends_with("/metrics"));
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}/metrics", self.addr)
    }

    /// Scrapes answered `200` so far.
    ///
    /// # Examples
    /// ```
    /// let server = perfcore::monitor::ServerOptions::new("127.0.0.1:0").start()?;
    /// assert_eq!(server.scrapes(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn scrapes(&self) -> u64 {
        self.counters.scrapes.load(Ordering::Relaxed)
    }

    /// Requests answered with an error status (malformed, unknown path, too slow, a source
    /// that panicked) so far.
    ///
    /// # Examples
    /// ```
    /// let server = perfcore::monitor::ServerOptions::new("127.0.0.1:0").start()?;
    /// assert_eq!(server.errors(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn errors(&self) -> u64 {
        self.counters.errors.load(Ordering::Relaxed)
    }

    /// Connections turned away with `503` because `max_connections` were being answered.
    ///
    /// # Examples
    /// ```
    /// let server = perfcore::monitor::ServerOptions::new("127.0.0.1:0").start()?;
    /// assert_eq!(server.rejected(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn rejected(&self) -> u64 {
        self.counters.rejected.load(Ordering::Relaxed)
    }

    /// How long the last scrape took to build its text (snapshot, sources, encoding).
    ///
    /// # Examples
    /// ```
    /// let server = perfcore::monitor::ServerOptions::new("127.0.0.1:0").start()?;
    /// assert_eq!(server.last_scrape_duration(), std::time::Duration::ZERO);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn last_scrape_duration(&self) -> Duration {
        Duration::from_nanos(self.counters.last_scrape_ns.load(Ordering::Relaxed))
    }

    /// Stops it and joins its accept thread.
    ///
    /// # Examples
    /// ```
    /// let server = perfcore::monitor::ServerOptions::new("127.0.0.1:0").start()?;
    /// server.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts an endpoint on `addr` serving the global profiler's function histograms and
/// counters, the global application metrics, and the system gauges and alert states of every
/// started [`Monitor`](super::Monitor); `addr` is loopback in the examples on purpose:
/// expose it further only where the network is trusted (it has no authentication).
///
/// The endpoint answers `GET /metrics` (and `HEAD`), `GET /snapshot.json` (the profiler's
/// [`Snapshot`](crate::Snapshot) as JSON, what a snapshot file holds, for `perfcore top`),
/// `GET /observations.json` (every other observation it exports, as
/// `{"observations": [{"name", "kind", "help", "labels": {…}, "value"}, …]}`), `GET /` (a page
/// linking to them) and `GET /-/healthy`; anything else gets `404`/`405`, a malformed request `400`, a head over
/// 16 KiB `431`. Each connection is answered on its own thread, at most 32 at once, with a
/// 5 s timeout ([`ServerOptions`] changes these), so a slow or broken client never stalls
/// the others and nothing ever blocks the application's threads: a scrape reads a
/// snapshot, as reports do.
///
/// # Errors
/// [`MonitorError::Bind`] if the address is in use (or not this machine's),
/// [`MonitorError::InvalidAddress`] if it does not parse.
///
/// # Examples
/// ```
/// let server = perfcore::monitor::serve_metrics("127.0.0.1:0")?;
/// println!("scrape {}", server.url());
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
pub fn serve_metrics(addr: &str) -> Result<MetricsServer, MonitorError> {
    ServerOptions::new(addr).start()
}

fn accept_loop(listener: &TcpListener, stop: &AtomicBool, serve: &Arc<Serve>, max: usize) {
    while !stop.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((stream, _)) => {
                let counters = &serve.counters;
                if counters.active.load(Ordering::Acquire) >= max {
                    counters.rejected.fetch_add(1, Ordering::Relaxed);
                    reject_busy(stream);
                    continue;
                }
                counters.active.fetch_add(1, Ordering::AcqRel);
                let serve_conn = Arc::clone(serve);
                let spawned = std::thread::Builder::new()
                    .name("perfcore-metrics-conn".to_owned())
                    .spawn(move || {
                        let _ = catch_unwind(AssertUnwindSafe(|| answer(stream, &serve_conn)));
                        serve_conn.counters.active.fetch_sub(1, Ordering::AcqRel);
                    });
                if spawned.is_err() {
                    counters.active.fetch_sub(1, Ordering::AcqRel);
                    counters.rejected.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(ACCEPT_POLL),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // Out of file descriptors, a connection reset before accept: wait and go on.
            Err(_) => std::thread::sleep(ACCEPT_POLL),
        }
    }
}

fn reject_busy(mut stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    let _ = stream.write_all(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\
          Retry-After: 1\r\nConnection: close\r\n\r\ntoo many connections\n",
    );
}

/// A parsed request head: what the endpoint looks at.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    method: String,
    path: String,
    openmetrics: bool,
}

/// Reads the request head: `Ok(None)` when the client closed or timed out before sending
/// one, `Err(status)` when it is one the endpoint refuses.
fn read_head(stream: &mut TcpStream) -> Result<Option<Vec<u8>>, u16> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return if head.is_empty() { Ok(None) } else { Err(400) },
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return if head.is_empty() { Ok(None) } else { Err(408) };
            }
            Err(_) => return Ok(None),
        };
        let from = head.len().saturating_sub(3);
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = find_blank_line(&head[from..]) {
            head.truncate(from + end);
            return Ok(Some(head));
        }
        if head.len() > MAX_HEAD_BYTES {
            return Err(431);
        }
    }
}

/// Where the head's terminating blank line ends (after `\r\n\r\n`, or `\n\n`).
fn find_blank_line(bytes: &[u8]) -> Option<usize> {
    let crlf = bytes.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = bytes.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Parses a request head; `Err(400)` if it is not HTTP/1.x.
fn parse_head(head: &[u8]) -> Result<Request, u16> {
    let text = std::str::from_utf8(head).map_err(|_| 400u16)?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let line = lines.next().ok_or(400u16)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic());
    if !token(method) || !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Err(400);
    }
    let path = target.split(['?', '#']).next().unwrap_or(target).to_owned();
    let mut openmetrics = false;
    for header in lines {
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(400);
        };
        if name.trim().eq_ignore_ascii_case("accept") {
            openmetrics |= value.contains("application/openmetrics-text");
        }
    }
    Ok(Request { method: method.to_owned(), path, openmetrics })
}

fn answer(mut stream: TcpStream, serve: &Serve) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(serve.timeout));
    let _ = stream.set_write_timeout(Some(serve.timeout));
    let _ = stream.set_nodelay(true);
    let counters = &serve.counters;
    let request = match read_head(&mut stream).and_then(|h| h.map(|h| parse_head(&h)).transpose()) {
        Ok(Some(request)) => request,
        Ok(None) => return,
        Err(status) => {
            counters.errors.fetch_add(1, Ordering::Relaxed);
            respond(
                &mut stream,
                status,
                "text/plain; charset=utf-8",
                reason(status).as_bytes(),
                true,
            );
            return;
        }
    };
    let head_only = request.method == "HEAD";
    if request.method != "GET" && !head_only {
        counters.errors.fetch_add(1, Ordering::Relaxed);
        respond(&mut stream, 405, "text/plain; charset=utf-8", b"only GET and HEAD\n", true);
        return;
    }
    match request.path.as_str() {
        "/metrics" => {
            let started = Instant::now();
            let text = catch_unwind(AssertUnwindSafe(|| render(serve, request.openmetrics)));
            let elapsed = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            counters.last_scrape_ns.store(elapsed, Ordering::Relaxed);
            match text {
                Ok((text, content_type)) => {
                    counters.scrapes.fetch_add(1, Ordering::Relaxed);
                    respond(&mut stream, 200, content_type, text.as_bytes(), !head_only);
                }
                Err(_) => {
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    let body = b"a metrics source panicked\n";
                    respond(&mut stream, 500, "text/plain; charset=utf-8", body, !head_only);
                }
            }
        }
        "/snapshot.json" | "/observations.json" => {
            let json = catch_unwind(AssertUnwindSafe(|| {
                if request.path == "/snapshot.json" {
                    serde_json::to_string(&serve.sources.snapshot())
                } else {
                    observations_json(&serve.sources.observations())
                }
            }));
            match json {
                Ok(Ok(body)) => {
                    respond(&mut stream, 200, "application/json", body.as_bytes(), !head_only);
                }
                Ok(Err(_)) | Err(_) => {
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    let body = b"a metrics source failed\n";
                    respond(&mut stream, 500, "text/plain; charset=utf-8", body, !head_only);
                }
            }
        }
        "/" => {
            let body = "<!doctype html><title>perfcore</title>\
                        <p>perfcore metrics: <a href=\"/metrics\">/metrics</a>, \
                        <a href=\"/snapshot.json\">/snapshot.json</a>, \
                        <a href=\"/observations.json\">/observations.json</a></p>\n";
            respond(&mut stream, 200, "text/html; charset=utf-8", body.as_bytes(), !head_only);
        }
        "/-/healthy" | "/healthz" => {
            respond(&mut stream, 200, "text/plain; charset=utf-8", b"ok\n", !head_only);
        }
        _ => {
            counters.errors.fetch_add(1, Ordering::Relaxed);
            respond(
                &mut stream,
                404,
                "text/plain; charset=utf-8",
                b"not found: try /metrics\n",
                !head_only,
            );
        }
    }
}

/// The exposition and its content type.
fn render(serve: &Serve, openmetrics: bool) -> (String, &'static str) {
    let snapshot = serve.sources.snapshot();
    let mut observations = serve.sources.observations();
    let c = &serve.counters;
    observations.push(Observation::counter(
        "exporter_scrapes_total",
        "Scrapes this endpoint answered before this one.",
        c.scrapes.load(Ordering::Relaxed) as f64,
    ));
    observations.push(Observation::gauge(
        "exporter_last_scrape_duration_seconds",
        "How long the previous scrape took to build its text.",
        c.last_scrape_ns.load(Ordering::Relaxed) as f64 / 1e9,
    ));
    let (format, content_type) = if openmetrics {
        (
            ExpositionFormat::OpenMetrics,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
    } else {
        (ExpositionFormat::Prometheus, "text/plain; version=0.0.4; charset=utf-8")
    };
    let options = serve.prometheus.clone().format(format);
    (super::exposition(&snapshot, &observations, &options), content_type)
}

/// `{"observations": [...]}`, the body of `/observations.json`.
fn observations_json(observations: &[Observation]) -> Result<String, serde_json::Error> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        observations: &'a [Observation],
    }
    serde_json::to_string(&Body { observations })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &[u8], with_body: bool) {
    let allow = if status == 405 { "Allow: GET, HEAD\r\n" } else { "" };
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{allow}\
         Connection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    if stream.write_all(head.as_bytes()).is_ok() && with_body {
        let _ = stream.write_all(body);
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Drain what the client still sends, briefly, so closing does not reset the answer away.
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let mut sink = [0u8; 512];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn server() -> MetricsServer {
        let profiler = Arc::new(crate::PerformanceProfiler::new());
        {
            let _g = profiler.scope("served").unwrap();
        }
        ServerOptions::new("127.0.0.1:0")
            .snapshot(move || profiler.snapshot())
            .source(|| vec![Observation::gauge("queue_depth", "Jobs waiting.", 4.0)])
            .default_sources(false)
            .timeout(Duration::from_millis(500))
            .start()
            .unwrap()
    }

    /// Sends `request` raw and reads the whole answer.
    fn send(addr: SocketAddr, request: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn serves_metrics_in_both_formats() {
        let server = server();
        let plain = send(server.local_addr(), b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(plain.starts_with("HTTP/1.1 200 OK\r\n"), "{plain}");
        assert!(plain.contains("Content-Type: text/plain; version=0.0.4"), "{plain}");
        assert!(plain.contains("perfcore_function_duration_seconds_count{function=\"served\"} 1"));
        assert!(plain.contains("perfcore_queue_depth 4"), "{plain}");
        assert!(!plain.contains("# EOF"), "{plain}");
        let om = send(
            server.local_addr(),
            b"GET /metrics?x=1 HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n\r\n",
        );
        assert!(om.contains("Content-Type: application/openmetrics-text"), "{om}");
        assert!(om.ends_with("# EOF\n"), "{om}");
        assert!(om.contains("perfcore_exporter_scrapes_total 1"), "{om}");
        assert_eq!(server.scrapes(), 2);
        assert_eq!(server.errors(), 0);
    }

    #[test]
    fn serves_the_snapshot_and_the_observations_as_json() {
        let server = server();
        let body = |answer: String| answer.split_once("\r\n\r\n").unwrap().1.to_owned();
        let answer = send(server.local_addr(), b"GET /snapshot.json HTTP/1.1\r\n\r\n");
        assert!(answer.contains("Content-Type: application/json"), "{answer}");
        let snapshot = crate::Snapshot::from_json(&body(answer)).unwrap();
        assert_eq!(snapshot.functions.len(), 1);
        assert_eq!(
            (snapshot.functions[0].name.as_str(), snapshot.functions[0].count),
            ("served", 1)
        );

        let answer = send(server.local_addr(), b"GET /observations.json HTTP/1.1\r\n\r\n");
        let value: serde_json::Value = serde_json::from_str(&body(answer)).unwrap();
        let list = value["observations"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{value}");
        assert_eq!(list[0]["name"], "queue_depth");
        assert_eq!(list[0]["kind"], "gauge");
        assert_eq!(list[0]["value"], 4.0);
        assert!(list[0]["labels"].as_object().unwrap().is_empty());
        // JSON fetches are not scrapes.
        assert_eq!(server.scrapes(), 0);
    }

    #[test]
    fn observations_read_back_from_json_labels_in_order_and_nan_as_null() {
        let o = Observation::gauge("disk_used_ratio", "Disk.", f64::NAN)
            .label("mount", "/")
            .label("device", "sda1");
        let json = serde_json::to_string(&o).unwrap();
        assert!(json.contains(r#""labels":{"mount":"/","device":"sda1"}"#), "{json}");
        assert!(json.contains(r#""value":null"#), "{json}");
        let back: Observation = serde_json::from_str(&json).unwrap();
        assert_eq!(back.labels, o.labels);
        assert!(back.value.is_nan());
        let bad = serde_json::from_str::<Observation>(&json.replace(r#""/""#, "3"));
        assert!(bad.is_err());
    }

    #[test]
    fn refuses_what_it_should() {
        let server = server();
        let addr = server.local_addr();
        assert!(send(addr, b"POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
        assert!(send(addr, b"GET /nothing HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
        assert!(send(addr, b"garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
        assert!(send(addr, b"GET /metrics SPDY/3\r\n\r\n").starts_with("HTTP/1.1 400"));
        assert!(send(addr, b"\xff\xfe /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400"));
        let mut huge = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES + 10));
        assert!(send(addr, &huge).starts_with("HTTP/1.1 431"));
        let head = send(addr, b"HEAD /metrics HTTP/1.1\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 200") && !head.contains("perfcore_"), "{head}");
        assert!(send(addr, b"GET /-/healthy HTTP/1.0\r\n\r\n").ends_with("ok\n"));
        // It still answers after all that.
        assert!(send(addr, b"GET /metrics HTTP/1.1\r\n\r\n").contains("queue_depth"));
        assert_eq!(server.errors(), 6);
    }

    #[test]
    fn a_silent_client_times_out_without_stalling_others() {
        let server = server();
        let addr = server.local_addr();
        // Half a request, then nothing: the endpoint must go on answering others meanwhile.
        let mut slow = TcpStream::connect(addr).unwrap();
        slow.write_all(b"GET /metr").unwrap();
        let idle = TcpStream::connect(addr).unwrap();
        assert!(send(addr, b"GET /metrics HTTP/1.1\r\n\r\n").contains("queue_depth"));
        slow.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut out = String::new();
        let _ = slow.read_to_string(&mut out);
        assert!(out.starts_with("HTTP/1.1 408"), "{out:?}");
        drop(idle);
    }

    #[test]
    fn too_many_connections_get_503_and_the_rest_are_served() {
        let profiler = Arc::new(crate::PerformanceProfiler::new());
        let server = ServerOptions::new("127.0.0.1:0")
            .snapshot(move || profiler.snapshot())
            .default_sources(false)
            .max_connections(2)
            .timeout(Duration::from_secs(3))
            .start()
            .unwrap();
        let addr = server.local_addr();
        let holders: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
        // The accept loop must have taken both before the third comes.
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.counters.active.load(Ordering::Acquire) < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let third = send(addr, b"GET /metrics HTTP/1.1\r\n\r\n");
        assert!(third.starts_with("HTTP/1.1 503"), "{third}");
        assert_eq!(server.rejected(), 1);
        drop(holders);
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.counters.active.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(send(addr, b"GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
    }

    #[test]
    fn many_concurrent_scrapes_are_all_answered() {
        let server = server();
        let addr = server.local_addr();
        let answers: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|_| s.spawn(move || send(addr, b"GET /metrics HTTP/1.1\r\n\r\n")))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let ok = answers.iter().filter(|a| a.starts_with("HTTP/1.1 200")).count();
        assert_eq!(ok + server.rejected() as usize, 16);
        assert_eq!(server.scrapes() as usize, ok);
    }

    #[test]
    fn a_port_in_use_is_a_clear_error() {
        let server = server();
        let addr = server.local_addr().to_string();
        let err = serve_metrics(&addr).unwrap_err();
        assert!(matches!(err, MonitorError::Bind { .. }), "{err:?}");
        assert!(err.to_string().contains(&addr), "{err}");
        let err = serve_metrics("not an address").unwrap_err();
        assert!(matches!(err, MonitorError::InvalidAddress { .. }), "{err:?}");
    }

    #[test]
    fn a_panicking_source_answers_500_and_the_endpoint_lives_on() {
        let server = ServerOptions::new("127.0.0.1:0")
            .snapshot(|| Snapshot::from_functions(Vec::new(), 0, 0))
            .source(|| panic!("broken source"))
            .default_sources(false)
            .start()
            .unwrap();
        let answer = send(server.local_addr(), b"GET /metrics HTTP/1.1\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
        assert!(send(server.local_addr(), b"GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
    }

    #[test]
    fn default_sources_come_and_go() {
        use crate::monitor::sources::{
            add_default_source, default_observations, remove_default_source,
        };
        let id = add_default_source(Arc::new(|| vec![Observation::gauge("dflt_test_g", "", 1.0)]));
        assert!(default_observations().iter().any(|o| o.name == "dflt_test_g"));
        remove_default_source(id);
        assert!(!default_observations().iter().any(|o| o.name == "dflt_test_g"));
    }

    proptest! {
        #[test]
        fn any_head_parses_or_is_refused_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_head(&bytes);
            let _ = find_blank_line(&bytes);
        }

        #[test]
        fn well_formed_heads_parse(path in "/[a-z/]{0,20}", query in "[a-z=&]{0,10}") {
            let head = format!("GET {path}?{query} HTTP/1.1\r\nHost: h\r\n\r\n");
            let r = parse_head(head.as_bytes()).unwrap();
            prop_assert_eq!(r.method, "GET");
            prop_assert_eq!(r.path, path);
        }
    }
}
