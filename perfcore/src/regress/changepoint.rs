//! Change points in a run history: PELT on the log of a metric, each change confirmed by a
//! permutation test.
//!
//! PELT (Killick, Fearnhead and Eckley, 2012) finds the segmentation minimising the Gaussian
//! cost of each segment about its own mean plus a penalty per change, exactly, in close to
//! linear time. The noise level comes from the series itself (the median absolute difference
//! between successive runs, which a step barely moves), so the penalty means the same on a
//! quiet machine and a noisy one. Each change found is then tested on its own: the values of
//! the two segments beside it are shuffled, and the best split's strength compared with the
//! observed one's. A change is reported when that permutation test gives it at least the
//! required confidence (default 0.95); its size is the ratio of the geometric means of the
//! segments either side. E-Divisive (Apache Otava's method) also finds changes in spread, but
//! costs O(n²) per change found; a step in a latency metric is a change of level, which this
//! finds faster and (STATISTICS.md) as reliably.

use serde::{Deserialize, Serialize};

use super::Metric;
use super::bootstrap::ln_ns;
use super::rng::Rng;
use crate::error::ProfileError;
use crate::stats::{RunSummary, check_fraction};

/// Settings of change-point detection.
///
/// # Examples
/// ```
/// let opts = perfcore::regress::ChangePointOptions::default();
/// assert_eq!(opts.min_confidence, 0.95);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChangePointOptions {
    /// The penalty per change, in units of `ln(runs)` times the noise variance.
    pub penalty: f64,
    /// The fewest runs a segment may have.
    pub min_segment: usize,
    /// Shuffles in each change's permutation test.
    pub permutations: u32,
    /// The confidence (1 − permutation p-value) a change needs to be reported.
    pub min_confidence: f64,
    /// The seed of the permutation tests (results are reproducible from it).
    pub seed: u64,
}

impl Default for ChangePointOptions {
    fn default() -> Self {
        Self { penalty: 3.0, min_segment: 2, permutations: 199, min_confidence: 0.95, seed: 0x5eed }
    }
}

impl ChangePointOptions {
    /// Sets the penalty per change (finite, at least 0; larger finds fewer changes).
    ///
    /// # Errors
    /// [`ProfileError::NonFinite`] or [`ProfileError::OutOfRange`] below 0.
    ///
    /// # Examples
    /// ```
    /// use perfcore::regress::ChangePointOptions;
    /// assert_eq!(ChangePointOptions::default().penalty(5.0)?.penalty, 5.0);
    /// assert!(ChangePointOptions::default().penalty(-1.0).is_err());
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn penalty(mut self, penalty: f64) -> Result<Self, ProfileError> {
        if !penalty.is_finite() {
            return Err(ProfileError::NonFinite { setting: "penalty", value: penalty });
        }
        if penalty < 0.0 {
            return Err(out_of_range("penalty", penalty, 0.0, f64::INFINITY));
        }
        self.penalty = penalty;
        Ok(self)
    }

    /// Sets the fewest runs a segment may have (at least 1).
    ///
    /// # Errors
    /// [`ProfileError::OutOfRange`] for 0.
    ///
    /// # Examples
    /// ```
    /// use perfcore::regress::ChangePointOptions;
    /// assert_eq!(ChangePointOptions::default().min_segment(5)?.min_segment, 5);
    /// assert!(ChangePointOptions::default().min_segment(0).is_err());
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn min_segment(mut self, runs: usize) -> Result<Self, ProfileError> {
        if runs == 0 {
            return Err(out_of_range("min_segment", 0.0, 1.0, f64::INFINITY));
        }
        self.min_segment = runs;
        Ok(self)
    }

    /// Sets the shuffles of each change's permutation test (at least 1; the smallest
    /// p-value it can give is `1 / (permutations + 1)`).
    ///
    /// # Errors
    /// [`ProfileError::OutOfRange`] for 0.
    ///
    /// # Examples
    /// ```
    /// use perfcore::regress::ChangePointOptions;
    /// assert_eq!(ChangePointOptions::default().permutations(999)?.permutations, 999);
    /// assert!(ChangePointOptions::default().permutations(0).is_err());
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn permutations(mut self, permutations: u32) -> Result<Self, ProfileError> {
        if permutations == 0 {
            return Err(out_of_range("permutations", 0.0, 1.0, f64::from(u32::MAX)));
        }
        self.permutations = permutations;
        Ok(self)
    }

    /// Sets the confidence a change needs to be reported (between 0 and 1).
    ///
    /// # Errors
    /// [`ProfileError::NonFinite`] or [`ProfileError::OutOfRange`].
    ///
    /// # Examples
    /// ```
    /// use perfcore::regress::ChangePointOptions;
    /// assert_eq!(ChangePointOptions::default().min_confidence(0.99)?.min_confidence, 0.99);
    /// assert!(ChangePointOptions::default().min_confidence(1.5).is_err());
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn min_confidence(mut self, confidence: f64) -> Result<Self, ProfileError> {
        check_fraction("min_confidence", confidence)?;
        self.min_confidence = confidence;
        Ok(self)
    }

    /// Sets the seed of the permutation tests.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::regress::ChangePointOptions::default().seed(7).seed, 7);
    /// ```
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

fn out_of_range(setting: &'static str, value: f64, min: f64, max: f64) -> ProfileError {
    ProfileError::OutOfRange { setting, value, min, max }
}

/// A step in a series: the run it began at, its size and the confidence in it.
///
/// # Examples
/// ```
/// use perfcore::regress::{change_points, ChangePointOptions};
/// let mut series = vec![100.0; 30];
/// series.extend(vec![120.0; 30]);
/// for (i, v) in series.iter_mut().enumerate() { *v *= 1.0 + 0.01 * ((i * 7 % 5) as f64 - 2.0); }
/// let found = change_points(&series, &ChangePointOptions::default());
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].index, 30);
/// assert!((found[0].change_percent - 20.0).abs() < 2.0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChangePoint {
    /// The index (in the series given) of the first value after the step.
    pub index: usize,
    /// The geometric mean of the segment before.
    pub before: f64,
    /// The geometric mean of the segment after.
    pub after: f64,
    /// `(after / before - 1) × 100`.
    pub change_percent: f64,
    /// 1 − the permutation test's p-value.
    pub confidence: f64,
}

/// The change points of one function's metric over a run history.
///
/// # Examples
/// ```
/// # use perfcore::regress::{history_change_points, ChangePointOptions, Metric};
/// let found = history_change_points(&[], Metric::Median, &ChangePointOptions::default());
/// assert!(found.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionChangePoints {
    /// The function.
    pub function: String,
    /// The metric searched.
    pub metric: Metric,
    /// Runs of the history that had the function.
    pub runs: usize,
    /// The steps found; each `index` is a position in the history given (a run, not a
    /// position among the runs that had the function).
    pub points: Vec<ChangePoint>,
}

/// Finds the steps in a series of positive values (durations, sizes), oldest first.
///
/// # Examples
/// See [`ChangePoint`].
#[must_use]
pub fn change_points(series: &[f64], options: &ChangePointOptions) -> Vec<ChangePoint> {
    let logs: Vec<f64> = series.iter().map(|&v| ln_ns(v)).collect();
    confirmed(&logs, options)
}

/// Finds the steps of `metric` for every function in a run history (oldest first).
///
/// # Examples
/// ```
/// use perfcore::{FunctionStats, Snapshot};
/// use perfcore::regress::{history_change_points, ChangePointOptions, Metric};
/// let run = |ns: u64, i: u64| Snapshot::from_functions(
///     vec![FunctionStats::from_durations("f", (0..50).map(|k| ns + (k * 13 + i * 7) % 40))], 0, 1).summary();
/// let history: Vec<_> = (0..40).map(|i| run(if i < 25 { 1_000 } else { 1_300 }, i)).collect();
/// let found = history_change_points(&history, Metric::Median, &ChangePointOptions::default());
/// assert_eq!(found[0].points[0].index, 25);
/// ```
#[must_use]
pub fn history_change_points(
    history: &[RunSummary],
    metric: Metric,
    options: &ChangePointOptions,
) -> Vec<FunctionChangePoints> {
    let mut names: Vec<&str> =
        history.iter().flat_map(|r| r.functions.iter().map(|f| f.name.as_str())).collect();
    names.sort_unstable();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        let (runs, values): (Vec<usize>, Vec<f64>) = history
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.function(name).filter(|f| f.count > 0).map(|f| (i, f)))
            .filter_map(|(i, f)| metric.of(f).map(|v| (i, v)))
            .filter(|(_, v)| v.is_finite())
            .unzip();
        let logs: Vec<f64> = values
            .iter()
            .map(|&v| if metric == Metric::ErrorRate { v } else { ln_ns(v) })
            .collect();
        let mut points = confirmed(&logs, options);
        for p in &mut points {
            p.index = runs[p.index];
        }
        out.push(FunctionChangePoints {
            function: name.to_owned(),
            metric,
            runs: runs.len(),
            points,
        });
    }
    out
}

/// Where the last regime of a log series begins (0 when PELT finds no change).
pub(crate) fn last_regime_start(logs: &[f64], options: &ChangePointOptions) -> usize {
    pelt(logs, options).last().copied().unwrap_or(0)
}

/// Prefix sums for O(1) segment costs.
struct Sums {
    s1: Vec<f64>,
    s2: Vec<f64>,
}

impl Sums {
    fn new(x: &[f64]) -> Self {
        let (mut s1, mut s2) = (vec![0.0; x.len() + 1], vec![0.0; x.len() + 1]);
        for (i, &v) in x.iter().enumerate() {
            s1[i + 1] = s1[i] + v;
            s2[i + 1] = s2[i] + v * v;
        }
        Self { s1, s2 }
    }

    /// Σ (x - mean)² over `s..t`.
    fn cost(&self, s: usize, t: usize) -> f64 {
        let n = (t - s) as f64;
        let sum = self.s1[t] - self.s1[s];
        (self.s2[t] - self.s2[s] - sum * sum / n).max(0.0)
    }

    fn mean(&self, s: usize, t: usize) -> f64 {
        (self.s1[t] - self.s1[s]) / (t - s) as f64
    }
}

/// The noise level of a series: the median absolute difference of successive values,
/// scaled to a standard deviation (a step changes one difference only).
fn noise_sd(x: &[f64]) -> f64 {
    let mut d: Vec<f64> = x.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    if d.is_empty() {
        return 0.0;
    }
    let mid = d.len() / 2;
    let (_, m, _) = d.select_nth_unstable_by(mid, f64::total_cmp);
    // The median of |N(0, 2σ²)| is 0.6745·√2·σ.
    *m / (0.674_489_75 * std::f64::consts::SQRT_2)
}

/// The smallest noise level assumed: a histogram's quantiles are precise to about 0.8%, so
/// steps below that are not told from quantisation.
const NOISE_FLOOR: f64 = 2e-3;

/// PELT: the starts of the segments after the first, in order.
fn pelt(x: &[f64], options: &ChangePointOptions) -> Vec<usize> {
    let n = x.len();
    let min = options.min_segment.max(1);
    if n < 2 * min {
        return Vec::new();
    }
    let sd = noise_sd(x).max(NOISE_FLOOR);
    let sums = Sums::new(x);
    let var = sd * sd;
    let beta = options.penalty * (n as f64).ln();
    let cost = |s: usize, t: usize| sums.cost(s, t) / var;
    let mut f = vec![f64::INFINITY; n + 1];
    let mut last = vec![0usize; n + 1];
    f[0] = -beta;
    let mut candidates: Vec<usize> = Vec::new();
    for t in 1..=n {
        if t >= min {
            let s = t - min;
            if f[s].is_finite() {
                candidates.push(s);
            }
        }
        let mut best = (f64::INFINITY, 0);
        for &s in &candidates {
            let v = f[s] + cost(s, t) + beta;
            if v < best.0 {
                best = (v, s);
            }
        }
        if best.0.is_finite() {
            (f[t], last[t]) = best;
            let ft = f[t];
            candidates.retain(|&s| f[s] + cost(s, t) <= ft);
        }
    }
    let mut points = Vec::new();
    let mut t = n;
    while t > 0 {
        let s = last[t];
        if s > 0 {
            points.push(s);
        }
        t = s;
    }
    points.reverse();
    points
}

/// The strength of the best single split of `x`: max over splits of
/// `(u · (n - u) / n) · (mean before - mean after)²`.
fn best_split(x: &[f64], min: usize) -> f64 {
    let n = x.len();
    let total: f64 = x.iter().sum();
    let mut before = 0.0;
    let mut best = 0.0f64;
    for (u, &v) in x.iter().enumerate().take(n.saturating_sub(min)) {
        before += v;
        let u = u + 1;
        if u < min {
            continue;
        }
        let (a, b) = (u as f64, (n - u) as f64);
        let d = before / a - (total - before) / b;
        best = best.max(a * b / n as f64 * d * d);
    }
    best
}

/// PELT's changes, each kept only if its permutation test gives the confidence asked for;
/// dropping one merges its segments, so the survivors are tested again until all pass.
fn confirmed(x: &[f64], options: &ChangePointOptions) -> Vec<ChangePoint> {
    let mut points = pelt(x, options);
    let min = options.min_segment.max(1);
    let mut rng = Rng::new(options.seed);
    loop {
        let bounds = |k: usize, p: &[usize]| {
            let s = if k == 0 { 0 } else { p[k - 1] };
            let e = p.get(k + 1).copied().unwrap_or(x.len());
            (s, e)
        };
        let confidence: Vec<f64> = (0..points.len())
            .map(|k| {
                let (s, e) = bounds(k, &points);
                permutation_confidence(&x[s..e], min, options.permutations, &mut rng)
            })
            .collect();
        let weakest = confidence
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c < options.min_confidence)
            .min_by(|a, b| a.1.total_cmp(b.1));
        match weakest {
            Some((k, _)) => {
                points.remove(k);
            }
            None => {
                let sums = Sums::new(x);
                return points
                    .iter()
                    .enumerate()
                    .map(|(k, &index)| {
                        let (s, e) = bounds(k, &points);
                        let (before, after) =
                            (sums.mean(s, index).exp(), sums.mean(index, e).exp());
                        ChangePoint {
                            index,
                            before,
                            after,
                            change_percent: (after / before - 1.0) * 100.0,
                            confidence: confidence[k],
                        }
                    })
                    .collect();
            }
        }
    }
}

/// 1 − the permutation p-value of the best split of `window`.
fn permutation_confidence(window: &[f64], min: usize, permutations: u32, rng: &mut Rng) -> f64 {
    let observed = best_split(window, min);
    let mut shuffled = window.to_vec();
    let mut as_strong = 0u32;
    for _ in 0..permutations {
        rng.shuffle(&mut shuffled);
        if best_split(&shuffled, min) >= observed {
            as_strong += 1;
        }
    }
    1.0 - f64::from(as_strong + 1) / f64::from(permutations + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(rng: &mut Rng, n: usize, step_at: Option<usize>, step: f64, noise: f64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let level = if step_at.is_some_and(|s| i >= s) { 1.0 + step } else { 1.0 };
                1_000_000.0 * level * (noise * rng.normal()).exp()
            })
            .collect()
    }

    /// The test command's smaller version of STATISTICS.md's table: 200 runs, 2% noise, a
    /// 10% step at a random place is found within ±2 runs; no step, nothing is found.
    #[test]
    fn finds_one_step_and_none_without() {
        let mut rng = Rng::new(2026);
        let opts = ChangePointOptions::default();
        let (mut found, mut quiet, trials) = (0, 0, 60);
        for _ in 0..trials {
            let at = 5 + rng.below(190) as usize;
            let s = series(&mut rng, 200, Some(at), 0.10, 0.02);
            let cps = change_points(&s, &opts);
            if cps.len() == 1 && cps[0].index.abs_diff(at) <= 2 {
                found += 1;
            }
            if change_points(&series(&mut rng, 200, None, 0.0, 0.02), &opts).is_empty() {
                quiet += 1;
            }
        }
        assert!(found >= trials * 9 / 10, "found {found} of {trials}");
        assert!(quiet >= trials * 9 / 10, "quiet {quiet} of {trials}");
    }

    #[test]
    fn short_and_flat_series() {
        let opts = ChangePointOptions::default();
        assert!(change_points(&[], &opts).is_empty());
        assert!(change_points(&[5.0], &opts).is_empty());
        assert!(change_points(&[5.0; 100], &opts).is_empty());
        // A clean step on a noiseless series is found (the noise floor keeps the cost finite).
        let mut s = vec![5.0e6; 20];
        s.extend(vec![6.0e6; 20]);
        let cps = change_points(&s, &opts);
        assert_eq!(cps.iter().map(|c| c.index).collect::<Vec<_>>(), [20]);
    }
}
