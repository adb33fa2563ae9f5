//! Where alert events go: a callback, the `log` crate, a JSON-lines file, an HTTP webhook; and
//! the dispatcher that delivers them on a thread of its own, so a slow sink never blocks the
//! code that evaluates the rules.

use std::collections::VecDeque;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::http::{self, HttpUrl};
use super::{AlertEvent, AlertState, MonitorError, Severity};

/// Something that receives alert events.
///
/// # Examples
/// ```
/// use perfcore::monitor::{AlertEvent, AlertSink, MonitorError};
/// #[derive(Debug, Default)]
/// struct Count(usize);
/// impl AlertSink for Count {
///     fn deliver(&mut self, _event: &AlertEvent) -> Result<(), MonitorError> {
///         self.0 += 1;
///         Ok(())
///     }
/// }
/// let _sink: Box<dyn AlertSink> = Box::new(Count::default());
/// ```
pub trait AlertSink: Send {
    /// Delivers one event.
    ///
    /// # Errors
    /// Whatever kept the event from its destination; the dispatcher counts it in
    /// [`SinkDispatcher::failed`] and goes on with the next sink.
    fn deliver(&mut self, event: &AlertEvent) -> Result<(), MonitorError>;
}

impl<S: AlertSink + ?Sized> AlertSink for Box<S> {
    fn deliver(&mut self, event: &AlertEvent) -> Result<(), MonitorError> {
        (**self).deliver(event)
    }
}

type Callback = Box<dyn FnMut(&AlertEvent) -> Result<(), MonitorError> + Send>;

/// A sink that calls a closure.
///
/// # Examples
/// ```
/// use perfcore::monitor::{AlertEngine, AlertRule, AlertSink, CallbackSink, Observation};
/// let (tx, rx) = std::sync::mpsc::channel();
/// let mut sink = CallbackSink::new(move |e| { let _ = tx.send(e.rule.clone()); });
/// let mut engine = AlertEngine::new(vec![AlertRule::above("hot", "temp", 80.0)])?;
/// for e in engine.evaluate(0, &[Observation::gauge("temp", "", 90.0)]) {
///     sink.deliver(&e)?;
/// }
/// assert_eq!(rx.recv().unwrap(), "hot");
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
pub struct CallbackSink {
    f: Callback,
}

impl fmt::Debug for CallbackSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackSink").finish_non_exhaustive()
    }
}

impl CallbackSink {
    /// A sink calling `f` with each event.
    ///
    /// # Examples
    /// ```
    /// let _sink = perfcore::monitor::CallbackSink::new(|e| println!("{}", e.summary));
    /// ```
    pub fn new(mut f: impl FnMut(&AlertEvent) + Send + 'static) -> Self {
        Self {
            f: Box::new(move |e| {
                f(e);
                Ok(())
            }),
        }
    }

    /// A sink calling `f`, whose errors count as failed deliveries.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::{CallbackSink, MonitorError};
    /// let _sink = CallbackSink::fallible(|_e| Err(MonitorError::Sink { sink: "pager".into(), reason: "offline".into() }));
    /// ```
    pub fn fallible(
        f: impl FnMut(&AlertEvent) -> Result<(), MonitorError> + Send + 'static,
    ) -> Self {
        Self { f: Box::new(f) }
    }
}

impl AlertSink for CallbackSink {
    fn deliver(&mut self, event: &AlertEvent) -> Result<(), MonitorError> {
        (self.f)(event)
    }
}

/// A sink writing events to the `log` crate under the target `perfcore::alert`: a firing
/// warning at `warn`, a firing critical alert at `error`, every other state (pending,
/// resolved, cancelled) at `info`.
///
/// # Examples
/// ```
/// use perfcore::monitor::{AlertEngine, AlertRule, AlertSink, LogSink, Observation};
/// let mut engine = AlertEngine::new(vec![AlertRule::above("hot", "temp", 80.0)])?;
/// let mut sink = LogSink::new();
/// for e in engine.evaluate(0, &[Observation::gauge("temp", "", 90.0)]) {
///     sink.deliver(&e)?; // log::warn!(target: "perfcore::alert", ...)
/// }
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct LogSink;

impl LogSink {
    /// The log sink.
    ///
    /// # Examples
    /// ```
    /// let _sink = perfcore::monitor::LogSink::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self
    }

    /// The level an event is logged at.
    fn level(event: &AlertEvent) -> log::Level {
        match (event.state, event.severity) {
            (AlertState::Firing, Severity::Warning) => log::Level::Warn,
            (AlertState::Firing, Severity::Critical) => log::Level::Error,
            _ => log::Level::Info,
        }
    }
}

impl AlertSink for LogSink {
    fn deliver(&mut self, event: &AlertEvent) -> Result<(), MonitorError> {
        log::log!(
            target: "perfcore::alert",
            Self::level(event),
            "alert {} {} ({}): {}",
            event.rule,
            event.state.as_str(),
            event.severity,
            event.summary
        );
        Ok(())
    }
}

/// A sink appending each event to a file as one JSON object per line (the shape
/// [`AlertEvent`] documents), flushed after each.
///
/// # Examples
/// ```
/// use perfcore::monitor::{AlertEngine, AlertRule, AlertSink, JsonLinesSink, Observation};
/// # let dir = std::env::temp_dir().join(format!("perfcore-doc-jsonl-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("alerts.jsonl");
/// let mut sink = JsonLinesSink::open(&path)?;
/// let mut engine = AlertEngine::new(vec![AlertRule::above("hot", "temp", 80.0)])?;
/// for e in engine.evaluate(0, &[Observation::gauge("temp", "", 90.0)]) {
///     sink.deliver(&e)?;
/// }
/// assert!(std::fs::read_to_string(&path).unwrap().contains(r#""state":"firing""#));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[derive(Debug)]
pub struct JsonLinesSink {
    path: PathBuf,
    file: File,
}

impl JsonLinesSink {
    /// Opens `path` for appending, creating it if needed.
    ///
    /// # Errors
    /// [`MonitorError::Write`] with the path if it cannot be opened.
    ///
    /// # Examples
    /// ```
    /// let e = perfcore::monitor::JsonLinesSink::open("/nonexistent-dir/alerts.jsonl").unwrap_err();
    /// assert!(e.to_string().contains("/nonexistent-dir/alerts.jsonl"));
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MonitorError> {
        let path = path.as_ref().to_path_buf();
        match OpenOptions::new().create(true).append(true).open(&path) {
            Ok(file) => Ok(Self { path, file }),
            Err(source) => Err(MonitorError::Write { path, source }),
        }
    }

    /// The file's path.
    ///
    /// # Examples
    /// ```
    /// # let path = std::env::temp_dir().join(format!("perfcore-doc-jsonl-path-{}.jsonl", std::process::id()));
    /// let sink = perfcore::monitor::JsonLinesSink::open(&path)?;
    /// assert_eq!(sink.path(), path);
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AlertSink for JsonLinesSink {
    fn deliver(&mut self, event: &AlertEvent) -> Result<(), MonitorError> {
        let write = |file: &mut File| -> std::io::Result<()> {
            let mut line = serde_json::to_vec(event).map_err(std::io::Error::other)?;
            line.push(b'\n');
            file.write_all(&line)?;
            file.flush()
        };
        write(&mut self.file)
            .map_err(|source| MonitorError::Write { path: self.path.clone(), source })
    }
}

/// A sink POSTing each event's JSON to a URL (`http://` only), retrying with exponential
/// backoff.
///
/// A 2xx answer delivers the event. Connection errors, timeouts, 5xx, 408 and 429 are
/// retried up to [`retries`](Self::retries) times (3 by default), waiting
/// [`backoff`](Self::backoff) (250 ms by default), then twice as long each time; any other
/// status fails at once ([`MonitorError::Rejected`]: retrying would not change the answer).
/// Each attempt is bounded by [`timeout`](Self::timeout) (5 s by default).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let sink = perfcore::monitor::WebhookSink::new("http://127.0.0.1:9000/hooks/perfcore")?
///     .retries(5)
///     .timeout(Duration::from_secs(2));
/// assert_eq!(sink.url(), "http://127.0.0.1:9000/hooks/perfcore");
/// assert!(perfcore::monitor::WebhookSink::new("https://hooks.example").is_err());
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[derive(Debug, Clone)]
pub struct WebhookSink {
    url: String,
    retries: u32,
    timeout: Duration,
    backoff: Duration,
}

impl WebhookSink {
    /// A webhook to `url`.
    ///
    /// # Errors
    /// [`MonitorError::InvalidUrl`] if `url` is not `http://host[:port][/path]` (`https`
    /// included: perfcore has no TLS).
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::monitor::WebhookSink::new("http://localhost:8080/alerts").is_ok());
    /// ```
    pub fn new(url: &str) -> Result<Self, MonitorError> {
        HttpUrl::parse(url)?;
        Ok(Self {
            url: url.to_owned(),
            retries: 3,
            timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(250),
        })
    }

    /// Retries after the first attempt (3 by default).
    ///
    /// # Examples
    /// ```
    /// let _s = perfcore::monitor::WebhookSink::new("http://localhost:8080/")?.retries(0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// The bound on each attempt: connecting, sending and reading the answer (5 s by default).
    ///
    /// # Examples
    /// ```
    /// let _s = perfcore::monitor::WebhookSink::new("http://localhost:8080/")?.timeout(std::time::Duration::from_secs(1));
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// The wait before the first retry, doubled before each next one (250 ms by default).
    ///
    /// # Examples
    /// ```
    /// let _s = perfcore::monitor::WebhookSink::new("http://localhost:8080/")?.backoff(std::time::Duration::from_millis(10));
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn backoff(mut self, d: Duration) -> Self {
        self.backoff = d;
        self
    }

    /// The URL.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::WebhookSink::new("http://h:1/x")?.url(), "http://h:1/x");
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl AlertSink for WebhookSink {
    fn deliver(&mut self, event: &AlertEvent) -> Result<(), MonitorError> {
        let body = serde_json::to_vec(event)
            .map_err(|e| MonitorError::Sink { sink: self.url.clone(), reason: e.to_string() })?;
        let mut wait = self.backoff;
        let mut attempt = 0;
        loop {
            let error =
                match http::request("POST", &self.url, "application/json", &body, self.timeout) {
                    Ok(r) if r.is_success() => return Ok(()),
                    Ok(r) => {
                        let body: String = r.body.chars().take(512).collect();
                        let e = MonitorError::Rejected {
                            url: self.url.clone(),
                            status: r.status,
                            body,
                        };
                        if !(r.status >= 500 || r.status == 408 || r.status == 429) {
                            return Err(e);
                        }
                        e
                    }
                    Err(
                        e @ (MonitorError::InvalidUrl { .. } | MonitorError::InvalidAddress { .. }),
                    ) => return Err(e),
                    Err(e) => e,
                };
            if attempt >= self.retries {
                return Err(error);
            }
            attempt += 1;
            std::thread::sleep(wait);
            wait = wait.saturating_mul(2);
        }
    }
}

/// The queue between [`SinkDispatcher::send`] and the delivery thread.
struct Queue {
    events: VecDeque<AlertEvent>,
    new_sinks: Vec<Box<dyn AlertSink>>,
    /// Set by stop: deliver what is queued until then, drop the rest.
    stop_by: Option<Instant>,
    /// The thread is delivering an event.
    busy: bool,
    /// The thread has returned.
    finished: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Wakes the thread (an event, a sink, stop) and the waiters (flush, stop).
    changed: Condvar,
    capacity: usize,
    delivered: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panicking sink is caught outside the lock, so poisoning cannot leave the queue
        // half-changed; go on with it.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Delivers events to sinks from a thread of its own, through a bounded queue.
///
/// [`send`](Self::send) never blocks on a sink: when the queue is full (1024 events by
/// default) the oldest event is dropped and counted in [`dropped`](Self::dropped). Each event
/// goes to every sink in turn; [`delivered`](Self::delivered) and [`failed`](Self::failed)
/// count deliveries per sink (a sink that panics counts as failed, and the thread goes on).
/// [`stop`](Self::stop), and dropping, deliver what is queued for at most the shutdown
/// timeout (5 s by default: a webhook's default timeout), then return even if a sink is still
/// stuck (the thread is left to end on its own when its call returns).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use perfcore::monitor::{AlertEngine, AlertRule, CallbackSink, Observation, SinkDispatcher};
/// let (tx, rx) = std::sync::mpsc::channel();
/// let dispatcher = SinkDispatcher::builder()
///     .sink(CallbackSink::new(move |e| { let _ = tx.send(e.summary.clone()); }))
///     .capacity(100)
///     .start()?;
/// let mut engine = AlertEngine::new(vec![AlertRule::above("hot", "temp", 80.0)])?;
/// dispatcher.send_all(engine.evaluate(0, &[Observation::gauge("temp", "", 90.0)]));
/// assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), "temp is 90, above 80");
/// assert!(dispatcher.flush(Duration::from_secs(30)));
/// assert_eq!(dispatcher.delivered(), 1);
/// dispatcher.stop();
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
pub struct SinkDispatcher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    shutdown_timeout: Duration,
}

impl fmt::Debug for SinkDispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinkDispatcher")
            .field("capacity", &self.shared.capacity)
            .field("delivered", &self.delivered())
            .field("failed", &self.failed())
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

/// Builds a [`SinkDispatcher`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let d = perfcore::monitor::SinkDispatcher::builder()
///     .sink(perfcore::monitor::LogSink::new())
///     .capacity(16)
///     .shutdown_timeout(Duration::from_secs(1))
///     .start()?;
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[must_use]
pub struct SinkDispatcherBuilder {
    sinks: Vec<Box<dyn AlertSink>>,
    capacity: usize,
    shutdown_timeout: Duration,
}

impl fmt::Debug for SinkDispatcherBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinkDispatcherBuilder")
            .field("sinks", &self.sinks.len())
            .field("capacity", &self.capacity)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish()
    }
}

impl SinkDispatcherBuilder {
    /// Adds a sink.
    ///
    /// # Examples
    /// ```
    /// let b = perfcore::monitor::SinkDispatcher::builder().sink(perfcore::monitor::LogSink::new());
    /// ```
    pub fn sink(mut self, sink: impl AlertSink + 'static) -> Self {
        self.sinks.push(Box::new(sink));
        self
    }

    /// The queue's capacity in events (1024 by default; 0 counts as 1).
    ///
    /// # Examples
    /// ```
    /// let b = perfcore::monitor::SinkDispatcher::builder().capacity(10);
    /// ```
    pub fn capacity(mut self, events: usize) -> Self {
        self.capacity = events.max(1);
        self
    }

    /// How long stopping (or dropping) waits for queued events and a sink in progress (5 s
    /// by default).
    ///
    /// # Examples
    /// ```
    /// let b = perfcore::monitor::SinkDispatcher::builder().shutdown_timeout(std::time::Duration::from_secs(1));
    /// ```
    pub fn shutdown_timeout(mut self, d: Duration) -> Self {
        self.shutdown_timeout = d;
        self
    }

    /// Starts the delivery thread.
    ///
    /// # Errors
    /// [`MonitorError::Thread`] if the thread cannot be started.
    ///
    /// # Examples
    /// ```
    /// let d = perfcore::monitor::SinkDispatcher::builder().start()?;
    /// assert_eq!(d.delivered(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn start(self) -> Result<SinkDispatcher, MonitorError> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                events: VecDeque::new(),
                new_sinks: self.sinks,
                stop_by: None,
                busy: false,
                finished: false,
            }),
            changed: Condvar::new(),
            capacity: self.capacity,
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("perfcore-alert-sinks".into())
            .spawn(move || run(&theirs))
            .map_err(|source| MonitorError::Thread { what: "alert sink", source })?;
        Ok(SinkDispatcher { shared, thread: Some(thread), shutdown_timeout: self.shutdown_timeout })
    }
}

/// The delivery thread.
fn run(shared: &Shared) {
    let mut sinks: Vec<Box<dyn AlertSink>> = Vec::new();
    let mut q = shared.lock();
    loop {
        sinks.append(&mut q.new_sinks);
        if let Some(by) = q.stop_by
            && (q.events.is_empty() || Instant::now() >= by)
        {
            let left = q.events.len() as u64;
            q.events.clear();
            shared.dropped.fetch_add(left, Ordering::Relaxed);
            q.finished = true;
            shared.changed.notify_all();
            return;
        }
        let Some(event) = q.events.pop_front() else {
            q = shared.changed.wait(q).unwrap_or_else(PoisonError::into_inner);
            continue;
        };
        q.busy = true;
        drop(q);
        for sink in &mut sinks {
            match catch_unwind(AssertUnwindSafe(|| sink.deliver(&event))) {
                Ok(Ok(())) => {
                    shared.delivered.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Err(e)) => {
                    shared.failed.fetch_add(1, Ordering::Relaxed);
                    log::warn!(target: "perfcore::alert", "alert sink failed to deliver {} {}: {e}", event.rule, event.state.as_str());
                }
                Err(_) => {
                    shared.failed.fetch_add(1, Ordering::Relaxed);
                    log::warn!(target: "perfcore::alert", "alert sink panicked delivering {}", event.rule);
                }
            }
        }
        q = shared.lock();
        q.busy = false;
        shared.changed.notify_all();
    }
}

impl SinkDispatcher {
    /// A builder: no sinks, capacity 1024, shutdown timeout 5 s.
    ///
    /// # Examples
    /// ```
    /// let d = perfcore::monitor::SinkDispatcher::builder().start()?;
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn builder() -> SinkDispatcherBuilder {
        SinkDispatcherBuilder {
            sinks: Vec::new(),
            capacity: 1024,
            shutdown_timeout: Duration::from_secs(5),
        }
    }

    /// Adds a sink; it receives the events sent from now on (and those still queued).
    ///
    /// # Examples
    /// ```
    /// let d = perfcore::monitor::SinkDispatcher::builder().start()?;
    /// d.add_sink(perfcore::monitor::LogSink::new());
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn add_sink(&self, sink: impl AlertSink + 'static) {
        self.shared.lock().new_sinks.push(Box::new(sink));
        self.shared.changed.notify_all();
    }

    /// Queues an event for every sink, without waiting; when the queue is full the oldest
    /// queued event is dropped (and counted). After [`stop`](Self::stop) has begun, the event
    /// is dropped.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::monitor::{AlertEngine, AlertRule, Observation, SinkDispatcher};
    /// # let mut engine = AlertEngine::new(vec![AlertRule::above("hot", "temp", 80.0)])?;
    /// let d = SinkDispatcher::builder().start()?;
    /// for e in engine.evaluate(0, &[Observation::gauge("temp", "", 90.0)]) {
    ///     d.send(e);
    /// }
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn send(&self, event: AlertEvent) {
        let mut q = self.shared.lock();
        if q.stop_by.is_some() || q.finished {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if q.events.len() >= self.shared.capacity {
            q.events.pop_front();
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
        q.events.push_back(event);
        drop(q);
        self.shared.changed.notify_all();
    }

    /// Queues several events (see [`send`](Self::send)).
    ///
    /// # Examples
    /// ```
    /// let d = perfcore::monitor::SinkDispatcher::builder().start()?;
    /// d.send_all(Vec::new());
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn send_all(&self, events: impl IntoIterator<Item = AlertEvent>) {
        for e in events {
            self.send(e);
        }
    }

    /// Waits until every queued event has been through every sink, for at most `timeout`;
    /// whether it got there.
    ///
    /// # Examples
    /// ```
    /// let d = perfcore::monitor::SinkDispatcher::builder().start()?;
    /// assert!(d.flush(std::time::Duration::from_secs(5)));
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use = "false means events are still queued"]
    pub fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut q = self.shared.lock();
        loop {
            if (q.events.is_empty() && !q.busy) || q.finished {
                return q.events.is_empty();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            q = self.shared.changed.wait_timeout(q, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// Deliveries that succeeded (one per event and sink).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::SinkDispatcher::builder().start()?.delivered(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn delivered(&self) -> u64 {
        self.shared.delivered.load(Ordering::Relaxed)
    }

    /// Deliveries that failed (one per event and sink: an error or a panic).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::SinkDispatcher::builder().start()?.failed(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn failed(&self) -> u64 {
        self.shared.failed.load(Ordering::Relaxed)
    }

    /// Events dropped: pushed out of a full queue, sent after stop began, or still queued
    /// when the shutdown timeout ran out.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::SinkDispatcher::builder().start()?.dropped(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Events waiting in the queue.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::SinkDispatcher::builder().start()?.queued(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn queued(&self) -> usize {
        self.shared.lock().events.len()
    }

    /// Delivers what is queued, for at most the shutdown timeout, and stops the thread
    /// (joined if it ended in time; otherwise left to end when its sink returns).
    ///
    /// # Examples
    /// ```
    /// perfcore::monitor::SinkDispatcher::builder().start()?.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(thread) = self.thread.take() else { return };
        let deadline = Instant::now() + self.shutdown_timeout;
        let mut q = self.shared.lock();
        q.stop_by.get_or_insert(deadline);
        self.shared.changed.notify_all();
        while !q.finished {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // A sink is stuck past the timeout: drop what is queued and leave the
                // thread; it sees stop_by when its call returns, and ends.
                let left = q.events.len() as u64;
                q.events.clear();
                self.shared.dropped.fetch_add(left, Ordering::Relaxed);
                return;
            }
            q = self.shared.changed.wait_timeout(q, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        drop(q);
        // It has returned from `run`: joining is immediate (Err only if it panicked, which
        // catch_unwind rules out).
        let _ = thread.join();
    }
}

impl Drop for SinkDispatcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::{AlertEngine, AlertRule, Observation};
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;

    const LONG: Duration = Duration::from_secs(30);

    fn events(n: usize) -> Vec<AlertEvent> {
        let rules = (0..n).map(|i| AlertRule::above(&format!("r{i}"), "m", 0.5)).collect();
        let mut engine = AlertEngine::new(rules).unwrap();
        engine.evaluate(7, &[Observation::gauge("m", "", 1.0).label("host", "a")])
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("perfcore-sink-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn json_lines_appends_one_object_per_line() {
        let dir = temp_dir("jsonl");
        let path = dir.join("a.jsonl");
        let mut sink = JsonLinesSink::open(&path).unwrap();
        for e in events(2) {
            sink.deliver(&e).unwrap();
        }
        drop(sink);
        let mut sink = JsonLinesSink::open(&path).unwrap();
        sink.deliver(&events(1)[0]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> =
            text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1]["rule"], "r1");
        assert_eq!(lines[0]["labels"]["host"], "a");
        assert_eq!(lines[0]["at_unix_ns"], 7);
        let e = JsonLinesSink::open(dir.join("missing/x.jsonl")).unwrap_err();
        assert!(
            matches!(e, MonitorError::Write { ref path, .. } if path.ends_with("missing/x.jsonl")),
            "{e:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn log_levels_follow_severity_and_state() {
        let mut ev = events(1).remove(0);
        assert_eq!(LogSink::level(&ev), log::Level::Warn);
        ev.severity = Severity::Critical;
        assert_eq!(LogSink::level(&ev), log::Level::Error);
        ev.state = AlertState::Resolved;
        assert_eq!(LogSink::level(&ev), log::Level::Info);
        LogSink::new().deliver(&ev).unwrap();
    }

    /// A loopback webhook answering each request with the next status; sends back the bodies.
    fn webhook(statuses: Vec<u16>) -> (String, mpsc::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for status in statuses {
                let (mut s, _) = listener.accept().unwrap();
                let req = read_request(&mut s);
                let _ = write!(s, "HTTP/1.1 {status} X\r\nContent-Length: 4\r\n\r\nnope");
                let _ = tx.send(req);
            }
        });
        (url, rx)
    }

    fn read_request(s: &mut TcpStream) -> String {
        s.set_read_timeout(Some(LONG)).unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            req.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&req).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len: usize = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if req.len() >= end + 4 + len {
                    return text[end + 4..].to_owned();
                }
            }
        }
        String::new()
    }

    #[test]
    fn webhook_retries_server_errors_then_delivers() {
        let (url, rx) = webhook(vec![503, 500, 204]);
        let mut sink = WebhookSink::new(&url)
            .unwrap()
            .retries(3)
            .backoff(Duration::from_millis(1))
            .timeout(LONG);
        sink.deliver(&events(1)[0]).unwrap();
        let bodies: Vec<String> = rx.iter().take(3).collect();
        let json: serde_json::Value = serde_json::from_str(&bodies[2]).unwrap();
        assert_eq!(json["rule"], "r0");
        assert_eq!(bodies[0], bodies[2]);
    }

    #[test]
    fn webhook_gives_up_on_client_errors_and_after_retries() {
        let (url, rx) = webhook(vec![400]);
        let mut sink =
            WebhookSink::new(&url).unwrap().backoff(Duration::from_millis(1)).timeout(LONG);
        let e = sink.deliver(&events(1)[0]).unwrap_err();
        assert!(
            matches!(e, MonitorError::Rejected { status: 400, ref body, .. } if body == "nope"),
            "{e:?}"
        );
        assert_eq!(rx.iter().count(), 1);
        let (url, rx) = webhook(vec![500, 500]);
        let mut sink = WebhookSink::new(&url)
            .unwrap()
            .retries(1)
            .backoff(Duration::from_millis(1))
            .timeout(LONG);
        assert!(matches!(
            sink.deliver(&events(1)[0]),
            Err(MonitorError::Rejected { status: 500, .. })
        ));
        assert_eq!(rx.iter().count(), 2);
    }

    #[test]
    fn dispatcher_drops_the_oldest_when_full() {
        let (started_tx, started_rx) = mpsc::channel();
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let (seen_tx, seen_rx) = mpsc::channel();
        let d = SinkDispatcher::builder()
            .capacity(2)
            .sink(CallbackSink::new(move |e| {
                let _ = started_tx.send(());
                let _ = gate_rx.recv_timeout(LONG);
                let _ = seen_tx.send(e.rule.clone());
            }))
            .start()
            .unwrap();
        let evs = events(6);
        d.send(evs[0].clone());
        started_rx.recv_timeout(LONG).unwrap(); // the thread holds r0
        d.send_all(evs[1..].iter().cloned());
        assert_eq!((d.queued(), d.dropped()), (2, 3));
        for _ in 0..3 {
            gate_tx.send(()).unwrap();
        }
        assert!(d.flush(LONG));
        assert_eq!(seen_rx.try_iter().collect::<Vec<_>>(), ["r0", "r4", "r5"]);
        assert_eq!((d.delivered(), d.failed()), (3, 0));
    }

    #[test]
    fn failures_and_panics_are_counted_and_other_sinks_still_deliver() {
        let (tx, rx) = mpsc::channel();
        let d = SinkDispatcher::builder()
            .sink(CallbackSink::fallible(|_| {
                Err(MonitorError::Sink { sink: "x".into(), reason: "down".into() })
            }))
            .sink(CallbackSink::new(|_| panic!("a broken sink")))
            .start()
            .unwrap();
        d.add_sink(CallbackSink::new(move |e| {
            let _ = tx.send(e.rule.clone());
        }));
        d.send_all(events(2));
        assert!(d.flush(LONG));
        assert_eq!(rx.try_iter().count(), 2);
        assert_eq!((d.delivered(), d.failed(), d.dropped()), (2, 4, 0));
        d.stop();
    }

    #[test]
    fn stop_delivers_what_is_queued() {
        let dir = temp_dir("stop");
        let path = dir.join("a.jsonl");
        let d =
            SinkDispatcher::builder().sink(JsonLinesSink::open(&path).unwrap()).start().unwrap();
        d.send_all(events(5));
        d.stop();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 5);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Prints what `send` costs the caller while the only sink takes 10 ms an event (a
    /// measurement, not a test: no timing is asserted).
    #[test]
    #[ignore = "a measurement: cargo test --release -p perfcore --features monitor --lib measure_ -- --ignored --nocapture"]
    fn measure_send_with_a_slow_sink() {
        let d = SinkDispatcher::builder()
            .capacity(1024)
            .shutdown_timeout(Duration::from_millis(100))
            .sink(CallbackSink::new(|_| std::thread::sleep(Duration::from_millis(10))))
            .start()
            .unwrap();
        let ev = events(1).remove(0);
        let n = 100_000u32;
        let start = Instant::now();
        for _ in 0..n {
            d.send(ev.clone());
        }
        let each = start.elapsed() / n;
        println!(
            "send: {each:?} per event (clone included) with a 10 ms sink; {} queued, {} dropped",
            d.queued(),
            d.dropped()
        );
        let start = Instant::now();
        drop(d);
        println!("drop with {} ms of work queued: {:?}", 1024 * 10, start.elapsed());
    }

    #[test]
    fn drop_does_not_wait_for_a_stuck_webhook() {
        // A webhook that accepts and never answers.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let server = std::thread::spawn(move || {
            let (_s, _) = listener.accept().unwrap();
            let _ = release_rx.recv_timeout(Duration::from_secs(120));
        });
        let sink = WebhookSink::new(&url).unwrap().retries(0).timeout(Duration::from_secs(60));
        let d = SinkDispatcher::builder()
            .sink(sink)
            .shutdown_timeout(Duration::from_millis(200))
            .start()
            .unwrap();
        d.send_all(events(3));
        // Drop returns although the webhook's 60 s timeout has not run out: what is still
        // queued is dropped.
        let shared = Arc::clone(&d.shared);
        drop(d);
        assert!(shared.dropped.load(Ordering::Relaxed) >= 2);
        release_tx.send(()).unwrap();
        server.join().unwrap();
    }
}
