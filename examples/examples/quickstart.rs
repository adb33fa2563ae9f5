//! Quickstart: profile a small log-analysis pipeline, print per-function statistics, and save
//! a JSON snapshot.
//!
//! ```text
//! cargo run --release -p perfcore-examples --example quickstart [-- SNAPSHOT_PATH]
//! ```
//!
//! The workload is real work: it generates an access log of 200,000 lines in 100 files of
//! 2,000, parses every line, aggregates latency and bytes per endpoint, and ranks the
//! endpoints. Each stage is a profiled function; the tracking allocator adds allocation
//! figures to each.
//!
//! `QUICKSTART_SLOWDOWN=quickstart::aggregate:20` makes one function 20% slower (it busy-waits for a
//! fifth of its own time after each call): the regression check of the README compares such
//! a run with a plain one.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Instant;

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

/// The function `QUICKSTART_SLOWDOWN` (`name:percent`) slows down, and by how much.
fn slowdown() -> Option<(&'static str, f64)> {
    static SETTING: OnceLock<Option<(String, f64)>> = OnceLock::new();
    let s = SETTING.get_or_init(|| {
        let v = std::env::var("QUICKSTART_SLOWDOWN").ok()?;
        let (name, pct) = v.rsplit_once(':')?;
        let name = name.strip_prefix("quickstart::").unwrap_or(name);
        Some((name.to_owned(), pct.parse::<f64>().ok()? / 100.0))
    });
    s.as_ref().map(|(n, p)| (n.as_str(), *p))
}

/// Busy-waits after `function`'s work, if it is the one to slow down, so that the call takes
/// the chosen fraction longer than its work did.
fn maybe_slow(function: &str, started: Instant) {
    if let Some((name, fraction)) = slowdown()
        && name == function
    {
        let extra = started.elapsed().mul_f64(fraction);
        let until = Instant::now() + extra;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }
}

#[profile]
#[inline(never)]
fn generate_log(seed: u64, lines: usize) -> String {
    let started = Instant::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
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
    maybe_slow("generate_log", started);
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
#[inline(never)]
fn parse_line(line: &str) -> Option<Entry<'_>> {
    let started = Instant::now();
    let entry = parse_fields(line);
    maybe_slow("parse_line", started);
    entry
}

fn parse_fields(line: &str) -> Option<Entry<'_>> {
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
#[inline(never)]
fn parse_log(log: &str) -> Vec<Entry<'_>> {
    let started = Instant::now();
    let entries = log.lines().filter_map(parse_line).collect();
    maybe_slow("parse_log", started);
    entries
}

#[derive(Default)]
struct EndpointStats {
    requests: u64,
    errors: u64,
    bytes: u64,
    latencies: Vec<u32>,
}

#[profile]
#[inline(never)]
fn aggregate(entries: &[Entry<'_>], by_endpoint: &mut HashMap<String, EndpointStats>) {
    let started = Instant::now();
    for e in entries {
        let s = match by_endpoint.get_mut(e.endpoint) {
            Some(s) => s,
            // Room for every line up front: no call pays for growing the vector, so the
            // function's time per call is the same from the first file to the last.
            None => by_endpoint.entry(e.endpoint.to_owned()).or_insert_with(|| EndpointStats {
                latencies: Vec::with_capacity(FILES as usize * LINES_PER_FILE),
                ..EndpointStats::default()
            }),
        };
        s.requests += 1;
        s.errors += u64::from(e.status >= 500);
        s.bytes += e.bytes;
        s.latencies.push(e.latency_ms);
    }
    maybe_slow("aggregate", started);
}

#[profile]
#[inline(never)]
fn p95(latencies: &mut [u32]) -> u32 {
    latencies.sort_unstable();
    latencies[(latencies.len() * 95).div_ceil(100).saturating_sub(1)]
}

#[profile]
#[inline(never)]
fn rank(mut by_endpoint: HashMap<String, EndpointStats>) -> Vec<(String, u64, u64, u32)> {
    let mut rows: Vec<_> = by_endpoint
        .iter_mut()
        .map(|(name, s)| (name.to_string(), s.requests, s.errors, p95(&mut s.latencies)))
        .collect();
    rows.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| a.0.cmp(&b.0)));
    rows
}

/// Log files processed, and lines in each.
const FILES: u64 = 100;
const LINES_PER_FILE: usize = 2_000;

#[profile]
#[inline(never)]
fn run() -> Vec<(String, u64, u64, u32)> {
    let mut by_endpoint = HashMap::new();
    for file in 0..FILES {
        let log = generate_log(file, LINES_PER_FILE);
        let entries = parse_log(&log);
        aggregate(&entries, &mut by_endpoint);
    }
    rank(by_endpoint)
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
