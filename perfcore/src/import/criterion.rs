//! criterion's saved results: `target/criterion/<group>/<bench>[/<value>]/<baseline>/`
//! holding `benchmark.json` (the id) and `sample.json` (the samples).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ImportError, ImportSource, ImportedRun, from_json, read, to_ns};
use crate::FunctionStats;

/// How deep below the given directory benchmarks are looked for: group, function and value
/// make three levels; a few more allow a `target/criterion` nested in another directory.
const MAX_DEPTH: usize = 6;

/// `benchmark.json`: criterion's `BenchmarkId`. Only the full id is needed.
#[derive(Deserialize)]
struct BenchmarkId {
    full_id: String,
}

/// `sample.json`: criterion's `SavedSample`. Sample `i` took `times[i]` ns in total for
/// `iters[i]` iterations; NaN times are written as `null`.
#[derive(Deserialize)]
struct SavedSample {
    iters: Vec<Option<f64>>,
    times: Vec<Option<f64>>,
}

/// The baselines of a benchmark directory: its subdirectories holding `benchmark.json`
/// (none: `dir` is not a benchmark directory).
fn baselines_of(dir: &Path) -> Vec<String> {
    let mut found: Vec<String> = subdirs(dir)
        .into_iter()
        .filter(|d| d.join("benchmark.json").is_file())
        .filter_map(|d| d.file_name().and_then(|n| n.to_str()).map(str::to_owned))
        .collect();
    found.sort();
    found
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        // Not followed: symbolic links (no loops), criterion's HTML `report` directories.
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && e.file_name() != "report")
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

/// The benchmark directories under `dir` (itself included), in path order.
fn benchmark_dirs(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if !baselines_of(dir).is_empty() {
        out.push(dir.to_owned());
        return;
    }
    if depth < MAX_DEPTH {
        for sub in subdirs(dir) {
            benchmark_dirs(&sub, depth + 1, out);
        }
    }
}

pub(super) fn looks_like_criterion(dir: &Path) -> bool {
    let mut found = Vec::new();
    benchmark_dirs(dir, 0, &mut found);
    !found.is_empty()
}

/// Reads criterion's saved results of one baseline: a whole `target/criterion` directory,
/// or one benchmark's directory.
///
/// Each benchmark becomes a function named by its full id (`group/function/value`), whose
/// histogram holds the per-iteration time of each sample (`times[i] / iters[i]`, rounded to
/// whole nanoseconds), so `count` is the number of samples. Times are taken to be
/// nanoseconds: criterion's default wall-time measurement (a custom `Measurement`, such as
/// CPU cycles, would be read as if it were nanoseconds).
///
/// Skipped, and listed in [`ImportedRun::skipped`]: a benchmark without the baseline (with
/// the baselines it has), one without `sample.json`, a sample whose time is NaN, infinite or
/// negative or whose iteration count is not positive, and a benchmark left with no sample.
///
/// # Errors
/// [`ImportError::NoCriterionBenchmarks`] when `dir` holds no criterion benchmark,
/// [`ImportError::NoSuchBaseline`] when none has `baseline`, [`ImportError::Io`] for a file
/// that cannot be read, [`ImportError::Parse`] for malformed JSON or a missing field, and
/// [`ImportError::Field`] when `iters` and `times` differ in length.
///
/// # Examples
/// ```
/// # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/criterion");
/// let run = perfcore::import::criterion(&dir, "new")?;
/// let guard = run.snapshot.function("scope/1thread/perfcore_guard").unwrap();
/// assert_eq!(guard.count, 50); // its 50 samples
/// assert!(guard.min_ns <= guard.p50_ns && guard.p50_ns <= guard.max_ns);
///
/// let err = perfcore::import::criterion(&dir, "nightly").unwrap_err();
/// assert!(err.to_string().ends_with("has a baseline `nightly`; found: base, demo, new"));
/// # Ok::<(), perfcore::import::ImportError>(())
/// ```
pub fn criterion(dir: &Path, baseline: &str) -> Result<ImportedRun, ImportError> {
    std::fs::read_dir(dir).map_err(|source| ImportError::Io { path: dir.into(), source })?;
    let mut dirs = Vec::new();
    benchmark_dirs(dir, 0, &mut dirs);
    if dirs.is_empty() {
        return Err(ImportError::NoCriterionBenchmarks { path: dir.into() });
    }
    let mut run = ImportedRun::new(ImportSource::Criterion { baseline: baseline.to_owned() });
    let mut available: Vec<String> = Vec::new();
    let mut with_baseline = 0;
    for bench in &dirs {
        let name = bench.strip_prefix(dir).unwrap_or(bench).display().to_string();
        let name = if name.is_empty() { bench.display().to_string() } else { name };
        let have = baselines_of(bench);
        if !have.iter().any(|b| b == baseline) {
            run.skip(&name, format!("no `{baseline}` baseline (it has: {})", have.join(", ")));
            available.extend(have);
            continue;
        }
        with_baseline += 1;
        let at = bench.join(baseline);
        let id_path = at.join("benchmark.json");
        let id: BenchmarkId = from_json(&id_path, &read(&id_path)?)?;
        let sample_path = at.join("sample.json");
        if !sample_path.is_file() {
            run.skip(&id.full_id, format!("no sample.json in {}", at.display()));
            continue;
        }
        let sample: SavedSample = from_json(&sample_path, &read(&sample_path)?)?;
        if sample.iters.len() != sample.times.len() {
            return Err(ImportError::field(
                &sample_path,
                "times",
                format!("{} times for {} iteration counts", sample.times.len(), sample.iters.len()),
            ));
        }
        let mut per_iteration = Vec::with_capacity(sample.times.len());
        for (i, (iters, time)) in sample.iters.iter().zip(&sample.times).enumerate() {
            let what = || format!("{} sample {i}", id.full_id);
            let iters = match iters {
                Some(n) if n.is_finite() && *n >= 1.0 => *n,
                _ => {
                    run.skip(what(), "its iteration count is not a positive number");
                    continue;
                }
            };
            match time
                .ok_or("the time is NaN or infinite (written as null)")
                .and_then(|t| to_ns(t / iters, 1.0))
            {
                Ok(ns) => per_iteration.push(ns),
                Err(why) => run.skip(what(), why),
            }
        }
        if per_iteration.is_empty() {
            run.skip(&id.full_id, "no usable sample");
            continue;
        }
        run.snapshot
            .functions
            .push(FunctionStats::from_durations(&id.full_id, per_iteration.iter().copied()));
    }
    if with_baseline == 0 {
        available.sort();
        available.dedup();
        return Err(ImportError::NoSuchBaseline {
            path: dir.into(),
            baseline: baseline.to_owned(),
            available,
        });
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use proptest::prelude::*;

    use super::criterion;
    use crate::import::ImportError;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("perfcore-criterion-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn bench(&self, dir: &str, baseline: &str, full_id: &str, sample: Option<&str>) -> PathBuf {
            let at = self.0.join(dir).join(baseline);
            std::fs::create_dir_all(&at).unwrap();
            let id = format!(
                r#"{{"group_id":"g","function_id":null,"value_str":null,"throughput":null,"full_id":"{full_id}","directory_name":"{dir}","title":"{full_id}"}}"#
            );
            std::fs::write(at.join("benchmark.json"), id).unwrap();
            if let Some(s) = sample {
                std::fs::write(at.join("sample.json"), s).unwrap();
            }
            at
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const SAMPLE: &str =
        r#"{"sampling_mode":"Linear","iters":[1.0,2.0,4.0],"times":[100.0,300.0,1000.0]}"#;

    #[test]
    fn per_iteration_times_and_consistent_totals() {
        let t = TempDir::new("basic");
        t.bench("grp/f/10", "demo", "grp/f/10", Some(SAMPLE));
        let run = criterion(&t.0, "demo").unwrap();
        let f = run.snapshot.function("grp/f/10").unwrap();
        assert_eq!((f.count, f.min_ns, f.max_ns, f.total_ns), (3, 100, 250, 500));
        assert_eq!(f.p50_ns, 150);
        // One benchmark's directory works as well as the whole tree.
        let one = criterion(&t.0.join("grp/f/10"), "demo").unwrap();
        assert_eq!(one.snapshot.functions, run.snapshot.functions);
        // The snapshot passes the reader's validation.
        let back = crate::Snapshot::from_json(&run.snapshot.to_json()).unwrap();
        assert_eq!(back, run.snapshot);
    }

    #[test]
    fn partial_imports_say_what_and_why() {
        let t = TempDir::new("partial");
        t.bench("a", "new", "a", Some(SAMPLE));
        t.bench("b", "new", "b", None);
        t.bench(
            "c",
            "new",
            "c",
            Some(r#"{"sampling_mode":"Flat","iters":[1.0,1.0,0.0],"times":[null,-5.0,10.0]}"#),
        );
        t.bench("d", "base", "d", Some(SAMPLE));
        let run = criterion(&t.0, "new").unwrap();
        assert_eq!(run.snapshot.functions.len(), 1);
        let skipped: Vec<String> = run.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(skipped.len(), 6, "{skipped:#?}");
        assert!(skipped[0].starts_with("b: no sample.json in "), "{skipped:#?}");
        assert_eq!(skipped[1], "c sample 0: the time is NaN or infinite (written as null)");
        assert_eq!(skipped[2], "c sample 1: the time is negative");
        assert_eq!(skipped[3], "c sample 2: its iteration count is not a positive number");
        assert_eq!(skipped[4], "c: no usable sample");
        assert_eq!(skipped[5], "d: no `new` baseline (it has: base)");
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        let t = TempDir::new("errors");
        let at = t.bench("a", "new", "a", Some(r#"{"iters":[1.0],"times":[1.0, 2.0]}"#));
        let e = criterion(&t.0, "new").unwrap_err();
        assert!(matches!(&e, ImportError::Field { field, .. } if field == "times"));
        assert_eq!(
            e.to_string(),
            format!(
                "{}: field `times`: 2 times for 1 iteration counts",
                at.join("sample.json").display()
            )
        );
        std::fs::write(at.join("sample.json"), "{\"iters\": [1.0],\n \"times\": [\"x\"]}").unwrap();
        let e = criterion(&t.0, "new").unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}:2:", at.join("sample.json").display())), "{e}");
        assert!(e.contains("invalid type: string \"x\", expected f64"), "{e}");
        std::fs::write(at.join("sample.json"), r#"{"iters": [1.0]}"#).unwrap();
        let e = criterion(&t.0, "new").unwrap_err().to_string();
        assert!(e.ends_with("missing field `times`"), "{e}");
        assert!(matches!(criterion(Path::new("/no/such/dir"), "new"), Err(ImportError::Io { .. })));
        let empty = TempDir::new("empty");
        assert!(matches!(
            criterion(&empty.0, "new"),
            Err(ImportError::NoCriterionBenchmarks { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn mutated_samples_never_panic(cut in 0usize..80, byte in any::<u8>(), at in 0usize..80) {
            let t = TempDir::new("fuzz");
            let mut s = SAMPLE.as_bytes().to_vec();
            let at = at.min(s.len() - 1);
            s[at] = byte;
            s.truncate(cut.max(1));
            let dir = t.0.join("x").join("new");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("benchmark.json"), r#"{"full_id":"x"}"#).unwrap();
            std::fs::write(dir.join("sample.json"), &s).unwrap();
            if let Ok(run) = criterion(&t.0, "new") {
                for f in &run.snapshot.functions {
                    prop_assert_eq!(f.count, f.histogram.len());
                }
            }
        }

        #[test]
        fn any_samples_give_a_valid_snapshot(samples in proptest::collection::vec((0.0f64..1e13, 1.0f64..1e6), 1..30)) {
            let t = TempDir::new("valid");
            let (times, iters): (Vec<f64>, Vec<f64>) = samples.iter().copied().unzip();
            let sample = serde_json::json!({"sampling_mode": "Linear", "iters": iters, "times": times}).to_string();
            t.bench("x", "new", "x", Some(&sample));
            let run = criterion(&t.0, "new").unwrap();
            let f = &run.snapshot.functions[0];
            prop_assert_eq!(f.count, samples.len() as u64);
            prop_assert!(crate::Snapshot::from_json(&run.snapshot.to_json()).is_ok());
        }
    }
}
