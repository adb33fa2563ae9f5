//! One number per configuration, for A/B runs of a hot-path change: the best of 7 runs of
//! 10M empty scopes on one thread, and on two threads at once (the slower thread's figure).
//!
//! Criterion's per-variant figures on this VM move by several ns with code layout from one
//! build to the next; comparing two commits is clearer with this loop built at each and run
//! alternately (`git checkout A && cargo bench --bench hot_loop; git checkout B && ...`,
//! repeated). BENCHMARKS.md has the figures.

use std::time::Instant;

use perfcore::{Callsite, PerformanceProfiler};

static CS: Callsite = Callsite::new("hot_loop", module_path!(), file!(), line!());

fn run(p: &PerformanceProfiler, n: u64) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        let _g = p.enter(&CS);
        std::hint::black_box(());
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and gets a quick run.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (n, rounds) = if quick { (10_000, 1) } else { (10_000_000, 7) };
    let p = PerformanceProfiler::new();
    let (mut one, mut two) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..rounds {
        one = one.min(run(&p, n));
        let slower = std::thread::scope(|s| {
            let threads: Vec<_> = (0..2).map(|_| s.spawn(|| run(&p, n))).collect();
            threads.into_iter().map(|t| t.join().expect("bench thread")).fold(0.0, f64::max)
        });
        two = two.min(slower);
    }
    let count = p.snapshot().function("hot_loop").map_or(0, |f| f.count);
    assert_eq!(count, 3 * n * rounds as u64, "every scope recorded");
    println!("hot_loop: 1 thread {one:.2} ns per scope, 2 threads {two:.2} ns per scope");
}
