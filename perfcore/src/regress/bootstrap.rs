//! Bootstrap distributions computed from histogram buckets, without raw samples.
//!
//! A bootstrap resample of a run draws its `n` calls again, with replacement, from the `n`
//! recorded ones: the bucket counts of a resample are multinomial. For a quantile the
//! resampled statistic's distribution is known exactly, so it is computed instead of
//! simulated: the resampled q-quantile lies at or below bucket `k` exactly when at least
//! `t = ⌈q·n⌉` of the resampled calls fall at or below `k`, and that count is
//! Binomial(n, C_k / n) where `C_k` is the recorded cumulative count: a Beta(t, n - t + 1)
//! distribution function at `C_k / n`. This is the limit of
//! the Monte Carlo bootstrap as the resamples grow (Hutson's exact bootstrap for quantiles),
//! with no Monte Carlo error and no seed; a test checks it against resampled counts.
//!
//! For the mean, the resampled mean has exactly the recorded mean and variance σ²/n; its
//! distribution is taken as normal on the log scale (the delta method), which a test also
//! checks against resampled counts.

use crate::stats::FunctionStats;
use crate::stats::histogram::{highest_value, lowest_value, midpoint};

use super::special::{beta_inc, ln_gamma};

/// Probability below which a bucket of a bootstrap distribution is dropped: the interval's
/// 2.5% and 97.5% points cannot move by it.
const NEGLIGIBLE: f64 = 1e-7;

/// Probability below which a pair of the two runs' buckets is dropped from their difference.
const NEGLIGIBLE_PAIR: f64 = 1e-10;

/// z for a two-sided 95% interval.
pub(crate) const Z95: f64 = 1.959_963_984_540_054;

/// The log of a duration, with 0 ns read as 1 ns (a ratio of zeros means nothing).
pub(crate) fn ln_ns(v: f64) -> f64 {
    v.max(1.0).ln()
}

/// The bootstrap distribution of one side's q-quantile, as (log value, probability) pairs
/// in ascending order of value; plus the variance, on the log scale, of the position of the
/// true value inside the bucket the point estimate lies in (uniform over the bucket).
///
/// P(resampled quantile ≤ bucket k) = P(Binomial(n, C_k/n) ≥ t) = I_{C_k/n}(t, n - t + 1),
/// the distribution function of a Beta(t, n - t + 1) variable at the bucket's cumulative
/// share. So a bucket's probability is that Beta density integrated between the shares at
/// its two edges: once exactly (the incomplete beta function) where the band of buckets that
/// matter begins, then by composite Simpson steps of at most a third of the Beta's standard
/// deviation, which is exact to about 1e-6 (a unit test checks every bucket edge against the
/// exact tail) and costs two logarithms and an exponential per step instead of a continued
/// fraction per bucket.
pub(crate) fn quantile_distribution(f: &FunctionStats, q: f64) -> (Vec<(f64, f64)>, f64) {
    let buckets = f.histogram.raw_buckets();
    let n = f.histogram.len();
    if n == 0 {
        return (Vec::new(), 0.0);
    }
    let hi = f.max_ns.max(f.min_ns);
    let value = |i: usize| midpoint(i).clamp(f.min_ns, hi) as f64;
    let t = ((q * n as f64).ceil() as u64).clamp(1, n);
    let (a, b) = (t as f64, (n - t + 1) as f64);
    let ln_norm = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b);
    let density = |p: f64| {
        if p <= 0.0 || p >= 1.0 {
            0.0
        } else {
            (ln_norm + (a - 1.0) * p.ln() + (b - 1.0) * (1.0 - p).ln()).exp()
        }
    };
    let sd = (a * b / ((a + b).powi(2) * (a + b + 1.0))).sqrt();
    // Outside 8 standard deviations of the Beta (plus a call) the mass is below 1e-15.
    let spread = 8.0 * sd + 1.0 / n as f64;
    let centre = a / (a + b);
    let (lo_share, hi_share) = (centre - spread, centre + spread);
    let mut out = Vec::new();
    let mut cum = 0u64;
    let mut below: Option<f64> = None; // P(resampled quantile is in an earlier bucket)
    for &(index, count) in buckets {
        let start = cum as f64 / n as f64;
        cum += count;
        let end = cum as f64 / n as f64;
        if end < lo_share {
            continue;
        }
        let before = *below.get_or_insert_with(|| beta_inc(a, b, start));
        let p = if cum >= n { 1.0 - before } else { simpson(&density, start, end, sd / 3.0) };
        let p = p.max(0.0);
        below = Some(before + p);
        if p > NEGLIGIBLE {
            out.push((ln_ns(value(index as usize)), p));
        }
        if start > hi_share {
            break;
        }
    }
    // The point estimate's bucket: the true quantile is anywhere in it.
    let point = f.histogram.value_at_quantile(q).clamp(f.min_ns, hi);
    let width = bucket_width_at(point);
    let rel = width / (point as f64).max(1.0);
    (out, rel * rel / 12.0)
}

/// ∫ f over [a, b] by composite Simpson with steps of at most `step`.
fn simpson(f: &impl Fn(f64) -> f64, a: f64, b: f64, step: f64) -> f64 {
    if b <= a {
        return 0.0;
    }
    let m = (((b - a) / step).ceil() as usize).clamp(1, 512) * 2;
    let h = (b - a) / m as f64;
    let mut sum = f(a) + f(b);
    for i in 1..m {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        sum += w * f(a + i as f64 * h);
    }
    sum * h / 3.0
}

fn bucket_width_at(value: u64) -> f64 {
    let i = crate::stats::histogram::bucket_index(crate::stats::histogram::clamp(value).0);
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
            if p > NEGLIGIBLE_PAIR {
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
            assert!((total - 1.0).abs() < 1e-5, "n={n} q={q}: mass {total}");
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

    /// The Simpson-integrated bucket probabilities agree with the exact binomial tail at
    /// every bucket edge.
    #[test]
    fn bucket_probabilities_match_the_exact_tail() {
        let mut rng = Rng::new(3);
        for (n, q) in [(30usize, 0.5), (1_000, 0.5), (1_000, 0.95), (50_000, 0.99)] {
            let values: Vec<u64> = (0..n).map(|_| rng.log_normal(1e5, 0.3) as u64).collect();
            let f = stats(&values);
            let (dist, _) = quantile_distribution(&f, q);
            let t = ((q * n as f64).ceil() as u64).clamp(1, n as u64);
            // Walk the buckets, summing our probabilities, and compare with the exact CDF.
            let mut cum = 0u64;
            let mut ours = 0.0;
            let mut worst = 0.0f64;
            let mut next = dist.iter().peekable();
            for &(index, count) in f.histogram.raw_buckets() {
                cum += count;
                let v = ln_ns(midpoint(index as usize).clamp(f.min_ns, f.max_ns) as f64);
                while let Some(&&(dv, p)) = next.peek() {
                    if dv > v {
                        break;
                    }
                    ours += p;
                    next.next();
                }
                let exact =
                    crate::regress::special::binomial_at_least(t, n as u64, cum as f64 / n as f64);
                worst = worst.max((ours - exact).abs());
            }
            assert!(worst < 1e-5, "n={n} q={q}: off by {worst}");
        }
    }

    #[test]
    fn difference_of_point_masses() {
        let (lo, hi) = difference_interval(&[(1.0, 1.0)], &[(3.0, 1.0)]);
        assert_eq!((lo, hi), (2.0, 2.0));
        let (lo, hi) = difference_interval(&[(0.0, 0.5), (1.0, 0.5)], &[(0.0, 1.0)]);
        assert_eq!((lo, hi), (-1.0, 0.0));
    }
}
