//! `profile_function`: run a closure many times and summarise its timing and memory.

use serde::{Deserialize, Serialize};

use crate::error::ProfileError;
use crate::stats::{LatencyHistogram, check_fraction};
use crate::{Callsite, PerformanceProfiler};

/// How [`PerformanceProfiler::profile_function_with`] runs the function.
///
/// # Examples
/// ```
/// let opts = perfcore::ProfileOptions::new(1000).warmup_fraction(0.05)?;
/// assert_eq!(opts.iterations(), 1000);
/// assert_eq!(opts.warmup_iterations(), 50);
/// # Ok::<(), perfcore::ProfileError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProfileOptions {
    iterations: u64,
    warmup_fraction: f64,
}

impl ProfileOptions {
    /// `iterations` measured runs, after a warm-up of 10% as many (at least one) unmeasured runs.
    #[must_use]
    pub fn new(iterations: u64) -> Self {
        Self { iterations, warmup_fraction: 0.1 }
    }

    /// The warm-up as a fraction of `iterations`, from 0 (none) to 1.
    ///
    /// # Errors
    /// [`ProfileError::NonFinite`] for NaN or infinity, [`ProfileError::OutOfRange`] outside 0..=1.
    pub fn warmup_fraction(mut self, fraction: f64) -> Result<Self, ProfileError> {
        check_fraction("warmup_fraction", fraction)?;
        self.warmup_fraction = fraction;
        Ok(self)
    }

    /// Measured runs.
    #[must_use]
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// Unmeasured warm-up runs: `ceil(iterations × warmup_fraction)`.
    #[must_use]
    pub fn warmup_iterations(&self) -> u64 {
        (self.iterations as f64 * self.warmup_fraction).ceil() as u64
    }
}

/// Memory a profiled function used, measured by the tracking allocator.
///
/// # Examples
/// ```
/// let m = perfcore::MemoryUsage::default();
/// assert_eq!(m.memory_used_mb(), 0.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemoryUsage {
    /// Bytes allocated over all measured iterations.
    pub allocated_bytes: u64,
    /// Bytes freed over all measured iterations.
    pub freed_bytes: u64,
    /// Allocations over all measured iterations.
    pub allocations: u64,
    /// The most bytes the calling thread held at once above what it held before the run.
    pub peak_bytes: u64,
}

impl MemoryUsage {
    /// Peak memory in MiB, as seed 003's `memory_used_mb`.
    #[must_use]
    pub fn memory_used_mb(&self) -> f64 {
        self.peak_bytes as f64 / (1024.0 * 1024.0)
    }
}

/// The timing (and memory) of a function run by
/// [`PerformanceProfiler::profile_function`].
///
/// # Examples
/// ```
/// let p = perfcore::PerformanceProfiler::new();
/// let r = p.profile_function("sum", 100, || (0..1000u64).sum::<u64>())?;
/// assert_eq!(r.iterations, 100);
/// assert!(r.min_ns <= r.p50_ns && r.p50_ns <= r.max_ns);
/// assert!(r.execution_time_ms() > 0.0);
/// # Ok::<(), perfcore::ProfileError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProfileResult {
    /// The name the runs were recorded under.
    pub name: String,
    /// Measured runs.
    pub iterations: u64,
    /// Unmeasured warm-up runs before them.
    pub warmup_iterations: u64,
    /// Total wall time of the measured runs.
    pub total_ns: u64,
    /// Mean wall time per run.
    pub mean_ns: f64,
    /// Fastest run.
    pub min_ns: u64,
    /// Slowest run.
    pub max_ns: u64,
    /// Standard deviation of the runs.
    pub stddev_ns: f64,
    /// Median run.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 95th percentile.
    pub p95_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// Memory used, when the tracking allocator is installed.
    pub memory: Option<MemoryUsage>,
    /// Distribution of the runs.
    pub histogram: LatencyHistogram,
}

impl ProfileResult {
    /// Mean wall time per run in milliseconds (seed 003's `execution_time_ms`).
    #[must_use]
    pub fn execution_time_ms(&self) -> f64 {
        self.mean_ns / 1e6
    }

    /// Total wall time of the measured runs in milliseconds.
    #[must_use]
    pub fn total_time_ms(&self) -> f64 {
        self.total_ns as f64 / 1e6
    }

    /// The run as the statistics of one function (its histogram, sums and memory), to
    /// compare two runs with [`regress::compare_functions`](crate::regress::compare_functions).
    ///
    /// # Examples
    /// ```
    /// use perfcore::regress::{compare_functions, CompareOptions, Verdict};
    /// let p = perfcore::PerformanceProfiler::new();
    /// let a = p.profile_function("f", 100, || (0..500u64).sum::<u64>())?.to_function_stats();
    /// assert_eq!(a.count, 100);
    /// let v = compare_functions(&a, &a, &[], &CompareOptions::default()).verdict;
    /// assert_eq!(v, Verdict::Unchanged);
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    #[must_use]
    pub fn to_function_stats(&self) -> crate::FunctionStats {
        crate::FunctionStats::from_run(self)
    }
}

impl PerformanceProfiler {
    /// Runs `f` `iterations` times after a short warm-up and returns its timing statistics.
    ///
    /// Each measured run is also recorded in this profiler under `name`, so it shows in
    /// snapshots beside everything else.
    ///
    /// # Errors
    /// [`ProfileError::ZeroIterations`] and [`ProfileError::EmptyName`].
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// let r = p.profile_function("fib", 50, || (1..20u64).product::<u64>())?;
    /// println!("fib: {:.4} ms per call", r.execution_time_ms());
    /// assert!(p.profile_function("fib", 0, || ()).is_err());
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn profile_function<R>(
        &self,
        name: &str,
        iterations: u64,
        f: impl FnMut() -> R,
    ) -> Result<ProfileResult, ProfileError> {
        self.profile_function_with(name, ProfileOptions::new(iterations), f)
    }

    /// [`profile_function`](Self::profile_function) with explicit [`ProfileOptions`].
    ///
    /// # Errors
    /// [`ProfileError::ZeroIterations`] and [`ProfileError::EmptyName`].
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// let opts = perfcore::ProfileOptions::new(10).warmup_fraction(0.0)?;
    /// let r = p.profile_function_with("noop", opts, || ())?;
    /// assert_eq!(r.warmup_iterations, 0);
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn profile_function_with<R>(
        &self,
        name: &str,
        options: ProfileOptions,
        mut f: impl FnMut() -> R,
    ) -> Result<ProfileResult, ProfileError> {
        let run = self.try_profile_function_with(name, options, || {
            std::hint::black_box(f());
            Ok::<(), std::convert::Infallible>(())
        })?;
        Ok(run.unwrap_or_else(|never| match never {}))
    }

    /// [`profile_function_with`](Self::profile_function_with) for a fallible `f`: the first
    /// `Err` (in warm-up or measurement) stops the runs and is returned as the inner `Err`.
    ///
    /// # Errors
    /// [`ProfileError::ZeroIterations`] and [`ProfileError::EmptyName`] (outer).
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// let opts = perfcore::ProfileOptions::new(10).warmup_fraction(0.0)?;
    /// let mut runs = 0;
    /// let r = p.try_profile_function_with("flaky", opts, || {
    ///     runs += 1;
    ///     if runs == 3 { Err("third run failed") } else { Ok(()) }
    /// })?;
    /// assert_eq!((r.unwrap_err(), runs), ("third run failed", 3));
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn try_profile_function_with<E>(
        &self,
        name: &str,
        options: ProfileOptions,
        f: impl FnMut() -> Result<(), E>,
    ) -> Result<Result<ProfileResult, E>, ProfileError> {
        if name.is_empty() {
            return Err(ProfileError::EmptyName { what: "function name" });
        }
        self.try_profile_callsite_with(crate::profiler::callsite::by_name(name), options, f)
    }

    /// [`try_profile_function_with`](Self::try_profile_function_with) recording the runs under
    /// a given callsite (the one `#[profile]` or the Python `@profile` uses for the function,
    /// so its profiled runs and its ordinary calls are one entry in snapshots).
    ///
    /// # Errors
    /// [`ProfileError::ZeroIterations`] (outer).
    ///
    /// # Examples
    /// ```
    /// static CS: perfcore::Callsite = perfcore::Callsite::new("step", module_path!(), file!(), line!());
    /// let p = perfcore::PerformanceProfiler::new();
    /// let r = p.try_profile_callsite_with(&CS, perfcore::ProfileOptions::new(5), || Ok::<_, ()>(()))?;
    /// assert_eq!(r.unwrap().name, "step");
    /// assert_eq!(p.snapshot().function("step").unwrap().count, 5);
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn try_profile_callsite_with<E>(
        &self,
        callsite: &'static Callsite,
        options: ProfileOptions,
        mut f: impl FnMut() -> Result<(), E>,
    ) -> Result<Result<ProfileResult, E>, ProfileError> {
        if options.iterations == 0 {
            return Err(ProfileError::ZeroIterations);
        }
        let name = callsite.name();
        for _ in 0..options.warmup_iterations() {
            if let Err(e) = f() {
                return Ok(Err(e));
            }
        }
        let clock = self.clock();
        let mut hist = LatencyHistogram::new();
        let (mut total, mut min, mut max) = (0u64, u64::MAX, 0u64);
        let mem_start = crate::alloc::thread_counters();
        let peak_mark = crate::alloc::mark_thread_peak();
        for _ in 0..options.iterations {
            let scope = self.enter(callsite);
            let t0 = clock.raw();
            let out = f();
            let ns = clock.delta_ns(t0, clock.raw());
            if let Err(e) = out {
                scope.mark_failed();
                return Ok(Err(e));
            }
            drop(scope);
            hist.record(ns);
            total += ns;
            min = min.min(ns);
            max = max.max(ns);
        }
        let memory = mem_start.and_then(|start| {
            let d = crate::alloc::thread_counters()?.since(start);
            Some(MemoryUsage {
                allocated_bytes: d.allocated,
                freed_bytes: d.freed,
                allocations: d.count,
                peak_bytes: crate::alloc::thread_peak_since(peak_mark),
            })
        });
        let q = |q: f64| hist.value_at_quantile(q).clamp(min, max);
        Ok(Ok(ProfileResult {
            name: name.to_owned(),
            iterations: options.iterations,
            warmup_iterations: options.warmup_iterations(),
            total_ns: total,
            mean_ns: total as f64 / options.iterations as f64,
            min_ns: min,
            max_ns: max,
            stddev_ns: hist.stddev(),
            p50_ns: q(0.5),
            p90_ns: q(0.9),
            p95_ns: q(0.95),
            p99_ns: q(0.99),
            memory,
            histogram: hist,
        }))
    }
}
