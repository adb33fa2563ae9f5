//! `perfcore top`'s redraw: one refresh of 1,000 profiled functions (the delta against the
//! previous snapshot, rates, the sort) and one full draw of the dashboard into a 160x50
//! terminal buffer (ratatui's `TestBackend`), against the 16 ms of a 60 Hz frame.
//!
//! `cargo bench -p perfcore-benches --bench top -- --warm-up-time 1 --measurement-time 3`.

use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use perfcore::monitor::Observation;
use perfcore::top::{App, draw};
use perfcore::{PerformanceProfiler, Snapshot};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const FUNCTIONS: usize = 1_000;

/// Calls of each of 1,000 functions, each inside a parent (so the call tree has 2,000
/// nodes), with a few durations so each histogram spans several buckets.
fn record(p: &PerformanceProfiler, calls: usize) {
    for f in 0..FUNCTIONS {
        let parent = format!("service::route_{:02}", f % 50);
        let name = format!("service::handler_{f:04}");
        for i in 0..calls {
            let _outer = p.scope(&parent).unwrap();
            let _g = p.scope(&name).unwrap();
            for _ in 0..(i % 5) * 40 {
                std::hint::black_box(i);
            }
        }
    }
}

fn observations(cpu: f64) -> Vec<Observation> {
    vec![
        Observation::gauge("system_cpu_utilization_ratio", "", cpu),
        Observation::gauge("system_memory_used_bytes", "", 3e9),
        Observation::gauge("system_memory_total_bytes", "", 8e9),
        Observation::gauge("alerts", "", 1.0)
            .label("alertname", "cpu_high")
            .label("alertstate", "firing")
            .label("severity", "critical"),
    ]
}

fn top(c: &mut Criterion) {
    let p = PerformanceProfiler::new();
    record(&p, 20);
    let before: Snapshot = p.snapshot();
    record(&p, 10);
    let after: Snapshot = p.snapshot();
    assert!(after.functions().len() >= FUNCTIONS);
    let t0 = Instant::now();
    // An app that has seen `before` (and some system history), about to take `after`.
    let primed = || {
        let mut app = App::new("http://127.0.0.1:9464");
        for i in 0..3 {
            app.update(before.clone(), &observations(f64::from(i % 10) / 10.0), t0);
        }
        app
    };
    let mut terminal = Terminal::new(TestBackend::new(160, 50)).unwrap();

    let mut group = c.benchmark_group("top");
    group.bench_function("update_and_draw/1000_functions_160x50", |b| {
        b.iter_batched(
            || (primed(), after.clone()),
            |(mut app, snap)| {
                app.update(snap, &observations(0.5), t0 + Duration::from_secs(1));
                terminal.draw(|frame| draw(frame, &app)).unwrap();
                app
            },
            BatchSize::LargeInput,
        );
    });
    let mut app = primed();
    app.update(after.clone(), &observations(0.5), t0 + Duration::from_secs(1));
    group.bench_function("draw/1000_functions_160x50", |b| {
        b.iter(|| {
            terminal.draw(|frame| draw(frame, &app)).unwrap();
        });
    });
    group.finish();
}

criterion_group!(benches, top);
criterion_main!(benches);
