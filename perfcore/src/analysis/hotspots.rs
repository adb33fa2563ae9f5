//! `identify_hotspots`: what in a snapshot deserves attention, and the numbers that say so.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Evidence, Severity, Thresholds, Unit, View, is_root};
use crate::Snapshot;

/// The per-call cost assumed for a call-heavy function, in nanoseconds: perfcore's own
/// measured cost of one profiled scope (26–38 ns per enter + exit in BENCHMARKS.md, "Scope
/// overhead", 2026-11-23), which is also the order of a non-inlined call that touches a cold
/// cache line. Set [`HotspotOptions::per_call_overhead_ns`] to your own measurement.
///
/// # Examples
/// ```
/// assert_eq!(perfcore::analysis::DEFAULT_PER_CALL_OVERHEAD_NS, 30.0);
/// ```
pub const DEFAULT_PER_CALL_OVERHEAD_NS: f64 = 30.0;

/// What kind of hotspot a [`Hotspot`] is.
///
/// # Examples
/// ```
/// use perfcore::analysis::HotspotKind;
/// assert_eq!(HotspotKind::TailLatency.to_string(), "tail latency");
/// assert_eq!(HotspotKind::TailLatency.name(), "tail_latency");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HotspotKind {
    /// A large share of the total self time.
    SelfTime,
    /// A p99 far above the median.
    TailLatency,
    /// Many bytes or allocations per call.
    AllocationHeavy,
    /// A huge number of tiny calls, where a per-call overhead is a large part of the time.
    CallHeavy,
    /// A high error rate.
    ErrorProne,
    /// Cheap in general but costly under one caller ([`Hotspot::caller`]).
    HotPath,
}

impl HotspotKind {
    /// The kind's name, as JSON writes it.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::analysis::HotspotKind::HotPath.name(), "hot_path");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            HotspotKind::SelfTime => "self_time",
            HotspotKind::TailLatency => "tail_latency",
            HotspotKind::AllocationHeavy => "allocation_heavy",
            HotspotKind::CallHeavy => "call_heavy",
            HotspotKind::ErrorProne => "error_prone",
            HotspotKind::HotPath => "hot_path",
        }
    }

    fn title(self) -> &'static str {
        match self {
            HotspotKind::SelfTime => "self time",
            HotspotKind::TailLatency => "tail latency",
            HotspotKind::AllocationHeavy => "allocation-heavy",
            HotspotKind::CallHeavy => "call-heavy",
            HotspotKind::ErrorProne => "error-prone",
            HotspotKind::HotPath => "hot call path",
        }
    }
}

impl fmt::Display for HotspotKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// The thresholds of [`identify_hotspots`]. Every figure is documented with its default and
/// why; change any field of `HotspotOptions::default()`.
///
/// # Examples
/// ```
/// use perfcore::analysis::{HotspotOptions, Thresholds};
/// let mut opts = HotspotOptions::default();
/// opts.self_share = Thresholds::new(0.10, 0.20, 0.40);
/// opts.per_call_overhead_ns = 5.0; // measured on your machine
/// assert_eq!(opts.tail_min_calls, 100);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct HotspotOptions {
    /// Share of the total self time. Default 5% / 10% / 25%: with twenty functions of equal
    /// cost each has 5%, so 5% is "more than its part"; a quarter of the time in one body is
    /// where a profile usually points first.
    pub self_share: Thresholds,
    /// p99 over p50. Default 5× / 10× / 50×: a well-behaved CPU-bound function stays within
    /// 2–3× (cache and frequency effects); 10× means some calls wait (a lock, I/O, a page
    /// fault, a pause); 50× is a bimodal function.
    pub tail_ratio: Thresholds,
    /// Calls needed before a p99 means anything. Default 100: with fewer, p99 is the maximum.
    pub tail_min_calls: u64,
    /// The least p99 worth reporting as a tail, ns. Default 1 µs: below it, interrupts and
    /// cache misses make 10× ratios that no code change removes.
    pub tail_min_p99_ns: u64,
    /// Bytes allocated in the function's own body per call (children excluded). Default
    /// 1 KiB / 64 KiB / 1 MiB: a few small strings, a large buffer, a buffer per call of the
    /// size that costs page faults.
    pub bytes_per_call: Thresholds,
    /// Allocations made in the function's own body per call (children excluded). Default
    /// 10 / 100 / 1000: at tens of ns each, 100 allocations are microseconds.
    pub allocations_per_call: Thresholds,
    /// The assumed cost of one call, ns, for call-heavy functions. Default
    /// [`DEFAULT_PER_CALL_OVERHEAD_NS`].
    pub per_call_overhead_ns: f64,
    /// Calls needed to be call-heavy. Default 100,000: fewer calls at tens of ns are
    /// milliseconds at most.
    pub call_heavy_min_calls: u64,
    /// The largest mean wall time of a call-heavy function's call, ns. Default 1 µs: above
    /// it, a 30 ns overhead is under 3% of each call.
    pub call_heavy_max_mean_ns: f64,
    /// The estimated overhead (calls × per-call cost, at most the function's self time) as a
    /// share of the total self time. Default 1% / 5% / 20%.
    pub call_heavy_overhead_share: Thresholds,
    /// Error rate (failed calls over calls). Default 1% / 5% / 20%.
    pub error_rate: Thresholds,
    /// Calls needed before an error rate is judged. Default 10.
    pub error_min_calls: u64,
    /// Self time per call under one caller over self time per call under every other caller.
    /// Default 3× / 10× / 30×.
    pub hot_path_ratio: Thresholds,
    /// The least share of the total self time a hot path must hold to be reported. Default
    /// 1%: a path 10× dearer than the others but negligible in total is not a hotspot.
    pub hot_path_min_share: f64,
}

impl Default for HotspotOptions {
    fn default() -> Self {
        Self {
            self_share: Thresholds::new(0.05, 0.10, 0.25),
            tail_ratio: Thresholds::new(5.0, 10.0, 50.0),
            tail_min_calls: 100,
            tail_min_p99_ns: 1_000,
            bytes_per_call: Thresholds::new(1024.0, 64.0 * 1024.0, 1024.0 * 1024.0),
            allocations_per_call: Thresholds::new(10.0, 100.0, 1000.0),
            per_call_overhead_ns: DEFAULT_PER_CALL_OVERHEAD_NS,
            call_heavy_min_calls: 100_000,
            call_heavy_max_mean_ns: 1_000.0,
            call_heavy_overhead_share: Thresholds::new(0.01, 0.05, 0.20),
            error_rate: Thresholds::new(0.01, 0.05, 0.20),
            error_min_calls: 10,
            hot_path_ratio: Thresholds::new(3.0, 10.0, 30.0),
            hot_path_min_share: 0.01,
        }
    }
}

/// One finding of [`identify_hotspots`].
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, Snapshot, analysis::*};
/// let snap = Snapshot::from_functions(vec![FunctionStats::from_durations("f", [10; 10])], 0, 1);
/// let h = &identify_hotspots(&snap, &HotspotOptions::default())[0];
/// assert_eq!(h.share_of_time, 1.0);
/// assert_eq!(
///     h.to_string(),
///     "critical: f (self time, 100.0% of self time): \
///      self_share = 100.0% (threshold 25.0%), self_ns = 100 ns, calls = 10"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hotspot {
    /// The function's name.
    pub function: String,
    /// For a [`HotspotKind::HotPath`], the caller under which the function is costly
    /// (`None` for the other kinds).
    pub caller: Option<String>,
    /// What kind of hotspot.
    pub kind: HotspotKind,
    /// How much it matters, from the thresholds in [`HotspotOptions`].
    pub severity: Severity,
    /// The figures that made it one: the judged figure first, with its threshold.
    pub evidence: Vec<Evidence>,
    /// The function's share of the total self time (a hot path's: that path's share), in
    /// `[0, 1]`.
    pub share_of_time: f64,
}

impl fmt::Display for Hotspot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.function)?;
        if let Some(c) = &self.caller {
            write!(f, " under {c}")?;
        }
        write!(f, " ({}, {} of self time)", self.kind, Unit::Fraction.format(self.share_of_time))?;
        for (i, e) in self.evidence.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { ", " })?;
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// The hotspots of a snapshot, most severe first, then by share of the total self time.
///
/// Each function is judged on every [`HotspotKind`] independently, so one function may be
/// several hotspots. See [`HotspotOptions`] for each threshold and the
/// [module docs](super) for what shares are shares of. These are heuristics.
///
/// # Examples
/// ```
/// use perfcore::analysis::{HotspotKind, HotspotOptions, identify_hotspots};
/// use perfcore::{FunctionStats, Snapshot};
///
/// // 49 fast calls and a slow one in every fifty: a fat tail.
/// let durations = (0..1000).map(|i| if i % 50 == 0 { 5_000_000 } else { 50_000 });
/// let snap = Snapshot::from_functions(vec![FunctionStats::from_durations("query", durations)], 0, 1);
/// let hot = identify_hotspots(&snap, &HotspotOptions::default());
/// let tail = hot.iter().find(|h| h.kind == HotspotKind::TailLatency).unwrap();
/// assert_eq!(tail.evidence[0].metric, "p99_over_p50");
/// assert!(tail.evidence[0].value > 50.0);
/// assert!(identify_hotspots(&Snapshot::default(), &HotspotOptions::default()).is_empty());
/// ```
#[must_use]
pub fn identify_hotspots(snap: &Snapshot, options: &HotspotOptions) -> Vec<Hotspot> {
    let view = View::of(snap);
    let mut out = Vec::new();
    for f in &view.functions {
        let share = view.share(u128::from(f.self_ns));
        let mut push = |kind, severity, evidence| {
            out.push(Hotspot {
                function: f.name.clone(),
                caller: None,
                kind,
                severity,
                evidence,
                share_of_time: share,
            });
        };
        let o = options;

        if f.self_ns > 0
            && let Some(sev) = o.self_share.severity(share)
        {
            let ev = vec![
                Evidence::new("self_share", share, Some(o.self_share.of(sev)), Unit::Fraction),
                Evidence::new("self_ns", f.self_ns as f64, None, Unit::Nanoseconds),
                Evidence::new("calls", f.count as f64, None, Unit::Count),
            ];
            push(HotspotKind::SelfTime, sev, ev);
        }

        if f.count >= o.tail_min_calls && f.p99_ns >= o.tail_min_p99_ns {
            let ratio = f.p99_ns as f64 / f.p50_ns.max(1) as f64;
            if let Some(sev) = o.tail_ratio.severity(ratio) {
                let ev = vec![
                    Evidence::new("p99_over_p50", ratio, Some(o.tail_ratio.of(sev)), Unit::Ratio),
                    Evidence::new("p50_ns", f.p50_ns as f64, None, Unit::Nanoseconds),
                    Evidence::new("p99_ns", f.p99_ns as f64, None, Unit::Nanoseconds),
                    Evidence::new("calls", f.count as f64, None, Unit::Count),
                ];
                push(HotspotKind::TailLatency, sev, ev);
            }
        }

        if let Some(a) = f.allocations.filter(|a| a.calls > 0) {
            let bytes = a.self_allocated_bytes as f64 / a.calls as f64;
            let allocs = a.self_allocations as f64 / a.calls as f64;
            let by_bytes = o.bytes_per_call.severity(bytes);
            let by_count = o.allocations_per_call.severity(allocs);
            if let Some(sev) = by_bytes.max(by_count) {
                let bytes_ev = Evidence::new(
                    "self_bytes_per_call",
                    bytes,
                    by_bytes.map(|s| o.bytes_per_call.of(s)),
                    Unit::Bytes,
                );
                let count_ev = Evidence::new(
                    "self_allocations_per_call",
                    allocs,
                    by_count.map(|s| o.allocations_per_call.of(s)),
                    Unit::Count,
                );
                // The figure that decided the severity first.
                let mut ev = if by_bytes >= by_count {
                    vec![bytes_ev, count_ev]
                } else {
                    vec![count_ev, bytes_ev]
                };
                ev.push(Evidence::new("tracked_calls", a.calls as f64, None, Unit::Count));
                push(HotspotKind::AllocationHeavy, sev, ev);
            }
        }

        if f.count >= o.call_heavy_min_calls && f.count > 0 && f.mean_ns <= o.call_heavy_max_mean_ns
        {
            let overhead = call_overhead_ns(f.count, f.self_ns, o.per_call_overhead_ns);
            let overhead_share = view.share(overhead);
            if let Some(sev) = o.call_heavy_overhead_share.severity(overhead_share) {
                let ev = vec![
                    Evidence::new(
                        "overhead_share",
                        overhead_share,
                        Some(o.call_heavy_overhead_share.of(sev)),
                        Unit::Fraction,
                    ),
                    Evidence::new("calls", f.count as f64, None, Unit::Count),
                    Evidence::new("mean_ns", f.mean_ns, None, Unit::Nanoseconds),
                    Evidence::new("self_ns", f.self_ns as f64, None, Unit::Nanoseconds),
                    Evidence::new(
                        "assumed_overhead_ns",
                        o.per_call_overhead_ns,
                        None,
                        Unit::Nanoseconds,
                    ),
                ];
                push(HotspotKind::CallHeavy, sev, ev);
            }
        }

        if f.count >= o.error_min_calls && f.errors > 0 {
            let rate = f.error_rate().clamp(0.0, 1.0);
            if let Some(sev) = o.error_rate.severity(rate) {
                let ev = vec![
                    Evidence::new("error_rate", rate, Some(o.error_rate.of(sev)), Unit::Fraction),
                    Evidence::new("errors", f.errors as f64, None, Unit::Count),
                    Evidence::new("calls", f.count as f64, None, Unit::Count),
                ];
                push(HotspotKind::ErrorProne, sev, ev);
            }
        }
    }
    out.extend(hot_paths(snap, &view, options));
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.share_of_time.total_cmp(&a.share_of_time))
            .then(a.kind.cmp(&b.kind))
            .then_with(|| a.function.cmp(&b.function))
    });
    out
}

/// `calls × per_call_ns`, at most `self_ns`: no more can be saved than was measured.
pub(crate) fn call_overhead_ns(calls: u64, self_ns: u64, per_call_ns: f64) -> u128 {
    let assumed = (calls as f64 * per_call_ns.max(0.0)).min(u64::MAX as f64);
    // NaN (a NaN option) casts to 0.
    (assumed as u128).min(u128::from(self_ns))
}

/// One (caller, function) pair of the call tree, summed over every path it appears in.
#[derive(Default)]
struct Edge {
    count: u128,
    self_ns: u128,
}

/// Functions whose calls under one caller cost far more self time each than under the others.
fn hot_paths(snap: &Snapshot, view: &View, o: &HotspotOptions) -> Vec<Hotspot> {
    let name = |i: usize| snap.functions.get(i).map(|f| f.name.as_str());
    // function name -> caller name ("" for a root) -> figures
    let mut edges: HashMap<&str, HashMap<&str, Edge>> = HashMap::new();
    for (i, node) in snap.call_tree.iter().enumerate() {
        let Some(callee) = name(node.function) else { continue };
        let caller = if is_root(snap, i) {
            ""
        } else {
            match node.parent.and_then(|p| snap.call_tree.get(p)).and_then(|p| name(p.function)) {
                Some(c) => c,
                None => continue,
            }
        };
        if caller == callee {
            continue; // recursion: the outer call is the same function
        }
        let e = edges.entry(callee).or_default().entry(caller).or_default();
        e.count += u128::from(node.count);
        e.self_ns += u128::from(node.self_ns);
    }
    let mut out = Vec::new();
    for (callee, callers) in &edges {
        if callers.len() < 2 {
            continue;
        }
        let (all_count, all_self) =
            callers.values().fold((0u128, 0u128), |(c, s), e| (c + e.count, s + e.self_ns));
        for (caller, e) in callers {
            let (rest_count, rest_self) = (all_count - e.count, all_self - e.self_ns);
            if e.count == 0 || rest_count == 0 || rest_self == 0 {
                continue;
            }
            let mine = e.self_ns as f64 / e.count as f64;
            let rest = rest_self as f64 / rest_count as f64;
            let ratio = mine / rest;
            let share = view.share(e.self_ns);
            if share < o.hot_path_min_share {
                continue;
            }
            let Some(sev) = o.hot_path_ratio.severity(ratio) else { continue };
            let caller_name = if caller.is_empty() { "<root>" } else { caller };
            out.push(Hotspot {
                function: (*callee).to_owned(),
                caller: Some(caller_name.to_owned()),
                kind: HotspotKind::HotPath,
                severity: sev,
                evidence: vec![
                    Evidence::new(
                        "self_per_call_over_other_callers",
                        ratio,
                        Some(o.hot_path_ratio.of(sev)),
                        Unit::Ratio,
                    ),
                    Evidence::new("self_ns_per_call", mine, None, Unit::Nanoseconds),
                    Evidence::new("other_callers_self_ns_per_call", rest, None, Unit::Nanoseconds),
                    Evidence::new("calls", e.count as f64, None, Unit::Count),
                    Evidence::new("path_share", share, Some(o.hot_path_min_share), Unit::Fraction),
                ],
                share_of_time: share,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AllocationStats, CallNode, FunctionStats};

    fn snap(functions: Vec<FunctionStats>) -> Snapshot {
        Snapshot::from_functions(functions, 0, 1_000_000_000)
    }

    #[test]
    fn ranks_by_self_share() {
        let s = snap(vec![
            FunctionStats::from_durations("small", [100; 10]),
            FunctionStats::from_durations("big", [1000; 10]),
        ]);
        let hot = identify_hotspots(&s, &HotspotOptions::default());
        let self_time: Vec<_> = hot
            .iter()
            .filter(|h| h.kind == HotspotKind::SelfTime)
            .map(|h| h.function.as_str())
            .collect();
        assert_eq!(self_time, ["big", "small"]);
    }

    #[test]
    fn allocations_decide_by_the_worse_figure() {
        let mut f = FunctionStats::from_durations("alloc", [1000; 10]);
        f.allocations = Some(AllocationStats {
            calls: 10,
            allocated_bytes: 10 << 20,
            self_allocated_bytes: 10 << 20,
            freed_bytes: 0,
            allocations: 10,
            self_allocations: 10,
        });
        let s = snap(vec![f]);
        let h = identify_hotspots(&s, &HotspotOptions::default())
            .into_iter()
            .find(|h| h.kind == HotspotKind::AllocationHeavy)
            .unwrap();
        assert_eq!(h.severity, Severity::Critical);
        assert_eq!(h.evidence[0].metric, "self_bytes_per_call");
        assert_eq!(h.evidence[0].value, 1_048_576.0);
        assert_eq!(h.evidence[1].threshold, None); // one allocation per call: no finding
    }

    #[test]
    fn errors_need_enough_calls() {
        let mut f = FunctionStats::from_durations("flaky", [1000; 5]);
        f.errors = 5;
        let s = snap(vec![f.clone()]);
        assert!(
            !identify_hotspots(&s, &HotspotOptions::default())
                .iter()
                .any(|h| h.kind == HotspotKind::ErrorProne)
        );
        let mut f = FunctionStats::from_durations("flaky", [1000; 100]);
        f.errors = 6;
        let h = identify_hotspots(&snap(vec![f]), &HotspotOptions::default())
            .into_iter()
            .find(|h| h.kind == HotspotKind::ErrorProne)
            .unwrap();
        assert_eq!((h.severity, h.evidence[0].value), (Severity::Warning, 0.06));
    }

    #[test]
    fn hot_path_under_one_caller() {
        // `lookup` costs 100 ns per call under `a` and 10 µs per call under `b`.
        let mut s = snap(vec![
            FunctionStats::from_durations("a", [1_000_000]),
            FunctionStats::from_durations("b", [1_000_000]),
            FunctionStats::from_durations("lookup", [100; 1000]),
        ]);
        let node = |parent, function, count, self_ns| CallNode {
            parent,
            function,
            count,
            errors: 0,
            total_ns: self_ns,
            self_ns,
        };
        s.call_tree = vec![
            node(None, 0, 1, 1_000_000),
            node(None, 1, 1, 1_000_000),
            node(Some(0), 2, 900, 90_000),
            node(Some(1), 2, 100, 1_000_000),
        ];
        let hot = identify_hotspots(&s, &HotspotOptions::default());
        let h = hot.iter().find(|h| h.kind == HotspotKind::HotPath).unwrap();
        assert_eq!((h.function.as_str(), h.caller.as_deref()), ("lookup", Some("b")));
        assert_eq!(h.evidence[0].value, 100.0);
        assert_eq!(h.severity, Severity::Critical);
        assert_eq!(hot.iter().filter(|h| h.kind == HotspotKind::HotPath).count(), 1);
    }

    #[test]
    fn overhead_is_capped_by_self_time() {
        assert_eq!(call_overhead_ns(1_000, 10_000, 30.0), 10_000);
        assert_eq!(call_overhead_ns(1_000, 1_000_000, 30.0), 30_000);
        assert_eq!(call_overhead_ns(1_000, 1_000_000, f64::NAN), 0);
    }
}
