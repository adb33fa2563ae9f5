//! The metrics endpoint's cost: one scrape of 1,000 profiled functions (snapshot and
//! exposition, and the whole HTTP round trip over loopback), and a profiling scope on the
//! application's thread alone and while a scraper hits the endpoint without pause.
//!
//! `cargo bench -p perfcore-benches --bench scrape`; BENCHMARKS.md has the figures.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use perfcore::PerformanceProfiler;
use perfcore::monitor::{Observation, ServerOptions, exposition};
use perfcore::report::PrometheusOptions;

const FUNCTIONS: usize = 1_000;
const CALLS_PER_FUNCTION: usize = 50;

/// A profiler with 1,000 functions, each with calls of a few durations (so each histogram
/// spans several buckets), recorded on this thread.
fn profiler() -> Arc<PerformanceProfiler> {
    let p = Arc::new(PerformanceProfiler::new());
    for f in 0..FUNCTIONS {
        let name = format!("service::handler_{f:04}");
        for i in 0..CALLS_PER_FUNCTION {
            let _g = p.scope(&name).unwrap();
            for _ in 0..(i % 5) * 40 {
                std::hint::black_box(i);
            }
        }
    }
    p
}

fn scrape_once(addr: SocketAddr) -> usize {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(
        b"GET /metrics HTTP/1.1\r\nHost: bench\r\nAccept: application/openmetrics-text\r\n\r\n",
    )
    .unwrap();
    let mut out = Vec::with_capacity(1 << 22);
    s.read_to_end(&mut out).unwrap();
    assert!(out.starts_with(b"HTTP/1.1 200"));
    out.len()
}

fn scrape(c: &mut Criterion) {
    let p = profiler();
    let snap = p.snapshot();
    assert_eq!(snap.functions().len(), FUNCTIONS);
    let system: Vec<Observation> = (0..64)
        .map(|i| {
            Observation::gauge("system_cpu_core_utilization_ratio", "", 0.5)
                .label("core", i.to_string())
        })
        .collect();
    let options = PrometheusOptions::new();
    let text = exposition(&snap, &system, &options);
    eprintln!("exposition of {FUNCTIONS} functions: {} bytes", text.len());

    let mut g = c.benchmark_group("scrape");
    g.sample_size(20);
    g.bench_function("snapshot_1000_functions", |b| b.iter(|| p.snapshot()));
    g.bench_function("exposition_1000_functions", |b| {
        b.iter(|| exposition(&snap, &system, &options))
    });
    let served = Arc::clone(&p);
    let server = ServerOptions::new("127.0.0.1:0")
        .snapshot(move || served.snapshot())
        .default_sources(false)
        .start()
        .unwrap();
    let addr = server.local_addr();
    g.bench_function("http_scrape_1000_functions", |b| b.iter(|| scrape_once(addr)));
    g.finish();

    // The hot path: one enter + exit of a scope on this thread, with no scraper, then with a
    // thread scraping the endpoint back to back (on a 2-core machine, the scraper's core is
    // the other one; with one core the comparison would measure the scheduler).
    let mut g = c.benchmark_group("scope_while_scraped");
    g.bench_function("alone", |b| {
        b.iter(|| {
            let _g = p.scope("hot").unwrap();
        })
    });
    // Back to back, the scraper and the endpoint's thread keep two threads busy besides this
    // one: on 2 cores that measures the scheduler as much as perfcore. Ten scrapes a second
    // (a hundred times Prometheus's usual rate) is the case a service lives with.
    let mut total = 0;
    for (name, pause) in [
        ("scraped_back_to_back", Duration::ZERO),
        ("scraped_ten_times_a_second", Duration::from_millis(100)),
    ] {
        let stop = Arc::new(AtomicBool::new(false));
        let scrapes = Arc::new(AtomicU64::new(0));
        let scraper = {
            let (stop, scrapes) = (Arc::clone(&stop), Arc::clone(&scrapes));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    scrape_once(addr);
                    scrapes.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(pause);
                }
            })
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                let _g = p.scope("hot").unwrap();
            })
        });
        stop.store(true, Ordering::Relaxed);
        scraper.join().unwrap();
        eprintln!("{} scrapes ran during {name}", scrapes.load(Ordering::Relaxed));
        total += scrapes.load(Ordering::Relaxed);
    }
    assert!(total > 0);
    g.finish();
    drop(server);
}

criterion_group!(benches, scrape);
criterion_main!(benches);
