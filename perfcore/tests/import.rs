//! Importing real criterion and pytest-benchmark output (tests/fixtures/, see its README).
#![cfg(feature = "json")]

use std::path::{Path, PathBuf};

use perfcore::import::{self, ImportSource, InputKind};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

#[test]
fn criterion_agrees_with_criterion_own_estimates() {
    let dir = fixtures().join("criterion");
    let guard = ("scope/1thread/perfcore_guard", "scope_1thread/perfcore_guard");
    let from = ("snapshot/from_json_1000_callsites", "snapshot/from_json_1000_callsites");
    let to = ("snapshot/to_json_1000_callsites", "snapshot/to_json_1000_callsites");
    // (baseline, the benchmarks that have it, what is skipped)
    let cases = [
        ("new", vec![guard, from, to], vec![]),
        (
            "base",
            vec![guard, from],
            vec!["snapshot/to_json_1000_callsites: no `base` baseline (it has: demo, new)"],
        ),
        (
            "demo",
            vec![from, to],
            vec!["scope_1thread/perfcore_guard: no `demo` baseline (it has: base, new)"],
        ),
    ];
    for (baseline, benches, skipped) in cases {
        let run = import::criterion(&dir, baseline).unwrap();
        assert_eq!(run.source, ImportSource::Criterion { baseline: baseline.into() });
        let got: Vec<String> = run.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(got, skipped);
        let names: Vec<&str> = run.snapshot.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, benches.iter().map(|b| b.0).collect::<Vec<_>>());
        for (f, (_, sub)) in run.snapshot.functions.iter().zip(benches) {
            let at = dir.join(sub).join(baseline);
            let sample = json(&at.join("sample.json"));
            let n = sample["times"].as_array().unwrap().len() as u64;
            assert_eq!(f.count, n);
            // criterion's mean is the mean of the samples' per-iteration times: ours agrees to
            // the rounding of each to whole nanoseconds. Our median is the middle sample's bucket (within 0.79%).
            let est = json(&at.join("estimates.json"));
            let mean = est["mean"]["point_estimate"].as_f64().unwrap();
            assert!((f.mean_ns - mean).abs() <= 0.5, "{}: mean {} vs {mean}", f.name, f.mean_ns);
            let per_iter =
                |k: &str| sample[k].as_array().unwrap().iter().map(|v| v.as_f64().unwrap());
            let mut v: Vec<f64> =
                per_iter("times").zip(per_iter("iters")).map(|(t, i)| t / i).collect();
            v.sort_by(f64::total_cmp);
            let middle = v[v.len().div_ceil(2) - 1];
            assert!(
                close(f.p50_ns as f64, middle, 0.008),
                "{}: median {} vs {middle}",
                f.name,
                f.p50_ns
            );
        }
        // The snapshot is one the reader accepts.
        let back = perfcore::Snapshot::from_json(&run.snapshot.to_json()).unwrap();
        assert_eq!(back, run.snapshot);
    }
}

#[test]
fn pytest_benchmark_with_data_agrees_with_its_stats() {
    let path = fixtures().join("pytest-benchmark/with-data.json");
    let run = import::pytest_benchmark(&path).unwrap();
    assert!(
        matches!(run.source, ImportSource::PytestBenchmark { version: Some(ref v) } if v == "5.3.1")
    );
    assert_eq!(run.branch.as_deref(), Some("main"));
    assert_eq!(run.commit.as_deref(), Some("bd67eb5cefa059b7b27ac3a7d61d2babdba6268a"));
    assert!(run.cpu.as_deref().is_some_and(|c| !c.is_empty()));
    assert_eq!(run.runtime.as_deref(), Some("CPython 3.11.7"));
    let file = json(&path);
    for b in file["benchmarks"].as_array().unwrap() {
        let f = run.snapshot.function(b["fullname"].as_str().unwrap()).unwrap();
        let s = &b["stats"];
        assert_eq!(f.count, s["rounds"].as_u64().unwrap());
        assert_eq!(f.min_ns, (s["min"].as_f64().unwrap() * 1e9).round() as u64);
        assert_eq!(f.max_ns, (s["max"].as_f64().unwrap() * 1e9).round() as u64);
        assert!(close(f.mean_ns, s["mean"].as_f64().unwrap() * 1e9, 0.001));
    }
    assert!(perfcore::Snapshot::from_json(&run.snapshot.to_json()).is_ok());
}

#[test]
fn pytest_benchmark_without_data_is_summary_only() {
    let path = fixtures().join("pytest-benchmark/summary-only.json");
    let run = import::pytest_benchmark(&path).unwrap();
    assert!(run.snapshot.functions.is_empty(), "no invented samples");
    let names: Vec<&str> = run.summary_only.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["test_tiny.py::test_fib", "test_tiny.py::test_sort[10]", "test_tiny.py::test_sort[100]"]
    );
    let sort = &run.summary_only[1];
    assert_eq!((sort.group.as_deref(), sort.rounds), (Some("sort"), 5));
    assert!(sort.iterations > 1);
    assert!(
        sort.min_ns <= sort.q1_ns && sort.q1_ns <= sort.median_ns && sort.median_ns <= sort.q3_ns
    );
    assert!(sort.q3_ns <= sort.max_ns && sort.stddev_ns >= 0.0);
}

#[test]
fn detect_tells_the_inputs_apart_by_content() {
    let f = fixtures();
    assert_eq!(import::detect(&f.join("criterion")).unwrap(), InputKind::Criterion);
    assert_eq!(
        import::detect(&f.join("criterion/snapshot/from_json_1000_callsites")).unwrap(),
        InputKind::Criterion
    );
    assert_eq!(
        import::detect(&f.join("pytest-benchmark/summary-only.json")).unwrap(),
        InputKind::PytestBenchmark
    );
    let dir = std::env::temp_dir().join(format!("perfcore-detect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let snap = dir.join("renamed.txt");
    perfcore::Snapshot::default().write_json(&snap).unwrap();
    assert_eq!(import::detect(&snap).unwrap(), InputKind::Snapshot);
    let baseline = dir.join("b.json");
    std::fs::write(&baseline, r#"{"schema_version": 1, "name": "main", "snapshot": {}}"#).unwrap();
    assert_eq!(import::detect(&baseline).unwrap(), InputKind::Baseline);
    for other in ["[1, 2]", r#"{"iters": [1.0], "times": [2.0]}"#, "\"text\""] {
        std::fs::write(&baseline, other).unwrap();
        let e = import::detect(&baseline).unwrap_err();
        assert!(e.to_string().ends_with("is not a perfcore snapshot or baseline, a criterion directory or a pytest-benchmark file"), "{e}");
    }
    std::fs::write(&baseline, "{\n  \"a\": ").unwrap();
    assert!(import::detect(&baseline).unwrap_err().to_string().contains(":2:"));
    assert!(import::detect(&f).is_ok(), "tests/fixtures holds a criterion tree");
    assert!(import::detect(&dir).is_err(), "a directory without benchmarks");
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(feature = "budgets")]
#[test]
fn budgets_judge_imported_runs() {
    let run = import::criterion(&fixtures().join("criterion"), "new").unwrap();
    let budgets = perfcore::budget::Budgets::from_toml_str(
        r#"
        [functions."scope/1thread/*"]
        p99 = "1ms"
        [functions."snapshot/**"]
        p50 = "1us"
        min_calls_per_sec = 10
        "#,
    )
    .unwrap();
    let report = budgets.check(&run.snapshot);
    let failed: Vec<&str> = report.violations.iter().map(|v| v.function.as_str()).collect();
    assert_eq!(failed, ["snapshot/from_json_1000_callsites", "snapshot/to_json_1000_callsites"]);
    // An import has no time window: calls per second are not measured, not passed.
    assert_eq!(report.not_measured.len(), 2, "{report}");
    assert!(report.unmatched_patterns.is_empty());
}
