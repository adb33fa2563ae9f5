//! The library path of a FOCUS import: CSV parsed, folded into day × resource aggregates and
//! written to the SQLite store; then a breakdown by day and service read back. The file is
//! the real FOCUS sample repeated 100 times (100,000 rows). Only the copies of rows whose
//! naive comma split lines up get a renamed ResourceId, so most copies fold into the same
//! aggregates: the run prints how many (1,394 when last run). This measures parsing and
//! folding more than the store; the whole-process comparison with pandas, polars and DuckDB,
//! at half a million aggregates, is `benches/focus/peers.py` (BENCHMARKS.md, "FOCUS import").
//!
//! ```text
//! cargo bench -p perfcore-benches --bench focus_import
//! ```

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use perfcore::cost::{CostMetric, CostMonitor, Dimension, ImportOptions, ReportPeriod};

const COPIES: usize = 100;

/// The sample with each copy's ResourceIds made distinct (`…#copy`), written once.
fn generated() -> (PathBuf, u64, u64) {
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/focus/focus_sample.csv"
    ))
    .expect("the FOCUS sample");
    let mut lines = sample.lines();
    let header = lines.next().expect("a header");
    let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let resource = header.split(',').position(|c| c == "\"ResourceId\"").expect("ResourceId");
    let mut out = String::with_capacity(sample.len() * COPIES);
    out.push_str(header);
    out.push('\n');
    for copy in 0..COPIES {
        for row in &rows {
            // The sample has no quoted commas before ResourceId's position in most rows; rows
            // where the split does not line up are written as they are.
            let fields: Vec<&str> = row.split(',').collect();
            if fields.len() == 44 && fields[resource].starts_with('"') {
                let mut f = fields.clone();
                let id = format!("{}#{copy}\"", fields[resource].trim_end_matches('"'));
                f[resource] = &id;
                out.push_str(&f.join(","));
            } else {
                out.push_str(row);
            }
            out.push('\n');
        }
    }
    let path = std::env::temp_dir().join(format!("perfcore-bench-focus-{COPIES}.csv"));
    std::fs::write(&path, &out).expect("write the generated file");
    (path, (rows.len() * COPIES) as u64, out.len() as u64)
}

fn import(c: &mut Criterion) {
    let (path, rows, bytes) = generated();
    let mut g = c.benchmark_group("focus_import");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(rows));
    g.bench_function("csv_to_store", |b| {
        b.iter(|| {
            let mut m = CostMonitor::new().expect("a monitor");
            m.import(&path, &ImportOptions::default()).expect("the import")
        })
    });
    let mut m = CostMonitor::new().expect("a monitor");
    let summary = m.import(&path, &ImportOptions::default()).expect("the import");
    eprintln!("{rows} rows, {bytes} bytes, {} aggregates", summary.aggregates);
    let month = m.resolve_period(ReportPeriod::Monthly).expect("a period");
    g.bench_function("breakdown_day_service", |b| {
        b.iter(|| {
            m.breakdown(month, &[Dimension::Day, Dimension::Service], CostMetric::Billed)
                .expect("a breakdown")
        })
    });
    g.bench_function("monthly_report", |b| {
        b.iter(|| m.report(ReportPeriod::Monthly).expect("a report"))
    });
    g.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, import);
criterion_main!(benches);
