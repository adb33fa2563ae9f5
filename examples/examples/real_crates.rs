//! Real crates' hot code, profiled: a log-archive pipeline that gzips and un-gzips log files
//! with `flate2`, reads JSON lines with `serde_json`, classifies requests with `regex`, and
//! aggregates them. Each stage is a `#[profile]` function around the crate's call, so a
//! function's self time is the crate's work done for it.
//!
//! ```text
//! cargo run --release -p perfcore-examples --example real_crates [-- SNAPSHOT_PATH [FILES]]
//! ```
//!
//! `.ci/ranking-check.sh` runs this example and the quickstart under
//! `valgrind --tool=callgrind` and compares perfcore's self-time ranking with callgrind's
//! instruction counts (BENCHMARKS.md, "Does the ranking agree with callgrind?"). The
//! profiled functions are `#[inline(never)]` only so that callgrind sees each as a symbol of
//! its own; perfcore needs no such thing.

use std::collections::HashMap;
use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use perfcore::profile;
use perfcore::testing::Rng;
use regex::Regex;

const PATHS: [&str; 8] = [
    "/api/v2/users/{id}",
    "/api/v2/orders/{id}/items",
    "/api/v2/search?q=shoes&page={id}",
    "/static/js/app.{id}.js",
    "/health",
    "/api/v2/checkout",
    "/images/products/{id}.webp",
    "/api/v1/legacy/report/{id}",
];
const AGENTS: [&str; 4] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "curl/8.5.0",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "python-requests/2.32.3",
];

/// One log file of `lines` JSON lines.
#[profile]
#[inline(never)]
fn generate(seed: u64, lines: usize) -> Vec<u8> {
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15 ^ seed);
    let mut out = Vec::with_capacity(lines * 200);
    for i in 0..lines {
        let r = rng.next_u64();
        let path = PATHS[(r % PATHS.len() as u64) as usize].replace("{id}", &(r >> 40).to_string());
        let record = serde_json::json!({
            "ts": 1_764_000_000_000_u64 + i as u64 * 37,
            "method": if r.is_multiple_of(7) { "POST" } else { "GET" },
            "path": path,
            "status": match r % 100 { 0..=2 => 500, 3..=9 => 404, _ => 200 },
            "latency_ms": 1 + (r >> 20) % 400,
            "bytes": 200 + (r >> 30) % 80_000,
            "agent": AGENTS[((r >> 8) % AGENTS.len() as u64) as usize],
        });
        serde_json::to_writer(&mut out, &record).expect("writing to a Vec cannot fail");
        out.push(b'\n');
    }
    out
}

#[profile]
#[inline(never)]
fn compress(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut gz = GzEncoder::new(Vec::with_capacity(raw.len() / 4), Compression::default());
    gz.write_all(raw)?;
    gz.finish()
}

#[profile]
#[inline(never)]
fn decompress(gz: &[u8]) -> std::io::Result<String> {
    let mut text = String::new();
    GzDecoder::new(gz).read_to_string(&mut text)?;
    Ok(text)
}

#[derive(serde::Deserialize)]
struct Request<'a> {
    #[serde(borrow)]
    path: &'a str,
    status: u16,
    latency_ms: u32,
    bytes: u64,
    #[serde(borrow)]
    agent: &'a str,
}

#[profile]
#[inline(never)]
fn parse(line: &str) -> Result<Request<'_>, serde_json::Error> {
    serde_json::from_str(line)
}

/// The route a request's path belongs to, and whether a bot sent it.
#[profile]
#[inline(never)]
fn classify(
    rules: &[(Regex, &'static str)],
    bots: &Regex,
    req: &Request<'_>,
) -> (&'static str, bool) {
    let route =
        rules.iter().find(|(re, _)| re.is_match(req.path)).map_or("other", |(_, name)| *name);
    (route, bots.is_match(req.agent))
}

#[derive(Default, Debug)]
struct Route {
    requests: u64,
    bot_requests: u64,
    errors: u64,
    bytes: u64,
    slowest_ms: u32,
}

#[profile]
#[inline(never)]
fn process(
    gz: &[u8],
    rules: &[(Regex, &'static str)],
    bots: &Regex,
    routes: &mut HashMap<&'static str, Route>,
) -> Result<(), Box<dyn std::error::Error>> {
    let text = decompress(gz)?;
    for line in text.lines() {
        let req = parse(line)?;
        let (route, bot) = classify(rules, bots, &req);
        let r = routes.entry(route).or_default();
        r.requests += 1;
        r.bot_requests += u64::from(bot);
        r.errors += u64::from(req.status >= 500);
        r.bytes += req.bytes;
        r.slowest_ms = r.slowest_ms.max(req.latency_ms);
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "target/real-crates-snapshot.json".into());
    let files: u64 = match args.next() {
        Some(n) => n.parse()?,
        None => 40,
    };
    let rules: Vec<(Regex, &'static str)> = vec![
        (Regex::new(r"^/api/v2/users/\d+$")?, "users"),
        (Regex::new(r"^/api/v2/orders/\d+/items$")?, "orders"),
        (Regex::new(r"^/api/v2/search\?(?:[a-z]+=[^&]*&?)+$")?, "search"),
        (Regex::new(r"^/api/v2/checkout$")?, "checkout"),
        (Regex::new(r"^/(?:static|images)/.+\.(?:js|css|webp|png)$")?, "assets"),
        (Regex::new(r"^/api/v1/")?, "legacy"),
    ];
    let bots = Regex::new(r"(?i)bot|crawler|spider|curl|python-requests")?;

    let mut routes = HashMap::new();
    for file in 0..files {
        let raw = generate(file, 2_000);
        let gz = compress(&raw)?;
        process(&gz, &rules, &bots, &mut routes)?;
    }
    let mut rows: Vec<_> = routes.into_iter().collect();
    rows.sort_by_key(|(name, r)| (std::cmp::Reverse(r.requests), *name));
    for (name, r) in &rows {
        println!(
            "{name:<9} {:>7} requests ({:>6} by bots) {:>5} errors {:>11} bytes, slowest {} ms",
            r.requests, r.bot_requests, r.errors, r.bytes, r.slowest_ms
        );
    }

    let snapshot = perfcore::global().snapshot();
    println!();
    print!("{snapshot}");
    if let Some(dir) = std::path::Path::new(&path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    snapshot.write_json(&path)?;
    println!("\nsnapshot written to {path}");
    Ok(())
}
