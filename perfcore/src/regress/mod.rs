//! Regression verdicts: each function of two runs compared, with intervals, a noise floor
//! from the run history, and false discoveries controlled across functions; change points in
//! a run history. Pure: no I/O, no clocks, deterministic.
//!
//! # The rule
//! A function is compared when both runs have at least [`CompareOptions::min_calls`] calls
//! (default 30; otherwise [`Verdict::InsufficientData`]). Its metrics are the median, p95,
//! p99 and mean latency, the error rate, and allocated bytes per call (with the tracking
//! allocator). A tail quantile is judged only when each run has at least
//! [`CompareOptions::min_tail_calls`] calls beyond it (default 20: p95 needs 400 calls, p99
//! 2,000), because with fewer the quantile is one of the last few calls. Tails also move far
//! more between runs than the median: across six unchanged runs of the quickstart on one
//! machine, the median of its 100 ns `parse_line` stayed within 2% while its p99 ranged from
//! 142 to 281 ns; and the mean, which sums the slow calls, moved by 20–35% between unchanged
//! runs while the host was busy. So the mean, p95 and p99 decide a verdict only when the
//! history holds at least 3 runs to measure that spread
//! ([`CompareOptions::tails_without_history`] overrides this); without one they are reported
//! as evidence ([`MetricChange::decisive`] is `false`) and the median decides.
//!
//! A metric **changes** when all three hold:
//! 1. the point estimate moves by more than the threshold `t` (default 10%, settable per
//!    function): the current value is more than `1 + t` times the baseline's (slower) or less
//!    than `1 / (1 + t)` times (faster). For the error rate the rise must also be at least
//!    [`CompareOptions::error_rate_points`] (default 0.1 percentage point);
//! 2. the move is significantly larger than half the threshold: a one-sided test of
//!    `|ln(current / baseline)| > ln(1 + t/2)`, `z = (|ln ratio| - ln(1 + t/2)) / se`, where
//!    `se` combines the bootstrap sampling error of both runs (exact, from the histogram
//!    buckets: see below) and the width of the histogram buckets — and, when the history holds
//!    at least 3 runs of the function, is at least `√2·s`, `s` the standard deviation of the
//!    log metric over the runs since the history's last change point, with Student's t on
//!    `runs - 1` degrees of freedom. Testing against half the threshold rather than against
//!    no change is what keeps a real but small change (+3% with a 10% threshold) from being
//!    reported whenever noise pushes its estimate over the line;
//! 3. the function survives false-discovery control: each function's p-value is its most
//!    significant changed metric's, times the number of metrics judged (Bonferroni within
//!    the function), and Benjamini–Hochberg at level [`CompareOptions::alpha`] (default 0.05)
//!    runs over all compared functions.
//!
//! The mean is judged only when no single call is more than a tenth of its run's time (a mean
//! a few calls make up says nothing the median and the tails do not), the error rate only when
//! a run has errors, bytes per call only when both runs were measured with the tracking
//! allocator. Bytes per call is a sum, not a distribution: without a history any change past
//! the threshold counts; with one it must clear the spread between runs.
//!
//! A function regresses when one of its metrics got worse by this rule, even if another got
//! better; the metric that decided is the one that moved most.
//!
//! ## Why this rule
//! Calls inside one run are not independent samples of what varies between runs: a machine
//! drifts by 1–5% from one run to the next, so with 10^5 calls any per-call test finds that
//! drift "significant". The threshold is what stops a lone comparison from crying wolf; the
//! history is what lets a smaller threshold work, because it measures the drift instead of
//! assuming it. The per-call bootstrap still matters when calls are few: a 15% shift in 30
//! calls of a noisy function is not evidence. STATISTICS.md has the simulated false-alarm
//! rate and power of this rule beside the seed's rule (mean more than 10% slower), a t-test
//! on means, and rules in the style of criterion and asv.
//!
//! ## Intervals
//! A bootstrap resample of a run draws its calls again with replacement, so its bucket
//! counts are multinomial. The resampled q-quantile is at or below bucket `k` exactly when at
//! least `⌈q·n⌉` resampled calls are, a Binomial(n, C_k / n) event (`C_k` the cumulative
//! count), so its distribution is computed exactly rather than by drawing resamples: the
//! interval of the ratio is the 2.5% and 97.5% points of the exact distribution of the
//! difference of the two runs' log quantiles. For the mean, the resampled mean's variance is
//! exactly σ²/n, and its distribution is taken as normal on the log scale. Unit tests check
//! both against Monte Carlo resampling of the counts.
//!
//! # Examples
//! ```
//! use perfcore::{FunctionStats, Snapshot};
//! use perfcore::regress::{compare, CompareOptions, Metric, Verdict};
//!
//! // Two runs of 1,000 calls: `parse` 30% slower, `load` unchanged.
//! let run = |parse_ns: u64| {
//!     let jitter = |i: u64| i % 50 * 1_000;
//!     Snapshot::from_functions(
//!         vec![
//!             FunctionStats::from_durations("parse", (0..1_000).map(|i| parse_ns + jitter(i))),
//!             FunctionStats::from_durations("load", (0..1_000).map(|i| 900_000 + jitter(i))),
//!         ],
//!         0,
//!         1_000_000_000,
//!     )
//! };
//! let report = compare(&run(100_000), &run(130_000), &[], &CompareOptions::default());
//! let regressed: Vec<_> = report.regressions().map(|f| f.function.as_str()).collect();
//! assert_eq!(regressed, ["parse"]);
//! let parse = report.function("parse").unwrap();
//! assert_eq!(parse.verdict, Verdict::Regressed);
//! assert!(parse.degradation_percent > 20.0);
//! assert_eq!(report.function("load").unwrap().verdict, Verdict::Unchanged);
//! ```

mod bootstrap;
mod changepoint;
mod render;
#[cfg(feature = "cli")]
pub(crate) use render::fmt_value;
// Public through `perfcore::testing` only; without that feature some of it is unused here.
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub, dead_code))]
pub(crate) mod rng;
mod session;
mod special;

use serde::{Deserialize, Serialize};

pub use changepoint::{
    ChangePoint, ChangePointOptions, FunctionChangePoints, change_points, history_change_points,
};

#[cfg(any(feature = "testing", feature = "cost"))]
pub(crate) use special::erfc as special_erfc;
#[cfg(feature = "testing")]
pub(crate) use special::student_two_sided as special_student_two_sided;

use crate::error::ProfileError;
use crate::stats::{FunctionStats, FunctionSummary, RunSummary, Snapshot, check_fraction};
use bootstrap::{Z95, difference_interval, ln_ns, mean_log_se, quantile_distribution};
use special::{normal_two_sided, student_two_sided};

/// What a comparison measures of a function.
///
/// # Examples
/// ```
/// use perfcore::regress::Metric;
/// assert_eq!(Metric::P95.to_string(), "p95");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Metric {
    /// The median latency.
    Median,
    /// The 95th percentile latency.
    P95,
    /// The 99th percentile latency.
    P99,
    /// The mean latency.
    Mean,
    /// The fraction of calls that failed.
    ErrorRate,
    /// Bytes allocated per call (needs the tracking allocator).
    BytesPerCall,
}

impl Metric {
    /// Every metric, in the order reports list them.
    pub const ALL: [Metric; 6] = [
        Metric::Median,
        Metric::P95,
        Metric::P99,
        Metric::Mean,
        Metric::ErrorRate,
        Metric::BytesPerCall,
    ];

    /// The metric's short name: `median`, `p95`, `p99`, `mean`, `error_rate`, `bytes_per_call`.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::regress::Metric::ErrorRate.name(), "error_rate");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Metric::Median => "median",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::Mean => "mean",
            Metric::ErrorRate => "error_rate",
            Metric::BytesPerCall => "bytes_per_call",
        }
    }

    fn quantile(self) -> Option<f64> {
        match self {
            Metric::Median => Some(0.5),
            Metric::P95 => Some(0.95),
            Metric::P99 => Some(0.99),
            _ => None,
        }
    }

    /// Whether the metric is a duration in nanoseconds.
    ///
    /// # Examples
    /// ```
    /// use perfcore::regress::Metric;
    /// assert!(Metric::Mean.is_latency() && !Metric::ErrorRate.is_latency());
    /// ```
    #[must_use]
    pub fn is_latency(self) -> bool {
        matches!(self, Metric::Median | Metric::P95 | Metric::P99 | Metric::Mean)
    }

    /// The metric's value in a run summary (ns for latencies), when the run has it.
    ///
    /// # Examples
    /// ```
    /// # let p = perfcore::PerformanceProfiler::new();
    /// # { let _g = p.scope("f").unwrap(); }
    /// let run = p.snapshot().summary();
    /// let f = run.function("f").unwrap();
    /// assert_eq!(perfcore::regress::Metric::Median.of(f), Some(f.p50_ns as f64));
    /// ```
    #[must_use]
    pub fn of(self, f: &FunctionSummary) -> Option<f64> {
        match self {
            Metric::Median => Some(f.p50_ns as f64),
            Metric::P95 => Some(f.p95_ns as f64),
            Metric::P99 => Some(f.p99_ns as f64),
            Metric::Mean => Some(f.mean_ns),
            Metric::ErrorRate => Some(f.error_rate()),
            Metric::BytesPerCall => f.bytes_per_call,
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The outcome of comparing one function (or one metric of it).
///
/// # Examples
/// ```
/// use perfcore::regress::Verdict;
/// assert!(Verdict::Regressed.is_regression());
/// assert_eq!(Verdict::InsufficientData.to_string(), "insufficient data");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// Slower (or more errors, or more allocation) by the rule in the [module docs](self).
    Regressed,
    /// Faster (or fewer errors, or less allocation) by the same rule.
    Improved,
    /// No metric changed by the rule.
    Unchanged,
    /// Too few calls on one side to judge.
    InsufficientData,
    /// Called in the current run, not in the baseline.
    New,
    /// Called in the baseline, not in the current run.
    Removed,
}

impl Verdict {
    /// The verdict's short name, as JSON writes it: `regressed`, `improved`, `unchanged`,
    /// `insufficient_data`, `new`, `removed`.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::regress::Verdict::InsufficientData.name(), "insufficient_data");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::InsufficientData => "insufficient_data",
            Verdict::New => "new",
            Verdict::Removed => "removed",
        }
    }

    /// Whether this verdict should fail a build.
    #[must_use]
    pub fn is_regression(self) -> bool {
        self == Verdict::Regressed
    }

    /// Sort key: worst first.
    fn rank(self) -> u8 {
        match self {
            Verdict::Regressed => 0,
            Verdict::New => 1,
            Verdict::Removed => 2,
            Verdict::InsufficientData => 3,
            Verdict::Improved => 4,
            Verdict::Unchanged => 5,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::InsufficientData => "insufficient data",
            Verdict::New => "new",
            Verdict::Removed => "removed",
        })
    }
}

/// How one metric of a function moved.
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, regress::{compare_functions, CompareOptions, Metric}};
/// let a = FunctionStats::from_durations("f", (0..100).map(|i| 1_000 + i));
/// let b = FunctionStats::from_durations("f", (0..100).map(|i| 2_000 + i));
/// let cmp = compare_functions(&a, &b, &[], &CompareOptions::default());
/// let median = cmp.metrics.iter().find(|m| m.metric == Metric::Median).unwrap();
/// assert!(median.change_percent > 90.0);
/// assert!(median.interval_percent[0] <= median.change_percent);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MetricChange {
    /// The metric.
    pub metric: Metric,
    /// Its value in the baseline (ns for latencies, a fraction for the error rate, bytes).
    pub baseline: f64,
    /// Its value now.
    pub current: f64,
    /// `(current / baseline - 1) × 100`; for the error rate, the change in percentage points.
    pub change_percent: f64,
    /// The 95% bootstrap interval of the change, in the same unit as `change_percent`.
    pub interval_percent: [f64; 2],
    /// The p-value of the change (before false-discovery control).
    pub p_value: f64,
    /// The between-run spread of the metric in the history (one standard deviation, in
    /// percent), when the history held at least 3 runs of the function.
    pub noise_percent: Option<f64>,
    /// This metric's verdict.
    pub verdict: Verdict,
    /// Whether the metric could decide the verdict: `false` for the mean or a tail quantile
    /// compared without a history (shown as evidence only, see
    /// [`CompareOptions::tails_without_history`]).
    pub decisive: bool,
}

/// A rank test of the two runs' whole distributions (Mann–Whitney, from the buckets).
///
/// It is evidence, not the verdict: calls are not independent across runs, so with many
/// calls it finds any drift significant (see the [module docs](self)).
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, regress::{compare_functions, CompareOptions}};
/// let a = FunctionStats::from_durations("f", (0..200).map(|i| 1_000 + i));
/// let b = FunctionStats::from_durations("f", (0..200).map(|i| 1_150 + i));
/// let shift = compare_functions(&a, &b, &[], &CompareOptions::default()).distribution.unwrap();
/// assert!(shift.prob_slower > 0.7 && shift.p_value < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DistributionShift {
    /// The probability that a call now is slower than a baseline call (0.5: no shift).
    pub prob_slower: f64,
    /// The two-sided p-value of the Mann–Whitney test, ties within a bucket corrected for.
    pub p_value: f64,
}

/// The comparison of one function between a baseline and a current run.
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, regress::{compare_functions, CompareOptions, Verdict}};
/// let a = FunctionStats::from_durations("f", [10, 20]);
/// let cmp = compare_functions(&a, &a, &[], &CompareOptions::default());
/// assert_eq!(cmp.verdict, Verdict::InsufficientData);
/// println!("{}", cmp.reason);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionComparison {
    /// The function's name.
    pub function: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The metric that decided a `Regressed` or `Improved` verdict.
    pub metric: Option<Metric>,
    /// How much slower, in percent (negative: faster): the deciding metric's change, else the
    /// median's (seed 003's `degradation_percent`).
    pub degradation_percent: f64,
    /// Calls in the baseline.
    pub baseline_calls: u64,
    /// Calls in the current run.
    pub current_calls: u64,
    /// The threshold that applied, as a fraction (0.1 is 10%).
    pub threshold: f64,
    /// The function's p-value: its most significant changed metric's, times the metrics
    /// judged; 1 when no metric moved past the threshold.
    pub p_value: f64,
    /// The Benjamini–Hochberg adjusted p-value across the functions compared.
    pub q_value: f64,
    /// Runs of this function in the history that informed the noise floor.
    pub history_runs: usize,
    /// Each metric judged.
    pub metrics: Vec<MetricChange>,
    /// The rank test of the whole distributions, when both runs have calls.
    pub distribution: Option<DistributionShift>,
    /// Why the verdict is what it is, in a sentence.
    pub reason: String,
}

impl FunctionComparison {
    /// The change of one metric, if it was judged.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::{FunctionStats, regress::{compare_functions, CompareOptions, Metric}};
    /// let a = FunctionStats::from_durations("f", (0..100).map(|i| 1_000 + i));
    /// let cmp = compare_functions(&a, &a, &[], &CompareOptions::default());
    /// assert!(cmp.metric(Metric::Mean).is_some());
    /// assert!(cmp.metric(Metric::P99).is_none()); // 100 calls: too few for p99
    /// ```
    #[must_use]
    pub fn metric(&self, metric: Metric) -> Option<&MetricChange> {
        self.metrics.iter().find(|m| m.metric == metric)
    }

    /// The change a report shows for this function: the deciding metric's, else the
    /// median's, else the first metric judged; `None` when none was judged (`New`,
    /// `Removed`, `InsufficientData`).
    ///
    /// # Examples
    /// ```
    /// # use perfcore::{FunctionStats, regress::{compare_functions, CompareOptions, Metric}};
    /// let a = FunctionStats::from_durations("f", (0..100).map(|i| 1_000 + i));
    /// let b = FunctionStats::from_durations("f", (0..100).map(|i| 2_000 + i));
    /// let cmp = compare_functions(&a, &b, &[], &CompareOptions::default());
    /// assert_eq!(cmp.headline().map(|m| m.metric), cmp.metric);
    /// ```
    #[must_use]
    pub fn headline(&self) -> Option<&MetricChange> {
        self.metric
            .and_then(|m| self.metric(m))
            .or_else(|| self.metric(Metric::Median))
            .or_else(|| self.metrics.first())
    }
}

/// Every function of two runs compared: worst first.
///
/// # Examples
/// ```
/// use perfcore::regress::{compare, CompareOptions};
/// let empty = perfcore::Snapshot::default();
/// let report = compare(&empty, &empty, &[], &CompareOptions::default());
/// assert!(!report.has_regressions());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Comparison {
    /// One entry per function in either run, worst first.
    pub functions: Vec<FunctionComparison>,
    /// The false-discovery level used.
    pub alpha: f64,
    /// The default threshold, as a fraction.
    pub threshold: f64,
}

impl Comparison {
    /// The regressed functions, worst first.
    pub fn regressions(&self) -> impl Iterator<Item = &FunctionComparison> {
        self.functions.iter().filter(|f| f.verdict.is_regression())
    }

    /// Whether any function regressed.
    #[must_use]
    pub fn has_regressions(&self) -> bool {
        self.regressions().next().is_some()
    }

    /// The comparison of the function of this name.
    #[must_use]
    pub fn function(&self, name: &str) -> Option<&FunctionComparison> {
        self.functions.iter().find(|f| f.function == name)
    }

    /// How many functions got each verdict, in the order of [`Verdict`]'s ranks.
    #[must_use]
    pub fn counts(&self) -> Vec<(Verdict, usize)> {
        let mut out: Vec<(Verdict, usize)> = Vec::new();
        for f in &self.functions {
            match out.iter_mut().find(|(v, _)| *v == f.verdict) {
                Some((_, n)) => *n += 1,
                None => out.push((f.verdict, 1)),
            }
        }
        out.sort_by_key(|(v, _)| v.rank());
        out
    }
}

/// Settings of a comparison; see the [module docs](self) for the rule they feed.
///
/// # Examples
/// ```
/// use perfcore::regress::CompareOptions;
/// let opts = CompareOptions::default().threshold(0.05)?.threshold_for("db::query", 0.02)?;
/// assert_eq!(opts.threshold_of("db::query"), 0.02);
/// assert_eq!(opts.threshold_of("other"), 0.05);
/// assert!(CompareOptions::default().threshold(-1.0).is_err());
/// # Ok::<(), perfcore::ProfileError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompareOptions {
    /// The default threshold, as a fraction (0.1: a change must exceed 10%).
    pub threshold: f64,
    /// Thresholds for particular functions: an exact name, or a pattern where `?` is one
    /// character, `*` any run within one segment of the name and `**` any run at all
    /// (segments are split by `::`, `/` and `.`, as in budget files). The first match wins.
    pub thresholds: Vec<(String, f64)>,
    /// Calls each run needs before a function is judged.
    pub min_calls: u64,
    /// Calls each run needs beyond a tail quantile before it is judged (p95: 1/20 of calls).
    pub min_tail_calls: u64,
    /// The false-discovery rate across functions (Benjamini–Hochberg).
    pub alpha: f64,
    /// The smallest rise of the error rate that counts, as a fraction (0.001: 0.1 point).
    pub error_rate_points: f64,
    /// Whether the mean, p95 and p99 may decide a verdict without a history of at least 3
    /// runs (off by default: they move far more between runs than the median does — the mean
    /// sums the slow calls — and without a history nothing measures by how much).
    pub tails_without_history: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            threshold: 0.10,
            thresholds: Vec::new(),
            min_calls: 30,
            min_tail_calls: 20,
            alpha: 0.05,
            error_rate_points: 0.001,
            tails_without_history: false,
        }
    }
}

impl CompareOptions {
    /// Sets the default threshold (a fraction: 0.1 is 10%).
    ///
    /// # Errors
    /// [`ProfileError::NonFinite`] or [`ProfileError::OutOfRange`] outside `0.0..=10.0`.
    pub fn threshold(mut self, threshold: f64) -> Result<Self, ProfileError> {
        check_threshold(threshold)?;
        self.threshold = threshold;
        Ok(self)
    }

    /// Sets the threshold of functions matching `pattern` (a name, or a `?`/`*`/`**` pattern,
    /// see [`thresholds`](Self::thresholds)).
    ///
    /// # Errors
    /// As [`threshold`](Self::threshold), and [`ProfileError::EmptyName`] for an empty pattern.
    pub fn threshold_for(
        mut self,
        pattern: impl Into<String>,
        threshold: f64,
    ) -> Result<Self, ProfileError> {
        let pattern = pattern.into();
        if pattern.is_empty() {
            return Err(ProfileError::EmptyName { what: "threshold pattern" });
        }
        check_threshold(threshold)?;
        self.thresholds.push((pattern, threshold));
        Ok(self)
    }

    /// Sets the calls each run needs before a function is judged (at least 2).
    ///
    /// # Errors
    /// [`ProfileError::OutOfRange`] below 2.
    pub fn min_calls(mut self, calls: u64) -> Result<Self, ProfileError> {
        if calls < 2 {
            return Err(ProfileError::OutOfRange {
                setting: "min_calls",
                value: calls as f64,
                min: 2.0,
                max: f64::INFINITY,
            });
        }
        self.min_calls = calls;
        Ok(self)
    }

    /// Sets the false-discovery rate (between 0 and 1, exclusive).
    ///
    /// # Errors
    /// [`ProfileError::NonFinite`] or [`ProfileError::OutOfRange`].
    pub fn alpha(mut self, alpha: f64) -> Result<Self, ProfileError> {
        check_fraction("alpha", alpha)?;
        if alpha == 0.0 || alpha == 1.0 {
            return Err(ProfileError::OutOfRange {
                setting: "alpha",
                value: alpha,
                min: 0.0,
                max: 1.0,
            });
        }
        self.alpha = alpha;
        Ok(self)
    }

    /// Lets the mean, p95 and p99 decide a verdict without a history of runs (see
    /// [`tails_without_history`](Self::tails_without_history)): for runs made back to back on
    /// one quiet machine.
    #[must_use]
    pub fn judge_tails_without_history(mut self, judge: bool) -> Self {
        self.tails_without_history = judge;
        self
    }

    /// The threshold that applies to `function`.
    #[must_use]
    pub fn threshold_of(&self, function: &str) -> f64 {
        self.thresholds
            .iter()
            .find(|(p, _)| crate::glob::Glob::new(p).matches(function))
            .map_or(self.threshold, |&(_, t)| t)
    }
}

fn check_threshold(t: f64) -> Result<(), ProfileError> {
    if !t.is_finite() {
        return Err(ProfileError::NonFinite { setting: "threshold", value: t });
    }
    if !(0.0..=10.0).contains(&t) {
        return Err(ProfileError::OutOfRange {
            setting: "threshold",
            value: t,
            min: 0.0,
            max: 10.0,
        });
    }
    Ok(())
}

/// Which way a metric moved past its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Worse,
    Better,
}

/// A metric before false-discovery control.
struct Judged {
    change: MetricChange,
    moved: Option<Direction>,
}

/// A function before false-discovery control.
struct Pending {
    cmp: FunctionComparison,
    judged: Vec<Judged>,
    /// The function's p-value for getting worse (its best worse metric's, times the
    /// metrics judged), when a metric got worse past the threshold.
    worse: Option<f64>,
    /// The same for getting better.
    better: Option<f64>,
}

/// Compares every function of `current` with `baseline` (functions matched by name), using
/// `history` (earlier runs, oldest first; may be empty) for the between-run noise.
///
/// # Examples
/// See the [module docs](self).
#[must_use]
pub fn compare(
    baseline: &Snapshot,
    current: &Snapshot,
    history: &[RunSummary],
    options: &CompareOptions,
) -> Comparison {
    let (a, b) = (baseline.by_name_borrowed(), current.by_name_borrowed());
    let mut pending = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.name.cmp(&y.name),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        let (x, y) = match order {
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
                (Some(&a[i - 1]), Some(&b[j - 1]))
            }
            std::cmp::Ordering::Less => {
                i += 1;
                (Some(&a[i - 1]), None)
            }
            std::cmp::Ordering::Greater => {
                j += 1;
                (None, Some(&b[j - 1]))
            }
        };
        let name = x.or(y).map(|f| f.name.as_str()).unwrap_or_default();
        let past: Vec<&FunctionSummary> =
            history.iter().filter_map(|run| run.function(name)).collect();
        pending.push(judge(x.map(|f| &**f), y.map(|f| &**f), &past, options));
    }
    finish(pending, options)
}

/// Compares one function's two runs (no false-discovery control: one hypothesis), using
/// `history` (its summaries in earlier runs, oldest first) for the between-run noise.
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, regress::{compare_functions, CompareOptions, Verdict}};
/// let a = FunctionStats::from_durations("f", (0..500).map(|i| 10_000 + i * 10));
/// let b = FunctionStats::from_durations("f", (0..500).map(|i| 10_500 + i * 10));
/// // +5%: under the default 10% threshold.
/// assert_eq!(compare_functions(&a, &b, &[], &CompareOptions::default()).verdict, Verdict::Unchanged);
/// ```
#[must_use]
pub fn compare_functions(
    baseline: &FunctionStats,
    current: &FunctionStats,
    history: &[&FunctionSummary],
    options: &CompareOptions,
) -> FunctionComparison {
    let mut report = finish(vec![judge(Some(baseline), Some(current), history, options)], options);
    report.functions.remove(0)
}

/// Judges each metric of one function, before false-discovery control.
fn judge(
    a: Option<&FunctionStats>,
    b: Option<&FunctionStats>,
    history: &[&FunctionSummary],
    options: &CompareOptions,
) -> Pending {
    let name = a.or(b).map(|f| f.name.clone()).unwrap_or_default();
    let threshold = options.threshold_of(&name);
    let (na, nb) = (a.map_or(0, |f| f.count), b.map_or(0, |f| f.count));
    let mut cmp = FunctionComparison {
        function: name,
        verdict: Verdict::Unchanged,
        metric: None,
        degradation_percent: 0.0,
        baseline_calls: na,
        current_calls: nb,
        threshold,
        p_value: 1.0,
        q_value: 1.0,
        history_runs: 0,
        metrics: Vec::new(),
        distribution: None,
        reason: String::new(),
    };
    let (a, b) = match (a.filter(|f| f.count > 0), b.filter(|f| f.count > 0)) {
        (Some(a), Some(b)) => (a, b),
        (None, _) => {
            cmp.verdict = Verdict::New;
            cmp.reason = "not called in the baseline".into();
            return Pending { cmp, judged: Vec::new(), worse: None, better: None };
        }
        (_, None) => {
            cmp.verdict = Verdict::Removed;
            cmp.reason = "not called in the current run".into();
            return Pending { cmp, judged: Vec::new(), worse: None, better: None };
        }
    };
    cmp.distribution = Some(rank_test(a, b));
    if na.min(nb) < options.min_calls {
        cmp.verdict = Verdict::InsufficientData;
        let (side, n) = if na < options.min_calls { ("baseline", na) } else { ("current run", nb) };
        let calls = if n == 1 { "call" } else { "calls" };
        cmp.reason = format!(
            "{n} {calls} in the {side}; {} needed on each side to judge",
            options.min_calls
        );
        cmp.degradation_percent = percent(ln_ns(b.p50_ns as f64) - ln_ns(a.p50_ns as f64));
        return Pending { cmp, judged: Vec::new(), worse: None, better: None };
    }
    let limit = (1.0 + threshold).ln();
    let mut judged = Vec::new();
    for metric in Metric::ALL {
        // The error rate is a two-proportion test of its own: no history noise to measure.
        let noise = (metric != Metric::ErrorRate)
            .then(|| history_noise(history, metric, options))
            .flatten();
        cmp.history_runs = cmp.history_runs.max(noise.map_or(0, |n| n.runs));
        let j = match metric {
            Metric::ErrorRate => judge_error_rate(a, b, threshold, options),
            Metric::BytesPerCall => judge_bytes(a, b, limit, noise),
            m => judge_latency(m, a, b, limit, noise, options),
        };
        judged.extend(j);
    }
    let k = judged.iter().filter(|j| j.change.decisive).count().max(1) as f64;
    let best = |dir: Direction| {
        judged
            .iter()
            .filter(|j| j.change.decisive && j.moved == Some(dir))
            .map(|j| (j.change.p_value * k).min(1.0))
            .min_by(f64::total_cmp)
    };
    let (worse, better) = (best(Direction::Worse), best(Direction::Better));
    cmp.p_value = worse.into_iter().chain(better).fold(1.0, f64::min);
    Pending { cmp, judged, worse, better }
}

/// The spread of a metric between runs, from the history.
#[derive(Clone, Copy)]
struct Noise {
    /// Standard deviation of the log metric.
    sd: f64,
    runs: usize,
}

/// The between-run spread of `metric` over the history's runs since its last change point.
fn history_noise(
    history: &[&FunctionSummary],
    metric: Metric,
    options: &CompareOptions,
) -> Option<Noise> {
    let series: Vec<f64> = history
        .iter()
        .filter(|f| f.count >= options.min_calls)
        .filter_map(|f| metric.of(f))
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| if metric == Metric::ErrorRate { v } else { ln_ns(v) })
        .collect();
    if series.len() < 3 {
        return None;
    }
    let start = changepoint::last_regime_start(&series, &ChangePointOptions::default());
    let regime = &series[start..];
    let regime = if regime.len() >= 3 { regime } else { &series[series.len() - 3..] };
    let n = regime.len() as f64;
    let mean = regime.iter().sum::<f64>() / n;
    let sd = (regime.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    Some(Noise { sd, runs: regime.len() })
}

/// The largest share of a run's time one call may have for the mean to be judged.
const MEAN_MAX_SHARE: f64 = 0.1;

fn percent(log_ratio: f64) -> f64 {
    (log_ratio.exp() - 1.0) * 100.0
}

/// The one-sided p-value that a log ratio `d`, with within-run standard error `se` widened by
/// the history's between-run noise, moved by more than `margin` (half the threshold) in its
/// direction.
///
/// Without a history, the test is Student's t on `calls - 1` degrees of freedom (`calls` the
/// smaller run): a bootstrap interval of few calls is too narrow, as a z-test on an estimated
/// spread is, and t pays for it.
fn p_value(d: f64, margin: f64, se: f64, noise: Option<Noise>, calls: u64) -> f64 {
    let (se, df) = match noise {
        // Each history run's spread holds its own sampling error as well as the drift, so
        // twice its variance covers the difference of two runs; the bootstrap error is the
        // floor when the runs compared are smaller than the history's.
        Some(n) => ((2.0 * n.sd * n.sd).max(se * se).sqrt(), Some((n.runs - 1) as f64)),
        None => (se, (calls < 1_000).then(|| calls.saturating_sub(1).max(1) as f64)),
    };
    let excess = d.abs() - margin;
    if se <= 0.0 || !se.is_finite() {
        return if excess <= 0.0 || se.is_infinite() { 1.0 } else { 0.0 };
    }
    let z = excess / se;
    let two_sided = match df {
        Some(df) => student_two_sided(z, df),
        None => normal_two_sided(z),
    };
    if z >= 0.0 { two_sided / 2.0 } else { 1.0 - two_sided / 2.0 }
}

/// Half the threshold, on the log scale, from the threshold's `ln(1 + t)`.
fn margin_of(limit: f64) -> f64 {
    (1.0 + limit.exp_m1() / 2.0).ln()
}

fn moved(d: f64, limit: f64) -> Option<Direction> {
    if d > limit {
        Some(Direction::Worse)
    } else if d < -limit {
        Some(Direction::Better)
    } else {
        None
    }
}

fn judge_latency(
    metric: Metric,
    a: &FunctionStats,
    b: &FunctionStats,
    limit: f64,
    noise: Option<Noise>,
    options: &CompareOptions,
) -> Option<Judged> {
    // The mean sums the slow calls, so it moves between runs as the tails do.
    let spread_sensitive = metric != Metric::Median;
    let tail = metric.quantile().is_some_and(|q| q > 0.5);
    let decisive = !spread_sensitive || noise.is_some() || options.tails_without_history;
    let (av, bv, d, lo, hi, se) = match metric.quantile() {
        Some(q) => {
            let beyond = (a.count.min(b.count) as f64 * (1.0 - q)).floor() as u64;
            if tail && beyond < options.min_tail_calls {
                return None;
            }
            let at = |f: &FunctionStats| f.quantile(q).map_or(0.0, |d| d.as_nanos() as f64);
            let (av, bv) = (at(a), at(b));
            let (da, wa) = quantile_distribution(a, q);
            let (db, wb) = quantile_distribution(b, q);
            let (lo, hi) = difference_interval(&da, &db);
            let d = ln_ns(bv) - ln_ns(av);
            let se = (((hi - lo) / (2.0 * Z95)).powi(2) + wa + wb).sqrt();
            // Each quantile is known only to its bucket: widen the interval by that too.
            let width = Z95 * (wa + wb).sqrt();
            (av, bv, d, lo - width, hi + width, se)
        }
        None => {
            // A mean that a few calls make up says nothing the median and tails do not: it
            // is judged only when no call is more than a tenth of its run's time.
            let dominated =
                |f: &FunctionStats| f.max_ns as f64 > MEAN_MAX_SHARE * f.total_ns as f64;
            if dominated(a) || dominated(b) {
                return None;
            }
            let (av, bv) = (a.mean_ns, b.mean_ns);
            let d = ln_ns(bv) - ln_ns(av);
            let se = mean_log_se(a).hypot(mean_log_se(b));
            (av, bv, d, d - Z95 * se, d + Z95 * se, se)
        }
    };
    Some(Judged {
        change: MetricChange {
            metric,
            baseline: av,
            current: bv,
            change_percent: percent(d),
            interval_percent: [percent(lo), percent(hi)],
            p_value: p_value(d, margin_of(limit), se, noise, a.count.min(b.count)),
            noise_percent: noise.map(|n| percent(n.sd)),
            verdict: Verdict::Unchanged,
            decisive,
        },
        moved: moved(d, limit).filter(|_| decisive),
    })
}

/// The error rate: a two-proportion test, a Newcombe interval of the difference.
fn judge_error_rate(
    a: &FunctionStats,
    b: &FunctionStats,
    threshold: f64,
    options: &CompareOptions,
) -> Option<Judged> {
    let (na, nb) = (a.count as f64, b.count as f64);
    let (ea, eb) = (a.errors.min(a.count) as f64, b.errors.min(b.count) as f64);
    if ea == 0.0 && eb == 0.0 {
        return None; // nothing to compare: not a metric judged
    }
    let (ra, rb) = (ea / na, eb / nb);
    let pooled = (ea + eb) / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    let p = if se > 0.0 { normal_two_sided((rb - ra) / se) } else { 1.0 };
    let (la, ua) = wilson(ea, na);
    let (lb, ub) = wilson(eb, nb);
    let d = rb - ra;
    let lo = d - ((rb - lb).powi(2) + (ua - ra).powi(2)).sqrt();
    let hi = d + ((ub - rb).powi(2) + (ra - la).powi(2)).sqrt();
    let worse = d >= options.error_rate_points && rb > ra * (1.0 + threshold);
    let better = -d >= options.error_rate_points && ra > rb * (1.0 + threshold);
    Some(Judged {
        change: MetricChange {
            metric: Metric::ErrorRate,
            baseline: ra,
            current: rb,
            change_percent: d * 100.0,
            interval_percent: [lo * 100.0, hi * 100.0],
            p_value: p,
            noise_percent: None,
            verdict: Verdict::Unchanged,
            decisive: true,
        },
        moved: if worse {
            Some(Direction::Worse)
        } else if better {
            Some(Direction::Better)
        } else {
            None
        },
    })
}

/// Wilson's 95% score interval of a proportion `k / n`.
fn wilson(k: f64, n: f64) -> (f64, f64) {
    let p = k / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Bytes allocated per call: a sum, not a distribution, so without a history any change
/// past the threshold is taken as real; with one, it must clear the between-run spread.
fn judge_bytes(
    a: &FunctionStats,
    b: &FunctionStats,
    limit: f64,
    noise: Option<Noise>,
) -> Option<Judged> {
    let per_call = |f: &FunctionStats| {
        f.allocations.filter(|m| m.calls > 0).map(|m| m.allocated_bytes as f64 / m.calls as f64)
    };
    let (av, bv) = (per_call(a)?, per_call(b)?);
    let d = av.max(1.0).ln() - bv.max(1.0).ln();
    let d = -d;
    Some(Judged {
        change: MetricChange {
            metric: Metric::BytesPerCall,
            baseline: av,
            current: bv,
            change_percent: percent(d),
            interval_percent: [percent(d), percent(d)],
            p_value: p_value(d, margin_of(limit), 0.0, noise, a.count.min(b.count)),
            noise_percent: noise.map(|n| percent(n.sd)),
            verdict: Verdict::Unchanged,
            decisive: true,
        },
        moved: moved(d, limit),
    })
}

/// Mann–Whitney from the two histograms: calls in one bucket are ties.
fn rank_test(a: &FunctionStats, b: &FunctionStats) -> DistributionShift {
    let (ba, bb) = (a.histogram.raw_buckets(), b.histogram.raw_buckets());
    let (na, nb) = (a.histogram.len() as f64, b.histogram.len() as f64);
    let (mut i, mut j) = (0, 0);
    let (mut a_below, mut u, mut ties) = (0.0, 0.0, 0.0);
    while i < ba.len() || j < bb.len() {
        let ia = ba.get(i).map_or(u32::MAX, |x| x.0);
        let ib = bb.get(j).map_or(u32::MAX, |x| x.0);
        let index = ia.min(ib);
        let ca = if ia == index {
            i += 1;
            ba[i - 1].1 as f64
        } else {
            0.0
        };
        let cb = if ib == index {
            j += 1;
            bb[j - 1].1 as f64
        } else {
            0.0
        };
        u += cb * (a_below + 0.5 * ca);
        a_below += ca;
        let t = ca + cb;
        ties += t * t * t - t;
    }
    let n = na + nb;
    let mean = na * nb / 2.0;
    let var = na * nb / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)).max(1.0));
    let p = if var > 0.0 { normal_two_sided((u - mean) / var.sqrt()) } else { 1.0 };
    DistributionShift { prob_slower: if na * nb > 0.0 { u / (na * nb) } else { 0.5 }, p_value: p }
}

/// Benjamini–Hochberg over the judged functions, then each function's final verdict.
fn finish(mut pending: Vec<Pending>, options: &CompareOptions) -> Comparison {
    let mut tested: Vec<(usize, f64)> = pending
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.judged.is_empty())
        .map(|(i, p)| (i, p.cmp.p_value))
        .collect();
    tested.sort_by(|x, y| x.1.total_cmp(&y.1));
    let m = tested.len() as f64;
    // The largest p(k) with p(k) ≤ k/m · α; every p-value at or below it is a discovery.
    let cutoff = tested
        .iter()
        .enumerate()
        .filter(|&(k, &(_, p))| p <= (k + 1) as f64 / m * options.alpha)
        .map(|(_, &(_, p))| p)
        .next_back();
    // Adjusted p-values: q(k) = min over j ≥ k of p(j) · m / j.
    let mut running = 1.0f64;
    for (k, &(i, p)) in tested.iter().enumerate().rev() {
        running = running.min(p * m / (k + 1) as f64);
        pending[i].cmp.q_value = running.min(1.0);
    }
    let mut functions: Vec<FunctionComparison> =
        pending.into_iter().map(|p| decide(p, cutoff)).collect();
    functions.sort_by(|x, y| {
        x.verdict.rank().cmp(&y.verdict.rank()).then_with(|| {
            let worst_first = y.degradation_percent.total_cmp(&x.degradation_percent);
            if x.verdict == Verdict::Improved { worst_first.reverse() } else { worst_first }
        })
    });
    Comparison { functions, alpha: options.alpha, threshold: options.threshold }
}

fn decide(p: Pending, cutoff: Option<f64>) -> FunctionComparison {
    let Pending { mut cmp, judged, worse, better } = p;
    if judged.is_empty() {
        return cmp;
    }
    let k = judged.iter().filter(|j| j.change.decisive).count().max(1) as f64;
    let passes = |p: f64| cutoff.is_some_and(|c| p <= c);
    let mut metrics: Vec<MetricChange> = Vec::with_capacity(judged.len());
    for j in judged {
        let mut change = j.change;
        let significant = passes((change.p_value * k).min(1.0));
        change.verdict = match j.moved {
            Some(Direction::Worse) if significant => Verdict::Regressed,
            Some(Direction::Better) if significant => Verdict::Improved,
            _ => Verdict::Unchanged,
        };
        metrics.push(change);
    }
    // A regression wins over an improvement of another metric.
    let target = if worse.is_some_and(passes) {
        Some(Verdict::Regressed)
    } else if better.is_some_and(passes) {
        Some(Verdict::Improved)
    } else {
        None
    };
    let deciding = target.and_then(|v| {
        metrics
            .iter()
            .filter(|m| m.verdict == v)
            .max_by(|x, y| x.change_percent.abs().total_cmp(&y.change_percent.abs()))
    });
    let pct = |m: &MetricChange| format!("{:+.1}%", m.change_percent);
    let t = cmp.threshold * 100.0;
    match (target, deciding) {
        (Some(v), Some(m)) => {
            cmp.verdict = v;
            cmp.metric = Some(m.metric);
            cmp.degradation_percent = if m.metric == Metric::ErrorRate {
                // Seed 003's figure is a relative slowdown; for errors, the relative rise.
                if m.baseline > 0.0 { (m.current / m.baseline - 1.0) * 100.0 } else { 100.0 }
            } else {
                m.change_percent
            };
            let unit = if m.metric == Metric::ErrorRate { " points" } else { "" };
            cmp.reason = format!(
                "{} {}{unit} (95% interval {:+.1}% to {:+.1}%), past the {t:.0}% threshold, q = {:.2e}",
                m.metric,
                pct(m),
                m.interval_percent[0],
                m.interval_percent[1],
                cmp.q_value
            );
        }
        _ => {
            cmp.degradation_percent = metrics
                .iter()
                .find(|m| m.metric == Metric::Median)
                .map_or(0.0, |m| m.change_percent);
            let moved = metrics
                .iter()
                .find(|m| m.decisive && m.metric.is_latency() && m.change_percent.abs() > t);
            let tail = metrics.iter().find(|m| !m.decisive && m.change_percent.abs() > t);
            cmp.reason = match moved {
                Some(m) => {
                    let noise = m
                        .noise_percent
                        .map(|n| {
                            format!(", run-to-run noise ±{n:.1}% over {} runs", cmp.history_runs)
                        })
                        .unwrap_or_default();
                    format!(
                        "{} {} but not significant (q = {:.2}{noise})",
                        m.metric,
                        pct(m),
                        cmp.q_value
                    )
                }
                None => match tail {
                    Some(m) => format!(
                        "no metric that decides moved by more than {t:.0}% ({} {}, but the mean \
                         and tails decide only with a history of runs to measure their spread)",
                        m.metric,
                        pct(m)
                    ),
                    None => format!("no metric moved by more than {t:.0}%"),
                },
            };
        }
    }
    cmp.metrics = metrics;
    cmp
}

#[cfg(test)]
mod tests;
