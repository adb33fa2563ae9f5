//! The baseline store: round trips, listing, history and retention; damaged files rejected
//! with the file and the field named; files that survive `kill -9` mid-save and two
//! processes saving at once.
//!
//! The crash and concurrency tests run this test binary again as a child process: the
//! `child_process` test does nothing unless `PERFCORE_TEST_CHILD` names a mode.

#[path = "common/json_edit.rs"]
mod json_edit;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use perfcore::baseline::{
    Baseline, BaselineError, BaselineStore, EnvPolicy, Environment, FileKind,
};
use perfcore::testing::ManualClock;
use perfcore::{Inconsistency, PerformanceProfiler, Snapshot, SnapshotError};
use proptest::prelude::*;

const CHILD_VAR: &str = "PERFCORE_TEST_CHILD";

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("perfcore-bs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A snapshot of `functions` functions called once each, with durations spread over decades.
fn snapshot(functions: usize) -> Snapshot {
    let clock = ManualClock::new();
    let p = PerformanceProfiler::builder().clock(&clock).build().unwrap();
    for i in 0..functions {
        let _g = p.scope(&format!("module::function_{i}")).unwrap();
        clock.advance(Duration::from_nanos(100 + (i as u64 * 7919) % 10_000_000));
    }
    p.snapshot()
}

fn version(b: &Baseline) -> u64 {
    b.labels["version"].parse().unwrap()
}

// ---------------------------------------------------------------- the child processes

/// Runs this test binary as a child in `mode`, with the store in `dir` (via `PERFCORE_DIR`).
fn spawn_child(mode: &str, dir: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["child_process", "--exact", "--nocapture", "--test-threads=1", "-q"])
        .env(CHILD_VAR, mode)
        .env("PERFCORE_DIR", dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// The child's side: does nothing in a normal test run.
#[test]
fn child_process() {
    let Ok(mode) = std::env::var(CHILD_VAR) else { return };
    // The crash test's histories of 1,500 functions a run stay short; the others keep all.
    let retention = if mode == "save-forever" { 5 } else { 1_000 };
    let store = BaselineStore::open_default().with_retention(retention).unwrap();
    match mode.split_once(':').unwrap_or((&mode, "")) {
        ("open-default", _) => {
            store.save(&Baseline::new("from-env", Snapshot::default()).unwrap()).unwrap();
        }
        // Saves baselines of 1,500 functions (about 1.5 MB each) until killed, each one's
        // counts set by its version so a mix of two versions would show.
        ("save-forever", _) => {
            let base = snapshot(1_500);
            let mut v = store.load("big").map_or(0, |b| version(&b));
            loop {
                v += 1;
                let mut snap = base.clone();
                for _ in 0..v % 4 {
                    snap.merge(&base);
                }
                let b = Baseline::new("big", snap).unwrap().with_label("version", v.to_string());
                store.save(&b).unwrap();
            }
        }
        ("save-100", writer) => {
            for i in 0..100 {
                let b = Baseline::new("shared", snapshot(20))
                    .unwrap()
                    .with_label("writer", writer)
                    .with_label("i", i.to_string());
                store.save(&b).unwrap();
            }
        }
        _ => panic!("unknown child mode {mode}"),
    }
}

/// Every file of the store parses, and the big baseline and its history agree.
/// Returns the baseline's version (0 when none was written yet) and the number of
/// temporary files a killed writer left.
fn check_store_after_kill(store: &BaselineStore) -> (u64, usize) {
    let mut temporaries = 0;
    for sub in ["baselines", "history"] {
        let Ok(entries) = std::fs::read_dir(store.dir().join(sub)) else { continue };
        for entry in entries {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.starts_with('.') && name.ends_with(".tmp") {
                temporaries += 1;
            } else {
                assert_eq!(name, "big.json", "unexpected file {sub}/{name}");
            }
        }
    }
    let listed = store.list().unwrap();
    assert!(listed.iter().all(Result::is_ok), "{listed:?}");
    let history = store.history("big").unwrap();
    for run in &history.runs {
        let v: u64 = run.labels["version"].parse().unwrap();
        let f = run.summary.function("module::function_0").unwrap();
        assert_eq!(f.count, v % 4 + 1, "run {} of version {v}", run.id);
    }
    let b = match store.load("big") {
        Ok(b) => b,
        Err(BaselineError::NotFound { .. }) => {
            assert!(history.runs.is_empty());
            return (0, temporaries);
        }
        Err(e) => panic!("the baseline does not load after a kill: {e}"),
    };
    let v = version(&b);
    assert_eq!(b.snapshot.functions().len(), 1_500);
    assert!(b.snapshot.functions().iter().all(|f| f.count == v % 4 + 1), "a mix of versions");
    // The history is written after the baseline: a kill between the two leaves it behind
    // (by one run per such kill), never ahead.
    let last: u64 = history.latest().map_or(0, |r| r.labels["version"].parse().unwrap());
    assert!(last <= v, "baseline version {v}, last run {last}");
    (v, temporaries)
}

fn has_temporary(dir: &Path) -> bool {
    ["baselines", "history"].iter().any(|sub| {
        std::fs::read_dir(dir.join(sub)).is_ok_and(|entries| {
            entries.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        })
    })
}

/// `kill -9` (`Child::kill` sends SIGKILL on Unix) of a process in the middle of saving
/// never leaves a torn or mixed file: after each of 24 kills at random moments (half of them
/// while a temporary file is being written) every file
/// parses, the baseline is one complete version, and the history is valid.
#[cfg(unix)]
#[test]
fn kill_9_mid_save_leaves_every_file_whole() {
    let dir = TempDir::new("kill");
    let store = BaselineStore::open(&dir.0);
    let mut rng =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
            as u64
            | 1;
    let (mut last, mut mid_write, mut behind) = (0, 0, 0);
    for _ in 0..24 {
        let mut child = spawn_child("save-forever", &dir.0);
        // xorshift: a delay of 200 to 700 ms, past the child's start-up (about 250 ms in a
        // debug build) into its saves.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(200 + rng % 500));
        if rng.is_multiple_of(2) {
            // Half the kills wait for a temporary file to appear: the middle of a write.
            let deadline = std::time::Instant::now() + Duration::from_secs(3);
            while !has_temporary(&dir.0) && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "the writer stopped by itself: {status:?}");
        let (v, temporaries) = check_store_after_kill(&store);
        assert!(v >= last, "version went back from {last} to {v}");
        last = v;
        mid_write += usize::from(temporaries > 0);
        behind += usize::from(
            store
                .history("big")
                .unwrap()
                .latest()
                .is_some_and(|r| r.labels["version"] != v.to_string()),
        );
    }
    assert!(last > 0, "no save completed in 24 runs");
    eprintln!(
        "24 kills: {last} versions saved; {mid_write} kills left a half-written temporary \
         file, {behind} a baseline newer than its history"
    );
}

/// Two processes saving 100 times each at once: every file valid and all 200 runs in the
/// history, with unique increasing ids and each writer's runs in its own order.
#[cfg(unix)]
#[test]
fn two_processes_saving_100_times_each_lose_nothing() {
    let dir = TempDir::new("concurrent");
    let mut children = [spawn_child("save-100:a", &dir.0), spawn_child("save-100:b", &dir.0)];
    for child in &mut children {
        assert!(child.wait().unwrap().success());
    }
    let store = BaselineStore::open(&dir.0);
    let history = store.history("shared").unwrap();
    let ids: Vec<u64> = history.runs.iter().map(|r| r.id).collect();
    assert_eq!(ids, (1..=200).collect::<Vec<_>>());
    for writer in ["a", "b"] {
        let order: Vec<u64> = history
            .runs
            .iter()
            .filter(|r| r.labels["writer"] == writer)
            .map(|r| r.labels["i"].parse().unwrap())
            .collect();
        assert_eq!(order, (0..100).collect::<Vec<_>>(), "writer {writer}");
    }
    let b = store.load("shared").unwrap();
    assert_eq!(b.labels["i"], "99", "the last save was some writer's last");
    assert_eq!(b.labels["writer"], history.latest().unwrap().labels["writer"]);
    assert_eq!(store.list().unwrap().len(), 1);
}

/// `BaselineStore::open_default` uses `PERFCORE_DIR` (in a child: the variable is global).
#[test]
fn open_default_follows_perfcore_dir() {
    let dir = TempDir::new("env");
    assert!(spawn_child("open-default", &dir.0).wait().unwrap().success());
    assert!(dir.0.join("baselines/from-env.json").is_file());
    assert_eq!(BaselineStore::open(&dir.0).history("from-env").unwrap().runs.len(), 1);
}

// ---------------------------------------------------------------- the store's operations

#[test]
fn save_load_list_delete_round_trip() {
    let dir = TempDir::new("roundtrip");
    let store = BaselineStore::open(&dir.0);
    assert!(store.list().unwrap().is_empty());
    let a = Baseline::new("a", snapshot(3)).unwrap().with_label("job", "nightly");
    let b = Baseline::new("b.release", snapshot(5)).unwrap();
    store.save(&b).unwrap();
    store.save(&a).unwrap();
    store.save(&a).unwrap();
    assert_eq!(store.load("a").unwrap(), a);
    assert_eq!(store.load("b.release").unwrap(), b);

    let listed: Vec<_> = store.list().unwrap().into_iter().map(Result::unwrap).collect();
    let summary: Vec<_> = listed.iter().map(|i| (i.name.as_str(), i.functions, i.runs)).collect();
    assert_eq!(summary, [("a", 3, 2), ("b.release", 5, 1)]);
    assert_eq!(listed[0].created_unix_ns, a.environment.created_unix_ns);
    assert_eq!(listed[0].commit, a.environment.git.as_ref().map(|g| g.commit.clone()));

    // The file is the plain pretty JSON of the baseline, ready to commit.
    let text = std::fs::read_to_string(dir.0.join("baselines/a.json")).unwrap();
    assert_eq!(text, a.to_json());

    store.delete("a").unwrap();
    assert!(matches!(store.load("a"), Err(BaselineError::NotFound { .. })));
    assert!(store.history("a").unwrap().runs.is_empty());
    assert_eq!(store.list().unwrap().len(), 1);
    let err = store.delete("a").unwrap_err();
    assert!(err.to_string().starts_with("no baseline named \"a\" in "), "{err}");
}

#[test]
fn history_keeps_order_ids_labels_and_retention() {
    let dir = TempDir::new("history");
    let store = BaselineStore::open(&dir.0).with_retention(5).unwrap();
    for i in 0..8u64 {
        let b = Baseline::new("h", snapshot(1)).unwrap().with_label("i", i.to_string());
        let saved = store.save(&b).unwrap();
        assert_eq!((saved.id, saved.dropped), (i + 1, usize::from(i >= 5)));
    }
    let env = Environment::capture().with_runtime("CPython 3.11.2");
    let ci = store.record_run("h", env, Default::default(), snapshot(2).summary()).unwrap();
    assert_eq!(ci.id, 9);
    let history = store.history("h").unwrap();
    let ids: Vec<u64> = history.runs.iter().map(|r| r.id).collect();
    assert_eq!(ids, [5, 6, 7, 8, 9]);
    let labels: Vec<_> = history.runs[..4].iter().map(|r| r.labels["i"].as_str()).collect();
    assert_eq!(labels, ["4", "5", "6", "7"]);
    assert_eq!(history.latest().unwrap().environment.runtime, "CPython 3.11.2");
    assert_eq!(history.latest().unwrap().summary.functions.len(), 2);
    // Recording a run does not touch the baseline.
    assert_eq!(store.load("h").unwrap().labels["i"], "7");
    assert!(matches!(
        BaselineStore::open(&dir.0).with_retention(0),
        Err(BaselineError::ZeroRetention)
    ));
}

#[test]
fn fleet_merge_through_the_store() {
    let dir = TempDir::new("fleet");
    let store = BaselineStore::open(&dir.0);
    let mut fleet = Baseline::new("fleet", snapshot(4)).unwrap();
    let mut other = Baseline::new("host-b", snapshot(4)).unwrap();
    other.environment.cpu_model = Some("Imaginary CPU 9000".into());
    let err = fleet.clone().merge(&other, EnvPolicy::Strict).unwrap_err();
    assert!(err.to_string().contains("cpu_model"), "{err}");
    let warnings = fleet.merge(&other, EnvPolicy::Warn).unwrap();
    assert_eq!(warnings[0].theirs, "Imaginary CPU 9000");
    store.save(&fleet).unwrap();
    let back = store.load("fleet").unwrap();
    assert_eq!(back.machines, [other.environment]);
    assert!(back.snapshot.functions().iter().all(|f| f.count == 2));
}

#[test]
fn invalid_names_are_refused_before_touching_the_disk() {
    let dir = TempDir::new("names");
    let store = BaselineStore::open(&dir.0);
    for name in ["", "../escape", ".hidden", "a b", "x/y"] {
        let err = store.load(name).unwrap_err();
        assert!(matches!(err, BaselineError::InvalidName { .. }), "{name:?}: {err:?}");
        assert!(Baseline::new(name, Snapshot::default()).is_err());
    }
    let mut b = Baseline::new("ok", Snapshot::default()).unwrap();
    b.name = "../../etc/passwd".into();
    assert!(matches!(store.save(&b), Err(BaselineError::InvalidName { .. })));
    assert!(!dir.0.exists());
}

// ---------------------------------------------------------------- damaged files

/// Writes `text` as the baseline `name` and returns the error loading it gives.
fn load_damaged(store: &BaselineStore, name: &str, text: &str) -> BaselineError {
    std::fs::write(store.baseline_path(name).unwrap(), text).unwrap();
    store.load(name).unwrap_err()
}

fn source_of(err: &BaselineError) -> String {
    std::error::Error::source(err).map(ToString::to_string).unwrap_or_default()
}

#[test]
fn damaged_baselines_name_the_file_and_the_field() {
    let dir = TempDir::new("damaged");
    let store = BaselineStore::open(&dir.0);
    store.save(&Baseline::new("good", snapshot(3)).unwrap()).unwrap();
    let good = std::fs::read_to_string(store.baseline_path("good").unwrap()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&good).unwrap();
    let edited = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut d = doc.clone();
        f(&mut d);
        serde_json::to_string_pretty(&d).unwrap()
    };

    let err = load_damaged(&store, "truncated", &good[..good.len() / 2]);
    assert!(matches!(err, BaselineError::Parse { kind: FileKind::Baseline, line: 2.., .. }));
    let msg = err.to_string();
    assert!(msg.starts_with("invalid baseline in ") && msg.contains("truncated.json at line"));
    assert!(source_of(&err).contains("EOF"), "{}", source_of(&err));
    assert!(!msg.contains(&source_of(&err)), "the source is not repeated: {msg}");

    let err = load_damaged(&store, "not-json", "<html>not JSON</html>\n");
    assert!(matches!(err, BaselineError::Parse { line: 1, column: 1, field: None, .. }));
    assert!(err.to_string().contains("not-json.json"));

    let err = load_damaged(
        &store,
        "future",
        &good.replacen("\"schema_version\": 1", "\"schema_version\": 9", 1),
    );
    assert!(matches!(err, BaselineError::UnsupportedSchema { found: 9, oldest: 1, newest: 1, .. }));
    assert!(
        err.to_string()
            .ends_with("future.json has schema version 9; this perfcore reads versions 1 to 1"),
        "{err}"
    );

    let text = edited(&|d| {
        d["snapshot"]["functions"][0].as_object_mut().unwrap().remove("count");
    });
    let err = load_damaged(&store, "missing-field", &text);
    assert!(
        matches!(&err, BaselineError::Parse { field: Some(f), .. } if f == "snapshot.functions[0]"),
        "{err:?}"
    );
    assert!(err.to_string().contains("missing-field.json"));
    assert_eq!(source_of(&err).split(" at line").next().unwrap(), "missing field `count`");

    let err = load_damaged(
        &store,
        "negative",
        &edited(&|d| d["snapshot"]["functions"][1]["count"] = (-1).into()),
    );
    assert!(
        matches!(&err, BaselineError::Parse { field: Some(f), .. } if f == "snapshot.functions[1].count"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("negative.json")
            && err.to_string().contains("`snapshot.functions[1].count`")
    );
    assert!(source_of(&err).contains("integer `-1`"), "{}", source_of(&err));

    let err = load_damaged(
        &store,
        "count",
        &edited(&|d| d["snapshot"]["functions"][2]["count"] = 7.into()),
    );
    assert!(
        matches!(
            &err,
            BaselineError::Snapshot(SnapshotError::Inconsistent {
                problem: Inconsistency::CountMismatch { function: 2, count: 7, histogram: 1, .. },
                path: Some(_),
            })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("count.json: functions[2] (module::function_2): count is 7"),
        "{err}"
    );

    let err = load_damaged(&store, "renamed", &good);
    assert!(
        matches!(&err, BaselineError::Inconsistent { field, .. } if field == "name"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("renamed.json: name: \"good\" is not the file's name \"renamed\""),
        "{err}"
    );

    // Each damaged file is its own entry in the listing; the good one is still listed.
    let listed = store.list().unwrap();
    assert_eq!(listed.len(), 8);
    let good_ones: Vec<_> =
        listed.iter().filter_map(|e| e.as_ref().ok()).map(|i| &i.name).collect();
    assert_eq!(good_ones, ["good"]);
}

#[test]
fn damaged_histories_name_the_file_and_the_field() {
    let dir = TempDir::new("damaged-history");
    let store = BaselineStore::open(&dir.0);
    store.save(&Baseline::new("h", snapshot(2)).unwrap()).unwrap();
    let path = store.history_path("h").unwrap();
    let good = std::fs::read_to_string(&path).unwrap();
    let history = |text: &str| {
        std::fs::write(&path, text).unwrap();
        store.history("h").unwrap_err()
    };
    let err = history(&good.replacen("\"id\": 1", "\"id\": -1", 1));
    assert!(
        matches!(&err, BaselineError::Parse { kind: FileKind::History, field: Some(f), .. } if f == "runs[0].id"),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("invalid run history in ")
            && err.to_string().contains("h.json")
    );
    let err = history(&good.replacen("\"schema_version\": 1", "\"schema_version\": 2", 1));
    assert!(matches!(
        err,
        BaselineError::UnsupportedSchema { kind: FileKind::History, found: 2, .. }
    ));
    let err = history(&good.replacen("\"errors\": 0", "\"errors\": 5", 1));
    assert!(
        err.to_string().ends_with("runs[0].summary.functions[0].errors: 5 errors in 1 calls"),
        "{err}"
    );
    // A save does not overwrite a history it cannot read.
    let err = store.save(&Baseline::new("h", snapshot(2)).unwrap()).unwrap_err();
    assert!(matches!(err, BaselineError::Inconsistent { kind: FileKind::History, .. }));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        good.replacen("\"errors\": 0", "\"errors\": 5", 1)
    );
}

/// A baseline holding a schema-1 snapshot (3-digit HdrHistogram buckets) loads, its
/// histograms re-bucketed, and is written back in today's layout.
#[test]
fn a_baseline_with_an_older_snapshot_loads() {
    let v1 = serde_json::json!({"schema_version": 1, "started_unix_ns": 0,
        "ended_unix_ns": 1_000_000_000u64, "call_tree": [],
        "functions": [{"name": "old", "module_path": "", "file": "", "line": 0, "count": 2,
        "errors": 0, "total_ns": 3000, "self_ns": 3000, "mean_ns": 1500.0, "min_ns": 1000,
        "max_ns": 2000, "stddev_ns": 0.0, "p50_ns": 0, "p90_ns": 0, "p95_ns": 0, "p99_ns": 0,
        "p999_ns": 0, "calls_per_sec": 0.0, "clamped": 0, "folded_calls": 0,
        "allocations": null, "histogram": {"significant_digits": 3,
        "buckets": [[1000, 1], [2000, 1]]}}]});
    let mut doc: serde_json::Value =
        serde_json::from_str(&Baseline::new("old", Snapshot::default()).unwrap().to_json())
            .unwrap();
    doc["snapshot"] = v1;
    let b = Baseline::from_json(&doc.to_string()).unwrap();
    assert_eq!(b.snapshot.schema_version, perfcore::SCHEMA_VERSION);
    assert_eq!(b.snapshot.function("old").unwrap().count, 2);
    assert_eq!(Baseline::from_json(&b.to_json()).unwrap(), b);
}

// ---------------------------------------------------------------- the reader's property test

/// The fields of a baseline the reader checks, and the metadata a hand edit touches.
const FIELDS: [&str; 16] = [
    "schema_version",
    "name",
    "count",
    "errors",
    "min_ns",
    "max_ns",
    "total_ns",
    "started_unix_ns",
    "ended_unix_ns",
    "created_unix_ns",
    "cores",
    "git",
    "labels",
    "machines",
    "buckets",
    "function",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A damaged baseline is rejected with a typed error or read as a baseline that writes
    /// and reads back identically; the reader never panics, truncated or not.
    #[test]
    fn damaged_baselines_are_rejected_or_round_trip(
        functions in 0..6usize,
        merged in any::<bool>(),
        edits in prop::collection::vec(json_edit::edit(&FIELDS), 1..4),
        cut in prop::option::of(0.0..1.0f64),
    ) {
        let mut b = Baseline::new("prop", snapshot(functions)).unwrap().with_label("k", "v");
        if merged {
            b.merge(&b.clone(), EnvPolicy::Warn).unwrap();
        }
        let mut doc: serde_json::Value = serde_json::from_str(&b.to_json()).unwrap();
        for e in &edits {
            json_edit::apply(&mut doc, e);
        }
        let mut text = serde_json::to_string_pretty(&doc).unwrap();
        if let Some(cut) = cut {
            let mut at = (text.len() as f64 * cut) as usize;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.truncate(at);
        }
        match Baseline::from_json(&text) {
            Ok(read) => {
                let again = Baseline::from_json(&read.to_json());
                prop_assert!(again.is_ok(), "re-reading what it wrote failed: {:?}", again.err());
                prop_assert_eq!(again.unwrap(), read);
            }
            Err(e) => {
                prop_assert!(!e.to_string().is_empty());
                if let BaselineError::Parse { line, column, .. } = e {
                    prop_assert!(line >= 1 && column <= text.len() + 1);
                }
            }
        }
    }
}
