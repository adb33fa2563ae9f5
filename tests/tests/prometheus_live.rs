//! A real Prometheus (Debian's `prometheus`, started here on loopback with a 1 s scrape
//! interval) scrapes perfcore's endpoint and a real Pushgateway (Debian's
//! `prometheus-pushgateway`) that a short-lived job pushed to; the test then asks
//! Prometheus's HTTP API for quantiles, rates and counts and checks them against perfcore's
//! own figures.
//!
//! The programs come from `.ci/install-tools.sh`. A test whose program is missing prints a
//! notice and passes, unless `PERFCORE_REQUIRE_TOOLS=1` (as CI sets it), when it fails.

#[path = "common/prom.rs"]
mod prom;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use perfcore::PerformanceProfiler;
use perfcore::monitor::{Observation, PushOptions, ServerOptions};
use perfcore::testing::ManualClock;
use prom::{Program, free_port, get, have, query, query_until, scratch, start_prometheus};

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// The durations of the calls, in µs: 100, 200, …, 2000, then again (uniform, so the p95
/// of any window of whole cycles is the same).
fn duration_us(i: u64) -> u64 {
    100 * (1 + i % 20)
}

/// The `2^k − 1` ns bucket of the endpoint's histograms that holds `ns`: its lower and upper
/// bound in seconds.
fn coarse_bucket(ns: u64) -> (f64, f64) {
    let k = u64::BITS - ns.leading_zeros();
    (((1u64 << (k - 1)) - 1) as f64 / 1e9, ((1u64 << k) - 1) as f64 / 1e9)
}

#[test]
fn a_real_prometheus_scrapes_the_endpoint_and_the_pushgateway() {
    if !have("prometheus") || !have("prometheus-pushgateway") {
        return;
    }
    let dir = scratch("scrape");

    // The service: a profiler on a manual clock, so every call's duration is known.
    let clock = ManualClock::new();
    let profiler = Arc::new(PerformanceProfiler::builder().clock(&clock).build().unwrap());
    let p = Arc::clone(&profiler);
    let server = ServerOptions::new("127.0.0.1:0")
        .snapshot(move || p.snapshot())
        .source(|| vec![Observation::gauge("queue_depth", "Jobs waiting.", 7.0)])
        .default_sources(false)
        .start()
        .unwrap();

    // The gateway, and a short-lived job that pushes to it once.
    let gw_port = free_port();
    let gateway = Program::start(
        Command::new("prometheus-pushgateway")
            .arg(format!("--web.listen-address=127.0.0.1:{gw_port}"))
            .arg(format!("--persistence.file={}", dir.join("gw.db").display())),
        dir.join("pushgateway.log"),
    );
    let gw_addr: SocketAddr = format!("127.0.0.1:{gw_port}").parse().unwrap();

    let (prometheus, prom) = start_prometheus(
        &dir,
        &format!(
            "  - job_name: service\n    static_configs:\n      - targets: ['{}']\n\
             \x20 - job_name: pushgateway\n    honor_labels: true\n    static_configs:\n      - targets: ['127.0.0.1:{gw_port}']\n",
            server.local_addr()
        ),
        2,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(get(gw_addr, "/-/ready"), Ok((200, _))) {
        assert!(Instant::now() < deadline, "the gateway never got ready:\n{}", gateway.log());
        std::thread::sleep(Duration::from_millis(200));
    }

    // The job: its own profiler, pushed once, then it ends.
    {
        let job_clock = ManualClock::new();
        let job = Arc::new(PerformanceProfiler::builder().clock(&job_clock).build().unwrap());
        for _ in 0..40 {
            let _g = job.scope("batch_step").unwrap();
            job_clock.advance(Duration::from_millis(3));
        }
        let j = Arc::clone(&job);
        PushOptions::new(&format!("http://{gw_addr}"), "nightly")
            .unwrap()
            .grouping_label("instance", "runner/1")
            .unwrap()
            .snapshot(move || j.snapshot())
            .default_sources(false)
            .push()
            .unwrap();
    }

    // The load: 50 calls every 10 ms, one in ten failed, for 8 s; the count at each tick is
    // kept, to compute perfcore's own call rate over any window.
    let calls = Arc::new(AtomicU64::new(0));
    let ticks: Arc<Mutex<Vec<(f64, u64)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (profiler, clock, calls, ticks, stop) = (
            Arc::clone(&profiler),
            clock.clone(),
            Arc::clone(&calls),
            Arc::clone(&ticks),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || {
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(8) && !stop.load(Ordering::Relaxed) {
                for _ in 0..50 {
                    let i = calls.load(Ordering::Relaxed);
                    let g = profiler.scope("checkout").unwrap();
                    clock.advance(Duration::from_micros(duration_us(i)));
                    if i % 10 == 9 {
                        g.mark_failed();
                    }
                    drop(g);
                    calls.store(i + 1, Ordering::Relaxed);
                }
                ticks.lock().unwrap().push((unix_now(), calls.load(Ordering::Relaxed)));
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    load.join().unwrap();
    let total = calls.load(Ordering::Relaxed);
    let ticks = ticks.lock().unwrap().clone();
    let diagnostics =
        || format!("prometheus log:\n{}\ngateway log:\n{}", prometheus.log(), gateway.log());

    // Every call, counted exactly, once Prometheus has scraped after the load ended.
    let count = query_until(
        prom,
        r#"perfcore_function_duration_seconds_count{job="service",function="checkout"}"#,
        Duration::from_secs(30),
        |v| v == total as f64,
    );
    assert_eq!(count, Some(total as f64), "{}", diagnostics());
    let errors = query(prom, r#"perfcore_function_errors_total{function="checkout"}"#, None);
    assert_eq!(errors.len(), 1, "{}", diagnostics());
    assert_eq!(errors[0].1, (total / 10) as f64);

    // The p95 of all calls, from the cumulative buckets, lies in the bucket that holds
    // perfcore's own p95.
    let own = profiler.snapshot();
    let own_p95 = own.function("checkout").unwrap().quantile(0.95).unwrap();
    let (lo, hi) = coarse_bucket(u64::try_from(own_p95.as_nanos()).unwrap());
    let all = query(
        prom,
        r#"histogram_quantile(0.95, perfcore_function_duration_seconds_bucket{function="checkout"})"#,
        None,
    );
    assert_eq!(all.len(), 1, "{}", diagnostics());
    assert!(
        lo <= all[0].1 && all[0].1 <= hi,
        "p95 {} outside [{lo}, {hi}] ({own_p95:?})",
        all[0].1
    );

    // During the load: the p95 over a 4 s window of rates, the call rate against perfcore's
    // own count over the same window, and the error ratio.
    let (first, last) = (ticks[0].0, ticks[ticks.len() - 1].0);
    let at = last - 1.5;
    assert!(at - 4.0 > first, "the load ran {:.1} s only", last - first);
    let p95 = query(
        prom,
        r#"histogram_quantile(0.95, sum by (le) (rate(perfcore_function_duration_seconds_bucket{job="service"}[4s])))"#,
        Some(at),
    );
    assert_eq!(p95.len(), 1, "{p95:?} at {at} (load {first}..{last}): {}", diagnostics());
    assert!(lo <= p95[0].1 && p95[0].1 <= hi, "windowed p95 {} outside [{lo}, {hi}]", p95[0].1);
    let rate = query(
        prom,
        r#"rate(perfcore_function_duration_seconds_count{function="checkout"}[4s])"#,
        Some(at),
    );
    assert_eq!(rate.len(), 1, "{}", diagnostics());
    let count_at =
        |t: f64| ticks.iter().take_while(|(at, _)| *at <= t).last().map_or(0, |(_, n)| *n);
    let own_rate = (count_at(at) - count_at(at - 4.0)) as f64 / 4.0;
    let ratio = rate[0].1 / own_rate;
    assert!((0.7..1.3).contains(&ratio), "rate {} against perfcore's {own_rate}", rate[0].1);
    let error_ratio = query(
        prom,
        r#"rate(perfcore_function_errors_total{function="checkout"}[4s]) / rate(perfcore_function_duration_seconds_count{function="checkout"}[4s])"#,
        Some(at),
    );
    assert_eq!(error_ratio.len(), 1);
    assert!((error_ratio[0].1 - 0.1).abs() < 0.02, "error ratio {}", error_ratio[0].1);

    // The observations went through too.
    let queue = query(prom, r#"perfcore_queue_depth{job="service"}"#, None);
    assert_eq!(queue.iter().map(|q| q.1).collect::<Vec<_>>(), [7.0]);

    // The pushed job, through the gateway, with its grouping labels kept (honor_labels).
    let pushed = query_until(
        prom,
        r#"perfcore_function_duration_seconds_count{job="nightly",instance="runner/1",function="batch_step"}"#,
        Duration::from_secs(15),
        |v| v == 40.0,
    );
    assert_eq!(pushed, Some(40.0), "{}", diagnostics());
    let pushed_sum = query(prom, r#"perfcore_function_duration_seconds_sum{job="nightly"}"#, None);
    assert_eq!(pushed_sum.len(), 1);
    assert!((pushed_sum[0].1 - 0.12).abs() < 1e-9, "sum {}", pushed_sum[0].1);

    // And a scrape of the endpoint never failed.
    let up = query(prom, r#"up{job="service"}"#, None);
    assert_eq!(up.iter().map(|u| u.1).collect::<Vec<_>>(), [1.0]);
    assert!(server.scrapes() >= 5, "only {} scrapes", server.scrapes());
    assert_eq!(server.errors(), 0);
    stop.store(true, Ordering::Relaxed);
}
