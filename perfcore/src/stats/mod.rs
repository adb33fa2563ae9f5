//! Snapshots: per-function statistics and the call tree, merged across threads.

pub(crate) mod histogram;
mod summary;
mod timeline;

use std::collections::HashMap;
use std::fmt;
#[cfg(feature = "json")]
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use histogram::LatencyHistogram;
pub use summary::{FunctionSummary, RunSummary};
pub(crate) use timeline::sort_events;
pub use timeline::{SpanEvent, SpanKind, ThreadTimeline, Timeline};

#[cfg(feature = "json")]
use crate::error::SnapshotError;
use crate::error::{Inconsistency, ProfileError};

/// The snapshot JSON schema this build writes. Version 2 changed the histogram layout
/// (64 buckets per power of two, see [`LatencyHistogram`]); version 1 files still load.
pub const SCHEMA_VERSION: u32 = 2;

/// The oldest snapshot schema this build reads.
///
/// # Examples
/// ```
/// assert!(perfcore::OLDEST_SCHEMA_VERSION <= perfcore::SCHEMA_VERSION);
/// ```
pub const OLDEST_SCHEMA_VERSION: u32 = 1;

/// Allocation figures of a function, present when the tracking allocator is installed.
///
/// # Examples
/// ```
/// let a = perfcore::AllocationStats::default();
/// assert_eq!(a.allocated_bytes, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AllocationStats {
    /// Calls whose allocations were tracked.
    pub calls: u64,
    /// Bytes allocated during the calls, child scopes included.
    pub allocated_bytes: u64,
    /// Bytes allocated in the function's own body, child scopes excluded.
    pub self_allocated_bytes: u64,
    /// Bytes freed during the calls, child scopes included.
    pub freed_bytes: u64,
    /// Number of allocations during the calls, child scopes included.
    pub allocations: u64,
    /// Number of allocations in the function's own body, child scopes excluded (0 in
    /// snapshots written before this field existed).
    #[serde(default)]
    pub self_allocations: u64,
}

/// Statistics of one profiled function (one callsite), merged over every thread.
///
/// Durations are nanoseconds. `total_ns` and `self_ns` are exact sums; `min_ns` and `max_ns`
/// are exact; the percentiles and `stddev_ns` come from the [`LatencyHistogram`] and are
/// within 0.79% (a bucket's midpoint; the layout is described there).
///
/// `count` counts every call, however deep (cProfile's `ncalls`). `total_ns` counts a call's
/// wall time only when it is not inside another call of the same function, as cProfile's
/// cumulative time does, so a recursive function's total is its outermost calls' time;
/// `self_ns` adds every call's own time.
///
/// # Examples
/// ```
/// let profiler = perfcore::PerformanceProfiler::new();
/// for _ in 0..3 {
///     let _g = profiler.scope("work").unwrap();
/// }
/// let snap = profiler.snapshot();
/// let work = snap.function("work").unwrap();
/// assert_eq!(work.count, 3);
/// assert!(work.min_ns <= work.p50_ns && work.p50_ns <= work.max_ns);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionStats {
    /// The scope's name.
    pub name: String,
    /// The module that declared it (empty for scopes named at run time).
    pub module_path: String,
    /// The source file (empty for scopes named at run time).
    pub file: String,
    /// The source line (0 for scopes named at run time).
    pub line: u32,
    /// Finished calls.
    pub count: u64,
    /// Calls marked failed, or that unwound with a panic.
    pub errors: u64,
    /// Wall time of the calls not inside another call of the same function.
    pub total_ns: u64,
    /// Sum of self time: wall time minus the time spent in child scopes.
    pub self_ns: u64,
    /// `total_ns / count`.
    pub mean_ns: f64,
    /// Fastest call.
    pub min_ns: u64,
    /// Slowest call.
    pub max_ns: u64,
    /// Standard deviation of the call durations.
    pub stddev_ns: f64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 95th percentile.
    pub p95_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Calls per second over the snapshot's window.
    pub calls_per_sec: f64,
    /// Sum of busy time: the wall time of synchronous calls; for `async` calls, the time spent
    /// inside `poll` (the wall time also counts the time the future waited).
    #[serde(default)]
    pub busy_ns: u64,
    /// `async` calls whose future was dropped before it completed (counted in `count` too).
    #[serde(default)]
    pub cancelled: u64,
    /// Calls longer than the histogram's 1-hour range, recorded in it as one hour.
    pub clamped: u64,
    /// Calls made deeper than the profiler's maximum depth (counted in `count` too); the call
    /// tree shows them as children of the deepest path within the limit.
    pub folded_calls: u64,
    /// Allocation figures, when the tracking allocator is installed.
    pub allocations: Option<AllocationStats>,
    /// The distribution of call durations.
    pub histogram: LatencyHistogram,
}

impl FunctionStats {
    pub(crate) fn empty(name: &str, module_path: &str, file: &str, line: u32) -> Self {
        Self {
            name: name.to_owned(),
            module_path: module_path.to_owned(),
            file: file.to_owned(),
            line,
            count: 0,
            errors: 0,
            total_ns: 0,
            self_ns: 0,
            mean_ns: 0.0,
            min_ns: 0,
            max_ns: 0,
            stddev_ns: 0.0,
            p50_ns: 0,
            p90_ns: 0,
            p95_ns: 0,
            p99_ns: 0,
            p999_ns: 0,
            calls_per_sec: 0.0,
            busy_ns: 0,
            cancelled: 0,
            clamped: 0,
            folded_calls: 0,
            allocations: None,
            histogram: LatencyHistogram::new(),
        }
    }

    /// The statistics of calls of the given durations (in nanoseconds), as if a profiler had
    /// recorded them: for results measured elsewhere (another tool's samples, a simulation).
    /// Self and busy time equal the wall time; calls per second is 0 (no window).
    ///
    /// # Examples
    /// ```
    /// let f = perfcore::FunctionStats::from_durations("step", [100, 200, 300]);
    /// assert_eq!((f.count, f.total_ns, f.min_ns, f.max_ns), (3, 600, 100, 300));
    /// assert_eq!(f.p50_ns, 200);
    /// ```
    #[must_use]
    pub fn from_durations(name: &str, durations: impl IntoIterator<Item = u64>) -> Self {
        let mut f = Self::empty(name, "", "", 0);
        let mut first = true;
        for ns in durations {
            let clamped = f.histogram.record(ns);
            let ns = histogram::clamp(ns).0;
            f.clamped += u64::from(clamped);
            f.total_ns = f.total_ns.saturating_add(ns);
            (f.min_ns, f.max_ns) =
                if first { (ns, ns) } else { (f.min_ns.min(ns), f.max_ns.max(ns)) };
            first = false;
        }
        (f.self_ns, f.busy_ns) = (f.total_ns, f.total_ns);
        f.finish(0);
        f
    }

    /// A `profile_function` run as one function's statistics.
    pub(crate) fn from_run(r: &crate::ProfileResult) -> Self {
        let mut f = Self::empty(&r.name, "", "", 0);
        f.histogram = r.histogram.clone();
        (f.total_ns, f.self_ns, f.busy_ns) = (r.total_ns, r.total_ns, r.total_ns);
        (f.min_ns, f.max_ns) = (r.min_ns, r.max_ns);
        f.allocations = r.memory.map(|m| AllocationStats {
            calls: r.iterations,
            allocated_bytes: m.allocated_bytes,
            self_allocated_bytes: m.allocated_bytes,
            freed_bytes: m.freed_bytes,
            allocations: m.allocations,
            self_allocations: m.allocations,
        });
        f.finish(r.total_ns);
        f
    }

    /// The calls recorded in `self` but not in `earlier`, an earlier state of the same
    /// function: counts, sums, histograms and allocations subtract exactly. The minimum and
    /// maximum of the new calls alone are known exactly when they moved; otherwise they are
    /// the bounds of the lowest and highest bucket the new calls occupy.
    fn since(&self, earlier: &FunctionStats) -> Result<Self, Inconsistency> {
        let not_earlier = || Inconsistency::NotAnEarlierSnapshot { name: self.name.clone() };
        let mut out = Self::empty(&self.name, &self.module_path, &self.file, self.line);
        out.histogram = self.histogram.difference(&earlier.histogram).ok_or_else(not_earlier)?;
        out.count = out.histogram.len();
        let sub = |a: u64, b: u64| a.checked_sub(b).ok_or_else(not_earlier);
        out.errors = sub(self.errors, earlier.errors)?;
        out.total_ns = sub(self.total_ns, earlier.total_ns)?;
        out.self_ns = sub(self.self_ns, earlier.self_ns)?;
        out.busy_ns = sub(self.busy_ns, earlier.busy_ns)?;
        out.cancelled = sub(self.cancelled, earlier.cancelled)?;
        out.clamped = sub(self.clamped, earlier.clamped)?;
        out.folded_calls = sub(self.folded_calls, earlier.folded_calls)?;
        out.allocations = match (self.allocations, earlier.allocations) {
            (Some(a), Some(b)) => Some(AllocationStats {
                calls: sub(a.calls, b.calls)?,
                allocated_bytes: sub(a.allocated_bytes, b.allocated_bytes)?,
                self_allocated_bytes: sub(a.self_allocated_bytes, b.self_allocated_bytes)?,
                freed_bytes: sub(a.freed_bytes, b.freed_bytes)?,
                allocations: sub(a.allocations, b.allocations)?,
                self_allocations: sub(a.self_allocations, b.self_allocations)?,
            }),
            (a, None) => a,
            (None, Some(_)) => return Err(not_earlier()),
        };
        if let (Some(&(lo, _)), Some(&(hi, _))) =
            (out.histogram.raw_buckets().first(), out.histogram.raw_buckets().last())
        {
            let (lo, hi) = (lo as usize, hi as usize);
            let moved_down = earlier.count == 0 || self.min_ns < earlier.min_ns;
            let moved_up = earlier.count == 0 || self.max_ns > earlier.max_ns;
            out.min_ns =
                if moved_down { self.min_ns } else { histogram::lowest_value(lo).max(self.min_ns) };
            out.max_ns =
                if moved_up { self.max_ns } else { histogram::highest_value(hi).min(self.max_ns) };
        }
        Ok(out)
    }

    /// Recomputes every derived field from the exact sums and the histogram.
    pub(crate) fn finish(&mut self, window_ns: u64) {
        // The histogram is the authority on the count, so a snapshot is always consistent:
        // `count` equals the number of values in `histogram`.
        self.count = self.histogram.len();
        let h = &self.histogram;
        let (lo, hi) = (self.min_ns, self.max_ns.max(self.min_ns));
        let q = |q: f64| h.value_at_quantile(q).clamp(lo, hi);
        if self.count == 0 {
            self.mean_ns = 0.0;
            self.stddev_ns = 0.0;
            self.p50_ns = 0;
            self.p90_ns = 0;
            self.p95_ns = 0;
            self.p99_ns = 0;
            self.p999_ns = 0;
        } else {
            self.mean_ns = self.total_ns as f64 / self.count as f64;
            self.stddev_ns = h.stddev();
            self.p50_ns = q(0.50);
            self.p90_ns = q(0.90);
            self.p95_ns = q(0.95);
            self.p99_ns = q(0.99);
            self.p999_ns = q(0.999);
        }
        self.calls_per_sec =
            if window_ns == 0 { 0.0 } else { self.count as f64 * 1e9 / window_ns as f64 };
    }

    /// Mean wall time per call.
    ///
    /// # Examples
    /// ```
    /// # let p = perfcore::PerformanceProfiler::new();
    /// # { let _g = p.scope("f").unwrap(); }
    /// let mean = p.snapshot().function("f").unwrap().mean();
    /// assert!(mean > std::time::Duration::ZERO);
    /// ```
    #[must_use]
    pub fn mean(&self) -> Duration {
        Duration::from_nanos(self.mean_ns.round() as u64)
    }

    /// The wall time below which a fraction `q` of the calls finished.
    ///
    /// # Errors
    /// [`ProfileError::NonFinite`] if `q` is NaN or infinite, [`ProfileError::OutOfRange`] if
    /// it is outside `0.0..=1.0`.
    ///
    /// # Examples
    /// ```
    /// # let p = perfcore::PerformanceProfiler::new();
    /// # { let _g = p.scope("f").unwrap(); }
    /// let f = p.snapshot().function("f").unwrap().clone();
    /// assert_eq!(f.quantile(0.5)?.as_nanos() as u64, f.p50_ns);
    /// assert!(f.quantile(f64::NAN).is_err());
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn quantile(&self, q: f64) -> Result<Duration, ProfileError> {
        check_fraction("quantile", q)?;
        if self.count == 0 {
            return Ok(Duration::ZERO);
        }
        let hi = self.max_ns.max(self.min_ns);
        // The ends are known exactly; in between, the histogram's bucket midpoint.
        let ns = match q {
            0.0 => self.min_ns,
            1.0 => hi,
            q => self.histogram.value_at_quantile(q).clamp(self.min_ns, hi),
        };
        Ok(Duration::from_nanos(ns))
    }

    /// The fraction of calls that failed (0 when there were none).
    ///
    /// # Examples
    /// ```
    /// # let p = perfcore::PerformanceProfiler::new();
    /// # { let g = p.scope("f").unwrap(); g.mark_failed(); }
    /// assert_eq!(p.snapshot().function("f").unwrap().error_rate(), 1.0);
    /// ```
    #[must_use]
    pub fn error_rate(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.errors as f64 / self.count as f64 }
    }

    fn key(&self) -> (&str, &str, &str, u32) {
        (&self.name, &self.module_path, &self.file, self.line)
    }

    fn absorb(&mut self, o: &FunctionStats) {
        if o.count > 0 {
            self.min_ns = if self.count == 0 { o.min_ns } else { self.min_ns.min(o.min_ns) };
            self.max_ns = self.max_ns.max(o.max_ns);
        }
        // Sums saturate: a snapshot read from a file may carry any values.
        for (mine, theirs) in [
            (&mut self.errors, o.errors),
            (&mut self.total_ns, o.total_ns),
            (&mut self.self_ns, o.self_ns),
            (&mut self.clamped, o.clamped),
            (&mut self.busy_ns, o.busy_ns),
            (&mut self.cancelled, o.cancelled),
            (&mut self.folded_calls, o.folded_calls),
        ] {
            *mine = mine.saturating_add(theirs);
        }
        self.allocations = match (self.allocations, o.allocations) {
            (Some(a), Some(b)) => Some(AllocationStats {
                calls: a.calls.saturating_add(b.calls),
                allocated_bytes: a.allocated_bytes.saturating_add(b.allocated_bytes),
                self_allocated_bytes: a.self_allocated_bytes.saturating_add(b.self_allocated_bytes),
                freed_bytes: a.freed_bytes.saturating_add(b.freed_bytes),
                allocations: a.allocations.saturating_add(b.allocations),
                self_allocations: a.self_allocations.saturating_add(b.self_allocations),
            }),
            (a, b) => a.or(b),
        };
        self.histogram.merge(&o.histogram);
        self.count = self.histogram.len();
    }
}

pub(crate) fn check_fraction(setting: &'static str, v: f64) -> Result<(), ProfileError> {
    if !v.is_finite() {
        return Err(ProfileError::NonFinite { setting, value: v });
    }
    if !(0.0..=1.0).contains(&v) {
        return Err(ProfileError::OutOfRange { setting, value: v, min: 0.0, max: 1.0 });
    }
    Ok(())
}

/// One node of the call tree: a function reached by one particular path of callers.
///
/// # Examples
/// ```
/// let p = perfcore::PerformanceProfiler::new();
/// {
///     let _outer = p.scope("outer").unwrap();
///     let _inner = p.scope("inner").unwrap();
/// }
/// let snap = p.snapshot();
/// let inner = snap.call_tree.iter().find(|n| snap.functions[n.function].name == "inner").unwrap();
/// let parent = &snap.call_tree[inner.parent.unwrap()];
/// assert_eq!(snap.functions[parent.function].name, "outer");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallNode {
    /// The caller's node, `None` at the root of a thread's stack.
    pub parent: Option<usize>,
    /// Index into [`Snapshot::functions`].
    pub function: usize,
    /// Calls along this path.
    pub count: u64,
    /// Failed calls along this path.
    pub errors: u64,
    /// Wall time along this path.
    pub total_ns: u64,
    /// Self time along this path.
    pub self_ns: u64,
}

/// Everything a profiler recorded in a window of time: per-function statistics and the call
/// tree, merged across all threads (including threads that have exited).
///
/// Snapshots are plain data: serialise them (JSON with a schema version), merge snapshots from
/// several processes or machines with [`Snapshot::merge`], and print one as a table.
///
/// # Examples
/// ```
/// let p = perfcore::PerformanceProfiler::new();
/// { let _g = p.scope("load").unwrap(); }
/// let snap = p.snapshot();
/// let json = snap.to_json();
/// let back = perfcore::Snapshot::from_json(&json)?;
/// assert_eq!(back.function("load").unwrap().count, 1);
/// println!("{snap}");
/// # Ok::<(), perfcore::SnapshotError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// The JSON schema version, [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Start of the window (Unix time, ns): the profiler's creation or last reset.
    pub started_unix_ns: u64,
    /// End of the window (Unix time, ns): when the snapshot was taken.
    pub ended_unix_ns: u64,
    /// One entry per function that ran, in order of first registration.
    pub functions: Vec<FunctionStats>,
    /// The call tree; parents come before their children.
    pub call_tree: Vec<CallNode>,
    /// The most recent spans of each thread, when the profiler keeps a timeline
    /// ([`ProfilerBuilder::timeline`](crate::ProfilerBuilder::timeline)); written to JSON
    /// only then, so snapshots without one read and write as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Timeline>,
}

impl Default for Snapshot {
    fn default() -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            started_unix_ns: 0,
            ended_unix_ns: 0,
            functions: Vec::new(),
            call_tree: Vec::new(),
            timeline: None,
        }
    }
}

impl Snapshot {
    /// The first function with this name.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::Snapshot::default().function("nope").is_none());
    /// ```
    #[must_use]
    pub fn function(&self, name: &str) -> Option<&FunctionStats> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// All functions.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::Snapshot::default().functions().is_empty());
    /// ```
    #[must_use]
    pub fn functions(&self) -> &[FunctionStats] {
        &self.functions
    }

    /// The length of the window the snapshot covers.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::Snapshot::default().window(), std::time::Duration::ZERO);
    /// ```
    #[must_use]
    pub fn window(&self) -> Duration {
        Duration::from_nanos(self.ended_unix_ns.saturating_sub(self.started_unix_ns))
    }

    /// Total finished calls over all functions.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::Snapshot::default().total_calls(), 0);
    /// ```
    #[must_use]
    pub fn total_calls(&self) -> u64 {
        self.functions.iter().fold(0, |n, f| n.saturating_add(f.count))
    }

    /// A snapshot of the given functions (and no call tree) over a window of Unix times in
    /// nanoseconds: for results measured elsewhere.
    ///
    /// # Examples
    /// ```
    /// use perfcore::{FunctionStats, Snapshot};
    /// let snap = Snapshot::from_functions(vec![FunctionStats::from_durations("f", [5, 7])], 0, 1_000_000_000);
    /// assert_eq!(snap.function("f").unwrap().calls_per_sec, 2.0);
    /// ```
    #[must_use]
    pub fn from_functions(
        functions: Vec<FunctionStats>,
        started_unix_ns: u64,
        ended_unix_ns: u64,
    ) -> Self {
        let mut snap = Self {
            schema_version: SCHEMA_VERSION,
            started_unix_ns,
            ended_unix_ns: ended_unix_ns.max(started_unix_ns),
            functions,
            call_tree: Vec::new(),
            timeline: None,
        };
        let window = snap.window().as_nanos() as u64;
        for f in &mut snap.functions {
            f.finish(window);
        }
        snap
    }

    /// What was recorded after `earlier`, an earlier snapshot of the same profiler (taken
    /// since its last reset): every count, sum, histogram and call-tree figure is this
    /// snapshot's minus the earlier one's, exactly, so `earlier.merge(&later.since(&earlier)?)`
    /// gives back `later`'s figures. The window runs from `earlier`'s end to this one's.
    /// Functions with no new calls are left out, as are call-tree nodes with none. A
    /// [`timeline`](Self::timeline) keeps the spans that started in the new window.
    ///
    /// # Errors
    /// [`Inconsistency::NotAnEarlierSnapshot`] when `earlier` holds calls this snapshot does
    /// not (it is not an earlier state of the same profiler, or the profiler was reset).
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// { let _g = p.scope("f").unwrap(); }
    /// let before = p.snapshot();
    /// for _ in 0..3 { let _g = p.scope("f").unwrap(); }
    /// let new = p.snapshot().since(&before)?;
    /// assert_eq!(new.function("f").unwrap().count, 3);
    /// # Ok::<(), perfcore::Inconsistency>(())
    /// ```
    pub fn since(&self, earlier: &Snapshot) -> Result<Snapshot, Inconsistency> {
        type Key<'a> = (&'a str, &'a str, &'a str, u32);
        let mine: HashMap<Key<'_>, usize> =
            self.functions.iter().enumerate().map(|(i, f)| (f.key(), i)).collect();
        let mut theirs = vec![None; self.functions.len()];
        for (j, f) in earlier.functions.iter().enumerate() {
            match mine.get(&f.key()) {
                Some(&i) => theirs[i] = Some(j),
                None if f.count == 0 => {}
                None => return Err(Inconsistency::NotAnEarlierSnapshot { name: f.name.clone() }),
            }
        }
        let mut functions = Vec::new();
        let mut fmap = vec![None; self.functions.len()];
        for (i, f) in self.functions.iter().enumerate() {
            let d = match theirs[i] {
                Some(j) => f.since(&earlier.functions[j])?,
                None => f.clone(),
            };
            if d.count > 0 {
                fmap[i] = Some(functions.len());
                functions.push(d);
            }
        }
        // Call-tree nodes are matched by their path of functions from the root.
        let earlier_nodes: HashMap<Vec<Key<'_>>, &CallNode> =
            path_keys(earlier).into_iter().zip(&earlier.call_tree).collect();
        let mut call_tree = Vec::new();
        let mut nmap: Vec<Option<usize>> = Vec::with_capacity(self.call_tree.len());
        for (key, n) in path_keys(self).into_iter().zip(&self.call_tree) {
            let not_earlier = || Inconsistency::NotAnEarlierSnapshot {
                name: self.functions[n.function].name.clone(),
            };
            let zero = CallNode {
                parent: None,
                function: 0,
                count: 0,
                errors: 0,
                total_ns: 0,
                self_ns: 0,
            };
            let e = earlier_nodes.get(&key).copied().unwrap_or(&zero);
            let sub = |a: u64, b: u64| a.checked_sub(b).ok_or_else(not_earlier);
            let count = sub(n.count, e.count)?;
            let (errors, total_ns, self_ns) = (
                sub(n.errors, e.errors)?,
                sub(n.total_ns, e.total_ns)?,
                sub(n.self_ns, e.self_ns)?,
            );
            let parent = n.parent.and_then(|p| nmap.get(p).copied().flatten());
            let placed = match (count, fmap[n.function], n.parent.is_some() == parent.is_some()) {
                (1.., Some(function), true) => {
                    call_tree.push(CallNode { parent, function, count, errors, total_ns, self_ns });
                    Some(call_tree.len() - 1)
                }
                _ => None,
            };
            nmap.push(placed);
        }
        let mut out =
            Snapshot::from_functions(functions, earlier.ended_unix_ns, self.ended_unix_ns);
        out.call_tree = call_tree;
        out.timeline = self.timeline.as_ref().map(|t| t.starting_from(earlier.ended_unix_ns));
        Ok(out)
    }

    /// Merges `other` into this snapshot, as if both runs had been recorded by one profiler.
    ///
    /// Functions are matched by name, module, file and line; histograms merge without loss;
    /// the window becomes the span covering both; timelines merge with
    /// [`Timeline::merge`].
    ///
    /// # Examples
    /// ```
    /// let (a, b) = (perfcore::PerformanceProfiler::new(), perfcore::PerformanceProfiler::new());
    /// { let _g = a.scope("f").unwrap(); }
    /// { let _g = b.scope("f").unwrap(); }
    /// let mut merged = a.snapshot();
    /// merged.merge(&b.snapshot());
    /// assert_eq!(merged.function("f").unwrap().count, 2);
    /// ```
    pub fn merge(&mut self, other: &Snapshot) {
        let mut index: HashMap<(String, String, String, u32), usize> = self
            .functions
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let (a, b, c, d) = f.key();
                ((a.to_owned(), b.to_owned(), c.to_owned(), d), i)
            })
            .collect();
        let mut fmap = Vec::with_capacity(other.functions.len());
        for f in &other.functions {
            let (a, b, c, d) = f.key();
            let key = (a.to_owned(), b.to_owned(), c.to_owned(), d);
            let i = *index.entry(key).or_insert_with(|| {
                self.functions.push(FunctionStats::empty(a, b, c, d));
                self.functions.len() - 1
            });
            self.functions[i].absorb(f);
            fmap.push(i);
        }
        let mut nodes: HashMap<(Option<usize>, usize), usize> =
            self.call_tree.iter().enumerate().map(|(i, n)| ((n.parent, n.function), i)).collect();
        let mut nmap = Vec::with_capacity(other.call_tree.len());
        for n in &other.call_tree {
            // A node pointing nowhere (possible only in a snapshot built by hand: the reader
            // rejects them) is dropped, with the nodes under it.
            let parent = match n.parent.map(|p| nmap.get(p).copied().flatten()) {
                None => None,
                Some(Some(p)) => Some(p),
                Some(None) => {
                    nmap.push(None);
                    continue;
                }
            };
            let Some(&function) = fmap.get(n.function) else {
                nmap.push(None);
                continue;
            };
            let i = *nodes.entry((parent, function)).or_insert_with(|| {
                self.call_tree.push(CallNode {
                    parent,
                    function,
                    count: 0,
                    errors: 0,
                    total_ns: 0,
                    self_ns: 0,
                });
                self.call_tree.len() - 1
            });
            let t = &mut self.call_tree[i];
            t.count = t.count.saturating_add(n.count);
            t.errors = t.errors.saturating_add(n.errors);
            t.total_ns = t.total_ns.saturating_add(n.total_ns);
            t.self_ns = t.self_ns.saturating_add(n.self_ns);
            nmap.push(Some(i));
        }
        self.timeline = match (self.timeline.take(), &other.timeline) {
            (Some(mut mine), Some(theirs)) => {
                mine.merge(theirs);
                Some(mine)
            }
            (mine, theirs) => mine.or_else(|| theirs.clone()),
        };
        let empty = |s: &Snapshot| s.started_unix_ns == 0 && s.ended_unix_ns == 0;
        if empty(self) {
            (self.started_unix_ns, self.ended_unix_ns) =
                (other.started_unix_ns, other.ended_unix_ns);
        } else if !empty(other) {
            self.started_unix_ns = self.started_unix_ns.min(other.started_unix_ns);
            self.ended_unix_ns = self.ended_unix_ns.max(other.ended_unix_ns);
        }
        let window = self.window().as_nanos() as u64;
        for f in &mut self.functions {
            f.finish(window);
        }
    }

    /// The snapshot as pretty-printed JSON.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::Snapshot::default().to_json().contains("\"schema_version\": 2"));
    /// ```
    #[cfg(feature = "json")]
    #[must_use]
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialisation cannot fail.
        serde_json::to_string_pretty(self).expect("a snapshot always serialises")
    }

    /// Parses a snapshot written by [`Snapshot::to_json`] (by Rust or Python perfcore), of
    /// schema version [`OLDEST_SCHEMA_VERSION`] to [`SCHEMA_VERSION`].
    ///
    /// # Errors
    /// [`SnapshotError::UnsupportedSchema`] for another schema version,
    /// [`SnapshotError::Parse`] for malformed JSON (with line and column), and
    /// [`SnapshotError::Inconsistent`] when the fields contradict each other.
    ///
    /// # Examples
    /// ```
    /// let err = perfcore::Snapshot::from_json(r#"{"schema_version": 99}"#).unwrap_err();
    /// assert!(err.to_string().contains("schema version 99"));
    /// ```
    #[cfg(feature = "json")]
    pub fn from_json(json: &str) -> Result<Self, SnapshotError> {
        Self::parse(json, None)
    }

    #[cfg(feature = "json")]
    fn parse(json: &str, path: Option<&Path>) -> Result<Self, SnapshotError> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let invalid = |source: serde_json::Error| SnapshotError::Parse {
            path: path.map(Into::into),
            line: source.line(),
            column: source.column(),
            source,
        };
        let v: Version = serde_json::from_str(json).map_err(invalid)?;
        if !(OLDEST_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&v.schema_version) {
            return Err(SnapshotError::UnsupportedSchema {
                path: path.map(Into::into),
                found: v.schema_version,
                oldest: OLDEST_SCHEMA_VERSION,
                newest: SCHEMA_VERSION,
            });
        }
        let mut snap: Snapshot = serde_json::from_str(json).map_err(invalid)?;
        snap.validate().map_err(|problem| SnapshotError::Inconsistent {
            path: path.map(Into::into),
            problem,
        })?;
        // Read in any supported version, held in this one's layout.
        snap.schema_version = SCHEMA_VERSION;
        Ok(snap)
    }

    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    pub(crate) fn validate(&mut self) -> Result<(), Inconsistency> {
        if self.ended_unix_ns < self.started_unix_ns {
            return Err(Inconsistency::WindowEndsBeforeStart);
        }
        for (i, f) in self.functions.iter().enumerate() {
            let n = f.histogram.len();
            let name = || f.name.clone();
            if f.count != n {
                return Err(Inconsistency::CountMismatch {
                    function: i,
                    name: name(),
                    count: f.count,
                    histogram: n,
                });
            }
            if n > 0 && f.min_ns > f.max_ns {
                return Err(Inconsistency::MinAboveMax { function: i, name: name() });
            }
            if f.errors > f.count {
                return Err(Inconsistency::MoreErrorsThanCalls { function: i, name: name() });
            }
        }
        for (i, n) in self.call_tree.iter().enumerate() {
            if n.function >= self.functions.len() {
                return Err(Inconsistency::UnknownFunction { node: i, function: n.function });
            }
            if n.parent.is_some_and(|p| p >= i) {
                return Err(Inconsistency::ParentNotBefore { node: i });
            }
        }
        if let Some((thread, event)) = self.timeline.as_ref().and_then(Timeline::unknown_function) {
            return Err(Inconsistency::TimelineUnknownFunction { thread, event });
        }
        let window = self.window().as_nanos() as u64;
        for f in &mut self.functions {
            f.finish(window);
        }
        Ok(())
    }

    /// Writes the snapshot as JSON to `path`, atomically: a temporary file in the same
    /// directory, flushed, then renamed over `path` (and the directory flushed), so readers
    /// never see half a file and a crash leaves the old file or the new one.
    ///
    /// # Errors
    /// [`SnapshotError::Io`] naming the file and the step that failed.
    ///
    /// # Examples
    /// ```
    /// let dir = std::env::temp_dir().join(format!("perfcore-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("snap.json");
    /// perfcore::Snapshot::default().write_json(&path)?;
    /// assert_eq!(perfcore::Snapshot::read_json(&path)?, perfcore::Snapshot::default());
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # Ok::<(), perfcore::SnapshotError>(())
    /// ```
    #[cfg(feature = "json")]
    pub fn write_json(&self, path: impl AsRef<Path>) -> Result<(), SnapshotError> {
        crate::fsutil::write_atomic(path.as_ref(), self.to_json().as_bytes())
    }

    /// Reads a snapshot written by [`Snapshot::write_json`].
    ///
    /// # Errors
    /// [`SnapshotError::Io`] if the file cannot be read, and the errors of
    /// [`Snapshot::from_json`] naming the file.
    ///
    /// # Examples
    /// ```
    /// let err = perfcore::Snapshot::read_json("/no/such/snapshot.json").unwrap_err();
    /// assert!(err.to_string().contains("/no/such/snapshot.json"));
    /// ```
    #[cfg(feature = "json")]
    pub fn read_json(path: impl AsRef<Path>) -> Result<Self, SnapshotError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
            action: crate::error::IoAction::Read,
            path: path.into(),
            source,
        })?;
        Self::parse(&text, Some(path))
    }
}

/// Each call-tree node's path of function keys from the root.
fn path_keys(s: &Snapshot) -> Vec<Vec<(&str, &str, &str, u32)>> {
    let mut keys: Vec<Vec<(&str, &str, &str, u32)>> = Vec::with_capacity(s.call_tree.len());
    for n in &s.call_tree {
        let mut k = n.parent.and_then(|p| keys.get(p).cloned()).unwrap_or_default();
        k.push(s.functions[n.function].key());
        keys.push(k);
    }
    keys
}

#[cfg(feature = "html")]
/// A Unix time in ns as `YYYY-MM-DD HH:MM:SSZ` (UTC).
pub(crate) fn fmt_unix_ns(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// A duration in the unit that keeps three or four significant digits.
pub(crate) fn fmt_ns(ns: f64) -> String {
    match ns.abs() {
        n if n >= 1e9 => format!("{:.2} s", ns / 1e9),
        n if n >= 1e6 => format!("{:.2} ms", ns / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", ns / 1e3),
        _ => format!("{ns:.0} ns"),
    }
}

impl fmt::Display for Snapshot {
    /// A table of the functions, slowest total first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rows: Vec<&FunctionStats> = self.functions.iter().filter(|s| s.count > 0).collect();
        rows.sort_by(|a, b| b.total_ns.cmp(&a.total_ns).then_with(|| a.name.cmp(&b.name)));
        let width = rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(8).max(8);
        writeln!(
            f,
            "{:<width$} {:>10} {:>7} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}",
            "function", "calls", "errors", "total", "self", "mean", "p50", "p99", "max"
        )?;
        for r in rows {
            writeln!(
                f,
                "{:<width$} {:>10} {:>7} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}",
                r.name,
                r.count,
                r.errors,
                fmt_ns(r.total_ns as f64),
                fmt_ns(r.self_ns as f64),
                fmt_ns(r.mean_ns),
                fmt_ns(r.p50_ns as f64),
                fmt_ns(r.p99_ns as f64),
                fmt_ns(r.max_ns as f64),
            )?;
        }
        Ok(())
    }
}
