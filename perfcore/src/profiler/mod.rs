//! The profiler: scopes, the process-wide default, snapshots and reset.

mod build;
pub(crate) mod callsite;
#[cfg(not(loom))]
pub(crate) mod fork;
mod future;
mod intern;
mod local;
pub(crate) mod raw;
mod reentry;
pub(crate) mod shared;
mod timeline;

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

pub use callsite::Callsite;
pub use future::{ErrorCheck, Instrumented, NoErrors, instrument};
pub(crate) use raw::Outcome;

use crate::clock::Clock;
use crate::error::ProfileError;
use crate::stats::{Snapshot, SpanEvent, SpanKind, ThreadTimeline, Timeline};
use crate::sync::Mutex;
use shared::Registry;

/// The default maximum depth of nested scopes on one thread.
pub const DEFAULT_MAX_DEPTH: usize = 64;
/// The largest maximum depth a profiler accepts.
pub const MAX_DEPTH_LIMIT: usize = 1 << 16;

/// The largest per-thread capacity [`ProfilerBuilder::timeline`] accepts (4 Mi events,
/// 128 MiB per thread).
pub const MAX_TIMELINE_CAPACITY: usize = timeline::MAX_CAPACITY;

/// The switch of the process-wide profiler, a plain static so that a disabled
/// `profile_scope!` costs exactly one relaxed load.
static GLOBAL_ENABLED: AtomicBool = AtomicBool::new(true);
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

pub(crate) struct Inner {
    pub(crate) id: usize,
    pub(crate) is_global: bool,
    enabled: AtomicBool,
    epoch: AtomicU64,
    pub(crate) max_depth: usize,
    /// Events kept per thread by the timeline; 0: no timeline.
    pub(crate) timeline_capacity: usize,
    pub(crate) clock: Clock,
    pub(crate) registry: Mutex<Registry>,
    /// Baselines set with `set_baseline` (see `regress::session`); never touched by scopes.
    pub(crate) baselines: Mutex<Vec<MarkedBaseline>>,
}

/// A baseline held in memory: what it compares against, and the profiler's state when it was
/// set, so a comparison sees only the calls recorded since.
#[derive(Debug)]
pub(crate) struct MarkedBaseline {
    pub(crate) name: String,
    /// The function (or all of them) as recorded when the baseline was set.
    pub(crate) baseline: Snapshot,
    /// The whole snapshot when it was set.
    pub(crate) mark: Snapshot,
    /// The reset epoch then: after a reset, everything recorded is new.
    pub(crate) epoch: u64,
}

impl Inner {
    #[inline(always)]
    pub(crate) fn enabled(&self) -> &AtomicBool {
        if self.is_global { &GLOBAL_ENABLED } else { &self.enabled }
    }

    #[inline(always)]
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Relaxed)
    }
}

fn unix_now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// Records how long functions take, how often they run, and where they are called from.
///
/// Open a scope with [`scope`](Self::scope) (a name chosen at run time),
/// [`profile_scope!`](crate::profile_scope) (a static callsite, the fastest) or
/// `#[profile]`; it records when its guard drops. Recording is thread-local and lock-free;
/// [`snapshot`](Self::snapshot) merges every thread's counters, including threads that have
/// exited. Cloning a profiler gives another handle to the same one.
///
/// [`global()`](crate::global) is the process-wide profiler the macros use by default;
/// [`PerformanceProfiler::new`] makes an independent one (tests want that isolation).
///
/// # Examples
/// ```
/// use perfcore::PerformanceProfiler;
///
/// let profiler = PerformanceProfiler::new();
/// fn parse(p: &PerformanceProfiler, line: &str) -> usize {
///     let _g = p.scope("parse").unwrap();
///     line.split(',').count()
/// }
/// for line in ["a,b", "c,d,e"] {
///     parse(&profiler, line);
/// }
/// let snap = profiler.snapshot();
/// assert_eq!(snap.function("parse").unwrap().count, 2);
/// ```
#[derive(Clone)]
pub struct PerformanceProfiler {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PerformanceProfiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerformanceProfiler")
            .field("id", &self.inner.id)
            .field("global", &self.inner.is_global)
            .field("enabled", &self.is_enabled())
            .field("max_depth", &self.inner.max_depth)
            .field("timeline_capacity", &self.inner.timeline_capacity)
            .finish_non_exhaustive()
    }
}

impl Default for PerformanceProfiler {
    fn default() -> Self {
        Self::new()
    }
}

/// Configures a [`PerformanceProfiler`].
///
/// # Examples
/// ```
/// let profiler = perfcore::PerformanceProfiler::builder().max_depth(128).build()?;
/// assert_eq!(profiler.max_depth(), 128);
/// # Ok::<(), perfcore::ProfileError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ProfilerBuilder {
    max_depth: usize,
    enabled: bool,
    timeline: usize,
    clock: Option<Clock>,
}

impl ProfilerBuilder {
    /// The depth of the call tree (default 64). Every call is counted and timed however deep
    /// it runs; calls deeper than this are shown in the call tree as children of the deepest
    /// path within the limit, and counted in their function's
    /// [`folded_calls`](crate::FunctionStats::folded_calls). It bounds the number of call
    /// paths (and so the memory) a runaway recursion can make.
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Whether the profiler starts enabled (default `true`).
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Keeps a timeline: the last `capacity_per_thread` spans each thread finished, with
    /// their start times, depths and outcomes, read with
    /// [`PerformanceProfiler::timeline`] and included in every
    /// [`snapshot`](PerformanceProfiler::snapshot) (for [`report::write_chrome_trace`](crate::report)).
    /// Off by default; 0 turns it off.
    ///
    /// Each thread writes its own ring buffer of 32-byte events, without locks; once it is
    /// full, each new span overwrites the oldest, and [`ThreadTimeline::dropped`] counts them.
    /// Memory: `32 × capacity_per_thread` bytes per recording thread (and per exited thread,
    /// for the last 64 that exited). Off, scopes cost what they cost without it.
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::builder().timeline(2).build()?;
    /// for _ in 0..5 {
    ///     drop(p.scope("tick")?);
    /// }
    /// let t = p.timeline();
    /// assert_eq!((t.threads[0].events.len(), t.threads[0].dropped), (2, 3));
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn timeline(mut self, capacity_per_thread: usize) -> Self {
        self.timeline = capacity_per_thread;
        self
    }

    /// Times scopes with a manual clock that moves only when the test says so.
    #[cfg(feature = "testing")]
    pub fn clock(mut self, clock: &crate::testing::ManualClock) -> Self {
        self.clock = Some(clock.clock.clone());
        self
    }

    /// Builds the profiler.
    ///
    /// # Errors
    /// [`ProfileError::OutOfRange`] if `max_depth` is 0 or above [`MAX_DEPTH_LIMIT`], or the
    /// timeline's capacity is above [`MAX_TIMELINE_CAPACITY`].
    pub fn build(self) -> Result<PerformanceProfiler, ProfileError> {
        self.validate()?;
        Ok(PerformanceProfiler::with(self, NEXT_ID.fetch_add(1, Ordering::Relaxed), false))
    }

    /// Makes these settings the global profiler's ([`global()`], which `#[profile]` and
    /// `profile_scope!` record into), before anything has used it: call it first thing in
    /// `main`, e.g. to turn the timeline on for `#[profile]` functions.
    ///
    /// # Errors
    /// [`ProfileError::GlobalInUse`] when the global profiler already exists (something
    /// recorded into it or asked for it); the settings' errors of [`ProfilerBuilder::build`].
    ///
    /// # Examples
    /// ```
    /// let global = perfcore::PerformanceProfiler::builder().timeline(4096).init_global()?;
    /// assert_eq!(global.timeline_capacity(), 4096);
    /// {
    ///     perfcore::profile_scope!("step");
    /// }
    /// assert_eq!(perfcore::global().timeline().event_count(), 1);
    /// // Once it exists, its settings are fixed.
    /// let again = perfcore::PerformanceProfiler::builder().init_global();
    /// assert!(matches!(again, Err(perfcore::ProfileError::GlobalInUse)));
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn init_global(self) -> Result<&'static PerformanceProfiler, ProfileError> {
        self.validate()?;
        let mut made = false;
        let global = GLOBAL.get_or_init(|| {
            made = true;
            reentry::inside(|| PerformanceProfiler::with(self, 0, true))
        });
        if made { Ok(global) } else { Err(ProfileError::GlobalInUse) }
    }

    fn validate(&self) -> Result<(), ProfileError> {
        if self.max_depth == 0 || self.max_depth > MAX_DEPTH_LIMIT {
            return Err(ProfileError::OutOfRange {
                setting: "max_depth",
                value: self.max_depth as f64,
                min: 1.0,
                max: MAX_DEPTH_LIMIT as f64,
            });
        }
        if self.timeline > MAX_TIMELINE_CAPACITY {
            return Err(ProfileError::OutOfRange {
                setting: "timeline",
                value: self.timeline as f64,
                min: 0.0,
                max: MAX_TIMELINE_CAPACITY as f64,
            });
        }
        Ok(())
    }
}

impl PerformanceProfiler {
    /// A new, independent profiler with default settings.
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// assert!(p.snapshot().functions().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with(Self::builder(), NEXT_ID.fetch_add(1, Ordering::Relaxed), false)
    }

    /// A builder for a profiler with non-default settings.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::PerformanceProfiler::builder().max_depth(0).build().is_err());
    /// ```
    pub fn builder() -> ProfilerBuilder {
        ProfilerBuilder { max_depth: DEFAULT_MAX_DEPTH, enabled: true, timeline: 0, clock: None }
    }

    fn with(b: ProfilerBuilder, id: usize, is_global: bool) -> Self {
        let clock = b.clock.unwrap_or_else(Clock::system);
        let registry = Registry {
            started_unix_ns: unix_now_ns(),
            started_raw: clock.raw(),
            ..Registry::default()
        };
        if is_global {
            GLOBAL_ENABLED.store(b.enabled, Ordering::Relaxed);
        }
        let inner = Arc::new(Inner {
            id,
            is_global,
            enabled: AtomicBool::new(b.enabled),
            epoch: AtomicU64::new(0),
            max_depth: b.max_depth,
            timeline_capacity: b.timeline,
            clock,
            registry: Mutex::new(registry),
            baselines: Mutex::new(Vec::new()),
        });
        #[cfg(not(loom))]
        fork::track(&inner);
        Self { inner }
    }

    /// Opens a scope named `name`; it records one call when the returned guard drops.
    ///
    /// Names chosen at run time cost a hash lookup per call; for hot code prefer
    /// [`profile_scope!`](crate::profile_scope), whose callsite is static.
    ///
    /// # Errors
    /// [`ProfileError::EmptyName`] if `name` is empty.
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// {
    ///     let _g = p.scope("step")?;
    /// }
    /// assert!(p.scope("").is_err());
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn scope(&self, name: &str) -> Result<ScopeGuard<'_>, ProfileError> {
        if name.is_empty() {
            return Err(ProfileError::EmptyName { what: "scope name" });
        }
        // Inside perfcore's own work (an allocator called this): the name's table may be
        // locked by this very thread.
        if !self.inner.enabled().load(Ordering::Relaxed) || reentry::is_inside() {
            return Ok(ScopeGuard::inert());
        }
        Ok(self.enter_enabled(callsite::by_name(name)))
    }

    /// Opens a scope for a static callsite: what [`profile_scope!`](crate::profile_scope) and
    /// `#[profile]` expand to.
    ///
    /// # Examples
    /// ```
    /// static CS: perfcore::Callsite = perfcore::Callsite::new("load", module_path!(), file!(), line!());
    /// let p = perfcore::PerformanceProfiler::new();
    /// drop(p.enter(&CS));
    /// assert_eq!(p.snapshot().function("load").unwrap().line, CS.line());
    /// ```
    #[inline(always)]
    pub fn enter(&self, callsite: &'static Callsite) -> ScopeGuard<'_> {
        if !self.inner.enabled().load(Ordering::Relaxed) {
            return ScopeGuard::inert();
        }
        self.enter_enabled(callsite)
    }

    #[inline(always)]
    fn enter_enabled(&self, callsite: &'static Callsite) -> ScopeGuard<'_> {
        let Some(index) = callsite.index() else { return ScopeGuard::inert() };
        let depth = local::enter(&self.inner, index);
        if depth == local::INERT {
            return ScopeGuard::inert();
        }
        ScopeGuard {
            inner: Some(&self.inner),
            depth,
            failed: Cell::new(false),
            _not_send: PhantomData,
        }
    }

    /// Turns recording on or off. Off, opening a scope costs one relaxed atomic load and
    /// records nothing; scopes already open still record when they close.
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// p.set_enabled(false);
    /// { let _g = p.scope("skipped").unwrap(); }
    /// assert!(p.snapshot().function("skipped").is_none());
    /// ```
    pub fn set_enabled(&self, enabled: bool) {
        self.inner.enabled().store(enabled, Ordering::Relaxed);
    }

    /// Whether recording is on.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::PerformanceProfiler::new().is_enabled());
    /// ```
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        self.inner.enabled().load(Ordering::Relaxed)
    }

    /// The depth of the call tree (see [`ProfilerBuilder::max_depth`]).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::PerformanceProfiler::new().max_depth(), perfcore::DEFAULT_MAX_DEPTH);
    /// ```
    #[must_use]
    pub fn max_depth(&self) -> usize {
        self.inner.max_depth
    }

    /// How many scopes of this profiler are open on the calling thread.
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// let _g = p.scope("outer").unwrap();
    /// assert_eq!(p.current_depth(), 1);
    /// ```
    #[must_use]
    pub fn current_depth(&self) -> usize {
        local::depth(&self.inner)
    }

    /// Merges every thread's counters into a [`Snapshot`]: threads still running and
    /// threads that have exited.
    ///
    /// Safe to call while other threads record: each counter is read atomically, counts never
    /// go down between snapshots, and a call finishing during the snapshot is either in it or
    /// in the next one. Recording threads are never blocked.
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| { let _g = p.scope("worker").unwrap(); });
    /// });
    /// assert_eq!(p.snapshot().function("worker").unwrap().count, 1);
    /// ```
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        reentry::inside(|| {
            let registry = self.inner.registry.lock();
            let acc = registry.collect(self.inner.epoch());
            let end_raw = self.inner.clock.raw();
            let started = registry.started_unix_ns;
            let ended = started + self.inner.clock.delta_ns(registry.started_raw, end_raw);
            let rings = (self.inner.timeline_capacity > 0).then(|| registry.read_timelines());
            let started_raw = registry.started_raw;
            drop(registry);
            let mut snap = build::snapshot(acc, started, ended);
            snap.timeline = rings.map(|r| self.build_timeline(r, started, started_raw));
            snap
        })
    }

    /// The spans each thread finished most recently, with their start times: empty unless
    /// the profiler keeps a timeline ([`ProfilerBuilder::timeline`]).
    ///
    /// Safe to call while other threads record, and never blocks them: each thread's ring
    /// is copied without stopping its writer, and a span overwritten while it was being
    /// copied is counted in [`ThreadTimeline::dropped`] instead of read torn. A reset starts
    /// a new timeline too. Each thread's events come by start time; times count from the
    /// window's start, [`Timeline::started_unix_ns`]. A span open across a reset is cut
    /// at it.
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::builder().timeline(64).build()?;
    /// std::thread::Builder::new().name("worker".into()).spawn({
    ///     let p = p.clone();
    ///     move || drop(p.scope("job"))
    /// }).unwrap().join().unwrap();
    /// let t = p.timeline();
    /// assert_eq!(t.threads[0].name.as_deref(), Some("worker"));
    /// assert_eq!(t.name_of(&t.threads[0].events[0]), Some("job"));
    /// assert!(perfcore::PerformanceProfiler::new().timeline().threads.is_empty());
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    #[must_use]
    pub fn timeline(&self) -> Timeline {
        reentry::inside(|| {
            let registry = self.inner.registry.lock();
            if self.inner.timeline_capacity == 0 {
                return Timeline::new(registry.started_unix_ns);
            }
            let rings = registry.read_timelines();
            let (started, started_raw) = (registry.started_unix_ns, registry.started_raw);
            drop(registry);
            self.build_timeline(rings, started, started_raw)
        })
    }

    /// The timeline of the rings' events, in a window that started at `started_raw`.
    fn build_timeline(
        &self,
        rings: Vec<shared::RingRead>,
        started_unix_ns: u64,
        started_raw: u64,
    ) -> Timeline {
        let clock = &self.inner.clock;
        let callsites = callsite::all();
        let mut out = Timeline::new(started_unix_ns);
        // Callsite index to position in `out.functions`.
        let mut position: std::collections::HashMap<u32, usize> = Default::default();
        let pid = std::process::id();
        for ring in rings {
            let mut t = ThreadTimeline::new(pid, ring.thread_id, ring.name);
            t.dropped = ring.dropped;
            for e in ring.events {
                let Some(cs) = callsites.get(e.callsite as usize) else {
                    t.dropped += 1;
                    continue;
                };
                let function = *position.entry(e.callsite).or_insert_with(|| {
                    out.functions.push(cs.name().to_owned());
                    out.functions.len() - 1
                });
                // A span open across a reset is cut at the window's start.
                let (start_ns, duration_ns) = if e.start_raw >= started_raw {
                    (clock.delta_ns(started_raw, e.start_raw), e.duration_ns)
                } else {
                    (0, e.duration_ns.saturating_sub(clock.delta_ns(e.start_raw, started_raw)))
                };
                let mut event = SpanEvent::new(function, start_ns, duration_ns, e.depth);
                event.failed = e.flags & timeline::FAILED != 0;
                event.cancelled = e.flags & timeline::CANCELLED != 0;
                event.kind = if e.flags & timeline::ASYNC != 0 {
                    SpanKind::Async
                } else if e.flags & timeline::POLL != 0 {
                    SpanKind::Poll
                } else {
                    SpanKind::Call
                };
                t.events.push(event);
            }
            crate::stats::sort_events(&mut t.events);
            out.threads.push(t);
        }
        out
    }

    /// The timeline's capacity per thread (0: no timeline; see [`ProfilerBuilder::timeline`]).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::PerformanceProfiler::new().timeline_capacity(), 0);
    /// ```
    #[must_use]
    pub fn timeline_capacity(&self) -> usize {
        self.inner.timeline_capacity
    }

    /// Heap bytes the profiler holds for what it recorded: every thread's call paths and
    /// their histograms, and the totals of threads that have exited. Bounded by call paths ×
    /// threads, never by calls; [`reset`](Self::reset) gives it back (a thread frees its
    /// paths when it next records, or exits).
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// for i in 0..100 {
    ///     drop(p.scope(&format!("f{i}")).unwrap());
    /// }
    /// let recorded = p.heap_bytes();
    /// assert!(recorded > 100 * 512);
    /// p.reset();
    /// drop(p.scope("after").unwrap()); // this thread catches up with the reset
    /// assert!(p.heap_bytes() < recorded / 10);
    /// ```
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        reentry::inside(|| {
            let registry = self.inner.registry.lock();
            registry.threads.iter().map(|t| t.heap_bytes()).sum::<usize>()
                + registry.retired.heap_bytes()
                + registry.retired_timeline_bytes()
        })
    }

    /// Forgets everything recorded so far, the timeline included, and starts a new window.
    ///
    /// Calls in flight are not lost: a scope open across the reset is recorded, whole, after
    /// it. A thread records into the new window from the first call it finishes after it
    /// sees the reset (immediately, on cache-coherent hardware).
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// let open = p.scope("spanning").unwrap();
    /// { let _g = p.scope("before").unwrap(); }
    /// p.reset();
    /// drop(open);
    /// let snap = p.snapshot();
    /// assert!(snap.function("before").map_or(true, |f| f.count == 0));
    /// assert_eq!(snap.function("spanning").unwrap().count, 1);
    /// ```
    pub fn reset(&self) {
        reentry::inside(|| {
            let mut registry = self.inner.registry.lock();
            registry.retired = shared::Accum::default();
            registry.clear_timelines();
            registry.started_unix_ns = unix_now_ns();
            registry.started_raw = self.inner.clock.raw();
            // Under the lock, so a snapshot sees either all of the old window or none of it.
            self.inner.epoch.fetch_add(1, Ordering::Release);
        });
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}

/// The process-wide profiler that `profile_scope!` and `#[profile]` record into by default.
///
/// # Examples
/// ```
/// {
///     perfcore::profile_scope!("global_example");
/// }
/// assert!(perfcore::global().snapshot().function("global_example").is_some());
/// ```
#[must_use]
pub fn global() -> &'static PerformanceProfiler {
    GLOBAL.get_or_init(|| {
        reentry::inside(|| {
            let enabled = GLOBAL_ENABLED.load(Ordering::Relaxed);
            let builder = PerformanceProfiler::builder().enabled(enabled);
            PerformanceProfiler::with(builder.timeline(timeline_from_env()), 0, true)
        })
    })
}

/// The environment variable that turns the global profiler's timeline on when it is made
/// without [`ProfilerBuilder::init_global`]: the spans to keep per thread, e.g.
/// `PERFCORE_TIMELINE=8192` (Python's `@perfcore.profile` and `python -m perfcore run` too).
///
/// # Examples
/// ```
/// assert_eq!(perfcore::TIMELINE_ENV_VAR, "PERFCORE_TIMELINE");
/// ```
pub const TIMELINE_ENV_VAR: &str = "PERFCORE_TIMELINE";

/// `PERFCORE_TIMELINE`'s capacity; 0 when unset. A value that is not a number of spans up to
/// [`MAX_TIMELINE_CAPACITY`] is refused with a message on standard error (there is no caller
/// to return an error to) and leaves the timeline off.
fn timeline_from_env() -> usize {
    let Some(value) = std::env::var_os(TIMELINE_ENV_VAR) else { return 0 };
    match value.to_str().and_then(|v| v.trim().parse::<usize>().ok()) {
        Some(n) if n <= MAX_TIMELINE_CAPACITY => n,
        _ => {
            eprintln!(
                "perfcore: ignoring {TIMELINE_ENV_VAR}={}: expected a number of spans per thread \
                 from 0 to {MAX_TIMELINE_CAPACITY}",
                value.to_string_lossy()
            );
            0
        }
    }
}

static GLOBAL: OnceLock<PerformanceProfiler> = OnceLock::new();

/// Makes the global profiler (cold: once per process), or `None` when called from inside
/// perfcore's own work on this thread: by an allocator the set-up allocated through.
#[cold]
#[inline(never)]
fn global_first_time() -> Option<&'static PerformanceProfiler> {
    reentry::guarded(global)
}

/// Opens a scope on the global profiler; the checked switch is one relaxed load.
#[doc(hidden)]
#[inline(always)]
pub fn enter_global(callsite: &'static Callsite) -> ScopeGuard<'static> {
    if !GLOBAL_ENABLED.load(Ordering::Relaxed) {
        return ScopeGuard::inert();
    }
    match GLOBAL.get().or_else(global_first_time) {
        Some(p) => p.enter_enabled(callsite),
        None => ScopeGuard::inert(),
    }
}

/// An open scope: records one call of its callsite when dropped.
///
/// Guards must be dropped on the thread that opened them (they are not `Send`) and in reverse
/// order of opening, which `let` bindings do by themselves. A guard dropped while its thread
/// unwinds from a panic records the call as an error.
///
/// # Examples
/// ```
/// let p = perfcore::PerformanceProfiler::new();
/// {
///     let g = p.scope("request").unwrap();
///     if "bad input".contains("bad") {
///         g.mark_failed();
///     }
/// }
/// assert_eq!(p.snapshot().function("request").unwrap().errors, 1);
/// ```
#[must_use = "the scope closes when the guard drops; bind it with `let _guard = ...`"]
pub struct ScopeGuard<'a> {
    inner: Option<&'a Inner>,
    depth: u32,
    failed: Cell<bool>,
    _not_send: PhantomData<*const ()>,
}

impl std::fmt::Debug for ScopeGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopeGuard")
            .field("recording", &self.is_recording())
            .field("depth", &self.depth)
            .field("failed", &self.failed.get())
            .finish()
    }
}

impl ScopeGuard<'_> {
    #[inline(always)]
    fn inert() -> Self {
        ScopeGuard {
            inner: None,
            depth: local::INERT,
            failed: Cell::new(false),
            _not_send: PhantomData,
        }
    }

    /// Marks this call as failed: it counts in the function's `errors`.
    pub fn mark_failed(&self) {
        self.failed.set(true);
    }

    #[inline(always)]
    pub(crate) fn set_failed(&self, failed: bool) {
        self.failed.set(failed);
    }

    /// Whether this guard will record a call (false when profiling was off).
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// assert!(p.scope("x").unwrap().is_recording());
    /// ```
    #[must_use]
    pub fn is_recording(&self) -> bool {
        self.inner.is_some()
    }
}

impl Drop for ScopeGuard<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(inner) = self.inner {
            let failed = self.failed.get() || std::thread::panicking();
            local::exit(inner, self.depth, if failed { Outcome::Failed } else { Outcome::Ok });
        }
    }
}
