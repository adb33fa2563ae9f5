//! Simulated runs for checking regression rules: log-normal call times, run-to-run drift,
//! outliers, shifts of the whole distribution or of its tail; and the rules of perfcore and
//! of its peers applied to the same data. STATISTICS.md's tables come from here (the
//! `regression_rules` example); the test command runs a smaller version.
//!
//! # Examples
//! ```
//! use perfcore::testing::simulate::{flag_rates, Rule, Scenario, Shift};
//! let s = Scenario { calls: 200, shift: Shift::Scale(1.5), ..Scenario::default() };
//! let rates = flag_rates(&s, 20, 1);
//! let ours = rates.iter().find(|r| r.rule == Rule::Perfcore).unwrap();
//! assert!(ours.flagged > 0.9);
//! ```

use crate::regress::{CompareOptions, Metric, Verdict, compare};
use crate::stats::{FunctionStats, RunSummary, Snapshot};

use super::Rng;

/// How the current run differs from the baseline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shift {
    /// Not at all (an A/A comparison).
    None,
    /// Every call is this many times as long.
    Scale(f64),
    /// Calls above the `quantile` of the distribution take `factor` times as long: the
    /// quantiles above it scale by `factor`, the median does not move.
    Tail {
        /// Where the slow tail starts (0.98: the slowest 2% of calls).
        quantile: f64,
        /// How much slower they are.
        factor: f64,
    },
}

/// One simulated comparison setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Calls per run.
    pub calls: usize,
    /// Median call time, ns.
    pub median_ns: f64,
    /// Log-scale standard deviation of call times (0.25 ≈ a 25% coefficient of variation).
    pub sigma: f64,
    /// Log-scale standard deviation of the drift between runs (0.01: 1% run to run).
    pub run_noise: f64,
    /// Fraction of calls that are outliers, 3 to 30 times as long.
    pub outliers: f64,
    /// The change under test.
    pub shift: Shift,
    /// perfcore's threshold (a fraction).
    pub threshold: f64,
    /// Earlier runs in the history perfcore may use (0: none).
    pub history_runs: usize,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            calls: 1_000,
            median_ns: 100_000.0,
            sigma: 0.25,
            run_noise: 0.01,
            outliers: 0.0,
            shift: Shift::None,
            threshold: 0.10,
            history_runs: 0,
        }
    }
}

/// A rule that decides whether a run regressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// perfcore's verdict ([`crate::regress`]), with the scenario's threshold and history.
    Perfcore,
    /// Seed 003's rule: the mean is more than 10% slower.
    SeedMean10,
    /// Welch's t-test on the call times' means, p < 0.05, slower.
    WelchT,
    /// criterion's way: 100 samples (batch means); slower when a t-test on them gives
    /// p < 0.05 and the 95% interval of the change of the mean is above its 1% noise threshold.
    CriterionStyle,
    /// asv's way: the median more than 10% slower (its `--factor 1.1`) and the two medians'
    /// 99% confidence intervals do not overlap.
    AsvStyle,
}

impl Rule {
    /// Every rule, in the order the tables list them.
    pub const ALL: [Rule; 5] =
        [Rule::Perfcore, Rule::SeedMean10, Rule::WelchT, Rule::CriterionStyle, Rule::AsvStyle];

    /// The rule's name in tables.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Rule::Perfcore => "perfcore",
            Rule::SeedMean10 => "seed: mean > +10%",
            Rule::WelchT => "t-test on means",
            Rule::CriterionStyle => "criterion-style",
            Rule::AsvStyle => "asv-style",
        }
    }
}

/// How often a rule flagged a regression over the trials of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleRate {
    /// The rule.
    pub rule: Rule,
    /// Fraction of trials flagged as a regression.
    pub flagged: f64,
    /// For perfcore: fraction of trials where p99 was among the regressed metrics.
    pub flagged_p99: f64,
    /// Trials run.
    pub trials: usize,
}

/// One simulated run: its raw call times.
fn run(s: &Scenario, rng: &mut Rng, shifted: bool) -> Vec<f64> {
    let drift = (s.run_noise * rng.normal()).exp();
    let tail_z = match s.shift {
        Shift::Tail { quantile, .. } => Some(normal_quantile(quantile)),
        _ => None,
    };
    (0..s.calls)
        .map(|_| {
            let z = rng.normal();
            let mut v = s.median_ns * drift * (s.sigma * z).exp();
            if s.outliers > 0.0 && rng.uniform() < s.outliers {
                v *= 3.0 + 27.0 * rng.uniform();
            }
            if shifted {
                match s.shift {
                    Shift::None => {}
                    Shift::Scale(k) => v *= k,
                    Shift::Tail { factor, .. } => {
                        if tail_z.is_some_and(|t| z > t) {
                            v *= factor;
                        }
                    }
                }
            }
            v
        })
        .collect()
}

/// The standard normal quantile, by bisection (only used to place a tail).
fn normal_quantile(p: f64) -> f64 {
    let cdf = |x: f64| 1.0 - 0.5 * crate::regress::special_erfc(x / std::f64::consts::SQRT_2);
    let (mut lo, mut hi) = (-10.0, 10.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < p { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

fn snapshot(values: &[f64]) -> Snapshot {
    let f = FunctionStats::from_durations("f", values.iter().map(|&v| v as u64));
    Snapshot::from_functions(vec![f], 0, 1_000_000_000)
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    (m, x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0))
}

/// Welch's t statistic and degrees of freedom of `b` against `a`.
fn welch(a: &[f64], b: &[f64]) -> (f64, f64) {
    let ((ma, va), (mb, vb)) = (mean_var(a), mean_var(b));
    let (sa, sb) = (va / a.len() as f64, vb / b.len() as f64);
    let t = (mb - ma) / (sa + sb).sqrt();
    let df =
        (sa + sb).powi(2) / (sa * sa / (a.len() as f64 - 1.0) + sb * sb / (b.len() as f64 - 1.0));
    (t, df)
}

fn welch_p(a: &[f64], b: &[f64]) -> (f64, f64) {
    let (t, df) = welch(a, b);
    (t, crate::regress::special_student_two_sided(t, df))
}

/// criterion's decision, on 100 batch means of each run.
fn criterion_style(a: &[f64], b: &[f64]) -> bool {
    let batches = |x: &[f64]| -> Vec<f64> {
        let k = (x.len() / 100).max(1);
        x.chunks(k).map(|c| c.iter().sum::<f64>() / c.len() as f64).collect()
    };
    let (sa, sb) = (batches(a), batches(b));
    if sa.len() < 2 || sb.len() < 2 {
        return false;
    }
    let (t, p) = welch_p(&sa, &sb);
    let ((ma, va), (mb, vb)) = (mean_var(&sa), mean_var(&sb));
    // The interval of the relative change of the mean (delta method).
    let rel = mb / ma - 1.0;
    let se =
        (mb / ma) * (va / (sa.len() as f64 * ma * ma) + vb / (sb.len() as f64 * mb * mb)).sqrt();
    t > 0.0 && p < 0.05 && rel - 1.96 * se > 0.01
}

/// The `level` confidence interval of a median from order statistics.
fn median_interval(x: &mut [f64], z: f64) -> (f64, f64) {
    x.sort_unstable_by(f64::total_cmp);
    let n = x.len() as f64;
    let half = z * n.sqrt() / 2.0;
    let lo = ((n / 2.0 - half).floor().max(0.0)) as usize;
    let hi = ((n / 2.0 + half).ceil() as usize).min(x.len() - 1);
    (x[lo], x[hi])
}

/// asv's decision: median ratio over the factor and non-overlapping 99% intervals.
fn asv_style(a: &[f64], b: &[f64]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    let (_, upper_a) = median_interval(&mut a, 2.576);
    let (lower_b, _) = median_interval(&mut b, 2.576);
    let (ma, mb) = (a[a.len() / 2], b[b.len() / 2]);
    mb > 1.1 * ma && lower_b > upper_a
}

/// Runs `trials` simulated comparisons of the scenario and returns how often each rule
/// flagged a regression. Deterministic for a seed.
#[must_use]
pub fn flag_rates(s: &Scenario, trials: usize, seed: u64) -> Vec<RuleRate> {
    let mut rng = Rng::new(seed);
    let opts = CompareOptions::default().threshold(s.threshold).unwrap_or_default();
    let mut flagged = [0usize; Rule::ALL.len()];
    let mut p99 = 0usize;
    for _ in 0..trials {
        let history: Vec<RunSummary> =
            (0..s.history_runs).map(|_| snapshot(&run(s, &mut rng, false)).summary()).collect();
        let a = run(s, &mut rng, false);
        let b = run(s, &mut rng, true);
        let report = compare(&snapshot(&a), &snapshot(&b), &history, &opts);
        let f = &report.functions[0];
        for (k, rule) in Rule::ALL.iter().enumerate() {
            let hit = match rule {
                Rule::Perfcore => f.verdict == Verdict::Regressed,
                Rule::SeedMean10 => mean_var(&b).0 > 1.1 * mean_var(&a).0,
                Rule::WelchT => {
                    let (t, p) = welch_p(&a, &b);
                    t > 0.0 && p < 0.05
                }
                Rule::CriterionStyle => criterion_style(&a, &b),
                Rule::AsvStyle => asv_style(&a, &b),
            };
            flagged[k] += usize::from(hit);
        }
        p99 += usize::from(
            f.verdict == Verdict::Regressed
                && f.metric(Metric::P99).is_some_and(|m| m.verdict == Verdict::Regressed),
        );
    }
    let frac = |n: usize| n as f64 / trials.max(1) as f64;
    Rule::ALL
        .iter()
        .enumerate()
        .map(|(k, &rule)| RuleRate {
            rule,
            flagged: frac(flagged[k]),
            flagged_p99: if rule == Rule::Perfcore { frac(p99) } else { 0.0 },
            trials,
        })
        .collect()
}

/// The change-point check: `series` histories of `runs` runs, each with one step of `step`
/// (a fraction) at a random run, or none when `step` is 0, with `noise` (log-scale standard
/// deviation) per run. Returns the fraction of histories where exactly the one step was
/// found within ±2 runs (or, with no step, where nothing was found).
///
/// # Examples
/// ```
/// let ok = perfcore::testing::simulate::change_point_rate(20, 200, 0.10, 0.02, 3);
/// assert!(ok >= 0.9);
/// ```
#[must_use]
pub fn change_point_rate(series: usize, runs: usize, step: f64, noise: f64, seed: u64) -> f64 {
    let mut rng = Rng::new(seed);
    let opts = crate::regress::ChangePointOptions::default();
    let mut good = 0;
    for _ in 0..series {
        let at = if step > 0.0 { Some(3 + rng.below(runs as u64 - 6) as usize) } else { None };
        let values: Vec<f64> = (0..runs)
            .map(|i| {
                let level = if at.is_some_and(|a| i >= a) { 1.0 + step } else { 1.0 };
                100_000.0 * level * (noise * rng.normal()).exp()
            })
            .collect();
        let found = crate::regress::change_points(&values, &opts);
        good += usize::from(match at {
            Some(a) => found.len() == 1 && found[0].index.abs_diff(a) <= 2,
            None => found.is_empty(),
        });
    }
    good as f64 / series.max(1) as f64
}
