//! The regression rule on simulated runs: a smaller version of STATISTICS.md's table (made by
//! `cargo run --release -p perfcore-examples --example regression_rules`), with bounds that a
//! broken rule would fail. Fixed seeds: the figures are the same on every run.

use perfcore::testing::simulate::{Rule, Scenario, Shift, change_point_rate, flag_rates};

const TRIALS: usize = 150;

fn perfcore_rate(s: &Scenario, seed: u64) -> (f64, f64) {
    let rates = flag_rates(s, TRIALS, seed);
    let ours = rates.iter().find(|r| r.rule == Rule::Perfcore).unwrap();
    (ours.flagged, ours.flagged_p99)
}

#[test]
fn no_change_is_rarely_flagged() {
    for (calls, outliers) in [(30, 0.0), (1_000, 0.0), (30, 0.03), (1_000, 0.03)] {
        let s = Scenario { calls, outliers, ..Scenario::default() };
        let (rate, _) = perfcore_rate(&s, 11);
        // The full table's bound is 1% over 1,000 pairs; 3% over 150 leaves room for chance.
        assert!(rate <= 0.03, "A/A, {calls} calls, {outliers} outliers: {rate}");
    }
}

#[test]
fn shifts_past_the_threshold_are_found_and_small_ones_are_not() {
    let big = Scenario { calls: 1_000, shift: Shift::Scale(1.15), ..Scenario::default() };
    assert!(perfcore_rate(&big, 12).0 >= 0.95);
    let quiet =
        Scenario { calls: 30, sigma: 0.1, shift: Shift::Scale(1.15), ..Scenario::default() };
    assert!(perfcore_rate(&quiet, 13).0 >= 0.7);
    let small = Scenario { calls: 100, shift: Shift::Scale(1.03), ..Scenario::default() };
    assert!(perfcore_rate(&small, 14).0 <= 0.08);
}

#[test]
fn a_two_percent_threshold_needs_a_history_against_drift() {
    let base = Scenario { calls: 1_000, sigma: 0.05, threshold: 0.02, ..Scenario::default() };
    let shifted = Scenario { shift: Shift::Scale(1.05), ..base.clone() };
    assert!(perfcore_rate(&shifted, 15).0 >= 0.85);
    // Without a history, 1% drift between runs crosses a 2% threshold now and then...
    let (alone, _) = perfcore_rate(&base, 16);
    assert!(alone >= 0.03, "{alone}");
    // ...and a history of 10 runs measures the drift and stops it.
    let (with_history, _) = perfcore_rate(&Scenario { history_runs: 10, ..base }, 16);
    assert!(with_history <= 0.03, "{with_history}");
}

#[test]
fn a_tail_only_regression_is_a_p99_regression() {
    let tail = Shift::Tail { quantile: 0.98, factor: 2.0 };
    // Tails decide with a history of runs, which measures how much they move between runs.
    let s = Scenario { calls: 2_000, shift: tail, history_runs: 10, ..Scenario::default() };
    let (_, p99) = perfcore_rate(&s, 17);
    assert!(p99 >= 0.9, "{p99}");
    let (alone, _) = perfcore_rate(&Scenario { history_runs: 0, ..s }, 17);
    assert_eq!(alone, 0.0);
}

#[test]
fn change_points_are_found_where_they_are_and_not_elsewhere() {
    assert!(change_point_rate(100, 200, 0.10, 0.02, 18) >= 0.9);
    assert!(change_point_rate(100, 200, 0.0, 0.02, 19) >= 0.95);
}
