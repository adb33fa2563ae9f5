//! The backtest table of the cost forecasts (STATISTICS.md): on seeded generated series
//! and on the FOCUS sample, damped Holt-Winters against seasonal naive — MASE, the 80%
//! interval's coverage, the method chosen — and the time of one fit and backtest.
//!
//! ```text
//! cargo run --release -p perfcore-examples --example forecast_backtest -- [OUT.md] [--seeds N]
//! ```
//!
//! The test command runs it with the default 5 seeds a scenario; STATISTICS.md's table uses
//! `--seeds 100`.

use std::time::Instant;

use perfcore::cost::scenarios::scenarios;
use perfcore::cost::{
    CostMetric, CostMonitor, Day, Dimension, ForecastMethod, ForecastOptions, ForecastRequest,
    ImportOptions, Period, forecast_series,
};

const FOCUS_SAMPLE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/focus/focus_sample.csv");

#[derive(Default)]
struct Row {
    hw: Vec<f64>,
    sn: Vec<f64>,
    chosen: Vec<f64>,
    coverage: Vec<f64>,
    holt_winters_chosen: usize,
    runs: usize,
}

impl Row {
    /// The table's row: the mean MASE of each method and of the one chosen, the coverage.
    fn line(&self, name: &str) -> String {
        format!(
            "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.1}% | {}/{} |\n",
            self.runs,
            mean(&self.hw),
            mean(&self.sn),
            mean(&self.chosen),
            100.0 * mean(&self.coverage),
            self.holt_winters_chosen,
            self.runs
        )
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut out_path = None;
    let mut seeds = 5u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--seeds" {
            seeds = args.next().ok_or("--seeds needs a number")?.parse()?;
        } else {
            out_path = Some(a);
        }
    }
    let start = Day::from_ymd(2024, 1, 1).ok_or("bad date")?;
    let options = ForecastOptions::default();
    let mut table = String::from(
        "| series | runs | MASE Holt-Winters | MASE seasonal naive | MASE used | 80% coverage | Holt-Winters chosen |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut all = Row::default();
    for (name, spec) in scenarios() {
        let mut row = Row::default();
        for seed in 0..seeds {
            let y = spec.generate(start, 1000 + seed);
            let f = forecast_series(&y, &options)?;
            let bt = f.backtest.as_ref().ok_or("a year of data has a backtest")?;
            for (r, v) in [
                (&mut row.hw, bt.holt_winters.mase),
                (&mut row.sn, bt.seasonal_naive.mase),
                (&mut row.chosen, bt.mase),
            ] {
                r.push(v.unwrap_or(f64::NAN));
            }
            row.coverage.push(bt.coverage);
            row.holt_winters_chosen +=
                usize::from(matches!(f.method, ForecastMethod::DampedHoltWinters { .. }));
            row.runs += 1;
        }
        table += &row.line(name);
        all.hw.extend(&row.hw);
        all.sn.extend(&row.sn);
        all.chosen.extend(&row.chosen);
        all.coverage.extend(&row.coverage);
        all.holt_winters_chosen += row.holt_winters_chosen;
        all.runs += row.runs;
    }
    table += &all.line("**all generated**");

    // The FOCUS sample: its total and each service's daily series.
    let mut monitor = CostMonitor::new()?;
    monitor.import(FOCUS_SAMPLE, &ImportOptions::default())?;
    let mut focus = String::new();
    let total = monitor.daily_series(Period::all(), &[], CostMetric::Billed)?;
    for s in &total {
        let f = forecast_series(&s.to_f64(), &options)?;
        let bt = f.backtest.as_ref();
        focus += &format!(
            "| FOCUS sample, total ({} days, {}) | 1 | {} | {} | {} | {} | {} |\n",
            s.values.len(),
            s.currency,
            opt(bt.and_then(|b| b.holt_winters.mase)),
            opt(bt.and_then(|b| b.seasonal_naive.mase)),
            opt(bt.and_then(|b| b.mase)),
            bt.map_or("n/a".into(), |b| format!("{:.1}% of {}", 100.0 * b.coverage, b.points)),
            if matches!(f.method, ForecastMethod::SeasonalNaive) { "0/1" } else { "1/1" }
        );
    }
    // Each service as `perfcore cost forecast --by service` sees it: its history starts on
    // its first day with a cost.
    let by_service = monitor.forecast(&ForecastRequest::new(30).by(Dimension::Service))?;
    let (forecast, insufficient) = (by_service.series.len(), by_service.insufficient_history.len());
    table += &focus;
    let mut text = table.clone();
    text += &format!(
        "\nFOCUS sample by service: {forecast} series forecast, {insufficient} with fewer than 14 days of data (answered as insufficient history)\n"
    );

    // The time of one fit and backtest of a year of data.
    let spec =
        &scenarios().into_iter().find(|(n, _)| *n == "combined").ok_or("no combined scenario")?.1;
    let series: Vec<Vec<Option<f64>>> = (0..200).map(|s| spec.generate(start, s)).collect();
    let t = Instant::now();
    let mut sink = 0.0;
    for y in &series {
        sink += forecast_series(y, &options)?.mean[0];
    }
    let per = t.elapsed().as_secs_f64() / series.len() as f64;
    text += &format!(
        "one 365-day series, fit + backtest + 30-day forecast: {:.0} µs (mean of {}; checksum {sink:.0})\n",
        per * 1e6,
        series.len()
    );
    print!("{text}");
    if let Some(p) = out_path {
        std::fs::write(&p, text)?;
    }
    Ok(())
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
}
