//! Quickstart: profile a small log-analysis pipeline, print per-function statistics, and save
//! a JSON snapshot.
//!
//! ```text
//! cargo run --release -p perfcore-examples --example quickstart [-- SNAPSHOT_PATH]
//! ```
//!
//! The workload is real work: it generates an access log of 200,000 lines, parses every line,
//! aggregates latency and bytes per endpoint, and ranks the endpoints. Each stage is a
//! profiled function; the tracking allocator adds allocation figures to each.

use std::collections::HashMap;

use perfcore::alloc::TrackingAllocator;
use perfcore::profile;

#[global_allocator]
static ALLOC: TrackingAllocator<std::alloc::System> = TrackingAllocator::new(std::alloc::System);

const ENDPOINTS: [&str; 6] =
    ["/api/users", "/api/orders", "/api/search", "/static/app.js", "/health", "/api/checkout"];

/// A small deterministic PRNG (xorshift64*), so every run parses the same log.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[profile]
fn generate_log(lines: usize) -> String {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = String::with_capacity(lines * 64);
    for i in 0..lines {
        let r = rng.next();
        let which = (r % ENDPOINTS.len() as u64) as usize;
        let endpoint = ENDPOINTS[which];
        let status = match r % 100 {
            0..=2 => 500,
            3..=9 => 404,
            _ => 200,
        };
        // Each endpoint has its own latency scale: /api/users ~40 ms ... /api/checkout ~240 ms.
        let latency_ms = 1 + (r >> 20) % (40 * (which as u64 + 1));
        let bytes = 200 + (r >> 40) % 50_000;
        out.push_str(&format!(
            "2026-11-23T10:{:02}:{:02}Z GET {endpoint} {status} {latency_ms}ms {bytes}\n",
            (i / 60) % 60,
            i % 60
        ));
    }
    out
}

#[derive(Debug)]
struct Entry<'a> {
    endpoint: &'a str,
    status: u16,
    latency_ms: u32,
    bytes: u64,
}

#[profile]
fn parse_line(line: &str) -> Option<Entry<'_>> {
    let mut fields = line.split(' ');
    let _timestamp = fields.next()?;
    let _method = fields.next()?;
    let endpoint = fields.next()?;
    let status = fields.next()?.parse().ok()?;
    let latency_ms = fields.next()?.strip_suffix("ms")?.parse().ok()?;
    let bytes = fields.next()?.parse().ok()?;
    Some(Entry { endpoint, status, latency_ms, bytes })
}

#[profile]
fn parse_log(log: &str) -> Vec<Entry<'_>> {
    log.lines().filter_map(parse_line).collect()
}

#[derive(Default)]
struct EndpointStats {
    requests: u64,
    errors: u64,
    bytes: u64,
    latencies: Vec<u32>,
}

#[profile]
fn aggregate<'a>(entries: &[Entry<'a>]) -> HashMap<&'a str, EndpointStats> {
    let mut by_endpoint: HashMap<&str, EndpointStats> = HashMap::new();
    for e in entries {
        let s = by_endpoint.entry(e.endpoint).or_default();
        s.requests += 1;
        s.errors += u64::from(e.status >= 500);
        s.bytes += e.bytes;
        s.latencies.push(e.latency_ms);
    }
    by_endpoint
}

#[profile]
fn p95(latencies: &mut [u32]) -> u32 {
    latencies.sort_unstable();
    latencies[(latencies.len() * 95).div_ceil(100).saturating_sub(1)]
}

#[profile]
fn rank(mut by_endpoint: HashMap<&str, EndpointStats>) -> Vec<(String, u64, u64, u32)> {
    let mut rows: Vec<_> = by_endpoint
        .iter_mut()
        .map(|(name, s)| (name.to_string(), s.requests, s.errors, p95(&mut s.latencies)))
        .collect();
    rows.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| a.0.cmp(&b.0)));
    rows
}

#[profile]
fn run() -> Vec<(String, u64, u64, u32)> {
    let log = generate_log(200_000);
    let entries = parse_log(&log);
    rank(aggregate(&entries))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "target/quickstart-snapshot.json".into());
    let ranked = run();

    println!("endpoints by p95 latency:");
    for (endpoint, requests, errors, p95) in &ranked {
        println!("  {endpoint:<16} {requests:>7} requests {errors:>5} errors  p95 {p95} ms");
    }

    let snapshot = perfcore::global().snapshot();
    println!("\nper-function statistics ({:?} clock):", perfcore::clock_source());
    print!("{snapshot}");
    let width = snapshot.functions().iter().map(|f| f.name.len()).max().unwrap_or(0);
    println!("\nallocations (tracking allocator):");
    for f in snapshot.functions() {
        if let Some(a) = f.allocations {
            println!(
                "  {:<width$} {:>10} bytes in {:>7} allocations, {:>10} bytes in its own body",
                f.name, a.allocated_bytes, a.allocations, a.self_allocated_bytes
            );
        }
    }
    println!(
        "process heap: {} bytes now, {} bytes peak",
        perfcore::alloc::current_bytes(),
        perfcore::alloc::peak_bytes()
    );

    if let Some(dir) = std::path::Path::new(&path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    snapshot.write_json(&path)?;
    println!("\nsnapshot written to {path}");
    Ok(())
}
