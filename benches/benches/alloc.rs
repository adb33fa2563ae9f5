//! The tracking allocator's cost per allocation + free, against the system allocator it wraps,
//! on 1 thread and on 2 threads at once (the process totals are shared atomics).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use perfcore::alloc::TrackingAllocator;

static TRACKING: TrackingAllocator<System> = TrackingAllocator::new(System);

fn alloc_free<A: GlobalAlloc>(a: &A, layout: Layout) {
    // SAFETY: `layout` has a non-zero size, and the pointer is freed with the same layout.
    unsafe {
        let p = a.alloc(layout);
        assert!(!p.is_null());
        std::hint::black_box(p);
        a.dealloc(p, layout);
    }
}

fn two_threads<A: GlobalAlloc + Sync>(a: &A, layout: Layout, iters: u64) -> Duration {
    let barrier = Barrier::new(2);
    let total: Duration = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let t = Instant::now();
                    for _ in 0..iters {
                        alloc_free(a, layout);
                    }
                    t.elapsed()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    total / 2
}

fn alloc(c: &mut Criterion) {
    let layout = Layout::from_size_align(64, 8).unwrap();
    let mut g = c.benchmark_group("alloc_free/1thread");
    g.bench_function("system", |b| b.iter(|| alloc_free(&System, layout)));
    g.bench_function("tracking", |b| b.iter(|| alloc_free(&TRACKING, layout)));
    g.finish();
    let mut g = c.benchmark_group("alloc_free/2threads");
    g.bench_function("system", |b| b.iter_custom(|n| two_threads(&System, layout, n)));
    g.bench_function("tracking", |b| b.iter_custom(|n| two_threads(&TRACKING, layout, n)));
    g.finish();
}

criterion_group!(benches, alloc);
criterion_main!(benches);
