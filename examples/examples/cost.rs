//! The cost monitor end to end: seed 003's tracked server, the real FOCUS billing sample,
//! breakdowns, the cost report, and what each profiled function costs.
//!
//! ```text
//! cargo run --release -p perfcore-examples --example cost -- target/example-cost.json [FOCUS_FILE]
//! ```
//!
//! Writes the report as JSON to the path given and as HTML beside it (`.html`).

use std::path::PathBuf;

use perfcore::PerformanceProfiler;
use perfcore::cost::{
    CloudProvider, CostMetric, CostMonitor, Dimension, ImportOptions, Period, Price, ReportPeriod,
    Resource, ResourceType, function_costs, function_costs_text,
};

/// A small workload to price: parsing and summing invoice lines.
#[inline(never)]
fn parse_lines(p: &PerformanceProfiler, text: &str) -> Vec<f64> {
    let _s = p.scope("invoice::parse_lines").expect("scope");
    text.lines().filter_map(|l| l.rsplit(',').next()?.parse().ok()).collect()
}

#[inline(never)]
fn total(p: &PerformanceProfiler, values: &[f64]) -> f64 {
    let _s = p.scope("invoice::total").expect("scope");
    values.iter().sum()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "target/example-cost.json".into()));
    let focus = args.next().map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/focus/focus_sample.csv"),
        PathBuf::from,
    );

    // Seed 003, in Rust: one server, tracked by the application itself.
    let mut monitor = CostMonitor::new()?;
    let mut server = Resource::new("app-server-01", ResourceType::Compute, CloudProvider::Aws)
        .usage_hours("720".parse()?)
        .cost_per_hour("0.096".parse()?);
    server.metadata.insert("utilization".into(), serde_json::json!(0.65));
    monitor.track_resource(server)?;
    let report = monitor.report(ReportPeriod::Monthly)?;
    println!("Total cost: ${:.2}", report.total_cost.amount);
    println!("Potential savings: ${:.2}", report.estimated_savings.amount);
    for opp in &report.optimization_opportunities {
        println!("{}: {}", opp.kind, opp.recommendation);
        println!("Savings: ${:.2}", opp.potential_savings.amount);
        let result = monitor.apply_optimization(opp)?;
        println!("Optimization applied: {}", result.message);
    }

    // Real billing data: the FOCUS 1.0 sample (AWS, Azure, Oracle), in its own monitor.
    let mut billing = CostMonitor::new()?;
    let summary = billing.import(&focus, &ImportOptions::default())?;
    print!("\n{}", summary.describe());
    let month = billing.resolve_period(ReportPeriod::Monthly)?;
    let by_service =
        billing.breakdown(month, &[Dimension::Provider, Dimension::Service], CostMetric::Billed)?;
    println!("\nTop services, {month}:");
    for row in by_service.rows.iter().take(5) {
        println!("  {:>10}  {}", format!("{:.2}", row.cost.amount), row.keys.join(" / "));
    }
    let report = billing.report(ReportPeriod::Range(Period::new(month.from, month.to)?))?;
    std::fs::write(&out, report.to_json())?;
    let html = out.with_extension("html");
    report.write_html(&html)?;
    println!("wrote {} and {}", out.display(), html.display());

    // What each function costs, at $0.048 per vCPU-hour.
    let profiler = PerformanceProfiler::new();
    let text: String =
        (0..2_000).map(|i| format!("line {i},{}.{:02}\n", i % 97, i % 100)).collect();
    for _ in 0..200 {
        let values = parse_lines(&profiler, &text);
        std::hint::black_box(total(&profiler, &values));
    }
    let price = Price::per_vcpu_hour("0.048".parse()?);
    let costs = function_costs(&profiler.snapshot(), &price)?;
    print!("\n{}", function_costs_text(&costs, &price, 10));
    Ok(())
}
