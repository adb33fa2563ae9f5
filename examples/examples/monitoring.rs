//! Live monitoring of a small service: profiled handlers, a cache whose hit rate is an
//! application metric, the seed's alert rules plus one on the cache, alerts written to a
//! JSON-lines file, and the Prometheus endpoint, scraped once by the example itself.
//!
//! ```text
//! cargo run --release -p perfcore-examples --example monitoring -- target/monitoring.json
//! cargo run --release -p perfcore-examples --example monitoring -- target/m.json --seconds 60 --addr 127.0.0.1:9464
//! ```
//!
//! While it runs, `curl http://<addr>/metrics` shows what a Prometheus scrapes (the
//! examples/prometheus rules evaluate the same thresholds there). At the end it prints the
//! alerts raised and the size and cost of its own last scrape, and writes them to the JSON
//! file named first.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use perfcore::monitor::{self, AlertRule, JsonLinesSink, Monitor};
use perfcore::profile;

struct Args {
    out: String,
    seconds: u64,
    addr: String,
}

fn args() -> Args {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let value =
        |flag: &str| argv.iter().position(|a| a == flag).and_then(|i| argv.get(i + 1)).cloned();
    Args {
        out: argv
            .first()
            .filter(|a| !a.starts_with("--"))
            .cloned()
            .unwrap_or_else(|| "target/monitoring.json".into()),
        seconds: value("--seconds").and_then(|s| s.parse().ok()).unwrap_or(3),
        addr: value("--addr").unwrap_or_else(|| "127.0.0.1:0".into()),
    }
}

/// A lookup that hits a small cache three times in four, and costs more when it misses.
#[profile]
fn lookup(key: u64, cache: &monitor::Ratio) -> u64 {
    if key.is_multiple_of(4) {
        cache.miss();
        (0..2_000u64).fold(key, |a, b| a.wrapping_mul(31).wrapping_add(b))
    } else {
        cache.hit();
        key.wrapping_mul(7)
    }
}

/// A request: two lookups; one in 12 fails (above the default 5% error-rate threshold).
#[profile]
fn handle(request: u64, cache: &monitor::Ratio) -> Result<u64, String> {
    let a = lookup(request, cache);
    let b = lookup(request / 3, cache);
    if request.is_multiple_of(12) { Err(format!("request {request} failed")) } else { Ok(a ^ b) }
}

fn scrape(addr: std::net::SocketAddr) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: example\r\n\r\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    Ok(text)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args();
    let cache = monitor::ratio("cache_hit", "Lookups the cache answered.", &[("cache", "users")])?;
    let queue = monitor::gauge("queue_depth", "Requests waiting.", &[])?;
    let alerts_file = std::path::Path::new(&args.out).with_extension("alerts.jsonl");
    let _ = std::fs::remove_file(&alerts_file);
    // The seed's thresholds (CPU 80/90%, memory 85/95%, disk 90/95%, p95 over 2 s, errors
    // over 5%) with their `for` durations shortened so a short run shows them, and the seed's
    // "cache hit rate < 80%".
    let mut rules: Vec<AlertRule> =
        AlertRule::defaults().into_iter().map(|r| r.for_duration(Duration::from_secs(1))).collect();
    rules.push(AlertRule::parse("cache_cold: cache_hit_ratio < 0.8 for 1s severity warning")?);
    let mon = Monitor::builder()
        .interval(Duration::from_millis(250))
        .rules(rules)
        .sink(JsonLinesSink::open(&alerts_file)?)
        .start()?;
    let server = mon.serve_metrics(&args.addr)?;
    println!("serving {} for {} s", server.url(), args.seconds);

    let started = Instant::now();
    let mut requests = 0u64;
    while started.elapsed() < Duration::from_secs(args.seconds) {
        for _ in 0..200 {
            requests += 1;
            let _ = std::hint::black_box(handle(requests, &cache));
        }
        queue.set((requests % 17) as f64);
        std::thread::sleep(Duration::from_millis(5));
    }

    let text = scrape(server.local_addr())?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let active = mon.active_alerts();
    let sample = mon.latest();
    println!(
        "{requests} requests; the cache answered {:.1}% of lookups",
        cache.value().unwrap_or(0.0) * 100.0
    );
    println!(
        "last scrape: {} bytes, {} series, built in {:?}",
        body.len(),
        body.lines().filter(|l| !l.starts_with('#')).count(),
        server.last_scrape_duration()
    );
    for a in &active {
        println!(
            "alert {} ({}, {}): {:?} = {:.3}",
            a.rule,
            a.severity.as_str(),
            a.state.as_str(),
            a.labels,
            a.value
        );
    }
    mon.stop();
    let events = std::fs::read_to_string(&alerts_file).unwrap_or_default();
    println!("{} alert events written to {}", events.lines().count(), alerts_file.display());
    let summary = serde_json::json!({
        "requests": requests,
        "cache_hit_ratio": cache.value(),
        "scrape_bytes": body.len(),
        "scrape_seconds": server.last_scrape_duration().as_secs_f64(),
        "active_alerts": active,
        "alert_events": events.lines().count(),
        "cpu_utilization": sample.as_ref().map(|s| s.cpu_utilization),
    });
    std::fs::write(&args.out, serde_json::to_string_pretty(&summary)?)?;
    assert!(body.contains("perfcore_cache_hit_hits_total"), "the scrape lacks the cache metrics");
    Ok(())
}
