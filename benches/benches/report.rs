//! Analysis and export cost: a snapshot of 10,000 functions and 100,000 call-tree nodes
//! analysed (hotspots, recommendations, summary) and written as HTML, Markdown, the JSON
//! report, folded stacks, speedscope JSON, pprof, an HdrHistogram interval log and Prometheus
//! text; and a timeline of 100,000 spans written as a Chrome trace.

use criterion::{Criterion, criterion_group, criterion_main};
use perfcore::analysis::{self, HotspotOptions, RecommendationOptions};
use perfcore::report::{self, HtmlOptions, MarkdownOptions, PrometheusOptions, ReportOptions};
use perfcore::{AllocationStats, FunctionStats, Snapshot};

const FUNCTIONS: usize = 10_000;
const NODES: usize = 100_000;

/// A deterministic snapshot: 20 calls per function spread over a few decades of latency, a
/// tree of fan-out 10 (six levels), and allocations on every other function.
fn large_snapshot() -> Snapshot {
    let functions: Vec<FunctionStats> = (0..FUNCTIONS as u64)
        .map(|i| {
            let mut f = FunctionStats::from_durations(
                &format!("crate::module_{}::function_{i}", i % 97),
                (0..20).map(|j| 100 + (i * 7_919 + j * 104_729) % 5_000_000),
            );
            if i % 2 == 0 {
                let mut a = AllocationStats::default();
                (a.calls, a.allocated_bytes, a.self_allocated_bytes, a.allocations) =
                    (20, 64_000, 32_000, 200);
                f.allocations = Some(a);
            }
            f
        })
        .collect();
    let mut snap = Snapshot::from_functions(functions, 0, 60_000_000_000);
    // CallNode is non-exhaustive: a tree from outside the crate comes through JSON.
    let mut json: serde_json::Value = serde_json::from_str(&snap.to_json()).unwrap();
    json["call_tree"] = (0..NODES)
        .map(|i| {
            serde_json::json!({
                "parent": (i >= 10).then_some(i / 10),
                "function": (i * 7) % FUNCTIONS,
                "count": 3,
                "errors": 0,
                "total_ns": 1_000 + i % 5_000,
                "self_ns": 500 + i % 1_000,
            })
        })
        .collect();
    snap = Snapshot::from_json(&json.to_string()).unwrap();
    assert_eq!((snap.functions.len(), snap.call_tree.len()), (FUNCTIONS, NODES));
    snap
}

fn exports(c: &mut Criterion) {
    let snap = large_snapshot();
    let options = PrometheusOptions::new();
    let mut hdr_log = Vec::new();
    report::write_hdr_log(&snap, &mut hdr_log).unwrap();
    eprintln!(
        "output sizes: folded {} B, speedscope {} B, pprof {} B (gzipped), hdr log {} B, \
         prometheus {} B",
        report::to_folded(&snap).len(),
        report::to_speedscope_json(&snap).len(),
        report::to_pprof(&snap).len(),
        hdr_log.len(),
        report::to_prometheus_text(&snap, &options).len(),
    );

    eprintln!(
        "output sizes: html {} B, markdown {} B, report json {} B",
        report::to_html(&snap, &HtmlOptions::default()).len(),
        report::to_markdown(&snap, &MarkdownOptions::default()).len(),
        report::Report::new(&snap, &ReportOptions::default()).to_json().len(),
    );

    let mut g = c.benchmark_group("analysis_10k_functions_100k_nodes");
    g.sample_size(10);
    g.bench_function("identify_hotspots", |b| {
        b.iter(|| analysis::identify_hotspots(&snap, &HotspotOptions::default()))
    });
    g.bench_function("generate_recommendations", |b| {
        b.iter(|| analysis::generate_recommendations(&snap, &RecommendationOptions::default()))
    });
    g.bench_function("performance_summary", |b| {
        b.iter(|| analysis::performance_summary(&snap, None))
    });
    g.finish();

    let mut g = c.benchmark_group("export_10k_functions_100k_nodes");
    g.sample_size(10);
    g.bench_function("html", |b| b.iter(|| report::to_html(&snap, &HtmlOptions::default())));
    g.bench_function("markdown", |b| {
        b.iter(|| report::to_markdown(&snap, &MarkdownOptions::default()))
    });
    g.bench_function("report_json", |b| {
        b.iter(|| report::Report::new(&snap, &ReportOptions::default()).to_json())
    });
    g.bench_function("folded", |b| b.iter(|| report::to_folded(&snap)));
    g.bench_function("speedscope", |b| b.iter(|| report::to_speedscope_json(&snap)));
    g.bench_function("pprof", |b| b.iter(|| report::to_pprof(&snap)));
    g.bench_function("hdr_log", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(hdr_log.len());
            report::write_hdr_log(&snap, &mut out).unwrap();
            out
        });
    });
    g.bench_function("prometheus", |b| b.iter(|| report::to_prometheus_text(&snap, &options)));
    g.finish();

    // A timeline of 100,000 spans (one thread's ring holds them all).
    let profiler = perfcore::PerformanceProfiler::builder().timeline(100_000).build().unwrap();
    for i in 0..100_000u32 {
        let _g = profiler.scope(if i % 3 == 0 { "a" } else { "b" }).unwrap();
    }
    let timeline = profiler.timeline();
    eprintln!("chrome trace of 100,000 spans: {} B", report::to_chrome_trace_json(&timeline).len());
    let mut g = c.benchmark_group("timeline_100k_spans");
    g.sample_size(10);
    g.bench_function("chrome_trace", |b| b.iter(|| report::to_chrome_trace_json(&timeline)));
    g.finish();
}

criterion_group!(benches, exports);
criterion_main!(benches);
