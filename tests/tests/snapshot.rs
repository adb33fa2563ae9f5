//! Snapshots: merging is exact, JSON round-trips, and bad files are rejected with a reason.

use std::time::Duration;

use perfcore::testing::ManualClock;
use perfcore::{PerformanceProfiler, Snapshot, SnapshotError};
use proptest::prelude::*;

#[path = "common/json_edit.rs"]
mod json_edit;
use json_edit::edit;

/// Records calls of the given (function index, duration) into `p`, nesting every second
/// call under an `outer` scope so the call tree has depth.
fn record(p: &PerformanceProfiler, clock: &ManualClock, calls: &[(usize, u64)]) {
    const NAMES: [&str; 3] = ["alpha", "beta", "gamma"];
    for (i, &(f, ns)) in calls.iter().enumerate() {
        let _outer = (i % 2 == 1).then(|| p.scope("outer").unwrap());
        let g = p.scope(NAMES[f]).unwrap();
        if ns % 7 == 0 {
            g.mark_failed();
        }
        clock.advance(Duration::from_nanos(ns));
    }
}

fn profiler() -> (PerformanceProfiler, ManualClock) {
    let clock = ManualClock::new();
    (PerformanceProfiler::builder().clock(&clock).build().unwrap(), clock)
}

/// The call tree as sorted (caller, function, count, total, self, errors) rows.
type TreeRow = (Option<String>, String, u64, u64, u64, u64);

fn call_tree(s: &Snapshot) -> Vec<TreeRow> {
    let mut v: Vec<TreeRow> = s
        .call_tree
        .iter()
        .map(|n| {
            let parent = n.parent.map(|p| s.functions[s.call_tree[p].function].name.clone());
            (parent, s.functions[n.function].name.clone(), n.count, n.total_ns, n.self_ns, n.errors)
        })
        .filter(|t| t.2 > 0)
        .collect();
    v.sort();
    v
}

fn calls() -> impl Strategy<Value = Vec<(usize, u64)>> {
    prop::collection::vec((0..3usize, prop_oneof![0..5_000u64, 0..50_000_000_000u64]), 0..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The merge of two runs' snapshots equals the snapshot of one profiler that recorded both.
    #[test]
    fn merge_equals_the_combined_run(a in calls(), b in calls()) {
        let (pa, ca) = profiler();
        let (pb, cb) = profiler();
        let (pc, cc) = profiler();
        record(&pa, &ca, &a);
        record(&pb, &cb, &b);
        record(&pc, &cc, &a);
        record(&pc, &cc, &b);
        let mut merged = pa.snapshot();
        merged.merge(&pb.snapshot());
        let combined = pc.snapshot();
        for f in combined.functions().iter().filter(|f| f.count > 0) {
            let m = merged.function(&f.name).unwrap();
            prop_assert_eq!(m.count, f.count);
            prop_assert_eq!(m.errors, f.errors);
            prop_assert_eq!(m.total_ns, f.total_ns);
            prop_assert_eq!(m.self_ns, f.self_ns);
            prop_assert_eq!(m.min_ns, f.min_ns);
            prop_assert_eq!(m.max_ns, f.max_ns);
            prop_assert_eq!(&m.histogram, &f.histogram);
            prop_assert_eq!(
                (m.p50_ns, m.p90_ns, m.p95_ns, m.p99_ns, m.p999_ns),
                (f.p50_ns, f.p90_ns, f.p95_ns, f.p99_ns, f.p999_ns)
            );
            prop_assert_eq!(m.mean_ns, f.mean_ns);
        }
        prop_assert_eq!(merged.total_calls(), combined.total_calls());
        prop_assert_eq!(call_tree(&merged), call_tree(&combined));
    }

    /// `later.since(&earlier)` is what a profiler that recorded only the calls in between
    /// would report: counts, errors, sums, histograms and the call tree exactly; the minimum
    /// and maximum exactly when they moved, else within their bucket.
    #[test]
    fn since_equals_the_run_in_between(a in calls(), b in calls()) {
        let (p, clock) = profiler();
        let (only_b, clock_b) = profiler();
        record(&p, &clock, &a);
        let earlier = p.snapshot();
        record(&p, &clock, &b);
        record(&only_b, &clock_b, &b);
        let later = p.snapshot();
        let diff = later.since(&earlier).unwrap();
        let fresh = only_b.snapshot();
        let live: Vec<_> = fresh.functions().iter().filter(|f| f.count > 0).collect();
        prop_assert_eq!(diff.functions().len(), live.len());
        for f in live {
            let d = diff.function(&f.name).unwrap();
            prop_assert_eq!((d.count, d.errors, d.total_ns, d.self_ns), (f.count, f.errors, f.total_ns, f.self_ns));
            prop_assert_eq!(&d.histogram, &f.histogram);
            // Quantiles are clamped to [min, max], which may be a bucket wider here.
            for (x, y) in [(d.p50_ns, f.p50_ns), (d.p99_ns, f.p99_ns)] {
                prop_assert!(x.abs_diff(y) as f64 <= y as f64 / 64.0 + 1.0, "{x} vs {y}");
            }
            prop_assert!(d.min_ns <= f.min_ns && f.max_ns <= d.max_ns, "{} {}: {:?} vs {:?}", f.name, d.count, (d.min_ns, d.max_ns), (f.min_ns, f.max_ns));
            prop_assert!(d.max_ns as f64 <= f.max_ns as f64 * (1.0 + 1.0 / 64.0) + 1.0);
            prop_assert!(d.min_ns as f64 >= f.min_ns as f64 * (1.0 - 1.0 / 64.0) - 1.0);
        }
        prop_assert_eq!(call_tree(&diff), call_tree(&fresh));
        // And back: the earlier snapshot merged with the difference has the later's figures.
        let mut rebuilt = earlier.clone();
        rebuilt.merge(&diff);
        for f in later.functions().iter().filter(|f| f.count > 0) {
            let r = rebuilt.function(&f.name).unwrap();
            prop_assert_eq!((r.count, r.total_ns, r.errors, &r.histogram), (f.count, f.total_ns, f.errors, &f.histogram));
        }
        // A snapshot is not an earlier state of one with fewer calls.
        if later.total_calls() > earlier.total_calls() {
            prop_assert!(earlier.since(&later).is_err());
        }
    }

    /// Merging is associative and counts are conserved.
    #[test]
    fn merge_is_associative(a in calls(), b in calls(), c in calls()) {
        let snaps: Vec<Snapshot> = [a, b, c].iter().map(|calls| {
            let (p, clock) = profiler();
            record(&p, &clock, calls);
            p.snapshot()
        }).collect();
        let mut left = snaps[0].clone();
        left.merge(&snaps[1]);
        left.merge(&snaps[2]);
        let mut bc = snaps[1].clone();
        bc.merge(&snaps[2]);
        let mut right = snaps[0].clone();
        right.merge(&bc);
        for f in left.functions() {
            let r = right.function(&f.name).unwrap();
            prop_assert_eq!((f.count, f.total_ns, f.min_ns, f.max_ns), (r.count, r.total_ns, r.min_ns, r.max_ns));
            prop_assert_eq!(&f.histogram, &r.histogram);
        }
        let sum: u64 = snaps.iter().map(Snapshot::total_calls).sum();
        prop_assert_eq!(left.total_calls(), sum);
    }

    /// JSON round-trips exactly.
    #[test]
    fn json_round_trip(a in calls()) {
        let (p, clock) = profiler();
        record(&p, &clock, &a);
        let snap = p.snapshot();
        prop_assert_eq!(Snapshot::from_json(&snap.to_json()).unwrap(), snap);
    }

    /// Each function's statistics, floats included, read back exactly as written (what
    /// Python's pickling of `FunctionStats` relies on).
    #[test]
    fn function_stats_json_round_trip_exactly(a in calls(), extra in 1..1_000_000u64) {
        let (p, clock) = profiler();
        record(&p, &clock, &a);
        clock.advance(Duration::from_nanos(extra)); // an uneven window: calls_per_sec
        for f in p.snapshot().functions() {
            let back: perfcore::FunctionStats =
                serde_json::from_str(&serde_json::to_string(f).unwrap()).unwrap();
            prop_assert_eq!(&back, f);
        }
    }

    /// Arbitrary text never panics the reader.
    #[test]
    fn reader_never_panics(text in ".{0,200}") {
        let _ = Snapshot::from_json(&text);
    }
}

fn sample_json() -> String {
    let (p, clock) = profiler();
    record(&p, &clock, &[(0, 10), (1, 20), (2, 30)]);
    p.snapshot().to_json()
}

#[test]
fn unknown_schema_version_is_rejected_with_a_message() {
    let json = sample_json().replace("\"schema_version\": 2", "\"schema_version\": 3");
    let err = Snapshot::from_json(&json).unwrap_err();
    assert!(matches!(
        err,
        SnapshotError::UnsupportedSchema { found: 3, oldest: 1, newest: 2, path: None }
    ));
    assert_eq!(
        err.to_string(),
        "snapshot has schema version 3; this perfcore reads versions 1 to 2"
    );
}

/// A snapshot of schema 1 (3-digit HdrHistogram buckets) loads, its histograms re-bucketed.
#[test]
fn schema_1_snapshots_still_load() {
    let v1 = r#"{"schema_version": 1, "started_unix_ns": 0, "ended_unix_ns": 1000000000,
        "functions": [{"name": "old", "module_path": "", "file": "", "line": 0, "count": 3,
        "errors": 1, "total_ns": 6300, "self_ns": 6300, "mean_ns": 2100.0, "min_ns": 1000,
        "max_ns": 3300, "stddev_ns": 0.0, "p50_ns": 0, "p90_ns": 0, "p95_ns": 0, "p99_ns": 0,
        "p999_ns": 0, "calls_per_sec": 0.0, "clamped": 0, "folded_calls": 0,
        "allocations": null, "histogram": {"significant_digits": 3,
        "buckets": [[1000, 1], [2000, 1], [3300, 1]]}}], "call_tree": []}"#;
    let snap = Snapshot::from_json(v1).unwrap();
    assert_eq!(snap.schema_version, perfcore::SCHEMA_VERSION);
    let f = snap.function("old").unwrap();
    assert_eq!((f.count, f.errors, f.histogram.len()), (3, 1, 3));
    assert!(f.p50_ns.abs_diff(2000) <= 2000 / 128, "{}", f.p50_ns);
    // Written again, it is a schema-2 file that reads back the same.
    assert_eq!(&Snapshot::from_json(&snap.to_json()).unwrap(), &snap);
}

#[test]
fn malformed_json_names_the_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("perfcore-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.json");
    let json = sample_json();
    let cut = &json[..json.len() / 2];
    std::fs::write(&path, cut).unwrap();
    let err = Snapshot::read_json(&path).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SnapshotError::Parse { line: 1.., column: 1.., .. }), "{err:?}");
    assert!(msg.contains("broken.json") && msg.contains("line"), "{msg}");
    // The parser's own message is the error's source, not repeated in its text.
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(!msg.contains(&source), "{msg} repeats {source}");
    // A missing file is an I/O error whose kind says so.
    let err = Snapshot::read_json(dir.join("missing.json")).unwrap_err();
    assert_eq!(err.io_error().map(std::io::Error::kind), Some(std::io::ErrorKind::NotFound));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inconsistent_counts_are_rejected() {
    let json = sample_json();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["functions"][0]["count"] = serde_json::json!(99);
    let err = Snapshot::from_json(&v.to_string()).unwrap_err();
    assert!(matches!(
        err,
        SnapshotError::Inconsistent {
            problem: perfcore::Inconsistency::CountMismatch { function: 0, count: 99, .. },
            ..
        }
    ));
    assert!(err.to_string().contains("functions[0]"), "{err}");

    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["call_tree"][0]["function"] = serde_json::json!(40);
    let err = Snapshot::from_json(&v.to_string()).unwrap_err();
    assert!(err.to_string().contains("call_tree[0]"), "{err}");
}

#[test]
fn write_is_atomic_and_leaves_no_temporary_file() {
    let dir = std::env::temp_dir().join(format!("perfcore-atomic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("snap.json");
    let (p, clock) = profiler();
    record(&p, &clock, &[(0, 5)]);
    let first = p.snapshot();
    first.write_json(&path).unwrap();
    record(&p, &clock, &[(1, 5)]);
    p.snapshot().write_json(&path).unwrap();
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("snap.json")]);
    assert_eq!(Snapshot::read_json(&path).unwrap().total_calls(), 2);
    // A write into a missing directory fails with the path in the message and no file.
    let err = first.write_json(dir.join("missing/snap.json")).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn display_prints_a_table_slowest_first() {
    let (p, clock) = profiler();
    record(&p, &clock, &[(0, 10), (1, 5_000), (2, 300)]);
    let table = p.snapshot().to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("function"));
    let order: Vec<&str> =
        lines[1..].iter().map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(order, ["beta", "outer", "gamma", "alpha"]);
}

/// The fields the snapshot reader checks and the sums a merge adds, which a walk over
/// every number rarely reaches.
const FIELDS: [&str; 16] = [
    "count",
    "errors",
    "cancelled",
    "total_ns",
    "self_ns",
    "busy_ns",
    "min_ns",
    "max_ns",
    "clamped",
    "folded_calls",
    "started_unix_ns",
    "ended_unix_ns",
    "parent",
    "function",
    "allocations",
    "buckets",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A damaged snapshot file is either rejected with an error or, when it is still
    /// consistent, usable: reading, merging (with itself, twice), printing, the percentiles
    /// and writing it back never panic, and what it writes reads back the same.
    #[test]
    fn damaged_snapshots_are_rejected_or_usable(
        a in calls(),
        edits in prop::collection::vec(edit(&FIELDS), 1..4),
    ) {
        let (p, clock) = profiler();
        record(&p, &clock, &a);
        let mut doc: serde_json::Value = serde_json::from_str(&p.snapshot().to_json()).unwrap();
        for e in &edits {
            json_edit::apply(&mut doc, e);
        }
        let Ok(snap) = Snapshot::from_json(&doc.to_string()) else { return Ok(()) };
        let mut merged = snap.clone();
        merged.merge(&snap);
        merged.merge(&merged.clone());
        for s in [&snap, &merged] {
            let _ = s.to_string();
            let _ = s.total_calls();
            let _ = s.window();
            for f in s.functions() {
                for q in [0.0, 0.5, 0.999, 1.0] {
                    let _ = f.quantile(q);
                }
                let _ = (f.mean(), f.error_rate());
            }
            let back = Snapshot::from_json(&s.to_json());
            prop_assert!(back.is_ok(), "re-reading what it wrote failed: {:?}", back.err());
            prop_assert_eq!(&back.unwrap(), s);
        }
    }
}

#[test]
fn merging_a_snapshot_edited_by_hand_drops_nodes_that_point_nowhere() {
    let (p, clock) = profiler();
    record(&p, &clock, &[(0, 10), (1, 20), (2, 30), (0, 40)]);
    let good = p.snapshot();
    let mut bad = good.clone();
    let root = bad.call_tree.iter().position(|n| n.parent.is_none()).unwrap();
    bad.call_tree[root].function = 99;
    bad.functions[0].total_ns = u64::MAX;
    let mut merged = good.clone();
    merged.merge(&bad);
    merged.merge(&bad);
    let dropped: u64 = bad
        .call_tree
        .iter()
        .enumerate()
        .filter(|&(i, n)| i == root || n.parent == Some(root))
        .map(|(_, n)| n.count)
        .sum();
    let total = |s: &Snapshot| s.call_tree.iter().map(|n| n.count).sum::<u64>();
    assert_eq!(total(&merged), total(&good) * 3 - dropped * 2);
    assert_eq!(merged.functions()[0].total_ns, u64::MAX, "sums saturate");
    assert_eq!(merged.total_calls(), good.total_calls() * 3);
}
