use proptest::prelude::*;

use super::rng::Rng;
use super::*;
use crate::stats::{AllocationStats, FunctionStats, FunctionSummary, Snapshot};

fn log_normal_run(rng: &mut Rng, name: &str, n: usize, median: f64, sigma: f64) -> FunctionStats {
    FunctionStats::from_durations(name, (0..n).map(|_| rng.log_normal(median, sigma) as u64))
}

fn snapshot(functions: Vec<FunctionStats>) -> Snapshot {
    Snapshot::from_functions(functions, 0, 1_000_000_000)
}

#[test]
fn a_shift_past_the_threshold_regresses_and_its_reverse_improves() {
    let mut rng = Rng::new(1);
    let a = log_normal_run(&mut rng, "f", 2_000, 100_000.0, 0.2);
    let b = log_normal_run(&mut rng, "f", 2_000, 125_000.0, 0.2);
    let opts = CompareOptions::default();
    let worse = compare_functions(&a, &b, &[], &opts);
    assert_eq!(worse.verdict, Verdict::Regressed, "{}", worse.reason);
    assert!((worse.degradation_percent - 25.0).abs() < 5.0, "{}", worse.degradation_percent);
    let better = compare_functions(&b, &a, &[], &opts);
    assert_eq!(better.verdict, Verdict::Improved, "{}", better.reason);
    let m = worse.metric(Metric::Median).unwrap();
    assert!(m.interval_percent[0] < 25.0 && 25.0 < m.interval_percent[1], "{m:?}");
}

#[test]
fn a_shift_under_the_threshold_is_unchanged() {
    let mut rng = Rng::new(2);
    let a = log_normal_run(&mut rng, "f", 100_000, 100_000.0, 0.2);
    let b = log_normal_run(&mut rng, "f", 100_000, 105_000.0, 0.2);
    let cmp = compare_functions(&a, &b, &[], &CompareOptions::default());
    assert_eq!(cmp.verdict, Verdict::Unchanged, "{}", cmp.reason);
    // The same 5% with a 2% threshold, and no history: found.
    let opts = CompareOptions::default().threshold(0.02).unwrap();
    assert_eq!(compare_functions(&a, &b, &[], &opts).verdict, Verdict::Regressed);
}

#[test]
fn few_calls_are_insufficient_and_missing_functions_are_new_or_removed() {
    let mut rng = Rng::new(3);
    let small = log_normal_run(&mut rng, "f", 29, 1_000.0, 0.1);
    let big = log_normal_run(&mut rng, "f", 1_000, 2_000.0, 0.1);
    let cmp = compare_functions(&small, &big, &[], &CompareOptions::default());
    assert_eq!(cmp.verdict, Verdict::InsufficientData);
    assert!(cmp.reason.contains("29 calls in the baseline"), "{}", cmp.reason);
    let report = compare(
        &snapshot(vec![log_normal_run(&mut rng, "old", 50, 1e3, 0.1)]),
        &snapshot(vec![log_normal_run(&mut rng, "new", 50, 1e3, 0.1)]),
        &[],
        &CompareOptions::default(),
    );
    assert_eq!(report.function("old").unwrap().verdict, Verdict::Removed);
    assert_eq!(report.function("new").unwrap().verdict, Verdict::New);
    assert!(!report.has_regressions());
}

#[test]
fn a_tail_only_regression_is_a_p99_regression() {
    let mut rng = Rng::new(4);
    let n = 20_000;
    let a = log_normal_run(&mut rng, "f", n, 100_000.0, 0.1);
    // The slowest 1.5% of calls take five times as long: p99 about doubles or more, the
    // median does not move.
    let b = FunctionStats::from_durations(
        "f",
        (0..n).map(|_| {
            let v = rng.log_normal(100_000.0, 0.1);
            (if rng.uniform() < 0.015 { v * 5.0 } else { v }) as u64
        }),
    );
    // Without a history the tail is evidence, not a verdict...
    let alone = compare_functions(&a, &b, &[], &CompareOptions::default());
    assert_eq!(alone.verdict, Verdict::Unchanged, "{}", alone.reason);
    let p99 = alone.metric(Metric::P99).unwrap();
    assert!(!p99.decisive && p99.change_percent > 100.0, "{p99:?}");
    assert!(alone.reason.contains("and tails decide only with a history"), "{}", alone.reason);
    // ...unless asked for, or a history measured how much the tail moves between runs.
    let opts = CompareOptions::default().judge_tails_without_history(true);
    let asked = compare_functions(&a, &b, &[], &opts);
    assert_eq!(
        (asked.verdict, asked.metric),
        (Verdict::Regressed, Some(Metric::P99)),
        "{}",
        asked.reason
    );
    let history: Vec<FunctionSummary> = (0..5)
        .map(|_| FunctionSummary::of(&log_normal_run(&mut rng, "f", n, 100_000.0, 0.1)))
        .collect();
    let history: Vec<&FunctionSummary> = history.iter().collect();
    let cmp = compare_functions(&a, &b, &history, &CompareOptions::default());
    assert_eq!(cmp.verdict, Verdict::Regressed, "{}", cmp.reason);
    assert_eq!(cmp.metric, Some(Metric::P99));
    assert!(cmp.metric(Metric::P99).unwrap().decisive);
    assert_eq!(cmp.metric(Metric::Median).unwrap().verdict, Verdict::Unchanged);
}

#[test]
fn more_errors_regress() {
    let mut rng = Rng::new(5);
    let a = log_normal_run(&mut rng, "f", 5_000, 1e5, 0.1);
    let mut b = log_normal_run(&mut rng, "f", 5_000, 1e5, 0.1);
    b.errors = 250; // 5%
    let cmp = compare_functions(&a, &b, &[], &CompareOptions::default());
    assert_eq!(cmp.verdict, Verdict::Regressed, "{}", cmp.reason);
    assert_eq!(cmp.metric, Some(Metric::ErrorRate));
    assert!((cmp.metric(Metric::ErrorRate).unwrap().change_percent - 5.0).abs() < 1e-9);
}

#[test]
fn more_bytes_per_call_regress() {
    let mut rng = Rng::new(6);
    let with = |f: &mut FunctionStats, bytes: u64| {
        f.allocations = Some(AllocationStats {
            calls: f.count,
            allocated_bytes: bytes * f.count,
            ..AllocationStats::default()
        });
    };
    let mut a = log_normal_run(&mut rng, "f", 100, 1e5, 0.1);
    let mut b = log_normal_run(&mut rng, "f", 100, 1e5, 0.1);
    with(&mut a, 1_000);
    with(&mut b, 1_500);
    let cmp = compare_functions(&a, &b, &[], &CompareOptions::default());
    assert_eq!(cmp.metric, Some(Metric::BytesPerCall), "{}", cmp.reason);
    assert!((cmp.degradation_percent - 50.0).abs() < 1e-9);
}

/// With a 2% threshold and 1% drift between runs, a lone comparison of big runs cries wolf;
/// a history of runs measures the drift and stops it.
#[test]
fn a_history_of_runs_sets_the_noise_floor() {
    let mut rng = Rng::new(7);
    let opts = CompareOptions::default().threshold(0.02).unwrap();
    let run = |rng: &mut Rng| {
        let drift = (0.01 * rng.normal()).exp();
        snapshot(vec![log_normal_run(rng, "f", 20_000, 100_000.0 * drift, 0.2)])
    };
    let (mut alone, mut with_history) = (0, 0);
    for _ in 0..40 {
        let history: Vec<RunSummary> = (0..10).map(|_| run(&mut rng).summary()).collect();
        let (a, b) = (run(&mut rng), run(&mut rng));
        alone +=
            usize::from(compare(&a, &b, &[], &opts).functions[0].verdict != Verdict::Unchanged);
        with_history += usize::from(
            compare(&a, &b, &history, &opts).functions[0].verdict != Verdict::Unchanged,
        );
    }
    assert!(alone >= 2, "drift alone flagged {alone} of 40");
    assert!(with_history <= 1, "with a history, {with_history} of 40 flagged");
    // A real +8% step still clears the measured noise.
    let history: Vec<RunSummary> = (0..10).map(|_| run(&mut rng).summary()).collect();
    let a = run(&mut rng);
    let b = snapshot(vec![log_normal_run(&mut rng, "f", 20_000, 108_000.0, 0.2)]);
    let f = &compare(&a, &b, &history, &opts).functions[0];
    assert_eq!(f.verdict, Verdict::Regressed, "{}", f.reason);
    assert!(f.history_runs >= 3);
    assert!(f.metric(Metric::Median).unwrap().noise_percent.is_some());
}

/// A/A over many functions: false discoveries stay rare with Benjamini–Hochberg.
#[test]
fn many_unchanged_functions_raise_no_alarm() {
    let mut rng = Rng::new(8);
    let opts = CompareOptions::default().threshold(0.0).unwrap();
    let make = |rng: &mut Rng| {
        snapshot(
            (0..200).map(|i| log_normal_run(rng, &format!("f{i:03}"), 200, 1e5, 0.5)).collect(),
        )
    };
    let (a, b) = (make(&mut rng), make(&mut rng));
    let report = compare(&a, &b, &[], &opts);
    let flagged = report.functions.iter().filter(|f| f.verdict != Verdict::Unchanged).count();
    // Even with no threshold at all, the FDR control keeps the count of false alarms low.
    assert!(flagged <= 2, "{flagged} of 200 flagged");
    assert_eq!(report.functions.len(), 200);
}

#[test]
fn worst_first_and_rendered() {
    let mut rng = Rng::new(9);
    let a = snapshot(vec![
        log_normal_run(&mut rng, "same", 500, 1e5, 0.1),
        log_normal_run(&mut rng, "slower", 500, 1e5, 0.1),
        log_normal_run(&mut rng, "much_slower", 500, 1e5, 0.1),
    ]);
    let b = snapshot(vec![
        log_normal_run(&mut rng, "same", 500, 1e5, 0.1),
        log_normal_run(&mut rng, "slower", 500, 1.3e5, 0.1),
        log_normal_run(&mut rng, "much_slower", 500, 2e5, 0.1),
    ]);
    let report = compare(&a, &b, &[], &CompareOptions::default());
    let order: Vec<&str> = report.functions.iter().map(|f| f.function.as_str()).collect();
    assert_eq!(order, ["much_slower", "slower", "same"]);
    let text = report.to_string();
    assert!(text.contains("much_slower") && text.contains("2 regressed, 1 unchanged"), "{text}");
    let md = report.to_markdown();
    assert!(md.contains("2 functions regressed") && md.contains("<details>"), "{md}");
}

#[test]
fn per_function_thresholds() {
    let mut rng = Rng::new(10);
    let a = snapshot(vec![
        log_normal_run(&mut rng, "db::query", 5_000, 1e5, 0.1),
        log_normal_run(&mut rng, "api::get", 5_000, 1e5, 0.1),
    ]);
    let b = snapshot(vec![
        log_normal_run(&mut rng, "db::query", 5_000, 1.06e5, 0.1),
        log_normal_run(&mut rng, "api::get", 5_000, 1.06e5, 0.1),
    ]);
    let opts = CompareOptions::default().threshold_for("db::*", 0.03).unwrap();
    let report = compare(&a, &b, &[], &opts);
    assert_eq!(report.function("db::query").unwrap().verdict, Verdict::Regressed);
    assert_eq!(report.function("api::get").unwrap().verdict, Verdict::Unchanged);
    assert_eq!(report.function("db::query").unwrap().threshold, 0.03);
}

fn arbitrary_function() -> impl Strategy<Value = FunctionStats> {
    (prop::collection::vec(0u64..10_000_000_000, 0..300), 0u64..50).prop_map(|(v, e)| {
        let mut f = FunctionStats::from_durations("f", v);
        f.errors = e.min(f.count);
        f
    })
}

#[test]
fn verdict_and_metric_names_are_their_json() {
    let verdicts = [
        Verdict::Regressed,
        Verdict::Improved,
        Verdict::Unchanged,
        Verdict::InsufficientData,
        Verdict::New,
        Verdict::Removed,
    ];
    for v in verdicts {
        assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{}\"", v.name()));
    }
    for m in Metric::ALL {
        assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{}\"", m.name()));
    }
}

#[test]
fn the_headline_is_the_deciding_metric_else_the_median() {
    let a = FunctionStats::from_durations("f", (0..1_000).map(|i| 100_000 + i % 50 * 100));
    let slower = FunctionStats::from_durations("f", (0..1_000).map(|i| 150_000 + i % 50 * 100));
    let opts = CompareOptions::default();
    let regressed = compare_functions(&a, &slower, &[], &opts);
    assert_eq!(regressed.headline().map(|m| m.metric), regressed.metric);
    let same = compare_functions(&a, &a, &[], &opts);
    assert_eq!((same.metric, same.headline().map(|m| m.metric)), (None, Some(Metric::Median)));
    let few = FunctionStats::from_durations("f", [1, 2]);
    assert!(compare_functions(&few, &few, &[], &opts).headline().is_none());
}

#[test]
fn change_point_settings_are_checked() {
    let o = ChangePointOptions::default();
    assert!(o.clone().penalty(f64::NAN).is_err() && o.clone().penalty(-0.1).is_err());
    assert!(o.clone().min_segment(0).is_err() && o.clone().permutations(0).is_err());
    assert!(o.clone().min_confidence(1.1).is_err() && o.clone().min_confidence(f64::NAN).is_err());
    let set = o.penalty(0.0).unwrap().min_segment(1).unwrap().permutations(1).unwrap();
    let set = set.min_confidence(1.0).unwrap().seed(9);
    assert_eq!((set.penalty, set.min_segment, set.permutations, set.seed), (0.0, 1, 1, 9));
}

proptest! {
    /// Any two runs compare without panicking, with probabilities in range, finite figures,
    /// and swapping the runs swaps regressions and improvements.
    #[test]
    fn comparisons_are_well_formed(a in arbitrary_function(), b in arbitrary_function()) {
        let opts = CompareOptions::default().min_calls(2).unwrap();
        let ab = compare_functions(&a, &b, &[], &opts);
        let ba = compare_functions(&b, &a, &[], &opts);
        for c in [&ab, &ba] {
            prop_assert!((0.0..=1.0).contains(&c.p_value) && (0.0..=1.0).contains(&c.q_value));
            prop_assert!(c.degradation_percent.is_finite());
            for m in &c.metrics {
                prop_assert!((0.0..=1.0).contains(&m.p_value), "{m:?}");
                prop_assert!(m.change_percent.is_finite() && m.interval_percent.iter().all(|x| x.is_finite()), "{m:?}");
            }
        }
        let flip = |v: Verdict| match v {
            Verdict::Regressed => Verdict::Improved,
            Verdict::Improved => Verdict::Regressed,
            Verdict::New => Verdict::Removed,
            Verdict::Removed => Verdict::New,
            v => v,
        };
        // Error rates regress on the points rule, which is symmetric too.
        prop_assert_eq!(flip(ab.verdict), ba.verdict, "{} / {}", ab.reason, ba.reason);
    }
}
