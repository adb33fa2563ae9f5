//! Memory is bounded by callsites × threads, never by calls: the process heap after 100M
//! recorded calls against after 1M, with the tracking allocator counting every byte.
//!
//! `cargo bench -p perfcore-benches --bench memory` prints the figures recorded in
//! BENCHMARKS.md. (A plain program, not criterion: it measures bytes, not time.)

use perfcore::alloc::{TrackingAllocator, current_bytes};
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
        "memory/bounded: growth from {first} to {total} calls: {} B ({} histogram chunks of 8 KiB)",
        after_total - after_first,
        (after_total - after_first) / 8192
    );
}
