//! Snapshot cost: 1,000 callsites recorded on each of 8 live threads, merged into one snapshot.
//! Also the cost of serialising that snapshot to JSON and merging two of them.

use std::sync::Barrier;

use criterion::{Criterion, criterion_group, criterion_main};
use perfcore::PerformanceProfiler;

const CALLSITES: usize = 1_000;
const THREADS: usize = 8;
const CALLS_PER_CALLSITE: usize = 20;

fn snapshot(c: &mut Criterion) {
    let p = PerformanceProfiler::new();
    let names: Vec<String> = (0..CALLSITES).map(|i| format!("function_{i:04}")).collect();
    let recorded = Barrier::new(THREADS + 1);
    let done = Barrier::new(THREADS + 1);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for name in &names {
                    for i in 0..CALLS_PER_CALLSITE {
                        let _g = p.scope(name).unwrap();
                        // Vary durations so each histogram spans a few buckets.
                        for _ in 0..(i % 4) * 50 {
                            std::hint::black_box(i);
                        }
                    }
                }
                recorded.wait();
                // Stay alive: the snapshot reads live threads, the harder case.
                done.wait();
            });
        }
        recorded.wait();
        let snap = p.snapshot();
        assert_eq!(snap.functions().len(), CALLSITES);
        assert_eq!(snap.total_calls(), (CALLSITES * THREADS * CALLS_PER_CALLSITE) as u64);

        let mut g = c.benchmark_group("snapshot");
        g.sample_size(20);
        g.bench_function("1000_callsites_x_8_threads", |b| b.iter(|| p.snapshot()));
        g.bench_function("to_json_1000_callsites", |b| b.iter(|| snap.to_json()));
        let json = snap.to_json();
        g.bench_function("from_json_1000_callsites", |b| {
            b.iter(|| perfcore::Snapshot::from_json(&json).unwrap())
        });
        g.bench_function("merge_two_1000_callsite_snapshots", |b| {
            b.iter(|| {
                let mut m = snap.clone();
                m.merge(&snap);
                m
            })
        });
        g.finish();
        done.wait();
    });
}

criterion_group!(benches, snapshot);
criterion_main!(benches);
