//! `generate_recommendations` and `optimize_function`: rules over hotspots, each with the
//! impact Amdahl's law gives from the measured share.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Evidence, Hotspot, HotspotKind, HotspotOptions, Severity, Unit, View};
use super::{hotspots::call_overhead_ns, identify_hotspots};
use crate::Snapshot;

/// The rule behind a [`Recommendation`]: one per [`HotspotKind`].
///
/// # Examples
/// ```
/// use perfcore::analysis::Rule;
/// assert_eq!(Rule::DominantSelfTime.id(), "dominant_self_time");
/// assert_eq!(Rule::DominantSelfTime.to_string(), "dominant self time");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// A function's self time is a large share of the total ([`HotspotKind::SelfTime`]).
    DominantSelfTime,
    /// p99 far above p50 ([`HotspotKind::TailLatency`]).
    TailLatency,
    /// Many bytes or allocations per call ([`HotspotKind::AllocationHeavy`]).
    AllocationHeavy,
    /// Many tiny calls ([`HotspotKind::CallHeavy`]).
    CallHeavyTinyFunction,
    /// A high error rate ([`HotspotKind::ErrorProne`]).
    ErrorProne,
    /// Costly under one caller ([`HotspotKind::HotPath`]).
    HotPathUnderOneCaller,
}

impl Rule {
    /// The rule's stable id, as JSON writes it.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::analysis::Rule::HotPathUnderOneCaller.id(), "hot_path_under_one_caller");
    /// ```
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Rule::DominantSelfTime => "dominant_self_time",
            Rule::TailLatency => "tail_latency",
            Rule::AllocationHeavy => "allocation_heavy",
            Rule::CallHeavyTinyFunction => "call_heavy_tiny_function",
            Rule::ErrorProne => "error_prone",
            Rule::HotPathUnderOneCaller => "hot_path_under_one_caller",
        }
    }

    /// The rule's title, for people.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::analysis::Rule::ErrorProne.title(), "error-prone function");
    /// ```
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Rule::DominantSelfTime => "dominant self time",
            Rule::TailLatency => "tail latency",
            Rule::AllocationHeavy => "allocation-heavy function",
            Rule::CallHeavyTinyFunction => "many calls of a tiny function",
            Rule::ErrorProne => "error-prone function",
            Rule::HotPathUnderOneCaller => "hot path under one caller",
        }
    }

    fn of(kind: HotspotKind) -> Self {
        match kind {
            HotspotKind::SelfTime => Rule::DominantSelfTime,
            HotspotKind::TailLatency => Rule::TailLatency,
            HotspotKind::AllocationHeavy => Rule::AllocationHeavy,
            HotspotKind::CallHeavy => Rule::CallHeavyTinyFunction,
            HotspotKind::ErrorProne => Rule::ErrorProne,
            HotspotKind::HotPath => Rule::HotPathUnderOneCaller,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// What acting on a recommendation would save, as a fraction of the total self time (which
/// is the profiled wall time; see the [module docs](super)). Always computed from measured
/// figures; never more than the share of time the finding covers.
///
/// # Examples
/// ```
/// use perfcore::analysis::Impact;
/// let i = Impact::amdahl(0.38, 2.0);
/// assert!((i.saved_fraction().unwrap() - 0.19).abs() < 1e-12);
/// assert_eq!(i.to_string(), "a 2.0× speedup of 38.0% of the time saves 19.0% (Amdahl's law)");
/// assert_eq!(Impact::amdahl(0.5, 0.5).saved_fraction(), Some(0.0)); // no slowdowns
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Impact {
    /// Amdahl's law: making a part that takes `share` of the time `speedup` times faster
    /// saves `share × (1 − 1/speedup)`.
    Amdahl {
        /// The measured share of the total self time that would get faster, in `[0, 1]`.
        share: f64,
        /// The speedup assumed (an option) or measured (a hot path's ratio), at least 1.
        speedup: f64,
        /// `share × (1 − 1/speedup)`.
        saved_fraction: f64,
    },
    /// Removing an assumed per-call overhead: `min(calls × per_call_ns, self_ns) / total`.
    CallOverhead {
        /// Calls measured.
        calls: u64,
        /// The assumed cost of one call, ns.
        per_call_ns: f64,
        /// `min(calls × per_call_ns, self_ns)`, ns.
        saved_ns: f64,
        /// `saved_ns` over the total self time.
        saved_fraction: f64,
    },
    /// No impact follows from what was measured.
    NotEstimated {
        /// Why not.
        reason: String,
    },
}

impl Impact {
    /// Amdahl's law for a part taking `share` of the time made `speedup` times faster:
    /// `share × (1 − 1/speedup)`. `share` is clamped to `[0, 1]`; a speedup below 1 (or NaN)
    /// counts as 1, so the impact is never negative.
    ///
    /// # Examples
    /// ```
    /// let i = perfcore::analysis::Impact::amdahl(0.5, 4.0);
    /// assert_eq!(i.saved_fraction(), Some(0.375));
    /// ```
    #[must_use]
    pub fn amdahl(share: f64, speedup: f64) -> Self {
        let share = if share.is_nan() { 0.0 } else { share.clamp(0.0, 1.0) };
        let speedup = if speedup.is_nan() { 1.0 } else { speedup.max(1.0) };
        let saved_fraction = (share * (1.0 - 1.0 / speedup)).clamp(0.0, share);
        Impact::Amdahl { share, speedup, saved_fraction }
    }

    /// The fraction of the total self time saved, `None` when not estimated.
    ///
    /// # Examples
    /// ```
    /// use perfcore::analysis::Impact;
    /// assert_eq!(Impact::NotEstimated { reason: "why".into() }.saved_fraction(), None);
    /// ```
    #[must_use]
    pub fn saved_fraction(&self) -> Option<f64> {
        match self {
            Impact::Amdahl { saved_fraction, .. } | Impact::CallOverhead { saved_fraction, .. } => {
                Some(*saved_fraction)
            }
            Impact::NotEstimated { .. } => None,
        }
    }
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = Unit::Fraction;
        match self {
            Impact::Amdahl { share, speedup, saved_fraction } => write!(
                f,
                "a {speedup:.1}× speedup of {} of the time saves {} (Amdahl's law)",
                pct.format(*share),
                pct.format(*saved_fraction)
            ),
            Impact::CallOverhead { calls, per_call_ns, saved_fraction, .. } => write!(
                f,
                "removing {calls} calls at an assumed {} each saves {}",
                Unit::Nanoseconds.format(*per_call_ns),
                pct.format(*saved_fraction)
            ),
            Impact::NotEstimated { reason } => write!(f, "not estimated: {reason}"),
        }
    }
}

/// Settings of [`generate_recommendations`].
///
/// # Examples
/// ```
/// use perfcore::analysis::{RecommendationOptions, Severity};
/// let mut opts = RecommendationOptions::default();
/// opts.min_severity = Severity::Info;
/// opts.assumed_speedup = 1.5;
/// assert_eq!(opts.hotspots.tail_min_calls, 100);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RecommendationOptions {
    /// The thresholds hotspots are found with.
    pub hotspots: crate::analysis::HotspotOptions,
    /// The least severity of a hotspot that gets a recommendation. Default
    /// [`Severity::Warning`]: an info is reported as a hotspot, not as work to do.
    pub min_severity: Severity,
    /// The speedup assumed for a dominant function's self time. Default 2: "halving its
    /// self time", the figure the impact of the dominant-self-time rule is given for.
    pub assumed_speedup: f64,
}

impl Default for RecommendationOptions {
    fn default() -> Self {
        Self {
            hotspots: HotspotOptions::default(),
            min_severity: Severity::Warning,
            assumed_speedup: 2.0,
        }
    }
}

/// One recommendation: the rule that fired, on which function, its evidence, what to try
/// and what it would save. A heuristic, not a diagnosis.
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, Snapshot, analysis::*};
/// let snap = Snapshot::from_functions(vec![FunctionStats::from_durations("f", [10; 10])], 0, 1);
/// let r = &generate_recommendations(&snap, &RecommendationOptions::default())[0];
/// assert_eq!(r.rule, Rule::DominantSelfTime);
/// assert_eq!(r.impact.saved_fraction(), Some(0.5));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recommendation {
    /// The rule that fired.
    pub rule: Rule,
    /// The function it is about.
    pub function: String,
    /// For a hot path, the caller under which the function is costly.
    pub caller: Option<String>,
    /// The severity of the hotspot that fired the rule.
    pub severity: Severity,
    /// What to try, in a sentence.
    pub strategy: String,
    /// The measured figures that fired the rule.
    pub evidence: Vec<Evidence>,
    /// What it would save.
    pub impact: Impact,
}

impl fmt::Display for Recommendation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {} ({}): {}", self.severity, self.function, self.rule.id(), self.strategy)?;
        write!(f, " Impact: {}.", self.impact)?;
        for (i, e) in self.evidence.iter().enumerate() {
            f.write_str(if i == 0 { " Evidence: " } else { ", " })?;
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// The recommendations for a snapshot: one per hotspot at or above
/// [`RecommendationOptions::min_severity`], largest estimated saving first (those not
/// estimated last, by severity).
///
/// The rules and their impacts, all fractions of the total self time:
/// - `dominant_self_time`: share ≥ the self-share threshold; impact
///   `share × (1 − 1/assumed_speedup)`.
/// - `tail_latency`: p99/p50 ≥ the tail threshold; investigate contention, I/O, pauses;
///   not estimated (a tail costs latency, its share of throughput is not separated).
/// - `allocation_heavy`: bytes or allocations per call; reuse and pre-allocate; not
///   estimated (allocator time is not measured apart from self time).
/// - `call_heavy_tiny_function`: inline or batch; impact
///   `min(calls × per_call_overhead_ns, self_ns) / total`.
/// - `error_prone`: error rate ≥ the threshold; not estimated (the cost of failing is not
///   measured apart).
/// - `hot_path_under_one_caller`: self time per call under one caller ≥ k × under the
///   others; impact `path_share × (1 − 1/k)`: that path's calls made as cheap as elsewhere.
///
/// # Examples
/// ```
/// use perfcore::analysis::{RecommendationOptions, Rule, generate_recommendations};
/// use perfcore::{FunctionStats, Snapshot};
///
/// let snap = Snapshot::from_functions(
///     vec![
///         FunctionStats::from_durations("parse", [380; 1000]),
///         FunctionStats::from_durations("rest", [620; 1000]),
///     ],
///     0,
///     1,
/// );
/// let recs = generate_recommendations(&snap, &RecommendationOptions::default());
/// let parse = recs.iter().find(|r| r.function == "parse").unwrap();
/// assert_eq!(parse.rule, Rule::DominantSelfTime);
/// // "halving parse's self time saves 19% of the profiled wall time"
/// assert!((parse.impact.saved_fraction().unwrap() - 0.19).abs() < 1e-9);
/// ```
#[must_use]
pub fn generate_recommendations(
    snap: &Snapshot,
    options: &RecommendationOptions,
) -> Vec<Recommendation> {
    recommendations_from(snap, &identify_hotspots(snap, &options.hotspots), options)
}

/// [`generate_recommendations`] from hotspots already found with `options.hotspots`, for the
/// reports that show both (so the hotspots are not looked for twice).
pub(crate) fn recommendations_from(
    snap: &Snapshot,
    hotspots: &[Hotspot],
    options: &RecommendationOptions,
) -> Vec<Recommendation> {
    let view = View::of(snap);
    let mut out: Vec<Recommendation> = hotspots
        .iter()
        .filter(|h| h.severity >= options.min_severity)
        .map(|h| recommend(&view, h.clone(), options))
        .collect();
    out.sort_by(|a, b| {
        let saved = |r: &Recommendation| r.impact.saved_fraction().unwrap_or(-1.0);
        saved(b)
            .total_cmp(&saved(a))
            .then(b.severity.cmp(&a.severity))
            .then(a.rule.cmp(&b.rule))
            .then_with(|| a.function.cmp(&b.function))
    });
    out
}

fn evidence_value(h: &Hotspot, metric: &str) -> f64 {
    h.evidence.iter().find(|e| e.metric == metric).map_or(0.0, |e| e.value)
}

fn recommend(view: &View, h: Hotspot, options: &RecommendationOptions) -> Recommendation {
    let rule = Rule::of(h.kind);
    let name = &h.function;
    let pct = |v: f64| Unit::Fraction.format(v);
    let (strategy, impact) = match h.kind {
        HotspotKind::SelfTime => (
            format!(
                "`{name}` spends {} of the profiled time in its own body: look inside it for \
                 a cheaper algorithm, fewer passes over the data, or work that can be cached.",
                pct(h.share_of_time)
            ),
            Impact::amdahl(h.share_of_time, options.assumed_speedup),
        ),
        HotspotKind::TailLatency => (
            format!(
                "`{name}`'s p99 is {:.1}× its median: look for what the slow calls wait on \
                 (lock contention, I/O, allocation or page faults, pauses) rather than for \
                 slow code.",
                evidence_value(&h, "p99_over_p50")
            ),
            Impact::NotEstimated {
                reason: "a tail costs latency; its share of the time is not measured apart"
                    .to_owned(),
            },
        ),
        HotspotKind::AllocationHeavy => (
            format!(
                "`{name}` allocates {} and {:.1} allocations per call: reuse buffers across \
                 calls, pre-allocate with `with_capacity`, and avoid needless clones.",
                Unit::Bytes.format(evidence_value(&h, "self_bytes_per_call")),
                evidence_value(&h, "self_allocations_per_call")
            ),
            Impact::NotEstimated {
                reason: "the time spent in the allocator is not measured apart from self time"
                    .to_owned(),
            },
        ),
        HotspotKind::CallHeavy => {
            let calls = evidence_value(&h, "calls") as u64;
            let per_call_ns = options.hotspots.per_call_overhead_ns;
            let self_ns = evidence_value(&h, "self_ns") as u64;
            let saved = call_overhead_ns(calls, self_ns, per_call_ns);
            (
                format!(
                    "`{name}` is called {calls} times at {} each: inline it, batch the work \
                     into fewer calls, or stop profiling it (`#[profile(skip)]`).",
                    Unit::Nanoseconds.format(evidence_value(&h, "mean_ns"))
                ),
                Impact::CallOverhead {
                    calls,
                    per_call_ns,
                    saved_ns: saved as f64,
                    saved_fraction: view.share(saved),
                },
            )
        }
        HotspotKind::ErrorProne => (
            format!(
                "{} of `{name}`'s calls fail: find the cause; failed calls that are retried \
                 cost twice.",
                pct(evidence_value(&h, "error_rate"))
            ),
            Impact::NotEstimated {
                reason: "the time spent on failed calls is not measured apart".to_owned(),
            },
        ),
        HotspotKind::HotPath => {
            let ratio = evidence_value(&h, "self_per_call_over_other_callers");
            (
                format!(
                    "`{name}` costs {ratio:.1}× more per call under `{}` than under its other \
                     callers: look at what that caller passes it (input size, cold data), or \
                     cache or hoist the work out of that path.",
                    h.caller.as_deref().unwrap_or("?")
                ),
                Impact::amdahl(h.share_of_time, ratio),
            )
        }
    };
    Recommendation {
        rule,
        function: h.function,
        caller: h.caller,
        severity: h.severity,
        strategy,
        evidence: h.evidence,
        impact,
    }
}

/// One strategy of a [`FunctionOptimization`] (seed 003's `optimization_strategies` entry).
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, Snapshot, analysis::*};
/// let snap = Snapshot::from_functions(vec![FunctionStats::from_durations("f", [10; 10])], 0, 1);
/// let s = &optimize_function(&snap, "f").unwrap().optimization_strategies[0];
/// assert_eq!(s.rule, Rule::DominantSelfTime);
/// assert_eq!(s.potential_improvement.saved_fraction(), Some(0.5));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OptimizationStrategy {
    /// The rule that suggested it.
    pub rule: Rule,
    /// For a hot path, the caller concerned.
    pub caller: Option<String>,
    /// The severity of the finding.
    pub severity: Severity,
    /// What to try.
    pub strategy: String,
    /// What it would save.
    pub potential_improvement: Impact,
    /// The measured figures behind it.
    pub evidence: Vec<Evidence>,
}

/// What could be done about one function (seed 003's `optimize_function` result).
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, Snapshot, analysis::*};
/// let snap = Snapshot::from_functions(vec![FunctionStats::from_durations("f", [10; 10])], 0, 1);
/// let opt = optimize_function(&snap, "f").unwrap();
/// assert_eq!((opt.function.as_str(), opt.self_share), ("f", 1.0));
/// println!("{opt}");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionOptimization {
    /// The function's name.
    pub function: String,
    /// Its calls.
    pub calls: u64,
    /// Its self time, ns.
    pub self_ns: u64,
    /// Its share of the total self time.
    pub self_share: f64,
    /// The strategies, largest estimated saving first.
    pub optimization_strategies: Vec<OptimizationStrategy>,
}

impl fmt::Display for FunctionOptimization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} calls, {} self time ({} of the total)",
            self.function,
            self.calls,
            Unit::Nanoseconds.format(self.self_ns as f64),
            Unit::Fraction.format(self.self_share)
        )?;
        if self.optimization_strategies.is_empty() {
            writeln!(f, "  no rule fired")?;
        }
        for s in &self.optimization_strategies {
            writeln!(f, "  - [{}] {} {}", s.severity, s.rule.id(), s.strategy)?;
            writeln!(f, "    impact: {}", s.potential_improvement)?;
        }
        Ok(())
    }
}

/// [`optimize_function_with`] with the default thresholds and every severity included.
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, Snapshot};
/// let snap = Snapshot::default();
/// assert!(perfcore::analysis::optimize_function(&snap, "missing").is_none());
/// ```
#[must_use]
pub fn optimize_function(snap: &Snapshot, name: &str) -> Option<FunctionOptimization> {
    let options = RecommendationOptions { min_severity: Severity::Info, ..Default::default() };
    optimize_function_with(snap, name, &options)
}

/// The strategies for the function named `name`: every recommendation of
/// [`generate_recommendations`] about it. `None` when the snapshot has no such function; a
/// function no rule fires on gets an empty list.
///
/// # Examples
/// ```
/// use perfcore::analysis::{RecommendationOptions, optimize_function_with};
/// use perfcore::{FunctionStats, Snapshot};
/// let snap = Snapshot::from_functions(
///     vec![FunctionStats::from_durations("a", [1; 99]), FunctionStats::from_durations("b", [100; 99])],
///     0,
///     1,
/// );
/// let a = optimize_function_with(&snap, "a", &RecommendationOptions::default()).unwrap();
/// assert!(a.optimization_strategies.is_empty()); // 1% of the time
/// ```
#[must_use]
pub fn optimize_function_with(
    snap: &Snapshot,
    name: &str,
    options: &RecommendationOptions,
) -> Option<FunctionOptimization> {
    let view = View::of(snap);
    let f = view.functions.iter().find(|f| f.name == name)?;
    let optimization_strategies = generate_recommendations(snap, options)
        .into_iter()
        .filter(|r| r.function == name)
        .map(|r| OptimizationStrategy {
            rule: r.rule,
            caller: r.caller,
            severity: r.severity,
            strategy: r.strategy,
            potential_improvement: r.impact,
            evidence: r.evidence,
        })
        .collect();
    Some(FunctionOptimization {
        function: f.name.clone(),
        calls: f.count,
        self_ns: f.self_ns,
        self_share: view.share(u128::from(f.self_ns)),
        optimization_strategies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FunctionStats;

    #[test]
    fn amdahl_is_bounded_by_share() {
        for (share, speedup) in [(0.4, 2.0), (1.0, f64::INFINITY), (0.3, 0.1), (2.0, 3.0)] {
            let saved = Impact::amdahl(share, speedup).saved_fraction().unwrap();
            assert!((0.0..=share.min(1.0)).contains(&saved), "{share} {speedup} {saved}");
        }
        assert_eq!(Impact::amdahl(0.4, f64::INFINITY).saved_fraction(), Some(0.4));
        assert_eq!(Impact::amdahl(f64::NAN, 2.0).saved_fraction(), Some(0.0));
    }

    #[test]
    fn impact_serialises_with_its_method() {
        let json = serde_json::to_string(&Impact::amdahl(0.5, 2.0)).unwrap();
        assert_eq!(json, r#"{"method":"amdahl","share":0.5,"speedup":2.0,"saved_fraction":0.25}"#);
        let back: Impact = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Impact::amdahl(0.5, 2.0));
    }

    #[test]
    fn recommendations_are_sorted_by_saving() {
        let snap = Snapshot::from_functions(
            vec![
                FunctionStats::from_durations("a", [300; 10]),
                FunctionStats::from_durations("b", [700; 10]),
            ],
            0,
            1,
        );
        let recs = generate_recommendations(&snap, &RecommendationOptions::default());
        let names: Vec<_> = recs.iter().map(|r| r.function.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        assert!(recs[0].to_string().contains("dominant_self_time"));
    }
}
