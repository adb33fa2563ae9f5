//! Bootstrap distributions computed from histogram buckets, without raw samples.
//!
//! A bootstrap resample of a run draws its `n` calls again, with replacement, from the `n`
//! recorded ones: the bucket counts of a resample are multinomial. For a quantile the
//! resampled statistic's distribution is known exactly, so it is computed instead of
//! simulated: the resampled q-quantile lies at or below bucket `k` exactly when at least
//! `t = ⌈q·n⌉` of the resampled calls fall at or below `k`, and that count is
//! Binomial(n, C_k / n) where `C_k` is the recorded cumulative count. This is the limit of
//! the Monte Carlo bootstrap as the resamples grow (Hutson's exact bootstrap for quantiles),
//! with no Monte Carlo error and no seed; a test checks it against resampled counts.
//!
//! For the mean, the resampled mean has exactly the recorded mean and variance σ²/n; its
//! distribution is taken as normal on the log scale (the delta method), which a test also
//! checks against resampled counts.

use crate::stats::FunctionStats;
use crate::stats::histogram::{highest_value, lowest_value, midpoint};

use super::special::binomial_at_least;

/// Probability below which a bucket of a bootstrap distribution is dropped.
const NEGLIGIBLE: f64 = 1e-9;

/// z for a two-sided 95% interval.
pub(crate) const Z95: f64 = 1.959_963_984_540_054;

/// The log of a duration, with 0 ns read as 1 ns (a ratio of zeros means nothing).
pub(crate) fn ln_ns(v: f64) -> f64 {
    v.max(1.0).ln()
}

/// The bootstrap distribution of one side's q-quantile, as (log value, probability) pairs
/// in ascending order of value; plus the variance, on the log scale, of the position of the
/// true value inside the bucket the point estimate lies in (uniform over the bucket).
pub(crate) fn quantile_distribution(f: &FunctionStats, q: f64) -> (Vec<(f64, f64)>, f64) {
    let buckets = f.histogram.raw_buckets();
    let n = f.histogram.len();
    if n == 0 {
        return (Vec::new(), 0.0);
    }
    let hi = f.max_ns.max(f.min_ns);
    let value = |i: usize| midpoint(i).clamp(f.min_ns, hi) as f64;
    let t = ((q * n as f64).ceil() as u64).clamp(1, n);
    // Only buckets whose cumulative share is near q carry probability: outside q ± 9 standard
    // errors (plus a call) the binomial tail is below 1e-18.
    let spread = 9.0 * (q * (1.0 - q) / n as f64).sqrt() + 1.0 / n as f64;
    let (lo_share, hi_share) = (q - spread, q + spread);
    let mut out = Vec::new();
    let mut cum = 0u64;
    let mut below = 0.0; // P(resampled quantile is in an earlier bucket)
    for &(index, count) in buckets {
        cum += count;
        let share = cum as f64 / n as f64;
        if share < lo_share {
            continue;
        }
        let cdf = if cum >= n { 1.0 } else { binomial_at_least(t, n, share) };
        let p = (cdf - below).max(0.0);
        below = cdf;
        if p > NEGLIGIBLE {
            out.push((ln_ns(value(index as usize)), p));
        }
        if share > hi_share || cdf >= 1.0 {
            break;
        }
    }
    // The point estimate's bucket: the true quantile is anywhere in it.
    let point = f.histogram.value_at_quantile(q).clamp(f.min_ns, hi);
    let width = bucket_width_at(f, point);
    let rel = width / (point as f64).max(1.0);
    (out, rel * rel / 12.0)
}

fn bucket_width_at(f: &FunctionStats, value: u64) -> f64 {
    let i = crate::stats::histogram::bucket_index(crate::stats::histogram::clamp(value).0);
    let _ = f;
    (highest_value(i) - lowest_value(i) + 1) as f64
}

/// The 2.5% and 97.5% points of `b - a` for independent discrete `a` and `b`.
pub(crate) fn difference_interval(a: &[(f64, f64)], b: &[(f64, f64)]) -> (f64, f64) {
    if a.is_empty() || b.is_empty() {
        return (f64::NEG_INFINITY, f64::INFINITY);
    }
    let mut pairs: Vec<(f64, f64)> = Vec::with_capacity(a.len() * b.len());
    for &(va, pa) in a {
        for &(vb, pb) in b {
            let p = pa * pb;
            if p > NEGLIGIBLE * NEGLIGIBLE {
                pairs.push((vb - va, p));
            }
        }
    }
    pairs.sort_unstable_by(|x, y| x.0.total_cmp(&y.0));
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    let (lo_target, hi_target) = (0.025 * total, 0.975 * total);
    let (mut lo, mut hi) = (pairs[0].0, pairs[pairs.len() - 1].0);
    let mut seen = 0.0;
    let mut found_lo = false;
    for &(d, p) in &pairs {
        seen += p;
        if !found_lo && seen >= lo_target {
            lo = d;
            found_lo = true;
        }
        if seen >= hi_target {
            hi = d;
            break;
        }
    }
    (lo, hi)
}

/// The log-scale standard error of a side's mean under resampling: σ / (√n · mean).
pub(crate) fn mean_log_se(f: &FunctionStats) -> f64 {
    if f.count == 0 || f.mean_ns <= 0.0 {
        return f64::INFINITY;
    }
    f.histogram.stddev() / ((f.count as f64).sqrt() * f.mean_ns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regress::rng::Rng;

    fn stats(values: &[u64]) -> FunctionStats {
        FunctionStats::from_durations("f", values.iter().copied())
    }

    /// Resamples the bucket counts (multinomial, by drawing calls) and returns the sorted
    /// resampled q-quantiles.
    fn monte_carlo_quantiles(values: &[u64], q: f64, resamples: usize, rng: &mut Rng) -> Vec<f64> {
        let mut out = Vec::with_capacity(resamples);
        for _ in 0..resamples {
            let draw: Vec<u64> = (0..values.len())
                .map(|_| values[rng.below(values.len() as u64) as usize])
                .collect();
            let f = stats(&draw);
            out.push(ln_ns(f.histogram.value_at_quantile(q).clamp(f.min_ns, f.max_ns) as f64));
        }
        out.sort_unstable_by(f64::total_cmp);
        out
    }

    /// The exact bootstrap distribution of a quantile agrees with resampled counts: its
    /// 2.5%, 50% and 97.5% points lie within a bucket of the Monte Carlo ones.
    #[test]
    fn exact_quantile_bootstrap_matches_resampling() {
        let mut rng = Rng::new(7);
        for (n, q) in [(40usize, 0.5), (300, 0.5), (300, 0.95), (2_000, 0.99)] {
            let values: Vec<u64> = (0..n).map(|_| rng.log_normal(100_000.0, 0.4) as u64).collect();
            let f = stats(&values);
            let (dist, _) = quantile_distribution(&f, q);
            let total: f64 = dist.iter().map(|d| d.1).sum();
            assert!((total - 1.0).abs() < 1e-6, "n={n} q={q}: mass {total}");
            let mc = monte_carlo_quantiles(&values, q, 2_000, &mut rng);
            for p in [0.025, 0.5, 0.975] {
                let mut seen = 0.0;
                let exact = dist.iter().find(|d| {
                    seen += d.1;
                    seen >= p
                });
                let exact = exact.unwrap().0;
                let sampled = mc[((p * mc.len() as f64) as usize).min(mc.len() - 1)];
                // Two buckets of 1/64 on the log scale, plus Monte Carlo error at the ends.
                assert!((exact - sampled).abs() < 0.04, "n={n} q={q} p={p}: {exact} vs {sampled}");
            }
        }
    }

    /// The mean's log-scale standard error matches the spread of resampled means.
    #[test]
    fn mean_standard_error_matches_resampling() {
        let mut rng = Rng::new(11);
        let values: Vec<u64> = (0..500).map(|_| rng.log_normal(50_000.0, 0.5) as u64).collect();
        let f = stats(&values);
        let se = mean_log_se(&f);
        let means: Vec<f64> = (0..2_000)
            .map(|_| {
                let s: u64 = (0..values.len()).map(|_| values[rng.below(500) as usize]).sum();
                (s as f64 / 500.0).ln()
            })
            .collect();
        let m = means.iter().sum::<f64>() / means.len() as f64;
        let sd = (means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / means.len() as f64).sqrt();
        assert!((se - sd).abs() < 0.1 * sd, "{se} vs {sd}");
    }

    #[test]
    fn difference_of_point_masses() {
        let (lo, hi) = difference_interval(&[(1.0, 1.0)], &[(3.0, 1.0)]);
        assert_eq!((lo, hi), (2.0, 2.0));
        let (lo, hi) = difference_interval(&[(0.0, 0.5), (1.0, 0.5)], &[(0.0, 1.0)]);
        assert_eq!((lo, hi), (-1.0, 0.0));
    }
}
