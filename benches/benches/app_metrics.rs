//! Cost of one increment of a labelled counter: perfcore's application metrics and their peers,
//! in the same run, on 1 thread and with 2 threads hammering the same series.
//!
//! Groups `increment/1thread/<variant>` and `increment/2threads/<variant>` (mean per-thread
//! time while both threads increment at once); every variant increments the series
//! `requests_total{route="/api"}`:
//! - `perfcore_handle`: a `perfcore::monitor::Counter` held by the caller (striped cells);
//! - `perfcore_facade_handle`: a `metrics::Counter` handle from perfcore's `MetricsRecorder`;
//! - `metrics_macro`: `metrics::counter!("requests", "route" => "/api").increment(1)` each
//!   time, with metrics-exporter-prometheus's recorder installed as the global recorder (the
//!   recorder most `metrics` users run; built without its HTTP listener);
//! - `metrics_handle`: a `metrics::Counter` handle from that recorder, held by the caller;
//! - `prometheus_client_handle`: a `prometheus_client` `Counter` taken once from
//!   `Family::get_or_create` and held;
//! - `prometheus_client_get_or_create`: `family.get_or_create(&labels).inc()` each time;
//! - `perfcore_scope` (1 thread only): an empty `perfcore::profile_scope!`, the reference the
//!   issue sets ("as cheap as a scope").
//!
//! Run: `nice cargo bench -p perfcore-benches --bench app_metrics -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use prometheus_client::metrics::counter::Counter as PcCounter;
use prometheus_client::metrics::family::Family;

type Labels = Vec<(String, String)>;

/// Increments each thread runs before the start barrier (thread-local set-up untimed).
const THREAD_WARM_UP: u64 = 1024;

/// Two threads run `run(iters)` at once; the mean per-thread elapsed time.
fn two_threads(iters: u64, run: &(dyn Fn(u64) -> Duration + Sync)) -> Duration {
    let barrier = Barrier::new(2);
    let total: Duration = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    run(THREAD_WARM_UP);
                    barrier.wait();
                    run(iters)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("bench thread panicked")).sum()
    });
    total / 2
}

/// Times `iters` calls of `f`.
fn timed(iters: u64, f: impl Fn()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    // The peers' set-up: metrics-exporter-prometheus as the global `metrics` recorder.
    let prom = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let prom_handle = prom.handle();
    metrics::set_global_recorder(prom).expect("no other global recorder in this bench");
    let metrics_counter = metrics::counter!("requests", "route" => "/api");

    let family = Family::<Labels, PcCounter>::default();
    let labels: Labels = vec![("route".into(), "/api".into())];
    let pc_counter = family.get_or_create(&labels).clone();

    let registry: &'static perfcore::monitor::MetricsRegistry =
        Box::leak(Box::new(perfcore::monitor::MetricsRegistry::new()));
    let perfcore_counter =
        registry.counter("requests", "Requests.", &[("route", "/api")]).expect("valid name");
    let facade_registry: &'static perfcore::monitor::MetricsRegistry =
        Box::leak(Box::new(perfcore::monitor::MetricsRegistry::new()));
    let recorder = perfcore::monitor::MetricsRecorder::new(facade_registry);
    let facade_counter = metrics::with_local_recorder(
        &recorder,
        || metrics::counter!("requests", "route" => "/api"),
    );

    type Variant<'a> = (&'static str, Box<dyn Fn() + Sync + 'a>);
    let variants: Vec<Variant<'_>> = vec![
        ("perfcore_handle", Box::new(|| black_box(&perfcore_counter).inc())),
        ("perfcore_facade_handle", Box::new(|| black_box(&facade_counter).increment(1))),
        (
            "metrics_macro",
            Box::new(|| metrics::counter!("requests", "route" => "/api").increment(1)),
        ),
        ("metrics_handle", Box::new(|| black_box(&metrics_counter).increment(1))),
        (
            "prometheus_client_handle",
            Box::new(|| {
                black_box(&pc_counter).inc();
            }),
        ),
        (
            "prometheus_client_get_or_create",
            Box::new(|| {
                family.get_or_create(black_box(&labels)).inc();
            }),
        ),
    ];

    let mut one = c.benchmark_group("increment/1thread");
    for (name, f) in &variants {
        one.bench_function(*name, |b| b.iter_custom(|iters| timed(iters, f)));
    }
    one.bench_function("perfcore_scope", |b| {
        b.iter(|| {
            perfcore::profile_scope!("app_metrics_reference");
        });
    });
    one.finish();

    let mut two = c.benchmark_group("increment/2threads");
    for (name, f) in &variants {
        two.bench_function(*name, |b| b.iter_custom(|iters| two_threads(iters, &|n| timed(n, f))));
    }
    two.finish();

    // Proof that every variant recorded for real.
    assert!(perfcore_counter.value() > 0);
    assert!(facade_registry.observations().first().is_some_and(|o| o.value > 0.0));
    assert!(pc_counter.get() > 0);
    let text = prom_handle.render();
    assert!(text.contains("requests{route=\"/api\"}") || text.contains("requests_total"), "{text}");
}

criterion_group!(benches, bench);
criterion_main!(benches);
