//! Cost of one enter+exit of an empty scope with the timeline off and on, side by side, on an
//! independent profiler with a static callsite (the same scope as `overhead`'s
//! `scope/1thread/perfcore_macro_instance`).
//!
//! Ids: `scope_timeline/off` (`ProfilerBuilder::timeline(0)`, the default),
//! `scope_timeline/on` (`timeline(4096)`: each scope also writes a 32-byte event to its
//! thread's ring, which wraps), `scope_timeline/on_nested` (an outer and an inner scope per
//! iteration, so two events; reported per iteration).
//!
//! Run: `cargo bench -p perfcore-benches --bench timeline -- --warm-up-time 1 --measurement-time 5`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use perfcore::PerformanceProfiler;

const SCOPE: &str = "bench_timeline_scope";

fn run(profiler: &PerformanceProfiler, iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        perfcore::profile_scope!(profiler, "bench_timeline_scope");
        black_box(i);
    }
    start.elapsed()
}

fn run_nested(profiler: &PerformanceProfiler, iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        perfcore::profile_scope!(profiler, "bench_timeline_outer");
        {
            perfcore::profile_scope!(profiler, "bench_timeline_scope");
            black_box(i);
        }
    }
    start.elapsed()
}

fn timeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("scope_timeline");
    let off = PerformanceProfiler::builder().timeline(0).build().expect("valid settings");
    let on = PerformanceProfiler::builder().timeline(4096).build().expect("valid settings");
    group.bench_function("off", |b| b.iter_custom(|iters| run(&off, iters)));
    group.bench_function("on", |b| b.iter_custom(|iters| run(&on, iters)));
    group.bench_function("on_nested", |b| b.iter_custom(|iters| run_nested(&on, iters)));
    group.finish();
    for (p, events) in [(&off, false), (&on, true)] {
        if p.snapshot().function(SCOPE).is_some_and(|f| f.count > 0) {
            // Whether the bench ran (criterion may filter it out): then check what it recorded.
            assert_eq!(p.timeline().event_count() > 0, events, "timeline on: {events}");
        }
    }
}

criterion_group!(benches, timeline);
criterion_main!(benches);
