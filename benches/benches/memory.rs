//! Memory is bounded by callsites × threads, never by calls: the process heap after 100M
//! recorded calls against after 1M, with the tracking allocator counting every byte.
//!
//! `cargo bench -p perfcore-benches --bench memory` prints the figures recorded in
//! BENCHMARKS.md. (A plain program, not criterion: it measures bytes, not time.)

use std::time::Duration;

use perfcore::alloc::{TrackingAllocator, current_bytes};
use perfcore::testing::ManualClock;
use perfcore::{PerformanceProfiler, profile_scope};

#[global_allocator]
static ALLOC: TrackingAllocator<std::alloc::System> = TrackingAllocator::new(std::alloc::System);

fn calls(p: &PerformanceProfiler, n: u64) {
    for i in 0..n {
        profile_scope!(p, "outer");
        profile_scope!(p, "inner");
        std::hint::black_box(i);
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and wants speed.
    let full = std::env::args().any(|a| a == "--bench");
    let (first, total) = if full { (1_000_000, 100_000_000) } else { (10_000, 1_000_000) };
    let p = PerformanceProfiler::new();
    let before = current_bytes();
    calls(&p, first);
    let after_first = current_bytes();
    calls(&p, total - first);
    let after_total = current_bytes();
    let snap = p.snapshot();
    assert_eq!(snap.function("inner").map(|f| f.count), Some(total));
    println!("memory/bounded: heap before {before} B");
    println!("memory/bounded: after {first} calls (x2 scopes): +{} B", after_first - before);
    println!("memory/bounded: after {total} calls (x2 scopes): +{} B", after_total - before);
    println!(
        "memory/bounded: growth from {first} to {total} calls: {} B ({} histogram chunks of 520 B)",
        after_total - after_first,
        (after_total - after_first) / 520
    );
    per_path();
}

/// What one call path costs when its calls spread over six decades (1 µs to 1 s), and what
/// 1,000 such paths leave behind after a reset.
fn per_path() {
    let clock = ManualClock::new();
    let p = PerformanceProfiler::builder().clock(&clock).build().expect("profiler");
    let names: Vec<String> = (0..1_000).map(|i| format!("f{i}")).collect();
    for name in &names {
        drop(p.scope(name).expect("scope"));
    }
    p.reset();
    drop(p.scope("warm").expect("scope"));
    let durations: Vec<Duration> = (0..=600)
        .map(|i| Duration::from_nanos(10f64.powf(3.0 + f64::from(i) / 100.0) as u64))
        .collect();
    let before = current_bytes();
    for name in &names {
        for d in &durations {
            let _g = p.scope(name).expect("scope");
            clock.advance(*d);
        }
    }
    let recorded = current_bytes() - before;
    p.reset();
    drop(p.scope("warm").expect("scope"));
    let kept = current_bytes().saturating_sub(before);
    println!("memory/per_path: 1000 paths over six decades: {} B per path", recorded / 1_000);
    println!("memory/per_path: after reset: {kept} B kept for all 1000 (interned names stay)");
}
