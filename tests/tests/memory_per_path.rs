//! What a call path costs in memory, and that a reset gives it back. Alone in its binary
//! (one test), so nothing else allocates while it measures the process heap.

use std::time::Duration;

use perfcore::PerformanceProfiler;
use perfcore::alloc::{TrackingAllocator, current_bytes};
use perfcore::testing::ManualClock;

#[global_allocator]
static ALLOC: TrackingAllocator<std::alloc::System> = TrackingAllocator::new(std::alloc::System);

/// Durations spread log-uniformly over six decades, 1 µs to 1 s.
fn six_decades() -> impl Iterator<Item = Duration> {
    (0..=600).map(|i| Duration::from_nanos(10f64.powf(3.0 + f64::from(i) / 100.0) as u64))
}

#[test]
fn a_call_path_costs_at_most_16_kib_and_a_reset_frees_it() {
    let clock = ManualClock::new();
    let p = PerformanceProfiler::builder().clock(&clock).build().unwrap();
    // Register this thread and the names first: what is measured is the paths alone.
    let names: Vec<String> = (0..200).map(|i| format!("function_{i}")).collect();
    for name in &names {
        drop(p.scope(name).unwrap());
    }
    p.reset();
    drop(p.scope("warm").unwrap());

    // One call path whose calls take anything from 1 µs to 1 s.
    let before = current_bytes();
    for d in six_decades() {
        let _g = p.scope("six_decades").unwrap();
        clock.advance(d);
    }
    let per_path = current_bytes() - before;
    assert!(per_path <= 16 * 1024, "one call path over six decades took {per_path} bytes");
    let f = p.snapshot().function("six_decades").unwrap().clone();
    assert_eq!(f.count, 601);
    // Percentiles within 1% of the exact order statistic.
    let mut exact: Vec<u64> = six_decades().map(|d| d.as_nanos() as u64).collect();
    exact.sort_unstable();
    for (q, got) in [(0.5, f.p50_ns), (0.9, f.p90_ns), (0.99, f.p99_ns)] {
        let want = exact[(q * exact.len() as f64).ceil() as usize - 1];
        assert!(got.abs_diff(want) as f64 <= want as f64 * 0.01, "p{q}: {got} vs {want}");
    }

    // 200 functions, each called over six decades, then reset: their memory comes back.
    let before = current_bytes();
    for name in &names {
        for d in six_decades().step_by(20) {
            let _g = p.scope(name).unwrap();
            clock.advance(d);
        }
    }
    let recorded = current_bytes() - before;
    assert!(recorded >= 200 * 4 * 1024, "200 paths took only {recorded} bytes: nothing measured");
    p.reset();
    drop(p.scope("warm").unwrap()); // this thread catches up with the reset
    let kept = current_bytes().saturating_sub(before);
    assert!(kept <= 4 * 1024, "{kept} bytes of 200 paths stayed after the reset");
}
