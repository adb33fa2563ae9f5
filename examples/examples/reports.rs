//! From `#[profile]` to every report: profiles a small order-processing service (nested calls,
//! a function with a fat tail, one that allocates, a cheap one called often, failures) with
//! the timeline on, then prints the hotspots and recommendations and writes each export.
//!
//! ```text
//! cargo run --release -p perfcore-examples --example reports [-- OUT_DIR]
//! ```
//!
//! `OUT_DIR` (default `target/reports`) receives `report.html` (open it in a browser),
//! `report.md`, `report.json`, `profile.folded` (flamegraph.pl, inferno), `profile.speedscope.json`
//! (speedscope.app), `profile.pb.gz` (`go tool pprof -top profile.pb.gz`), `trace.json`
//! (ui.perfetto.dev, chrome://tracing), `histograms.hlog` (HdrHistogram's tools) and
//! `metrics.prom` (Prometheus text), and `snapshot.json`, which `perfcore report` reads.

use std::path::PathBuf;

use perfcore::alloc::TrackingAllocator;
use perfcore::analysis::{HotspotOptions, RecommendationOptions};
use perfcore::testing::Rng;
use perfcore::{profile, report};

#[global_allocator]
static ALLOC: TrackingAllocator<std::alloc::System> = TrackingAllocator::new(std::alloc::System);

/// Real work that takes about `n` steps.
fn work(n: u64) -> u64 {
    (0..n).fold(0u64, |acc, i| acc.wrapping_mul(31).wrapping_add(i ^ (acc >> 7)))
}

#[profile]
fn validate(order: u64) -> Result<(), String> {
    std::hint::black_box(work(200));
    if order.is_multiple_of(97) { Err(format!("order {order}: unknown customer")) } else { Ok(()) }
}

#[profile]
fn price(items: u64) -> u64 {
    (0..items).map(tax).sum::<u64>() + std::hint::black_box(work(2_000))
}

/// Cheap and called for every item: its cost is mostly the scope around it.
#[profile]
fn tax(item: u64) -> u64 {
    item * 21 / 100
}

/// Usually fast; one call in fifty waits on a "slow replica".
#[profile]
fn reserve_stock(rng: &mut Rng) -> u64 {
    let steps = if rng.next_u64().is_multiple_of(50) { 400_000 } else { 4_000 };
    std::hint::black_box(work(steps))
}

/// Builds a receipt the wasteful way: a fresh String per line, then joined.
#[profile]
fn render_receipt(order: u64, items: u64) -> String {
    let lines: Vec<String> =
        (0..items).map(|i| format!("order {order} item {i}: {:>8}", i * 7)).collect();
    lines.join("\n")
}

#[profile]
fn handle_order(order: u64, rng: &mut Rng) -> Result<usize, String> {
    validate(order)?;
    let items = 5 + rng.next_u64() % 40;
    let total = price(items);
    std::hint::black_box(total + reserve_stock(rng));
    Ok(render_receipt(order, items).len())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "target/reports".into()));
    std::fs::create_dir_all(&out)?;
    // The timeline must be asked for before the first scope records into the global profiler.
    let profiler = perfcore::PerformanceProfiler::builder().timeline(8_192).init_global()?;

    let mut rng = Rng::new(0x5EED);
    let (mut ok, mut failed) = (0, 0);
    for order in 1..=3_000 {
        match handle_order(order, &mut rng) {
            Ok(_) => ok += 1,
            Err(_) => failed += 1,
        }
    }
    println!("{ok} orders handled, {failed} refused\n");

    let snap = profiler.snapshot();
    println!("hotspots:");
    for h in perfcore::analysis::identify_hotspots(&snap, &HotspotOptions::default()) {
        println!("  {h}");
    }
    println!("\nrecommendations (heuristics; impacts follow from the measured shares):");
    for r in perfcore::analysis::generate_recommendations(&snap, &RecommendationOptions::default())
    {
        println!("  {r}");
    }
    println!("\n{}", perfcore::analysis::performance_summary(&snap, None));

    let html = report::to_html(&snap, &report::HtmlOptions::default().title("order service"));
    let timeline = snap.timeline.as_ref().ok_or("the timeline was asked for")?;
    let mut hdr = Vec::new();
    report::write_hdr_log(&snap, &mut hdr)?;
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("report.html", html.into_bytes()),
        ("report.md", report::to_markdown(&snap, &report::MarkdownOptions::default()).into_bytes()),
        (
            "report.json",
            report::Report::new(&snap, &report::ReportOptions::default()).to_json().into_bytes(),
        ),
        ("profile.folded", report::to_folded(&snap).into_bytes()),
        ("profile.speedscope.json", report::to_speedscope_json(&snap).into_bytes()),
        ("profile.pb.gz", report::to_pprof(&snap)),
        ("trace.json", report::to_chrome_trace_json(timeline).into_bytes()),
        ("histograms.hlog", hdr),
        (
            "metrics.prom",
            report::to_prometheus_text(&snap, &report::PrometheusOptions::default()).into_bytes(),
        ),
        ("snapshot.json", snap.to_json().into_bytes()),
    ];
    println!();
    for (name, bytes) in files {
        let path = out.join(name);
        std::fs::write(&path, &bytes)?;
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}
