//! pytest-benchmark's JSON: `--benchmark-json` output, or a file `--benchmark-save` wrote.

use std::path::Path;

use serde::Deserialize;

use super::{ImportError, ImportSource, ImportedRun, SummaryOnly, from_json, read, to_ns};
use crate::FunctionStats;

const NS_PER_S: f64 = 1e9;

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    machine_info: MachineInfo,
    #[serde(default)]
    commit_info: CommitInfo,
    benchmarks: Vec<Benchmark>,
    version: Option<String>,
}

#[derive(Deserialize, Default)]
struct MachineInfo {
    node: Option<String>,
    python_implementation: Option<String>,
    python_version: Option<String>,
    #[serde(default)]
    cpu: Cpu,
}

#[derive(Deserialize, Default)]
struct Cpu {
    brand_raw: Option<String>,
}

#[derive(Deserialize, Default)]
struct CommitInfo {
    id: Option<String>,
    branch: Option<String>,
}

#[derive(Deserialize)]
struct Benchmark {
    group: Option<String>,
    name: String,
    fullname: Option<String>,
    stats: Stats,
}

/// Times in seconds per iteration; `null` where Python wrote NaN or infinity as null.
#[derive(Deserialize)]
struct Stats {
    min: Option<f64>,
    max: Option<f64>,
    mean: Option<f64>,
    stddev: Option<f64>,
    median: Option<f64>,
    q1: Option<f64>,
    q3: Option<f64>,
    rounds: u64,
    #[serde(default = "one")]
    iterations: u64,
    data: Option<Vec<Option<f64>>>,
}

fn one() -> u64 {
    1
}

/// Reads a pytest-benchmark JSON file: what `--benchmark-json` writes, or a file saved by
/// `--benchmark-save` (in `.benchmarks/`).
///
/// A benchmark with its samples (`stats.data`: always in `--benchmark-json` output, and in
/// saved files with `--benchmark-save-data`) becomes a function named by pytest's full name
/// (`test_file.py::test_name[param]`) whose histogram holds each round's time per iteration,
/// converted from seconds to nanoseconds. A benchmark without samples is not given invented
/// ones: it goes to [`ImportedRun::summary_only`] with its min, max, mean, median, quartiles,
/// standard deviation and rounds (see [`SummaryOnly`] for what those allow).
///
/// The environment comes from `machine_info` (CPU brand, Python implementation and version,
/// host name) and `commit_info` (commit id and branch).
///
/// Skipped, and listed in [`ImportedRun::skipped`]: a benchmark with zero rounds, a round
/// whose time is null (NaN), infinite or negative, and a benchmark whose summary statistics
/// are not numbers.
///
/// # Errors
/// [`ImportError::Io`] if the file cannot be read, [`ImportError::Parse`] for malformed JSON
/// or a missing or mistyped field (with line, column and the field).
///
/// # Examples
/// ```
/// # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytest-benchmark");
/// let run = perfcore::import::pytest_benchmark(&dir.join("with-data.json"))?;
/// let fib = run.snapshot.function("test_tiny.py::test_fib").unwrap();
/// assert_eq!(fib.count, 5); // five rounds
///
/// let saved = perfcore::import::pytest_benchmark(&dir.join("summary-only.json"))?;
/// assert!(saved.snapshot.functions.is_empty());
/// assert_eq!(saved.summary_only.len(), 3);
/// # Ok::<(), perfcore::import::ImportError>(())
/// ```
pub fn pytest_benchmark(path: &Path) -> Result<ImportedRun, ImportError> {
    let file: File = from_json(path, &read(path)?)?;
    let mut run = ImportedRun::new(ImportSource::PytestBenchmark { version: file.version });
    let m = file.machine_info;
    run.cpu = m.cpu.brand_raw;
    run.host = m.node;
    run.runtime = match (m.python_implementation, m.python_version) {
        (Some(i), Some(v)) => Some(format!("{i} {v}")),
        (i, v) => i.or(v),
    };
    run.commit = file.commit_info.id;
    run.branch = file.commit_info.branch;
    for b in file.benchmarks {
        let name = b.fullname.unwrap_or(b.name);
        let s = b.stats;
        if s.rounds == 0 {
            run.skip(&name, "zero rounds");
            continue;
        }
        let Some(data) = s.data.filter(|d| !d.is_empty()) else {
            let ns = |v: Option<f64>| v.and_then(|v| to_ns(v, NS_PER_S).ok()).map(|ns| ns as f64);
            match (ns(s.min), ns(s.max), ns(s.mean), ns(s.median)) {
                (Some(min_ns), Some(max_ns), Some(mean_ns), Some(median_ns)) => {
                    run.summary_only.push(SummaryOnly {
                        name,
                        group: b.group,
                        rounds: s.rounds,
                        iterations: s.iterations,
                        min_ns,
                        max_ns,
                        mean_ns,
                        median_ns,
                        stddev_ns: ns(s.stddev).unwrap_or(0.0),
                        q1_ns: ns(s.q1).unwrap_or(median_ns),
                        q3_ns: ns(s.q3).unwrap_or(median_ns),
                    });
                }
                _ => {
                    run.skip(&name, "no samples, and its min, max, mean or median is not a number")
                }
            }
            continue;
        };
        let mut rounds = Vec::with_capacity(data.len());
        for (i, t) in data.iter().enumerate() {
            match t
                .ok_or("the time is NaN or infinite (written as null)")
                .and_then(|t| to_ns(t, NS_PER_S))
            {
                Ok(ns) => rounds.push(ns),
                Err(why) => run.skip(format!("{name} round {i}"), why),
            }
        }
        if rounds.is_empty() {
            run.skip(&name, "no usable round");
            continue;
        }
        run.snapshot.functions.push(FunctionStats::from_durations(&name, rounds.iter().copied()));
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use proptest::prelude::*;

    use super::pytest_benchmark;
    use crate::import::ImportError;

    fn write(tag: &str, text: &str) -> PathBuf {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir()
            .join(format!("perfcore-pytest-{tag}-{}-{n}.json", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn fixture(name: &str) -> String {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pytest-benchmark/");
        std::fs::read_to_string(format!("{dir}{name}")).unwrap()
    }

    #[test]
    fn rounds_become_the_histogram() {
        let path = write(
            "rounds",
            r#"{"benchmarks": [{"name": "t", "fullname": "f.py::t", "stats":
            {"min": 1e-6, "max": 3e-6, "mean": 2e-6, "median": 2e-6, "rounds": 3, "data": [1e-6, 2e-6, 3e-6]}}]}"#,
        );
        let run = pytest_benchmark(&path).unwrap();
        std::fs::remove_file(path).unwrap();
        let f = run.snapshot.function("f.py::t").unwrap();
        assert_eq!((f.count, f.min_ns, f.max_ns, f.total_ns), (3, 1000, 3000, 6000));
        assert!(f.p50_ns.abs_diff(2000) <= 16, "within the histogram's 0.79%: {}", f.p50_ns);
        assert!(crate::Snapshot::from_json(&run.snapshot.to_json()).is_ok());
        assert_eq!((run.cpu, run.commit), (None, None));
    }

    #[test]
    fn skipped_rounds_and_benchmarks() {
        let path = write(
            "skips",
            r#"{"benchmarks": [
            {"name": "zero", "stats": {"rounds": 0}},
            {"name": "nan", "stats": {"rounds": 2, "data": [null, 1e-3, -1.0]}},
            {"name": "none", "stats": {"rounds": 1, "data": [null]}},
            {"name": "bad summary", "stats": {"rounds": 1, "min": null}}]}"#,
        );
        let run = pytest_benchmark(&path).unwrap();
        std::fs::remove_file(path).unwrap();
        let skipped: Vec<String> = run.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(
            skipped,
            [
                "zero: zero rounds",
                "nan round 0: the time is NaN or infinite (written as null)",
                "nan round 2: the time is negative",
                "none round 0: the time is NaN or infinite (written as null)",
                "none: no usable round",
                "bad summary: no samples, and its min, max, mean or median is not a number",
            ]
        );
        assert_eq!(run.snapshot.function("nan").unwrap().count, 1);
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        let path = write(
            "errors",
            "{\"benchmarks\": [\n  {\"name\": \"t\", \"stats\": {\"rounds\": \"many\"}}]}",
        );
        let e = pytest_benchmark(&path).unwrap_err();
        assert!(matches!(e, ImportError::Parse { line: 2, .. }));
        let text = e.to_string();
        assert!(text.starts_with(&format!("{}:2:", path.display())), "{text}");
        assert!(text.contains("expected u64"), "{text}");
        std::fs::write(&path, r#"{"version": "5"}"#).unwrap();
        assert!(
            pytest_benchmark(&path)
                .unwrap_err()
                .to_string()
                .ends_with("missing field `benchmarks`")
        );
        std::fs::remove_file(path).unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn mutated_files_never_panic(which in 0usize..2, at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
            let text = fixture(["with-data.json", "summary-only.json"][which]);
            let mut bytes = text.into_bytes();
            let i = at.index(bytes.len());
            bytes[i] = byte;
            bytes.truncate(cut.index(bytes.len()) + 1);
            let path = write("fuzz", "");
            std::fs::write(&path, &bytes).unwrap();
            let result = pytest_benchmark(&path);
            std::fs::remove_file(&path).unwrap();
            if let Ok(run) = result {
                prop_assert!(crate::Snapshot::from_json(&run.snapshot.to_json()).is_ok());
            }
        }
    }
}
