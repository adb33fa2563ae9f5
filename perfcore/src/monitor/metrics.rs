//! Application metrics: the service's own counters, gauges and ratios, with labels.
//!
//! A [`MetricsRegistry`] hands out handles ([`Counter`], [`Gauge`], [`Ratio`]) that the
//! application keeps and records through; [`MetricsRegistry::observations`] reads every series
//! as [`Observation`]s, which the endpoint exposes and alert rules read. The process has one
//! global registry ([`metrics_registry`], and the free functions [`counter`], [`gauge`],
//! [`ratio`] on it); a registry of one's own is for tests and libraries that export apart.
//!
//! Recording costs about what a profiling scope does and takes no lock: a counter is a row of
//! cache-line-sized cells, and each thread adds to the cell of its own stripe (threads are
//! numbered as they first record; thread *n* uses cell *n* mod the number of cells, a power of
//! two at least the machine's parallelism, 4 to 64), so threads on different cores do not
//! bounce one cache line between them; reading sums the cells. A gauge is one atomic (`set` is
//! last-writer-wins; `add` and `sub` are compare-and-swap loops that lose no update).
//!
//! Names follow Prometheus's rules: metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names
//! `[a-zA-Z_][a-zA-Z0-9_]*` without the reserved `__` prefix, and not `le` or `quantile`
//! (the exposition's histogram and summary labels). A counter's name gets `_total` appended
//! unless it already ends so (`counter("requests", ..)` is the series `requests_total`, and
//! `counter("requests_total", ..)` is the same one).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use super::{MetricKind, MonitorError, Observation};
use crate::clock::Clock;

/// The window of a ratio's `<name>_ratio` gauge unless the registry is told otherwise.
pub const DEFAULT_RATIO_WINDOW: Duration = Duration::from_secs(60);

/// A ratio keeps at most this many (time, hits, misses) points: one per 1/64 of the window.
const RING_POINTS_PER_WINDOW: u64 = 64;

// ---------------------------------------------------------------------------------------------
// Striped cells.

/// Keeps a value alone on its cache line (two lines: x86 prefetches them in pairs).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded<T>(T);

/// The next thread's stripe number.
static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's stripe number, drawn the first time it records.
    static STRIPE: usize = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed);
}

/// This thread's stripe number (any number once the thread is being torn down: the cell is
/// only a place to add to, every cell is summed).
#[inline]
fn stripe() -> usize {
    STRIPE.try_with(|s| *s).unwrap_or(0)
}

/// How many cells a striped counter has: the machine's parallelism rounded up to a power of
/// two, 4 to 64.
fn stripe_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(8, std::num::NonZeroUsize::get)
            .next_power_of_two()
            .clamp(4, 64)
    })
}

/// A u64 count striped across cache-padded cells; adds never contend across threads on
/// different stripes, reads sum the cells (wrapping, as the cells do).
pub(crate) struct Striped {
    cells: Box<[Padded<AtomicU64>]>,
    mask: usize,
}

impl Striped {
    fn new() -> Self {
        let n = stripe_count();
        Self { cells: (0..n).map(|_| Padded(AtomicU64::new(0))).collect(), mask: n - 1 }
    }

    #[inline]
    pub(crate) fn add(&self, n: u64) {
        // `mask` is `cells.len() - 1` with a power-of-two length, so the index is in bounds;
        // `get` keeps the hot path free of a panicking bounds check all the same.
        if let Some(cell) = self.cells.get(stripe() & self.mask) {
            cell.0.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub(crate) fn sum(&self) -> u64 {
        self.cells.iter().fold(0u64, |acc, c| acc.wrapping_add(c.0.load(Ordering::Relaxed)))
    }
}

impl fmt::Debug for Striped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Striped")
            .field("sum", &self.sum())
            .field("cells", &self.cells.len())
            .finish()
    }
}

/// An f64 in an atomic: `set` stores, `add` is a compare-and-swap loop.
#[derive(Debug, Default)]
pub(crate) struct AtomicF64(AtomicU64);

impl AtomicF64 {
    pub(crate) fn load(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    pub(crate) fn store(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    pub(crate) fn add(&self, d: f64) {
        let mut cur = self.0.load(Ordering::Relaxed);
        loop {
            let new = (f64::from_bits(cur) + d).to_bits();
            match self.0.compare_exchange_weak(cur, new, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handles.

/// A count that only grows: requests served, bytes written, errors.
///
/// Cheap to clone (one `Arc`), `Send + Sync`; every clone records to the same series.
/// Incrementing takes no lock and allocates nothing.
///
/// # Examples
/// ```
/// let registry = perfcore::monitor::MetricsRegistry::new();
/// let served = registry.counter("requests", "Requests served.", &[("route", "/")])?;
/// served.inc();
/// served.increment(2);
/// assert_eq!(served.value(), 3);
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[derive(Clone)]
pub struct Counter {
    series: Arc<Striped>,
}

impl Counter {
    /// Adds `n`.
    ///
    /// # Examples
    /// ```
    /// let c = perfcore::monitor::MetricsRegistry::new().counter("bytes_read", "Bytes read.", &[])?;
    /// c.increment(4096);
    /// assert_eq!(c.value(), 4096);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[inline]
    pub fn increment(&self, n: u64) {
        self.series.add(n);
    }

    /// Adds one.
    ///
    /// # Examples
    /// ```
    /// let c = perfcore::monitor::MetricsRegistry::new().counter("jobs", "Jobs run.", &[])?;
    /// c.inc();
    /// assert_eq!(c.value(), 1);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[inline]
    pub fn inc(&self) {
        self.series.add(1);
    }

    /// The count so far, every thread's increments summed (wrapping past `u64::MAX`).
    ///
    /// # Examples
    /// ```
    /// let c = perfcore::monitor::MetricsRegistry::new().counter("jobs", "Jobs run.", &[])?;
    /// assert_eq!(c.value(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn value(&self) -> u64 {
        self.series.sum()
    }
}

impl fmt::Debug for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Counter").field("value", &self.value()).finish()
    }
}

/// A value that goes up and down: queue depth, connections in use, a temperature.
///
/// Cheap to clone, `Send + Sync`. [`set`](Self::set) is last-writer-wins; [`add`](Self::add),
/// [`sub`](Self::sub), [`inc`](Self::inc) and [`dec`](Self::dec) never lose an update when
/// threads race (a compare-and-swap loop on one atomic).
///
/// # Examples
/// ```
/// let registry = perfcore::monitor::MetricsRegistry::new();
/// let depth = registry.gauge("queue_depth", "Jobs waiting.", &[("queue", "mail")])?;
/// depth.set(5.0);
/// depth.inc();
/// depth.sub(2.0);
/// assert_eq!(depth.value(), 4.0);
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[derive(Clone)]
pub struct Gauge {
    series: Arc<AtomicF64>,
}

impl Gauge {
    /// Sets the value.
    ///
    /// # Examples
    /// ```
    /// let g = perfcore::monitor::MetricsRegistry::new().gauge("pool_in_use", "Connections.", &[])?;
    /// g.set(3.0);
    /// assert_eq!(g.value(), 3.0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[inline]
    pub fn set(&self, value: f64) {
        self.series.store(value);
    }

    /// Adds `delta` (negative to take away).
    ///
    /// # Examples
    /// ```
    /// let g = perfcore::monitor::MetricsRegistry::new().gauge("pool_in_use", "Connections.", &[])?;
    /// g.add(2.5);
    /// assert_eq!(g.value(), 2.5);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[inline]
    pub fn add(&self, delta: f64) {
        self.series.add(delta);
    }

    /// Takes `delta` away.
    ///
    /// # Examples
    /// ```
    /// let g = perfcore::monitor::MetricsRegistry::new().gauge("pool_in_use", "Connections.", &[])?;
    /// g.sub(1.0);
    /// assert_eq!(g.value(), -1.0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[inline]
    pub fn sub(&self, delta: f64) {
        self.series.add(-delta);
    }

    /// Adds one.
    ///
    /// # Examples
    /// ```
    /// let g = perfcore::monitor::MetricsRegistry::new().gauge("workers_busy", "Busy workers.", &[])?;
    /// g.inc();
    /// assert_eq!(g.value(), 1.0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[inline]
    pub fn inc(&self) {
        self.series.add(1.0);
    }

    /// Takes one away.
    ///
    /// # Examples
    /// ```
    /// let g = perfcore::monitor::MetricsRegistry::new().gauge("workers_busy", "Busy workers.", &[])?;
    /// g.inc();
    /// g.dec();
    /// assert_eq!(g.value(), 0.0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[inline]
    pub fn dec(&self) {
        self.series.add(-1.0);
    }

    /// The current value.
    ///
    /// # Examples
    /// ```
    /// let g = perfcore::monitor::MetricsRegistry::new().gauge("workers_busy", "Busy workers.", &[])?;
    /// assert_eq!(g.value(), 0.0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn value(&self) -> f64 {
        self.series.load()
    }
}

impl fmt::Debug for Gauge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gauge").field("value", &self.value()).finish()
    }
}

/// The ratio's storage: two striped counts, and the ring its windowed gauge is computed from.
pub(crate) struct RatioSeries {
    hits: Striped,
    misses: Striped,
    /// (nanoseconds since the registry's origin, hits, misses), oldest first; touched only by
    /// `observations`.
    ring: Mutex<VecDeque<(u64, u64, u64)>>,
}

impl RatioSeries {
    fn new(now_ns: u64) -> Self {
        let mut ring = VecDeque::new();
        ring.push_back((now_ns, 0, 0));
        Self { hits: Striped::new(), misses: Striped::new(), ring: Mutex::new(ring) }
    }

    fn cumulative(&self) -> Option<f64> {
        ratio_of(self.hits.sum(), self.misses.sum())
    }

    /// Hits, misses, and the ratio over the last `window_ns` (see [`Ratio`]); keeps a point.
    fn observe(&self, now_ns: u64, window_ns: u64) -> (u64, u64, Option<f64>) {
        let (h, m) = (self.hits.sum(), self.misses.sum());
        let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        let spacing = (window_ns / RING_POINTS_PER_WINDOW).max(1);
        // Points stay `spacing` apart, except the newest, which moves forward until it is that
        // far past the one before it: at most window / spacing + 2 points.
        let len = ring.len();
        let newest_moves = len >= 2
            && ring.get(len - 2).is_some_and(|&(t, _, _)| now_ns.saturating_sub(t) < spacing);
        if newest_moves {
            ring.pop_back();
        }
        ring.push_back((now_ns, h, m));
        let start = now_ns.saturating_sub(window_ns);
        // Keep one point at or before the window's start: it is the baseline.
        while ring.len() >= 2 && ring.get(1).is_some_and(|&(t, _, _)| t <= start) {
            ring.pop_front();
        }
        let windowed =
            ring.front().and_then(|&(_, h0, m0)| ratio_of(h.wrapping_sub(h0), m.wrapping_sub(m0)));
        (h, m, windowed.or_else(|| ratio_of(h, m)))
    }
}

impl fmt::Debug for RatioSeries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RatioSeries")
            .field("hits", &self.hits.sum())
            .field("misses", &self.misses.sum())
            .finish_non_exhaustive()
    }
}

fn ratio_of(hits: u64, misses: u64) -> Option<f64> {
    let total = hits as f64 + misses as f64;
    (total > 0.0).then(|| hits as f64 / total)
}

/// A share of successes, such as a cache's hit rate: hits / (hits + misses).
///
/// Exported as three series: the counters `<name>_hits_total` and `<name>_misses_total`, and
/// the gauge `<name>_ratio`, the ratio over the registry's window (default 60 s, see
/// [`MetricsRegistry::set_ratio_window`]). The window is computed from a small ring of
/// (time, hits, misses) points kept each time [`MetricsRegistry::observations`] runs (a scrape,
/// an alert evaluation): the baseline is the newest point at or before the window's start, or,
/// when observations are further apart than the window, the previous one. When the window saw
/// no hit and no miss, the gauge is the cumulative ratio; before the first hit or miss the
/// gauge is left out (there is no ratio yet). In PromQL the counters give any window:
/// `rate(x_hits_total[5m]) / (rate(x_hits_total[5m]) + rate(x_misses_total[5m]))`.
///
/// Cheap to clone, `Send + Sync`; recording takes no lock.
///
/// # Examples
/// ```
/// let registry = perfcore::monitor::MetricsRegistry::new();
/// let cache = registry.ratio("cache", "Cache lookups.", &[("cache", "users")])?;
/// cache.hit();
/// cache.hit();
/// cache.hit();
/// cache.miss();
/// assert_eq!(cache.value(), Some(0.75));
/// let names: Vec<_> = registry.observations().into_iter().map(|o| o.name).collect();
/// assert_eq!(names, ["cache_hits_total", "cache_misses_total", "cache_ratio"]);
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[derive(Clone)]
pub struct Ratio {
    series: Arc<RatioSeries>,
}

impl Ratio {
    /// Records a hit.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::monitor::MetricsRegistry::new().ratio("cache", "Lookups.", &[])?;
    /// r.hit();
    /// assert_eq!(r.hits(), 1);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[inline]
    pub fn hit(&self) {
        self.series.hits.add(1);
    }

    /// Records a miss.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::monitor::MetricsRegistry::new().ratio("cache", "Lookups.", &[])?;
    /// r.miss();
    /// assert_eq!(r.misses(), 1);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[inline]
    pub fn miss(&self) {
        self.series.misses.add(1);
    }

    /// Records a hit if `hit`, else a miss.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::monitor::MetricsRegistry::new().ratio("cache", "Lookups.", &[])?;
    /// r.record(true);
    /// r.record(false);
    /// assert_eq!(r.value(), Some(0.5));
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[inline]
    pub fn record(&self, hit: bool) {
        if hit { self.hit() } else { self.miss() }
    }

    /// Records `hits` hits and `misses` misses at once.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::monitor::MetricsRegistry::new().ratio("cache", "Lookups.", &[])?;
    /// r.add(9, 1);
    /// assert_eq!(r.value(), Some(0.9));
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[inline]
    pub fn add(&self, hits: u64, misses: u64) {
        if hits > 0 {
            self.series.hits.add(hits);
        }
        if misses > 0 {
            self.series.misses.add(misses);
        }
    }

    /// The hits so far.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::monitor::MetricsRegistry::new().ratio("cache", "Lookups.", &[])?;
    /// assert_eq!(r.hits(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn hits(&self) -> u64 {
        self.series.hits.sum()
    }

    /// The misses so far.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::monitor::MetricsRegistry::new().ratio("cache", "Lookups.", &[])?;
    /// assert_eq!(r.misses(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn misses(&self) -> u64 {
        self.series.misses.sum()
    }

    /// The cumulative ratio hits / (hits + misses) since the series was made; `None` before
    /// the first hit or miss. (The exported `<name>_ratio` gauge is windowed: see [`Ratio`].)
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::monitor::MetricsRegistry::new().ratio("cache", "Lookups.", &[])?;
    /// assert_eq!(r.value(), None);
    /// r.miss();
    /// assert_eq!(r.value(), Some(0.0));
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        self.series.cumulative()
    }
}

impl fmt::Debug for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ratio").field("hits", &self.hits()).field("misses", &self.misses()).finish()
    }
}

/// The facade's histograms: a count and a sum (of values in the caller's units).
#[derive(Debug)]
pub(crate) struct HistogramSeries {
    pub(crate) count: Striped,
    pub(crate) sum: AtomicF64,
}

// ---------------------------------------------------------------------------------------------
// The registry.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Ratio,
    // Made only by the facade (feature `metrics`).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Ratio => "ratio",
            Self::Histogram => "histogram",
        }
    }

    /// The names a family of this kind exports, with the kind of each.
    fn exported(self, name: &str) -> Vec<(String, MetricKind)> {
        match self {
            Self::Counter => vec![(name.to_owned(), MetricKind::Counter)],
            Self::Gauge => vec![(name.to_owned(), MetricKind::Gauge)],
            Self::Ratio => vec![
                (format!("{name}_hits_total"), MetricKind::Counter),
                (format!("{name}_misses_total"), MetricKind::Counter),
                (format!("{name}_ratio"), MetricKind::Gauge),
            ],
            Self::Histogram => vec![
                (format!("{name}_count"), MetricKind::Counter),
                (format!("{name}_sum"), MetricKind::Counter),
            ],
        }
    }
}

#[derive(Clone, Debug)]
enum Storage {
    Counter(Arc<Striped>),
    Gauge(Arc<AtomicF64>),
    Ratio(Arc<RatioSeries>),
    Histogram(Arc<HistogramSeries>),
}

#[derive(Debug)]
struct Series {
    /// As given.
    labels: Vec<(String, String)>,
    storage: Storage,
}

#[derive(Debug)]
struct Family {
    name: String,
    help: String,
    kind: Kind,
    series: Vec<Series>,
    /// Sorted labels → index in `series`, so the order labels are given in does not matter.
    index: HashMap<Vec<(String, String)>, usize>,
}

#[derive(Debug, Default)]
struct Inner {
    families: Vec<Family>,
    /// Family name → index in `families`.
    by_name: HashMap<String, usize>,
    /// Every exported name → the family exporting it (a ratio `cache` owns `cache_ratio`...).
    exported: HashMap<String, usize>,
}

/// A set of application metrics, read together by [`observations`](Self::observations).
///
/// Registering the same name and labels again returns a handle to the same series (labels
/// match in any order; the first registration's help text and label order are kept).
/// Registration takes a lock; recording through the handles does not, so keep the handles
/// (registering per call is a hash lookup under a read lock).
///
/// # Examples
/// ```
/// use perfcore::monitor::{MetricKind, MetricsRegistry};
/// let registry = MetricsRegistry::new();
/// let a = registry.counter("requests", "Requests.", &[("route", "/a")])?;
/// let again = registry.counter("requests_total", "Requests.", &[("route", "/a")])?;
/// a.inc();
/// again.inc();
/// let o = &registry.observations()[0];
/// assert_eq!((o.name.as_ref(), o.kind, o.value), ("requests_total", MetricKind::Counter, 2.0));
/// assert!(registry.gauge("requests_total", "", &[]).is_err()); // a counter already
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
pub struct MetricsRegistry {
    inner: RwLock<Inner>,
    clock: Clock,
    origin: u64,
    window_ns: AtomicU64,
}

impl fmt::Debug for MetricsRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("MetricsRegistry")
            .field("families", &inner.families.len())
            .field("ratio_window", &self.ratio_window())
            .finish_non_exhaustive()
    }
}

impl Default for MetricsRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl MetricsRegistry {
    /// An empty registry, with ratio windows of [`DEFAULT_RATIO_WINDOW`].
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::monitor::MetricsRegistry::new().observations().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with_raw_clock(Clock::system())
    }

    /// An empty registry whose ratio windows follow a manual clock.
    ///
    /// # Examples
    /// ```
    /// use perfcore::{monitor::MetricsRegistry, testing::ManualClock};
    /// let clock = ManualClock::new();
    /// let registry = MetricsRegistry::with_clock(&clock);
    /// let r = registry.ratio("cache", "", &[])?;
    /// r.add(0, 10);
    /// registry.observations();
    /// clock.advance(std::time::Duration::from_secs(61));
    /// r.add(10, 0);
    /// let last = registry.observations().pop();
    /// assert_eq!(last.map(|o| o.value), Some(1.0)); // the last minute had only hits
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[cfg(feature = "testing")]
    #[must_use]
    pub fn with_clock(clock: &crate::testing::ManualClock) -> Self {
        Self::with_raw_clock(clock.clock.clone())
    }

    fn with_raw_clock(clock: Clock) -> Self {
        let origin = clock.raw();
        Self {
            inner: RwLock::new(Inner::default()),
            clock,
            origin,
            window_ns: AtomicU64::new(duration_ns(DEFAULT_RATIO_WINDOW)),
        }
    }

    fn now_ns(&self) -> u64 {
        self.clock.delta_ns(self.origin, self.clock.raw())
    }

    /// Sets the window of every ratio's `<name>_ratio` gauge (see [`Ratio`]).
    ///
    /// # Errors
    /// [`MonitorError::InvalidOption`] if `window` is zero.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let registry = perfcore::monitor::MetricsRegistry::new();
    /// registry.set_ratio_window(Duration::from_secs(300))?;
    /// assert_eq!(registry.ratio_window(), Duration::from_secs(300));
    /// assert!(registry.set_ratio_window(Duration::ZERO).is_err());
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn set_ratio_window(&self, window: Duration) -> Result<(), MonitorError> {
        if window.is_zero() {
            return Err(MonitorError::InvalidOption {
                option: "ratio window",
                reason: "must be longer than zero".into(),
            });
        }
        self.window_ns.store(duration_ns(window), Ordering::Relaxed);
        Ok(())
    }

    /// The window of the ratios' `<name>_ratio` gauges.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::{MetricsRegistry, DEFAULT_RATIO_WINDOW};
    /// assert_eq!(MetricsRegistry::new().ratio_window(), DEFAULT_RATIO_WINDOW);
    /// ```
    #[must_use]
    pub fn ratio_window(&self) -> Duration {
        Duration::from_nanos(self.window_ns.load(Ordering::Relaxed))
    }

    /// The counter `name` (with `_total` appended unless it ends so) with these labels.
    ///
    /// # Errors
    /// [`MonitorError::InvalidName`] if the name or a label name breaks Prometheus's rules
    /// (see the [module docs](crate::monitor#application-metrics)), a label is given twice, or the name is already taken by
    /// a gauge, a ratio or a histogram (or a series one of them exports).
    ///
    /// # Examples
    /// ```
    /// let registry = perfcore::monitor::MetricsRegistry::new();
    /// let c = registry.counter("http_requests", "Requests.", &[("method", "GET")])?;
    /// c.inc();
    /// assert_eq!(registry.observations()[0].name, "http_requests_total");
    /// assert!(registry.counter("9lives", "", &[]).is_err());
    /// assert!(registry.counter("ok", "", &[("le", "1")]).is_err());
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn counter(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Counter, MonitorError> {
        let name = counter_name(name);
        match self.series(&name, help, labels, Kind::Counter)? {
            Storage::Counter(series) => Ok(Counter { series }),
            other => Err(kind_mismatch(&name, &other)),
        }
    }

    /// The gauge `name` with these labels.
    ///
    /// # Errors
    /// [`MonitorError::InvalidName`] as for [`counter`](Self::counter), if the name is taken
    /// by a metric of another kind.
    ///
    /// # Examples
    /// ```
    /// let registry = perfcore::monitor::MetricsRegistry::new();
    /// let g = registry.gauge("queue_depth", "Jobs waiting.", &[])?;
    /// g.set(7.0);
    /// assert_eq!(registry.observations()[0].value, 7.0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn gauge(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Gauge, MonitorError> {
        match self.series(name, help, labels, Kind::Gauge)? {
            Storage::Gauge(series) => Ok(Gauge { series }),
            other => Err(kind_mismatch(name, &other)),
        }
    }

    /// The ratio `name` with these labels, exported as `<name>_hits_total`,
    /// `<name>_misses_total` and `<name>_ratio` (see [`Ratio`]).
    ///
    /// # Errors
    /// [`MonitorError::InvalidName`] as for [`counter`](Self::counter).
    ///
    /// # Examples
    /// ```
    /// let registry = perfcore::monitor::MetricsRegistry::new();
    /// let r = registry.ratio("cache", "Cache lookups.", &[])?;
    /// r.record(true);
    /// assert_eq!(r.value(), Some(1.0));
    /// // `cache_hits_total` is the ratio's now:
    /// assert!(registry.counter("cache_hits", "", &[]).is_err());
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn ratio(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Ratio, MonitorError> {
        match self.series(name, help, labels, Kind::Ratio)? {
            Storage::Ratio(series) => Ok(Ratio { series }),
            other => Err(kind_mismatch(name, &other)),
        }
    }

    /// The storage of the counter `name` (already ending in `_total`), for the facade.
    #[cfg(feature = "metrics")]
    pub(crate) fn counter_storage(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Arc<Striped>, MonitorError> {
        self.counter(name, help, labels).map(|c| c.series)
    }

    /// The storage of the gauge `name`, for the facade.
    #[cfg(feature = "metrics")]
    pub(crate) fn gauge_storage(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Arc<AtomicF64>, MonitorError> {
        self.gauge(name, help, labels).map(|g| g.series)
    }

    /// The facade's histogram `name` (exported as `<name>_count` and `<name>_sum`).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn histogram(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Arc<HistogramSeries>, MonitorError> {
        match self.series(name, help, labels, Kind::Histogram)? {
            Storage::Histogram(series) => Ok(series),
            other => Err(kind_mismatch(name, &other)),
        }
    }

    /// Sets the help text of the metric `name` if it has none yet (the facade's `describe_*`
    /// may come after the first registration).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn describe(&self, name: &str, help: &str) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(&i) = inner.by_name.get(name)
            && let Some(f) = inner.families.get_mut(i)
            && f.help.is_empty()
        {
            help.clone_into(&mut f.help);
        }
    }

    /// The series `name` + `labels` of kind `kind`, made if new.
    fn series(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        kind: Kind,
    ) -> Result<Storage, MonitorError> {
        let key = series_key(labels);
        {
            let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(found) = lookup(&inner, name, kind, &key)? {
                return Ok(found);
            }
        }
        validate_metric_name(name)?;
        validate_labels(labels)?;
        let now = self.now_ns();
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = lookup(&inner, name, kind, &key)? {
            return Ok(found);
        }
        let family_index = match inner.by_name.get(name) {
            Some(&i) => i,
            None => {
                let i = inner.families.len();
                let exported = kind.exported(name);
                for (exported_name, _) in &exported {
                    if let Some(&owner) = inner.exported.get(exported_name) {
                        let (owner_name, owner_kind) = inner
                            .families
                            .get(owner)
                            .map_or(("?", "?"), |f| (f.name.as_str(), f.kind.as_str()));
                        return Err(MonitorError::InvalidName {
                            name: name.to_owned(),
                            reason: format!(
                                "its series {exported_name} is already exported by the \
                                 {owner_kind} {owner_name}"
                            ),
                        });
                    }
                }
                for (exported_name, _) in exported {
                    inner.exported.insert(exported_name, i);
                }
                inner.by_name.insert(name.to_owned(), i);
                inner.families.push(Family {
                    name: name.to_owned(),
                    help: help.to_owned(),
                    kind,
                    series: Vec::new(),
                    index: HashMap::new(),
                });
                i
            }
        };
        let storage = match kind {
            Kind::Counter => Storage::Counter(Arc::new(Striped::new())),
            Kind::Gauge => Storage::Gauge(Arc::new(AtomicF64::default())),
            Kind::Ratio => Storage::Ratio(Arc::new(RatioSeries::new(now))),
            Kind::Histogram => Storage::Histogram(Arc::new(HistogramSeries {
                count: Striped::new(),
                sum: AtomicF64::default(),
            })),
        };
        let Some(family) = inner.families.get_mut(family_index) else {
            // by_name only holds indices of families pushed above.
            unreachable!("the metrics registry lost family {name}");
        };
        family.index.insert(key, family.series.len());
        family.series.push(Series {
            labels: labels.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect(),
            storage: storage.clone(),
        });
        Ok(storage)
    }

    /// Every series' value now, as [`Observation`]s: metrics in registration order, each
    /// exported name's series together, labels as given, help as first given.
    ///
    /// A ratio gives its `_hits_total`, `_misses_total` and `_ratio` series (see [`Ratio`]);
    /// each call keeps a point of each ratio's window.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::MetricsRegistry;
    /// let registry = MetricsRegistry::new();
    /// registry.gauge("b", "B.", &[])?.set(1.0);
    /// registry.counter("a", "A.", &[("x", "1")])?.increment(5);
    /// let obs = registry.observations();
    /// assert_eq!(obs[0].name, "b");
    /// assert_eq!(obs[1].name, "a_total");
    /// assert_eq!(obs[1].label_value("x"), Some("1"));
    /// assert_eq!(obs[1].help, "A.");
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn observations(&self) -> Vec<Observation> {
        let now = self.now_ns();
        let window = self.window_ns.load(Ordering::Relaxed);
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        for family in &inner.families {
            // Per series: the values of each exported name, in `Kind::exported`'s order.
            let values: Vec<Vec<Option<f64>>> = family
                .series
                .iter()
                .map(|s| match &s.storage {
                    Storage::Counter(c) => vec![Some(c.sum() as f64)],
                    Storage::Gauge(g) => vec![Some(g.load())],
                    Storage::Ratio(r) => {
                        let (h, m, ratio) = r.observe(now, window);
                        vec![Some(h as f64), Some(m as f64), ratio]
                    }
                    Storage::Histogram(hist) => {
                        vec![Some(hist.count.sum() as f64), Some(hist.sum.load())]
                    }
                })
                .collect();
            for (j, (name, kind)) in family.kind.exported(&family.name).into_iter().enumerate() {
                for (series, vals) in family.series.iter().zip(&values) {
                    let Some(&Some(value)) = vals.get(j) else { continue };
                    out.push(Observation {
                        name: name.clone().into(),
                        help: family.help.clone().into(),
                        kind,
                        labels: series
                            .labels
                            .iter()
                            .map(|(k, v)| (k.clone().into(), v.clone()))
                            .collect(),
                        value,
                    });
                }
            }
        }
        out
    }
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn counter_name(name: &str) -> String {
    if name.ends_with("_total") { name.to_owned() } else { format!("{name}_total") }
}

fn series_key(labels: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut key: Vec<_> = labels.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect();
    key.sort();
    key
}

fn lookup(
    inner: &Inner,
    name: &str,
    kind: Kind,
    key: &[(String, String)],
) -> Result<Option<Storage>, MonitorError> {
    let Some(family) = inner.by_name.get(name).and_then(|&i| inner.families.get(i)) else {
        return Ok(None);
    };
    if family.kind != kind {
        return Err(MonitorError::InvalidName {
            name: name.to_owned(),
            reason: format!(
                "already registered as a {}, cannot be a {}",
                family.kind.as_str(),
                kind.as_str()
            ),
        });
    }
    Ok(family.index.get(key).and_then(|&i| family.series.get(i)).map(|s| s.storage.clone()))
}

fn kind_mismatch(name: &str, got: &Storage) -> MonitorError {
    // `series` checks the kind before returning storage; this only names the mismatch if
    // that ever changes.
    MonitorError::InvalidName {
        name: name.to_owned(),
        reason: format!("registered with another kind ({got:?})"),
    }
}

/// Checks a metric name against `[a-zA-Z_:][a-zA-Z0-9_:]*`.
///
/// # Errors
/// [`MonitorError::InvalidName`] naming the name and what is wrong with it.
pub(crate) fn validate_metric_name(name: &str) -> Result<(), MonitorError> {
    let bad =
        |reason: &str| MonitorError::InvalidName { name: name.to_owned(), reason: reason.into() };
    let mut chars = name.chars();
    match chars.next() {
        None => return Err(bad("is empty")),
        Some(c) if c.is_ascii_digit() => return Err(bad("starts with a digit")),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_' || c == ':') => {
            return Err(bad(&format!(
                "starts with {c:?}; a metric name is [a-zA-Z_:][a-zA-Z0-9_:]*"
            )));
        }
        Some(_) => {}
    }
    if let Some(c) = chars.find(|&c| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')) {
        return Err(bad(&format!("contains {c:?}; a metric name is [a-zA-Z_:][a-zA-Z0-9_:]*")));
    }
    Ok(())
}

/// Checks label names (`[a-zA-Z_][a-zA-Z0-9_]*`, no `__` prefix, not `le` or `quantile`, each
/// once).
///
/// # Errors
/// [`MonitorError::InvalidName`] naming the label and what is wrong with it.
pub(crate) fn validate_labels(labels: &[(&str, &str)]) -> Result<(), MonitorError> {
    for (i, &(label, _)) in labels.iter().enumerate() {
        let bad = |reason: &str| MonitorError::InvalidName {
            name: label.to_owned(),
            reason: reason.into(),
        };
        let mut chars = label.chars();
        match chars.next() {
            None => return Err(bad("label name is empty")),
            Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
                return Err(bad(&format!(
                    "label name starts with {c:?}; a label name is [a-zA-Z_][a-zA-Z0-9_]*"
                )));
            }
            Some(_) => {}
        }
        if let Some(c) = chars.find(|&c| !(c.is_ascii_alphanumeric() || c == '_')) {
            return Err(bad(&format!(
                "label name contains {c:?}; a label name is [a-zA-Z_][a-zA-Z0-9_]*"
            )));
        }
        if label.starts_with("__") {
            return Err(bad("label names starting with __ are reserved for Prometheus"));
        }
        if label == "le" || label == "quantile" {
            return Err(bad("is the exposition's histogram/summary label"));
        }
        if labels.iter().take(i).any(|&(k, _)| k == label) {
            return Err(bad("label given twice"));
        }
    }
    Ok(())
}

/// The process's registry: what [`counter`], [`gauge`] and [`ratio`] register in, and what the
/// endpoint exposes.
///
/// # Examples
/// ```
/// let c = perfcore::monitor::metrics_registry().counter("doc_global_jobs", "Jobs.", &[])?;
/// c.inc();
/// assert!(perfcore::monitor::metrics_registry().observations().iter().any(|o| o.name == "doc_global_jobs_total"));
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[must_use]
pub fn metrics_registry() -> &'static MetricsRegistry {
    static GLOBAL: OnceLock<MetricsRegistry> = OnceLock::new();
    GLOBAL.get_or_init(MetricsRegistry::new)
}

/// A counter in the process's registry ([`MetricsRegistry::counter`] on [`metrics_registry`]).
///
/// # Errors
/// As [`MetricsRegistry::counter`].
///
/// # Examples
/// ```
/// let served = perfcore::monitor::counter("doc_served", "Requests served.", &[("route", "/")])?;
/// served.inc();
/// assert_eq!(served.value(), 1);
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
pub fn counter(name: &str, help: &str, labels: &[(&str, &str)]) -> Result<Counter, MonitorError> {
    metrics_registry().counter(name, help, labels)
}

/// A gauge in the process's registry ([`MetricsRegistry::gauge`] on [`metrics_registry`]).
///
/// # Errors
/// As [`MetricsRegistry::gauge`].
///
/// # Examples
/// ```
/// let depth = perfcore::monitor::gauge("doc_queue_depth", "Jobs waiting.", &[])?;
/// depth.set(2.0);
/// assert_eq!(depth.value(), 2.0);
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
pub fn gauge(name: &str, help: &str, labels: &[(&str, &str)]) -> Result<Gauge, MonitorError> {
    metrics_registry().gauge(name, help, labels)
}

/// A ratio in the process's registry ([`MetricsRegistry::ratio`] on [`metrics_registry`]).
///
/// # Errors
/// As [`MetricsRegistry::ratio`].
///
/// # Examples
/// ```
/// let cache = perfcore::monitor::ratio("doc_cache", "Cache lookups.", &[])?;
/// cache.hit();
/// assert_eq!(cache.value(), Some(1.0));
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
pub fn ratio(name: &str, help: &str, labels: &[(&str, &str)]) -> Result<Ratio, MonitorError> {
    metrics_registry().ratio(name, help, labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn manual() -> (MetricsRegistry, Arc<quanta::Mock>) {
        let (clock, mock) = Clock::manual();
        (MetricsRegistry::with_raw_clock(clock), mock)
    }

    #[test]
    fn same_name_and_labels_is_the_same_series_in_any_label_order() {
        let r = MetricsRegistry::new();
        let a = r.counter("hits", "", &[("a", "1"), ("b", "2")]).unwrap();
        let b = r.counter("hits_total", "", &[("b", "2"), ("a", "1")]).unwrap();
        let other = r.counter("hits", "", &[("a", "2"), ("b", "2")]).unwrap();
        a.inc();
        b.increment(2);
        other.inc();
        assert_eq!(a.value(), 3);
        let obs = r.observations();
        assert_eq!(obs.len(), 2);
        assert_eq!(obs[0].labels[0].0, "a", "labels in the order first given");
        assert_eq!(obs[0].value, 3.0);
        assert_eq!(obs[1].value, 1.0);
    }

    #[test]
    fn another_kind_under_the_same_name_is_an_error_naming_it() {
        let r = MetricsRegistry::new();
        r.gauge("depth", "", &[]).unwrap();
        let e = r.ratio("depth", "", &[]).unwrap_err().to_string();
        assert!(e.contains("\"depth\"") && e.contains("gauge"), "{e}");
        r.ratio("cache", "", &[]).unwrap();
        let e = r.gauge("cache_ratio", "", &[]).unwrap_err().to_string();
        assert!(e.contains("cache_ratio") && e.contains("ratio cache"), "{e}");
        r.counter("x", "", &[]).unwrap();
        assert!(r.gauge("x_total", "", &[]).is_err());
        assert!(r.ratio("x_total", "", &[]).is_err());
    }

    #[test]
    fn bad_names_are_refused_with_the_name() {
        let r = MetricsRegistry::new();
        for bad in ["", "9lives", "a-b", "a.b", "é"] {
            let e = r.gauge(bad, "", &[]).unwrap_err();
            assert!(matches!(&e, MonitorError::InvalidName { name, .. } if name == bad), "{e}");
        }
        assert!(r.gauge("ns:sub_metric", "", &[]).is_ok());
        for bad in ["", "1x", "a:b", "__reserved", "le", "quantile", "a-b"] {
            let e = r.gauge("g", "", &[(bad, "v")]).unwrap_err();
            assert!(matches!(&e, MonitorError::InvalidName { name, .. } if name == bad), "{e}");
        }
        let e = r.gauge("g", "", &[("a", "1"), ("a", "2")]).unwrap_err().to_string();
        assert!(e.contains("twice"), "{e}");
        // Label values may be anything.
        assert!(r.gauge("g", "", &[("path", "/a b\"\n")]).is_ok());
        // A failed registration leaves nothing behind.
        assert_eq!(r.observations().len(), 2);
    }

    #[test]
    fn counters_from_threads_add_up_exactly() {
        let r = MetricsRegistry::new();
        let c = r.counter("n", "", &[]).unwrap();
        let g = r.gauge("g", "", &[]).unwrap();
        let ratio = r.ratio("r", "", &[]).unwrap();
        std::thread::scope(|s| {
            for t in 0..8u64 {
                let (c, g, ratio) = (c.clone(), g.clone(), ratio.clone());
                s.spawn(move || {
                    for i in 0..10_000u64 {
                        c.increment(t + 1);
                        g.add(1.0);
                        g.sub(0.5);
                        ratio.record(i % 4 != 0);
                    }
                });
            }
        });
        assert_eq!(c.value(), 10_000 * (1..=8).sum::<u64>());
        assert_eq!(g.value(), 8.0 * 10_000.0 * 0.5);
        assert_eq!((ratio.hits(), ratio.misses()), (60_000, 20_000));
        assert_eq!(ratio.value(), Some(0.75));
    }

    #[test]
    fn gauge_set_is_last_writer_wins() {
        let g = MetricsRegistry::new().gauge("g", "", &[]).unwrap();
        g.set(3.0);
        g.set(-1.5);
        assert_eq!(g.value(), -1.5);
        g.inc();
        g.dec();
        g.dec();
        assert_eq!(g.value(), -2.5);
    }

    #[test]
    fn ratio_gauge_is_over_the_window_then_cumulative_when_idle() {
        let (r, mock) = manual();
        let ratio = r.ratio("cache", "Lookups.", &[("c", "u")]).unwrap();
        assert!(r.observations().iter().all(|o| o.name != "cache_ratio"), "no ratio yet");
        ratio.add(0, 100); // an hour of misses
        let first = r.observations();
        assert_eq!(
            first.iter().map(|o| o.kind).collect::<Vec<_>>(),
            [MetricKind::Counter, MetricKind::Counter, MetricKind::Gauge]
        );
        assert_eq!(first[2].value, 0.0);
        for _ in 0..10 {
            mock.increment(Duration::from_secs(10));
            ratio.add(3, 1);
            r.observations();
        }
        // The last 60 s saw 6 × (3 hits, 1 miss).
        let obs = r.observations();
        assert_eq!(obs[0].value, 30.0);
        assert_eq!(obs[1].value, 110.0);
        assert_eq!(obs[2].value, 0.75);
        assert_eq!(obs[2].label_value("c"), Some("u"));
        assert_eq!(ratio.value(), Some(30.0 / 140.0));
        // Nothing for a while: the cumulative ratio.
        mock.increment(Duration::from_secs(120));
        r.observations();
        mock.increment(Duration::from_secs(1));
        assert_eq!(r.observations()[2].value, 30.0 / 140.0);
        // A shorter window.
        r.set_ratio_window(Duration::from_secs(5)).unwrap();
        mock.increment(Duration::from_secs(10));
        r.observations();
        ratio.add(1, 1);
        mock.increment(Duration::from_secs(6));
        assert_eq!(r.observations()[2].value, 0.5);
    }

    #[test]
    fn the_ring_stays_small_when_observed_often() {
        let (r, mock) = manual();
        let ratio = r.ratio("cache", "", &[]).unwrap();
        for _ in 0..10_000 {
            mock.increment(Duration::from_millis(10));
            ratio.hit();
            r.observations();
        }
        let len = ratio.series.ring.lock().unwrap().len();
        assert!(len <= RING_POINTS_PER_WINDOW as usize + 2, "{len}");
    }

    #[test]
    fn describe_fills_an_empty_help_only() {
        let r = MetricsRegistry::new();
        r.gauge("g", "", &[]).unwrap();
        r.gauge("h", "Given.", &[]).unwrap();
        r.describe("g", "Later.");
        r.describe("h", "Later.");
        let obs = r.observations();
        assert_eq!((obs[0].help.as_ref(), obs[1].help.as_ref()), ("Later.", "Given."));
    }

    #[test]
    fn the_global_registry_is_one() {
        let a = counter("unit_global_once", "", &[]).unwrap();
        let b = metrics_registry().counter("unit_global_once_total", "", &[]).unwrap();
        a.inc();
        assert_eq!(b.value(), 1);
    }

    proptest! {
        #[test]
        fn striped_sums_are_conserved(adds in proptest::collection::vec((0usize..4, 0u64..1_000_000), 0..200)) {
            let c = MetricsRegistry::new().counter("p", "", &[]).unwrap();
            std::thread::scope(|s| {
                for t in 0..4 {
                    let c = c.clone();
                    let mine: Vec<u64> = adds.iter().filter(|(w, _)| *w == t).map(|(_, n)| *n).collect();
                    s.spawn(move || for n in mine { c.increment(n) });
                }
            });
            prop_assert_eq!(c.value(), adds.iter().map(|(_, n)| n).sum::<u64>());
        }

        #[test]
        fn windowed_ratio_is_a_share(steps in proptest::collection::vec((0u64..50, 0u64..50, 0u64..30), 1..60)) {
            let (r, mock) = manual();
            let ratio = r.ratio("q", "", &[]).unwrap();
            for (h, m, secs) in steps {
                ratio.add(h, m);
                mock.increment(Duration::from_secs(secs));
                for o in r.observations() {
                    if o.name == "q_ratio" {
                        prop_assert!((0.0..=1.0).contains(&o.value), "{}", o.value);
                    }
                }
            }
        }

        #[test]
        fn valid_names_are_accepted(name in "[a-zA-Z_:][a-zA-Z0-9_:]{0,20}", label in "[a-zA-Z][a-zA-Z0-9_]{0,10}") {
            prop_assume!(label != "le");
            let r = MetricsRegistry::new();
            prop_assert!(r.gauge(&name, "", &[(&label, "v")]).is_ok());
        }
    }
}
