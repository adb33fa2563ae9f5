//! One cost forecast: a year of daily cost (365 days, generated, seeded) fitted by damped
//! Holt-Winters, backtested against seasonal naive from six origins, and forecast 30 days
//! with its intervals — what `CostMonitor::forecast` does per service. Issue 12's budget is
//! forecast, anomalies and opportunities over 1,000 services in 1 s together.
//!
//! ```text
//! cargo bench -p perfcore-benches --bench forecast
//! ```

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use perfcore::cost::scenarios::scenarios;
use perfcore::cost::{Day, ForecastOptions, forecast_series};

fn forecast(c: &mut Criterion) {
    let start = Day::from_ymd(2024, 1, 1).expect("a date");
    let options = ForecastOptions::default();
    let mut g = c.benchmark_group("forecast");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    for (name, spec) in scenarios() {
        if !["steady", "month_end", "combined"].contains(&name) {
            continue;
        }
        let series: Vec<Vec<Option<f64>>> = (0..16).map(|s| spec.generate(start, s)).collect();
        g.bench_function(format!("series_365/{name}"), |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % series.len();
                forecast_series(&series[i], &options).expect("a year forecasts")
            });
        });
    }
    g.finish();
}

criterion_group!(benches, forecast);
criterion_main!(benches);
