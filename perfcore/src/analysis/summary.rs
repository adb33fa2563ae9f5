//! `performance_summary`: the figures a report opens with.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Unit, View};
use crate::Snapshot;
use crate::regress::{Comparison, Metric, Verdict};

/// How many functions [`PerformanceSummary::top_functions`] lists.
///
/// # Examples
/// ```
/// assert_eq!(perfcore::analysis::DEFAULT_TOP_FUNCTIONS, 10);
/// ```
pub const DEFAULT_TOP_FUNCTIONS: usize = 10;

/// One of the functions with the most self time.
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, Snapshot};
/// let snap = Snapshot::from_functions(vec![FunctionStats::from_durations("f", [10; 3])], 0, 1);
/// let top = &perfcore::analysis::performance_summary(&snap, None).top_functions[0];
/// assert_eq!((top.name.as_str(), top.calls, top.self_ns, top.self_share), ("f", 3, 30, 1.0));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TopFunction {
    /// The function's name.
    pub name: String,
    /// Its calls.
    pub calls: u64,
    /// Its self time, ns.
    pub self_ns: u64,
    /// Its share of the total self time.
    pub self_share: f64,
    /// Its wall time, children included, ns (not additive across functions).
    pub total_ns: u64,
    /// Mean wall time per call, ns.
    pub mean_ns: f64,
    /// 99th percentile wall time per call, ns.
    pub p99_ns: u64,
    /// Failed calls over calls.
    pub error_rate: f64,
}

/// Memory figures of a snapshot, from the tracking allocator.
///
/// # Examples
/// ```
/// # use perfcore::{AllocationStats, FunctionStats, Snapshot};
/// let mut f = FunctionStats::from_durations("f", [10]);
/// let mut a = AllocationStats::default();
/// a.calls = 1;
/// a.self_allocated_bytes = 4096;
/// f.allocations = Some(a);
/// let snap = Snapshot::from_functions(vec![f], 0, 1);
/// let mem = perfcore::analysis::performance_summary(&snap, None).memory.unwrap();
/// assert_eq!((mem.allocated_bytes, mem.top_allocator.as_deref()), (4096, Some("f")));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemorySummary {
    /// Functions with allocation figures.
    pub tracked_functions: usize,
    /// Bytes allocated inside profiled scopes: the sum of each function's own-body bytes
    /// (`self_allocated_bytes`), so nested functions are not counted twice.
    pub allocated_bytes: u64,
    /// The function that allocated the most bytes in its own body.
    pub top_allocator: Option<String>,
    /// Those bytes.
    pub top_allocator_bytes: u64,
}

/// How many functions got one verdict in a comparison.
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, Snapshot, regress::*};
/// let a = Snapshot::from_functions(vec![FunctionStats::from_durations("f", [10; 3])], 0, 1);
/// let cmp = compare(&a, &a, &[], &CompareOptions::default());
/// let s = perfcore::analysis::performance_summary(&a, Some(&cmp)).comparison.unwrap();
/// assert_eq!(s.counts[0].functions, 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VerdictCount {
    /// The verdict.
    pub verdict: Verdict,
    /// Functions that got it.
    pub functions: usize,
}

/// One regressed function of a comparison.
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, Snapshot, regress::*};
/// let a = Snapshot::from_functions(vec![FunctionStats::from_durations("f", (0..2000).map(|i| 1_000 + i % 50))], 0, 1);
/// let b = Snapshot::from_functions(vec![FunctionStats::from_durations("f", (0..2000).map(|i| 2_000 + i % 50))], 0, 1);
/// let cmp = compare(&a, &b, &[], &CompareOptions::default());
/// let s = perfcore::analysis::performance_summary(&b, Some(&cmp)).comparison.unwrap();
/// assert_eq!(s.regressions[0].function, "f");
/// assert!(s.regressions[0].degradation_percent > 50.0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RegressionSummary {
    /// The function's name.
    pub function: String,
    /// The metric that decided the verdict.
    pub metric: Option<Metric>,
    /// How much slower, in percent.
    pub degradation_percent: f64,
    /// Why, in a sentence.
    pub reason: String,
}

/// A comparison with a baseline, in brief.
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, Snapshot, regress::*};
/// let a = Snapshot::from_functions(vec![FunctionStats::from_durations("f", [10; 3])], 0, 1);
/// let cmp = compare(&a, &a, &[], &CompareOptions::default());
/// let s = perfcore::analysis::performance_summary(&a, Some(&cmp)).comparison.unwrap();
/// assert!(s.regressions.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ComparisonSummary {
    /// Functions compared.
    pub functions: usize,
    /// How many got each verdict.
    pub counts: Vec<VerdictCount>,
    /// The regressed functions, worst first.
    pub regressions: Vec<RegressionSummary>,
}

/// The headline figures of a snapshot (seed 003's `get_performance_summary`). See the
/// [module docs](super) for the definitions of self and profiled wall time.
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, Snapshot};
/// let mut f = FunctionStats::from_durations("f", [10; 4]);
/// f.errors = 1;
/// let snap = Snapshot::from_functions(vec![f], 0, 1_000);
/// let s = perfcore::analysis::performance_summary(&snap, None);
/// assert_eq!((s.window_ns, s.total_calls, s.total_self_ns, s.error_rate), (1_000, 4, 40, 0.25));
/// assert!(s.to_string().contains("4 calls"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PerformanceSummary {
    /// Start of the window (Unix time, ns).
    pub started_unix_ns: u64,
    /// End of the window (Unix time, ns).
    pub ended_unix_ns: u64,
    /// The window's length, ns.
    pub window_ns: u64,
    /// Functions (by name) that ran.
    pub functions: usize,
    /// Finished calls over all functions.
    pub total_calls: u64,
    /// Failed calls over all functions.
    pub total_errors: u64,
    /// `total_errors / total_calls` (0 without calls).
    pub error_rate: f64,
    /// The profiled wall time, ns: the call tree's roots' wall time, summed over threads.
    pub profiled_wall_ns: u64,
    /// The sum of every function's self time, ns (equals `profiled_wall_ns` for a
    /// snapshot a profiler recorded).
    pub total_self_ns: u64,
    /// The functions with the most self time, most first (at most
    /// [`DEFAULT_TOP_FUNCTIONS`]).
    pub top_functions: Vec<TopFunction>,
    /// Memory figures, when the tracking allocator was installed.
    pub memory: Option<MemorySummary>,
    /// The comparison with a baseline, when one was given.
    pub comparison: Option<ComparisonSummary>,
}

/// The headline figures of `snap`, with `comparison` (of a baseline with this snapshot) in
/// brief when given.
///
/// # Examples
/// ```
/// # use perfcore::Snapshot;
/// let s = perfcore::analysis::performance_summary(&Snapshot::default(), None);
/// assert_eq!((s.total_calls, s.error_rate, s.top_functions.len()), (0, 0.0, 0));
/// assert!(s.memory.is_none() && s.comparison.is_none());
/// ```
#[must_use]
pub fn performance_summary(snap: &Snapshot, comparison: Option<&Comparison>) -> PerformanceSummary {
    let view = View::of(snap);
    let total_calls = view.functions.iter().fold(0u64, |n, f| n.saturating_add(f.count));
    let total_errors = view.functions.iter().fold(0u64, |n, f| n.saturating_add(f.errors));
    let error_rate =
        if total_calls == 0 { 0.0 } else { (total_errors as f64 / total_calls as f64).min(1.0) };

    let mut ranked: Vec<_> = view.functions.iter().collect();
    ranked.sort_by(|a, b| super::most_self_time_first(a, b));
    let top_functions = ranked
        .iter()
        .take(DEFAULT_TOP_FUNCTIONS)
        .map(|f| TopFunction {
            name: f.name.clone(),
            calls: f.count,
            self_ns: f.self_ns,
            self_share: view.share(u128::from(f.self_ns)),
            total_ns: f.total_ns,
            mean_ns: f.mean_ns,
            p99_ns: f.p99_ns,
            error_rate: f.error_rate().clamp(0.0, 1.0),
        })
        .collect();

    let tracked: Vec<_> =
        view.functions.iter().filter_map(|f| f.allocations.map(|a| (f, a))).collect();
    let memory = (!tracked.is_empty()).then(|| {
        let top = tracked.iter().max_by(|(fa, a), (fb, b)| {
            a.self_allocated_bytes.cmp(&b.self_allocated_bytes).then_with(|| fb.name.cmp(&fa.name))
        });
        MemorySummary {
            tracked_functions: tracked.len(),
            allocated_bytes: tracked
                .iter()
                .fold(0u64, |n, (_, a)| n.saturating_add(a.self_allocated_bytes)),
            top_allocator: top.map(|(f, _)| f.name.clone()),
            top_allocator_bytes: top.map_or(0, |(_, a)| a.self_allocated_bytes),
        }
    });

    let comparison = comparison.map(|c| ComparisonSummary {
        functions: c.functions.len(),
        counts: c
            .counts()
            .into_iter()
            .map(|(verdict, functions)| VerdictCount { verdict, functions })
            .collect(),
        regressions: c
            .regressions()
            .map(|r| RegressionSummary {
                function: r.function.clone(),
                metric: r.metric,
                degradation_percent: r.degradation_percent,
                reason: r.reason.clone(),
            })
            .collect(),
    });

    let to_u64 = |v: u128| u64::try_from(v).unwrap_or(u64::MAX);
    PerformanceSummary {
        started_unix_ns: snap.started_unix_ns,
        ended_unix_ns: snap.ended_unix_ns,
        window_ns: snap.ended_unix_ns.saturating_sub(snap.started_unix_ns),
        functions: view.functions.len(),
        total_calls,
        total_errors,
        error_rate,
        profiled_wall_ns: to_u64(view.profiled_wall_ns),
        total_self_ns: to_u64(view.total_self_ns),
        top_functions,
        memory,
        comparison,
    }
}

impl fmt::Display for PerformanceSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = |v: u64| Unit::Nanoseconds.format(v as f64);
        writeln!(
            f,
            "{} functions, {} calls, {} errors ({}) in a {} window",
            self.functions,
            self.total_calls,
            self.total_errors,
            Unit::Fraction.format(self.error_rate),
            ns(self.window_ns)
        )?;
        writeln!(
            f,
            "profiled wall time {}, self time {}",
            ns(self.profiled_wall_ns),
            ns(self.total_self_ns)
        )?;
        for t in &self.top_functions {
            writeln!(
                f,
                "  {:>6}  {:>10}  {:>9} calls  {}",
                Unit::Fraction.format(t.self_share),
                ns(t.self_ns),
                t.calls,
                t.name
            )?;
        }
        if let Some(m) = &self.memory {
            write!(
                f,
                "allocated {} in profiled scopes",
                Unit::Bytes.format(m.allocated_bytes as f64)
            )?;
            if let Some(top) = &m.top_allocator {
                write!(
                    f,
                    ", most by {top} ({})",
                    Unit::Bytes.format(m.top_allocator_bytes as f64)
                )?;
            }
            writeln!(f)?;
        }
        if let Some(c) = &self.comparison {
            write!(f, "against the baseline, {} functions:", c.functions)?;
            for v in &c.counts {
                write!(f, " {} {}", v.functions, v.verdict)?;
            }
            writeln!(f)?;
            for r in &c.regressions {
                writeln!(f, "  regressed: {} {:+.1}%", r.function, r.degradation_percent)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CallNode, FunctionStats};

    #[test]
    fn profiled_wall_time_is_the_roots() {
        let mut snap = Snapshot::from_functions(
            vec![
                FunctionStats::from_durations("outer", [1000]),
                FunctionStats::from_durations("inner", [600]),
            ],
            0,
            10_000,
        );
        snap.functions[0].self_ns = 400;
        snap.call_tree = vec![
            CallNode {
                parent: None,
                function: 0,
                count: 1,
                errors: 0,
                total_ns: 1000,
                self_ns: 400,
            },
            CallNode {
                parent: Some(0),
                function: 1,
                count: 1,
                errors: 0,
                total_ns: 600,
                self_ns: 600,
            },
        ];
        let s = performance_summary(&snap, None);
        assert_eq!((s.profiled_wall_ns, s.total_self_ns), (1000, 1000));
        assert_eq!(s.top_functions[0].name, "inner");
        assert!((s.top_functions[0].self_share - 0.6).abs() < 1e-12);
    }
}
