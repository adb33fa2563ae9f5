//! The service: a listener, a bounded accept queue, a pool of keep-alive workers, and
//! perfcore's endpoint and monitor beside it.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use perfcore::monitor::{AlertRule, MetricsServer, Monitor, ServerOptions};

use super::handlers::{AppState, route};
use super::http::{self, Read2, ReadError, parse_request, write_response};
use super::{ServiceError, SliReport};

/// How long a worker waits on a read before looking at the stop flag.
const READ_POLL: Duration = Duration::from_millis(100);
/// How long a keep-alive connection may stay idle before the worker closes it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// The most workers a service may have.
const MAX_WORKERS: usize = 1024;

/// The alert rule on the service's cache, added to perfcore's defaults.
pub(crate) const CACHE_RULE: &str =
    "service_cache_cold: service_cache_ratio < 0.5 for 30s severity warning";

/// What the live services of this process share with the load driver (so a driver aimed at
/// one of them reads perfcore's figures in-process).
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) addr: SocketAddr,
    /// The endpoint's `/metrics` URL.
    pub(crate) metrics_url: String,
    /// The endpoint (taken out when the service stops).
    pub(crate) metrics: Mutex<Option<MetricsServer>>,
    stop: AtomicBool,
    /// Connections turned away with 503 because the accept queue was full.
    pub(crate) rejected: AtomicU64,
    /// CPU nanoseconds each worker thread has used, updated after each request.
    pub(crate) worker_cpu: Vec<AtomicU64>,
}

impl Shared {
    /// CPU nanoseconds all workers have used.
    /// How long the endpoint took to build its last scrape.
    pub(crate) fn last_scrape_build(&self) -> Option<Duration> {
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(MetricsServer::last_scrape_duration)
    }

    pub(crate) fn worker_cpu_ns(&self) -> u64 {
        self.worker_cpu.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

static LIVE: Mutex<Vec<Arc<Shared>>> = Mutex::new(Vec::new());

/// The live service of this process listening on `addr`, if any.
pub(crate) fn live(addr: SocketAddr) -> Option<Arc<Shared>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner).iter().find(|s| s.addr == addr).cloned()
}

/// How a [`Service`] listens and works.
///
/// # Examples
/// ```
/// let options = perfcore_examples::service::ServiceOptions::new().workers(4).queue_capacity(16);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    addr: SocketAddr,
    metrics_addr: SocketAddr,
    workers: Option<usize>,
    queue: usize,
    sample_interval: Duration,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ServiceOptions {
    /// Both ports on `127.0.0.1:0` (the OS picks), `available_parallelism × 4` workers, an
    /// accept queue of 64 connections, a system sample a second.
    ///
    /// # Examples
    /// ```
    /// let _ = perfcore_examples::service::ServiceOptions::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            addr: loopback,
            metrics_addr: loopback,
            workers: None,
            queue: 64,
            sample_interval: Duration::from_secs(1),
        }
    }

    /// Where the service listens.
    ///
    /// # Examples
    /// ```
    /// let _ = perfcore_examples::service::ServiceOptions::new().addr("127.0.0.1:0".parse().unwrap());
    /// ```
    #[must_use]
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Where perfcore's endpoint listens.
    ///
    /// # Examples
    /// ```
    /// let _ = perfcore_examples::service::ServiceOptions::new()
    ///     .metrics_addr("127.0.0.1:0".parse().unwrap());
    /// ```
    #[must_use]
    pub fn metrics_addr(mut self, addr: SocketAddr) -> Self {
        self.metrics_addr = addr;
        self
    }

    /// The number of worker threads (each serves one connection at a time).
    ///
    /// # Examples
    /// ```
    /// let _ = perfcore_examples::service::ServiceOptions::new().workers(8);
    /// ```
    #[must_use]
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = Some(n);
        self
    }

    /// How many accepted connections may wait for a worker; beyond it they get 503.
    ///
    /// # Examples
    /// ```
    /// let _ = perfcore_examples::service::ServiceOptions::new().queue_capacity(8);
    /// ```
    #[must_use]
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue = n;
        self
    }

    /// How often the system sampler runs (default 1 s).
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// let _ = perfcore_examples::service::ServiceOptions::new().sample_interval(Duration::from_millis(250));
    /// ```
    #[must_use]
    pub fn sample_interval(mut self, interval: Duration) -> Self {
        self.sample_interval = interval;
        self
    }

    /// Binds both ports and starts the workers, the monitor and the endpoint.
    ///
    /// # Errors
    /// [`ServiceError::InvalidOption`] for 0 or over 1024 workers or a 0 queue;
    /// [`ServiceError::Bind`] when a port is taken; [`ServiceError::Monitor`] when the
    /// monitor or the endpoint fails to start; [`ServiceError::Thread`].
    ///
    /// # Examples
    /// ```
    /// let service = perfcore_examples::service::ServiceOptions::new().workers(2).start()?;
    /// assert!(service.url().starts_with("http://127.0.0.1:"));
    /// service.stop();
    /// # Ok::<(), perfcore_examples::service::ServiceError>(())
    /// ```
    pub fn start(self) -> Result<Service, ServiceError> {
        let workers = self.workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get) * 4
        });
        if workers == 0 || workers > MAX_WORKERS {
            return Err(ServiceError::InvalidOption {
                name: "workers",
                reason: format!("{workers} is not in 1..={MAX_WORKERS}"),
            });
        }
        if self.queue == 0 {
            return Err(ServiceError::InvalidOption {
                name: "queue_capacity",
                reason: "must be at least 1".into(),
            });
        }
        let state = Arc::new(AppState::new()?);
        let listener = TcpListener::bind(self.addr)
            .map_err(|source| ServiceError::Bind { addr: self.addr, source })?;
        let addr =
            listener.local_addr().map_err(|e| ServiceError::io("reading the local address", e))?;

        let mut rules: Vec<AlertRule> = AlertRule::defaults();
        rules.push(AlertRule::parse(CACHE_RULE)?);
        let monitor = Monitor::builder().interval(self.sample_interval).rules(rules).start()?;
        let metrics = match ServerOptions::new(self.metrics_addr.to_string()).start() {
            Ok(m) => m,
            Err(e) => {
                monitor.stop();
                return Err(e.into());
            }
        };

        let shared = Arc::new(Shared {
            addr,
            metrics_url: format!("http://{}/metrics", metrics.local_addr()),
            metrics: Mutex::new(None),
            stop: AtomicBool::new(false),
            rejected: AtomicU64::new(0),
            worker_cpu: (0..workers).map(|_| AtomicU64::new(0)).collect(),
        });
        let (tx, rx) = sync_channel::<TcpStream>(self.queue);
        let rx = Arc::new(Mutex::new(rx));
        let metrics_addr = metrics.local_addr();
        *shared.metrics.lock().unwrap_or_else(PoisonError::into_inner) = Some(metrics);
        let mut service = Service {
            addr,
            metrics_addr,
            monitor: Some(monitor),
            shared: Arc::clone(&shared),
            accept: None,
            workers: Vec::new(),
        };
        for i in 0..workers {
            let (rx, state, shared) = (Arc::clone(&rx), Arc::clone(&state), Arc::clone(&shared));
            let name = format!("service-worker-{i}");
            let handle = std::thread::Builder::new()
                .name(name.clone())
                .spawn(move || worker(i, &rx, &state, &shared))
                .map_err(|source| ServiceError::Thread { name, source })?;
            service.workers.push(handle);
        }
        let (reject_tx, reject_rx) = sync_channel::<TcpStream>(64);
        let rejecter = std::thread::Builder::new()
            .name("service-reject".into())
            .spawn(move || reject_loop(&reject_rx))
            .map_err(|source| ServiceError::Thread { name: "service-reject".into(), source })?;
        service.workers.push(rejecter);
        let accept_shared = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("service-accept".into())
            .spawn(move || accept_loop(&listener, &tx, &reject_tx, &accept_shared))
            .map_err(|source| ServiceError::Thread { name: "service-accept".into(), source })?;
        service.accept = Some(accept);
        LIVE.lock().unwrap_or_else(PoisonError::into_inner).push(shared);
        Ok(service)
    }
}

/// Answers each connection turned away with 503, then reads what the client sent (up to
/// 64 KiB or 100 ms) before closing: closing with unread bytes would reset the connection
/// and lose the answer.
fn reject_loop(rx: &Receiver<TcpStream>) {
    use std::io::{Read, Write};
    while let Ok(mut stream) = rx.recv() {
        let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
        let _ = write_response(
            &mut stream,
            503,
            "application/json",
            b"{\"error\":\"the service is at capacity\"}",
            false,
        );
        let _ = stream.flush();
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
        let mut sink = [0u8; 4096];
        let mut drained = 0;
        while drained < 64 * 1024 {
            match stream.read(&mut sink) {
                Ok(n) if n > 0 => drained += n,
                _ => break,
            }
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    tx: &SyncSender<TcpStream>,
    reject: &SyncSender<TcpStream>,
    shared: &Shared,
) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::Acquire) {
            break;
        }
        let Ok(stream) = stream else {
            // EMFILE and the like: back off a little rather than spin.
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        let _ = stream.set_nodelay(true);
        match tx.try_send(stream) {
            Ok(()) => {}
            Err(TrySendError::Full(stream)) => {
                shared.rejected.fetch_add(1, Ordering::Relaxed);
                // Answered on another thread, so a slow client never holds the accepts up;
                // when that one is behind too, the connection is dropped (an I/O error).
                let _ = reject.try_send(stream);
            }
            Err(TrySendError::Disconnected(_)) => break,
        }
    }
}

fn worker(index: usize, rx: &Mutex<Receiver<TcpStream>>, state: &AppState, shared: &Shared) {
    loop {
        let next = rx.lock().unwrap_or_else(PoisonError::into_inner).recv_timeout(READ_POLL);
        match next {
            Ok(stream) => serve_connection(stream, index, state, shared),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        }
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
    }
}

fn serve_connection(mut stream: TcpStream, index: usize, state: &AppState, shared: &Shared) {
    if stream.set_read_timeout(Some(READ_POLL)).is_err()
        || stream.set_write_timeout(Some(Duration::from_secs(5))).is_err()
    {
        return;
    }
    let mut buf = Vec::new();
    let mut idle_since = Instant::now();
    loop {
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        let req = match http::read_message(&mut stream, &mut buf, parse_request) {
            Ok(Read2::Message(req)) => req,
            Ok(Read2::Closed) | Err(ReadError::Io(_)) => return,
            Ok(Read2::TimedOut) => {
                if idle_since.elapsed() > IDLE_TIMEOUT {
                    return;
                }
                continue;
            }
            Err(ReadError::Http(e)) => {
                let body = format!("{{\"error\":\"{}\"}}", e.to_string().replace('"', "'"));
                let _ =
                    write_response(&mut stream, 400, "application/json", body.as_bytes(), false);
                return;
            }
        };
        // The handler's scope ends inside `route`, before a byte of the answer is written.
        let (route_name, status, body) = route(&req, state);
        state.count(route_name, status);
        shared.worker_cpu[index].store(super::thread_cpu_ns(), Ordering::Relaxed);
        if write_response(&mut stream, status, "application/json", body.as_bytes(), req.keep_alive)
            .is_err()
            || !req.keep_alive
        {
            return;
        }
        idle_since = Instant::now();
    }
}

/// A running example service: see [the module](super).
///
/// # Examples
/// ```
/// let service = perfcore_examples::service::ServiceOptions::new().workers(2).start()?;
/// let mut client = perfcore_examples::service::Client::new(&service.url())?;
/// assert_eq!(client.get("/healthz")?.status, 200);
/// service.stop();
/// # Ok::<(), perfcore_examples::service::ServiceError>(())
/// ```
#[derive(Debug)]
pub struct Service {
    addr: SocketAddr,
    metrics_addr: SocketAddr,
    monitor: Option<Monitor>,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    workers: Vec<JoinHandle<()>>,
}

impl Service {
    /// Where the service listens.
    ///
    /// # Examples
    /// ```
    /// # let service = perfcore_examples::service::ServiceOptions::new().workers(1).start()?;
    /// assert_ne!(service.addr().port(), 0);
    /// # service.stop();
    /// # Ok::<(), perfcore_examples::service::ServiceError>(())
    /// ```
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    ///
    /// # Examples
    /// ```
    /// # let service = perfcore_examples::service::ServiceOptions::new().workers(1).start()?;
    /// assert_eq!(service.url(), format!("http://{}", service.addr()));
    /// # service.stop();
    /// # Ok::<(), perfcore_examples::service::ServiceError>(())
    /// ```
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where perfcore's endpoint listens.
    ///
    /// # Examples
    /// ```
    /// # let service = perfcore_examples::service::ServiceOptions::new().workers(1).start()?;
    /// assert_ne!(service.metrics_addr(), service.addr());
    /// # service.stop();
    /// # Ok::<(), perfcore_examples::service::ServiceError>(())
    /// ```
    #[must_use]
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
    }

    /// `http://127.0.0.1:PORT/metrics`, perfcore's endpoint.
    ///
    /// # Examples
    /// ```
    /// # let service = perfcore_examples::service::ServiceOptions::new().workers(1).start()?;
    /// assert!(service.metrics_url().ends_with("/metrics"));
    /// # service.stop();
    /// # Ok::<(), perfcore_examples::service::ServiceError>(())
    /// ```
    #[must_use]
    pub fn metrics_url(&self) -> String {
        format!("http://{}/metrics", self.metrics_addr())
    }

    /// Connections turned away with 503 since the start (the accept queue was full).
    ///
    /// # Examples
    /// ```
    /// # let service = perfcore_examples::service::ServiceOptions::new().workers(1).start()?;
    /// assert_eq!(service.rejected(), 0);
    /// # service.stop();
    /// # Ok::<(), perfcore_examples::service::ServiceError>(())
    /// ```
    #[must_use]
    pub fn rejected(&self) -> u64 {
        self.shared.rejected.load(Ordering::Relaxed)
    }

    /// Sets a load run's client figures beside perfcore's over the same run (the snapshots
    /// the driver took of `perfcore::global()` just before and after it) and checks them.
    ///
    /// # Errors
    /// [`ServiceError::Snapshot`] when the report was not run against this service in this
    /// process (it then carries no perfcore snapshots), or they do not subtract.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use perfcore_examples::service::{LoadOptions, Scenario, ServiceOptions};
    /// let service = ServiceOptions::new().workers(2).start()?;
    /// let report = LoadOptions::new(Scenario::Baseline, &service.url())
    ///     .duration(Duration::from_millis(300)).run()?;
    /// let sli = service.compare(&report)?;
    /// assert!(sli.rows.iter().all(|r| r.client_count == r.perfcore_count), "{sli}");
    /// service.stop();
    /// # Ok::<(), perfcore_examples::service::ServiceError>(())
    /// ```
    pub fn compare(&self, report: &super::ClientReport) -> Result<SliReport, ServiceError> {
        if report.target_addr != Some(self.addr) {
            return Err(ServiceError::Snapshot {
                reason: format!(
                    "the report's target {} is not this service ({})",
                    report.target,
                    self.url()
                ),
            });
        }
        SliReport::from_report(report)
    }

    /// Stops the listener, the workers (after the connection each is serving), the endpoint
    /// and the monitor, joining every thread.
    ///
    /// # Examples
    /// ```
    /// perfcore_examples::service::ServiceOptions::new().workers(1).start()?.stop();
    /// # Ok::<(), perfcore_examples::service::ServiceError>(())
    /// ```
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        LIVE.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|s| !Arc::ptr_eq(s, &self.shared));
        if let Some(accept) = self.accept.take() {
            // Wake the blocking accept.
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
            let _ = accept.join();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        if let Some(m) = self.shared.metrics.lock().unwrap_or_else(PoisonError::into_inner).take() {
            m.stop();
        }
        if let Some(m) = self.monitor.take() {
            m.stop();
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.shutdown();
    }
}
