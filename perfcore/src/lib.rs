//! # perfcore
//!
//! Embeddable, low-overhead profiling: per-function latency histograms, call counts, self and
//! total time, call trees, allocations and errors, recorded lock-free on each thread and
//! merged into a [`Snapshot`] on demand.
//!
//! ## Overview
//! Put a scope at the top of a function you care about. It records the call when it ends:
//! wall time, self time (wall time minus time in child scopes), the caller, and whether it
//! failed. A [`Snapshot`] merges every thread's counters into [`FunctionStats`] (count,
//! errors, total, self, mean, min, max, stddev, p50/p90/p95/p99/p99.9, calls per second) and a
//! call tree.
//!
//! ## Profiling
//! ```
//! use perfcore::profile_scope;
//!
//! fn parse(line: &str) -> Vec<&str> {
//!     profile_scope!("parse");
//!     line.split(',').collect()
//! }
//!
//! fn load(lines: &[&str]) -> usize {
//!     profile_scope!("load");
//!     lines.iter().map(|l| parse(l).len()).sum()
//! }
//!
//! load(&["a,b,c", "d,e"]);
//! let snap = perfcore::global().snapshot();
//! let parse = snap.function("parse").unwrap();
//! assert_eq!(parse.count, 2);
//! println!("{snap}"); // a table, slowest first
//! ```
//! [`macro@profile`] (`#[profile]`) instruments a whole function the same way, and counts
//! `Err` returns as errors:
//! ```
//! #[perfcore::profile]
//! fn checked_div(a: u32, b: u32) -> Result<u32, String> {
//!     a.checked_div(b).ok_or_else(|| "division by zero".to_string())
//! }
//! let _ = checked_div(1, 0);
//! let snap = perfcore::global().snapshot();
//! let f = snap.functions().iter().find(|f| f.name.ends_with("::checked_div")).unwrap();
//! assert_eq!((f.count, f.errors), (1, 1));
//! ```
//! On an `impl` block it instruments each method, named after its type:
//! ```
//! struct Parser;
//!
//! #[perfcore::profile]
//! impl Parser {
//!     fn parse(&self, s: &str) -> Result<u8, std::num::ParseIntError> {
//!         s.parse()
//!     }
//!
//!     #[profile(skip)] // too small to be worth a scope
//!     fn is_empty(&self, s: &str) -> bool {
//!         s.is_empty()
//!     }
//! }
//! # let p = Parser;
//! let _ = (p.parse("7"), p.parse("x"), p.is_empty(""));
//! let snap = perfcore::global().snapshot();
//! let f = snap.functions().iter().find(|f| f.name.ends_with("::Parser::parse")).unwrap();
//! assert_eq!((f.count, f.errors), (2, 1));
//! assert!(!snap.functions().iter().any(|f| f.name.ends_with("::is_empty")));
//! ```
//! [`profile_scope!`] uses a static [`Callsite`] and the process-wide [`global()`] profiler;
//! `profile_scope!(&profiler, "name")` records into an independent [`PerformanceProfiler`],
//! and [`PerformanceProfiler::scope`] takes a name chosen at run time.
//! [`PerformanceProfiler::profile_function`] runs a closure N times and summarises it.
//!
//! ## Memory
//! Install [`alloc::TrackingAllocator`] as the global allocator and each function's stats
//! gain [`AllocationStats`]; [`ProfileResult::memory`] reports a run's allocations and peak.
//!
//! ## Snapshots
//! Snapshots serialise to JSON with a schema version ([`Snapshot::write_json`] writes
//! atomically), and [`Snapshot::merge`] combines snapshots of several threads, processes or
//! machines exactly as if one profiler had recorded them all.
//!
//! ## Timelines
//! Statistics say how long calls take; a timeline says when the most recent ones ran.
//! [`ProfilerBuilder::timeline`] keeps the last N spans of each thread in a lock-free ring
//! buffer (off by default, and free when off); [`PerformanceProfiler::timeline`] reads them,
//! every snapshot carries them ([`Snapshot::timeline`]), and
//! [`report::write_chrome_trace`] writes them for Perfetto or `chrome://tracing`.
//!
//! ## Baselines
//! [`baseline::Baseline`] is a named snapshot with the [`baseline::Environment`] it was
//! recorded in (commit, host, CPU model and cores, build profile, compiler). A
//! [`baseline::BaselineStore`] keeps baselines in a directory (`.perfcore/`, or
//! `$PERFCORE_DIR`) as JSON meant to be committed, safe against crashes and concurrent writers,
//! and appends each save to the name's run history:
//! ```
//! # let dir = std::env::temp_dir().join(format!("perfcore-doc-lib-{}", std::process::id()));
//! use perfcore::baseline::{Baseline, BaselineStore};
//!
//! let profiler = perfcore::PerformanceProfiler::new();
//! for _ in 0..10 {
//!     let _g = profiler.scope("render").unwrap();
//! }
//! let store = BaselineStore::open(&dir); // or BaselineStore::open_default()
//! store.save(&Baseline::new("main", profiler.snapshot())?)?;
//!
//! let main = store.load("main")?;
//! assert_eq!(main.snapshot.function("render").unwrap().count, 10);
//! let history = store.history("main")?;
//! assert_eq!(history.latest().unwrap().summary.function("render").unwrap().count, 10);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), perfcore::baseline::BaselineError>(())
//! ```
//!
//! ## Analysis
//! [`analysis`] reads a snapshot and says where the time goes: hotspots of each kind (self
//! time, tail latency, allocations, many tiny calls, errors, a path costly under one caller),
//! each with the measured figures that made it one and a severity from thresholds you can
//! set; recommendations whose impact is Amdahl's law applied to the measured share; and a
//! summary. They are heuristics, and say so.
//! ```
//! use perfcore::analysis::{HotspotOptions, RecommendationOptions, identify_hotspots};
//! # let profiler = perfcore::PerformanceProfiler::new();
//! # { let _g = profiler.scope("parse").unwrap(); std::hint::black_box((0..1000).sum::<u64>()); }
//! let snap = profiler.snapshot();
//! for hotspot in identify_hotspots(&snap, &HotspotOptions::default()) {
//!     println!("{hotspot}");
//! }
//! for rec in perfcore::analysis::generate_recommendations(&snap, &RecommendationOptions::default()) {
//!     println!("{rec}"); // e.g. "... Impact: a 2.0× speedup of 38.0% of the time saves 19.0%"
//! }
//! println!("{}", perfcore::analysis::performance_summary(&snap, None));
//! ```
//!
//! ## Reports
//! [`report`] writes a snapshot as what people look at and what their tools read: a
//! self-contained HTML report (summary, hotspots, recommendations, a baseline comparison, a
//! flamegraph, a sortable table and each function's latency histogram), Markdown tables for a
//! pull request, a versioned JSON report, folded stacks, speedscope JSON, pprof for
//! `go tool pprof` and Pyroscope, a Chrome trace of the timeline, HdrHistogram logs and
//! Prometheus text. The `perfcore report` command writes the same from a snapshot file.
//! ```
//! # let profiler = perfcore::PerformanceProfiler::new();
//! # { let _g = profiler.scope("parse").unwrap(); }
//! let snap = profiler.snapshot();
//! let md = perfcore::report::to_markdown(&snap, &Default::default());
//! assert!(md.contains("`parse`"));
//! let folded = perfcore::report::to_folded(&snap); // "parse 1234\n"
//! assert!(folded.starts_with("parse "));
//! ```
//!
//! ## Costs
//! `perfcore::cost` (feature `cost`) is the other half: a `CostMonitor` of the resources an
//! application tracks and of the clouds' FOCUS billing exports (CSV, gzip CSV, Parquet with
//! `parquet`), kept in an SQLite store beside the baselines. It gives exact totals and
//! breakdowns in any currency, cost reports (text, Markdown, JSON, HTML), and what each
//! profiled function costs at a vCPU-hour price (`cost::function_costs`). The `perfcore cost`
//! commands do the same from the shell.
//!
//! ## Live monitoring
//! `perfcore::monitor` (feature `monitor`) samples the system, keeps application metrics
//! (counters, gauges, ratios), evaluates alert rules with the seed's thresholds, and serves
//! it all with the function histograms to a real Prometheus (`monitor::serve_metrics`), or
//! pushes it to a Pushgateway (`monitor::push_metrics`).
//!
//! ## Overhead
//! A scope costs two clock reads (the TSC where it is invariant) and a few thread-local
//! counter updates; one relaxed atomic load when disabled at run time
//! ([`PerformanceProfiler::set_enabled`]); nothing at all with the `enabled` feature off.
//! BENCHMARKS.md has the measured figures, beside tracing, puffin, fastrace and Tracy.
//!
//! Memory is bounded by call paths × threads, never by calls: a call path costs about 1 KiB
//! plus 520 bytes per power of two of durations it sees (about 11 KiB over six decades), and
//! [`PerformanceProfiler::reset`] frees every path.
//!
//! ## Feature flags
//! - `enabled` (default): the macros instrument code. Off, [`profile_scope!`] expands to nothing.
//! - `json` (default): [`Snapshot::to_json`], [`Snapshot::from_json`], [`Snapshot::write_json`]
//!   and [`Snapshot::read_json`], through `serde_json`. Turn it off (`default-features =
//!   false, features = ["enabled"]`) to keep `serde_json` out of your build: its
//!   `PartialEq<Value>` impls for the integer types can make `assert_eq!(&a[..], &b[..])`
//!   ambiguous in code that compiled before. Snapshots still implement `serde`'s traits.
//!   [`baseline`] (baselines and their store) needs it too.
//! - `testing`: `testing::ManualClock`, a manual clock for deterministic tests.
//! - `budgets`: `perfcore::budget`, performance budgets (p95 under 200 ms, errors under 0.1%,
//!   bytes per call) read from a TOML file and checked against a snapshot
//!   (`PerformanceProfiler::check_budgets`), through `toml`.
//! - `json` also gives `perfcore::import`: criterion's saved results and pytest-benchmark's
//!   JSON files read into snapshots, so budgets and comparisons can judge them; and the
//!   report's JSON document, speedscope's format and Chrome traces (`perfcore::report`).
//!   Markdown and folded stacks need no feature.
//! - `html`: `report::to_html`, the self-contained HTML report (its CSS and JS are inline; no
//!   dependency).
//! - `pprof`: `report::to_pprof`, through `flate2` (the encoder of `profile.proto` is ours).
//! - `hdr`: `report::write_hdr_log` and `report::hdr_histogram_v2`, through `hdrhistogram`'s
//!   V2 serializer.
//! - `prometheus`: `report::to_prometheus_text`, through the Prometheus project's
//!   `prometheus-client`.
//! - `cost`: `perfcore::cost`, through `rust_decimal` (exact money), `csv`, `memchr`,
//!   `flate2`, `sha2` (the digest that keeps a file from being imported twice) and `rusqlite`
//!   with SQLite compiled in (its C source: about a minute to build the first time).
//! - `parquet`: FOCUS Parquet exports, through arrow-rs's `parquet` (Snappy and gzip codecs,
//!   pure Rust; about two minutes more to build).
//! - `monitor`: `perfcore::monitor`, live monitoring: the system sampler (through `sysinfo`),
//!   application metrics, alert rules and sinks (the log sink through `log`), the Prometheus
//!   endpoint `serve_metrics` and the Pushgateway client `push_metrics` (the HTTP server and
//!   client are ours, plain HTTP/1.1 on std's sockets).
//! - `metrics`: `monitor::install_metrics_recorder`, perfcore as the recorder of the
//!   `metrics` facade, so code instrumented with it reports here.
//! - `cli`: the `perfcore` command, with every feature above but `parquet` and `metrics` (add
//!   `parquet` for Parquet imports: `cargo install perfcore --features cli,parquet`), and
//!   `perfcore::top`, its live terminal dashboard `perfcore top` (through `ratatui`).

#![deny(missing_docs)]
#![warn(unreachable_pub, missing_debug_implementations)]

pub mod alloc;
pub mod analysis;
#[cfg(feature = "json")]
pub mod baseline;
#[cfg(feature = "budgets")]
pub mod budget;
#[cfg(feature = "cli")]
pub mod cli;
mod clock;
#[cfg(feature = "cost")]
pub mod cost;
mod error;
#[cfg(feature = "json")]
mod fsutil;
mod function;
mod glob;
#[cfg(feature = "json")]
pub mod import;
#[cfg(feature = "monitor")]
pub mod monitor;
mod profiler;
pub mod regress;
pub mod report;
mod stats;
mod sync;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "cli")]
pub mod top;

pub use clock::{ClockSource, clock_source};
pub use error::{Inconsistency, IoAction, ProfileError, SnapshotError};
pub use function::{MemoryUsage, ProfileOptions, ProfileResult};
pub use profiler::{
    Callsite, DEFAULT_MAX_DEPTH, Instrumented, MAX_DEPTH_LIMIT, MAX_TIMELINE_CAPACITY,
    PerformanceProfiler, ProfilerBuilder, ScopeGuard, TIMELINE_ENV_VAR, global,
};
pub use stats::histogram::{HISTOGRAM_SUB_BUCKETS, MAX_TRACKABLE_NS};
pub use stats::{
    AllocationStats, CallNode, FunctionStats, FunctionSummary, LatencyHistogram,
    OLDEST_SCHEMA_VERSION, RunSummary, SCHEMA_VERSION, Snapshot, SpanEvent, SpanKind,
    ThreadTimeline, Timeline,
};

/// The README's code, compiled and run as a doc test (with every feature it uses).
#[cfg(all(doctest, feature = "cli"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// What the macros expand to. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::profiler::callsite::name_from_marker;
    #[cfg(not(loom))]
    pub use crate::profiler::fork::{
        child as fork_child, parent as fork_parent, prepare as fork_prepare,
    };
    pub use crate::profiler::raw::{
        Frame, Outcome, ResumableCall, call, close, close_resume, now, ns_since, open,
        record_resumable,
    };
    pub use crate::profiler::{ErrorCheck, NoErrors, enter_global, instrument};

    /// Opens a scope of `callsite` on `profiler`.
    #[inline(always)]
    pub fn enter<'a>(
        profiler: &'a crate::PerformanceProfiler,
        callsite: &'static crate::Callsite,
    ) -> crate::ScopeGuard<'a> {
        profiler.enter(callsite)
    }

    /// `#[profile]`'s error check of a return type named `Result` that is not
    /// `core::result::Result` (`enum Result`, `type Result = i32`): never an error. The
    /// expansion calls `(&value).is_err()` with this in scope, which finds `Result::is_err`
    /// first when there is one (by value, before the autoref this impl needs).
    pub trait NotAResult {
        /// `false`.
        #[inline(always)]
        fn is_err(&self) -> bool {
            false
        }
    }

    impl<T: ?Sized> NotAResult for &T {}

    /// Sets whether the scope's call counts as failed: `#[profile]` on a function returning
    /// `Result` marks it failed on entry (so a `?` that returns counts) and sets it from the
    /// value at each `return` and at the end of the body.
    #[inline(always)]
    pub fn set_failed(guard: &crate::ScopeGuard<'_>, failed: bool) {
        guard.set_failed(failed);
    }
}

pub use perfcore_macros::profile;

/// Profiles the rest of the enclosing block as one call of a static callsite.
///
/// `profile_scope!("name")` records into the [`global()`] profiler;
/// `profile_scope!(&profiler, "name")` into the given one. The callsite (name, module, file,
/// line) is a `static`, so after the first call the scope costs only the clock reads and
/// thread-local counter updates. With the `enabled` feature off it expands to nothing.
///
/// # Examples
/// ```
/// let profiler = perfcore::PerformanceProfiler::new();
/// for _ in 0..3 {
///     perfcore::profile_scope!(&profiler, "tick");
///     std::hint::black_box(1 + 1);
/// }
/// let snap = profiler.snapshot();
/// let tick = snap.function("tick").unwrap();
/// assert_eq!(tick.count, 3);
/// assert!(tick.file.ends_with(".rs"));
/// ```
#[cfg(feature = "enabled")]
#[macro_export]
macro_rules! profile_scope {
    ($name:literal) => {
        let _perfcore_scope = {
            static CALLSITE: $crate::Callsite = $crate::Callsite::new(
                $name,
                ::core::module_path!(),
                ::core::file!(),
                ::core::line!(),
            );
            $crate::__private::enter_global(&CALLSITE)
        };
    };
    ($profiler:expr, $name:literal) => {
        let _perfcore_scope = {
            static CALLSITE: $crate::Callsite = $crate::Callsite::new(
                $name,
                ::core::module_path!(),
                ::core::file!(),
                ::core::line!(),
            );
            $crate::PerformanceProfiler::enter($profiler, &CALLSITE)
        };
    };
}

/// Profiles the rest of the enclosing block (compiled out: the `enabled` feature is off).
#[cfg(not(feature = "enabled"))]
#[macro_export]
macro_rules! profile_scope {
    ($($anything:tt)*) => {};
}
