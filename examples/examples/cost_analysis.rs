//! Forecasts, anomalies and opportunities over many services: a year of daily billing data
//! (generated, seeded) for N services, imported, then each analysis timed.
//!
//! ```text
//! cargo run --release -p perfcore-examples --example cost_analysis -- target/cost-analysis.json --services 1000
//! ```
//!
//! Issue 12's goal is forecast + anomalies + opportunities over 1 year × 1,000 services in
//! 1 s together (BENCHMARKS.md, "Cost analysis"). The test command runs it with 20 services.

use std::time::Instant;

use perfcore::cost::synthetic::{SyntheticRow, focus_csv};
use perfcore::cost::{
    AnomalyOptions, CostMonitor, Day, Dimension, ForecastRequest, ImportOptions, Period,
    decimal_from_f64,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "target/cost-analysis.json".into());
    let mut services = 20usize;
    while let Some(a) = args.next() {
        if a == "--services" {
            services = args.next().ok_or("--services N")?.parse()?;
        }
    }
    let start = Day::from_ymd(2025, 1, 1).ok_or("date")?;
    let mut seed = 42u64;
    let mut noise = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut rows = Vec::with_capacity(services * 365);
    for s in 0..services {
        let base = 5.0 + (s % 50) as f64 * 3.0;
        for i in 0..365 {
            let day = Day(start.0 + i);
            let weekend = (day.0 + 3).rem_euclid(7) >= 5;
            let mut cost = base * if weekend { 0.7 } else { 1.0 } * (1.0 + 0.002 * f64::from(i));
            cost *= 1.0 + 0.08 * noise();
            if s % 97 == 3 && i == 300 {
                cost *= 6.0; // a spike to find
            }
            let cost = decimal_from_f64(cost).ok_or("cost")?.round_dp(4);
            rows.push(SyntheticRow::new(day, &format!("svc-{s:04}"), &format!("r-{s:04}"), cost));
        }
    }
    let dir = std::env::temp_dir().join(format!("perfcore-cost-analysis-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("year.csv");
    std::fs::write(&file, focus_csv(&rows))?;
    let mut monitor = CostMonitor::new()?;
    let t = Instant::now();
    monitor.import(&file, &ImportOptions::default())?;
    let import_s = t.elapsed().as_secs_f64();
    std::fs::remove_dir_all(&dir)?;

    let t = Instant::now();
    let series = monitor.daily_series(Period::all(), &[Dimension::Service], Default::default())?;
    let read_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let forecast = monitor.forecast(&ForecastRequest::new(30).by(Dimension::Service))?;
    let forecast_s = t.elapsed().as_secs_f64();
    let last = series.first().map_or(start, |s| s.end());
    let t = Instant::now();
    let anomalies = monitor.anomalies(
        Some(&Dimension::Service),
        Period { from: start, to: last },
        &AnomalyOptions::default(),
    )?;
    let anomalies_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let opportunities = monitor.opportunities()?;
    let opportunities_s = t.elapsed().as_secs_f64();

    let spikes = (0..services).filter(|s| s % 97 == 3).count();
    let found_spikes = anomalies.iter().filter(|a| a.day == Day(start.0 + 300)).count();
    println!("{services} services × 365 days ({} rows)", rows.len());
    println!("  import                 {import_s:>8.3} s");
    println!("  read daily series      {read_s:>8.3} s ({} series)", series.len());
    println!("  forecast by service    {forecast_s:>8.3} s ({} forecast)", forecast.series.len());
    println!(
        "  anomalies by service   {anomalies_s:>8.3} s ({} found, {found_spikes} of {spikes} injected spikes)",
        anomalies.len()
    );
    println!("  opportunities          {opportunities_s:>8.3} s ({} found)", opportunities.len());
    println!("  the three together     {:>8.3} s", forecast_s + anomalies_s + opportunities_s);
    let json = serde_json::json!({
        "services": services, "rows": rows.len(), "import_s": import_s, "read_series_s": read_s,
        "forecast_s": forecast_s, "anomalies_s": anomalies_s, "opportunities_s": opportunities_s,
        "anomalies": anomalies.len(), "injected_spikes": spikes, "spikes_found": found_spikes,
        "opportunities": opportunities.len(),
    });
    std::fs::write(&out, serde_json::to_string_pretty(&json)?)?;
    if found_spikes != spikes {
        return Err(format!("found {found_spikes} of the {spikes} injected spikes").into());
    }
    Ok(())
}
