//! Hotspots, recommendations with a measured impact, and a performance summary of a
//! [`Snapshot`]: pure functions over a snapshot, no clock, no I/O.
//!
//! # Definitions
//! - **Self time** of a function: its calls' wall time minus the time spent in child scopes
//!   ([`FunctionStats::self_ns`](crate::FunctionStats::self_ns)). Self times of all functions
//!   add up to the profiled wall time (below), so they are what *shares* are taken of: a
//!   function's **share** is its self time over the snapshot's total self time, each share is
//!   in `[0, 1]` and the shares sum to 1 (or 0 for an empty snapshot).
//! - **Total time** (`total_ns`) includes children, so totals of nested functions count the
//!   same nanoseconds more than once: it is never summed here.
//! - **Profiled wall time**: the sum of the call tree's root nodes' wall time (scopes with no
//!   profiled caller); for a snapshot without a call tree (built from results measured
//!   elsewhere), the sum of every function's total time, as if none were nested. Threads add
//!   up: two threads busy for one second each are two seconds.
//!
//! Functions are taken by name ([`Snapshot::by_name`]): callsites sharing a name are one.
//!
//! # Heuristics
//! Hotspots and recommendations are heuristics: thresholds on measured figures, each one
//! documented on [`HotspotOptions`] and reported as [`Evidence`] beside the value it judged.
//! An impact is only given when it follows from a measurement by Amdahl's law
//! (`saved = share × (1 − 1/speedup)`, see [`Impact`]); otherwise it says it is
//! [`Impact::NotEstimated`] and why. No percentage is invented.
//!
//! # Examples
//! ```
//! use perfcore::analysis::{HotspotKind, HotspotOptions, RecommendationOptions};
//! use perfcore::{FunctionStats, Snapshot};
//!
//! let snap = Snapshot::from_functions(
//!     vec![
//!         FunctionStats::from_durations("parse", [4_000_000; 100]),
//!         FunctionStats::from_durations("render", [1_000_000; 100]),
//!     ],
//!     0,
//!     1_000_000_000,
//! );
//! let hot = perfcore::analysis::identify_hotspots(&snap, &HotspotOptions::default());
//! assert_eq!((hot[0].function.as_str(), hot[0].kind), ("parse", HotspotKind::SelfTime));
//! assert!((hot[0].share_of_time - 0.8).abs() < 1e-9);
//!
//! let recs = perfcore::analysis::generate_recommendations(&snap, &RecommendationOptions::default());
//! // Halving parse's self time saves 80% × (1 − 1/2) = 40% of the profiled time.
//! assert!((recs[0].impact.saved_fraction().unwrap() - 0.4).abs() < 1e-9);
//! println!("{}", recs[0]);
//!
//! let summary = perfcore::analysis::performance_summary(&snap, None);
//! assert_eq!(summary.total_calls, 200);
//! println!("{summary}");
//! ```

mod evidence;
mod hotspots;
mod recommend;
mod summary;
#[cfg(test)]
mod tests;

pub use evidence::{Evidence, Severity, Thresholds, Unit};
pub use hotspots::{
    DEFAULT_PER_CALL_OVERHEAD_NS, Hotspot, HotspotKind, HotspotOptions, identify_hotspots,
};
pub(crate) use recommend::recommendations_from;
pub use recommend::{
    FunctionOptimization, Impact, OptimizationStrategy, Recommendation, RecommendationOptions,
    Rule, generate_recommendations, optimize_function, optimize_function_with,
};
pub use summary::{
    ComparisonSummary, DEFAULT_TOP_FUNCTIONS, MemorySummary, PerformanceSummary, RegressionSummary,
    TopFunction, VerdictCount, performance_summary,
};

use std::borrow::Cow;

use crate::{FunctionStats, Snapshot};

/// A snapshot's functions by name (borrowed unless callsites share a name) with the totals
/// every analysis divides by.
pub(crate) struct View<'a> {
    pub(crate) functions: Vec<Cow<'a, FunctionStats>>,
    /// Sum of self time over every function, ns.
    pub(crate) total_self_ns: u128,
    /// See the module docs.
    pub(crate) profiled_wall_ns: u128,
}

impl<'a> View<'a> {
    pub(crate) fn of(snap: &'a Snapshot) -> Self {
        let functions = snap.by_name_borrowed();
        let total_self_ns = functions.iter().map(|f| u128::from(f.self_ns)).sum();
        Self { functions, total_self_ns, profiled_wall_ns: profiled_wall_ns(snap) }
    }

    /// `ns` as a fraction of the total self time, in `[0, 1]` when `ns` is a part of it.
    pub(crate) fn share(&self, ns: u128) -> f64 {
        fraction(ns, self.total_self_ns)
    }
}

/// Most self time first, then by name: the order every ranking of functions uses.
pub(crate) fn most_self_time_first(a: &FunctionStats, b: &FunctionStats) -> std::cmp::Ordering {
    b.self_ns.cmp(&a.self_ns).then_with(|| a.name.cmp(&b.name))
}

/// `part / whole` clamped to `[0, 1]`, 0 when `whole` is 0.
pub(crate) fn fraction(part: u128, whole: u128) -> f64 {
    if whole == 0 { 0.0 } else { (part.min(whole) as f64 / whole as f64).clamp(0.0, 1.0) }
}

/// A node is a root when it has no parent, or a parent that does not come before it (a
/// malformed tree from a file is read as flat there rather than trusted).
pub(crate) fn is_root(snap: &Snapshot, i: usize) -> bool {
    snap.call_tree[i].parent.is_none_or(|p| p >= i)
}

fn profiled_wall_ns(snap: &Snapshot) -> u128 {
    if snap.call_tree.is_empty() {
        return snap.functions.iter().map(|f| u128::from(f.total_ns)).sum();
    }
    (0..snap.call_tree.len())
        .filter(|&i| is_root(snap, i))
        .map(|i| u128::from(snap.call_tree[i].total_ns))
        .sum()
}

/// Nanoseconds as a short human figure: `850 ns`, `12.3 µs`, `4.56 ms`, `7.89 s`.
pub(crate) fn fmt_ns(ns: f64) -> String {
    let a = ns.abs();
    if a < 1e3 {
        format!("{ns:.0} ns")
    } else if a < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if a < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}
