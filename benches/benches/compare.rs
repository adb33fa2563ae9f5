//! Regression verdicts: comparing two snapshots of 1,000 functions (exact bootstrap intervals
//! included), the same with a 10-run history, change points over 1,000 runs × 100 functions,
//! and — for one function — the exact bootstrap of a quantile beside the Monte Carlo bootstrap
//! it replaces (1,000 resamples of the calls, drawn from the buckets).
//!
//! ```text
//! cargo bench -p perfcore-benches --bench compare
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use perfcore::regress::{
    ChangePointOptions, CompareOptions, Metric, compare, compare_functions, history_change_points,
};
use perfcore::testing::Rng;
use perfcore::{FunctionStats, LatencyHistogram, RunSummary, Snapshot};

/// `functions` log-normal functions of `calls` calls each (medians from 1 µs to 10 ms), the
/// first `slowed` of them `factor` times slower.
fn run(rng: &mut Rng, functions: usize, calls: usize, slowed: usize, factor: f64) -> Snapshot {
    let fs = (0..functions)
        .map(|i| {
            let median = 1_000.0 * 10f64.powf(4.0 * i as f64 / functions as f64);
            let k = if i < slowed { factor } else { 1.0 };
            FunctionStats::from_durations(
                &format!("app::module{}::function{i}", i % 37),
                (0..calls).map(|_| rng.log_normal(median * k, 0.3) as u64),
            )
        })
        .collect();
    Snapshot::from_functions(fs, 0, 10_000_000_000)
}

fn comparisons(c: &mut Criterion) {
    let mut rng = Rng::new(2026);
    let a = run(&mut rng, 1_000, 1_000, 0, 1.0);
    let b = run(&mut rng, 1_000, 1_000, 10, 1.3);
    let history: Vec<RunSummary> =
        (0..10).map(|_| run(&mut rng, 1_000, 1_000, 0, 1.0).summary()).collect();
    let opts = CompareOptions::default();
    let mut g = c.benchmark_group("compare");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.bench_function("1000_functions", |bch| {
        bch.iter(|| compare(black_box(&a), black_box(&b), &[], &opts))
    });
    g.bench_function("1000_functions_history_10", |bch| {
        bch.iter(|| compare(black_box(&a), black_box(&b), black_box(&history), &opts))
    });
    g.finish();
}

fn change_points(c: &mut Criterion) {
    let mut rng = Rng::new(7);
    // 1,000 runs of 100 functions, a 10% step in a tenth of them at run 600.
    let history: Vec<RunSummary> = (0..1_000)
        .map(|r| run(&mut rng, 100, 40, if r >= 600 { 10 } else { 0 }, 1.1).summary())
        .collect();
    let opts = ChangePointOptions::default();
    let mut g = c.benchmark_group("change_points");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("1000_runs_x_100_functions", |bch| {
        bch.iter(|| history_change_points(black_box(&history), Metric::Median, &opts))
    });
    g.finish();
}

/// The Monte Carlo bootstrap the exact one replaces: `resamples` times, draw the function's
/// `n` calls again from its buckets and take the median; return the 2.5% and 97.5% points.
fn monte_carlo_median_interval(
    h: &LatencyHistogram,
    resamples: usize,
    rng: &mut Rng,
) -> (u64, u64) {
    let buckets: Vec<(u64, u64)> = h.buckets().collect();
    let n = h.len();
    let mut cumulative = Vec::with_capacity(buckets.len());
    let mut seen = 0;
    for &(_, count) in &buckets {
        seen += count;
        cumulative.push(seen);
    }
    let mut medians: Vec<u64> = (0..resamples)
        .map(|_| {
            let mut r = LatencyHistogram::new();
            for _ in 0..n {
                let pick = rng.below(n);
                let i = cumulative.partition_point(|&c| c <= pick);
                r.record(buckets[i].0);
            }
            r.value_at_quantile(0.5)
        })
        .collect();
    medians.sort_unstable();
    (medians[resamples * 25 / 1_000], medians[resamples * 975 / 1_000])
}

fn bootstrap(c: &mut Criterion) {
    let mut rng = Rng::new(11);
    let one = |rng: &mut Rng, k: f64| {
        FunctionStats::from_durations(
            "f",
            (0..1_000).map(|_| rng.log_normal(100_000.0 * k, 0.3) as u64),
        )
    };
    let (a, b) = (one(&mut rng, 1.0), one(&mut rng, 1.2));
    let opts = CompareOptions::default();
    let mut g = c.benchmark_group("bootstrap_1000_calls");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.bench_function("perfcore_exact_all_metrics", |bch| {
        bch.iter(|| compare_functions(black_box(&a), black_box(&b), &[], &opts))
    });
    g.bench_function("monte_carlo_1000_resamples_median", |bch| {
        bch.iter(|| monte_carlo_median_interval(black_box(&a.histogram), 1_000, &mut rng))
    });
    g.finish();
}

criterion_group!(benches, comparisons, change_points, bootstrap);
criterion_main!(benches);
