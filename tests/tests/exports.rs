//! The machine-readable exports, read back by the tools they are for: `go tool pprof`,
//! speedscope's published JSON schema, Python's `hdrh`, `promtool`.
//!
//! The tools come from `.ci/install-tools.sh`. A test whose tool is missing prints a notice
//! and passes, unless `PERFCORE_REQUIRE_TOOLS=1` (as CI sets it), when it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use perfcore::testing::ManualClock;
use perfcore::{PerformanceProfiler, Snapshot};

/// Whether `program` runs (with `arg`); when it does not, fails under
/// `PERFCORE_REQUIRE_TOOLS=1` and otherwise prints why the test is skipped.
fn have(program: &str, arg: &str) -> bool {
    let ok = Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let msg = format!("`{program} {arg}` does not run: install it with .ci/install-tools.sh");
        assert!(std::env::var("PERFCORE_REQUIRE_TOOLS").as_deref() != Ok("1"), "{msg}");
        eprintln!("skipped: {msg}");
    }
    ok
}

/// Whether python3 can import `module` (same rules as [`have`]).
fn have_python_module(module: &str) -> bool {
    have("python3", "--version") && have("python3", &format!("-c=import {module}").replace("-c=", "-c"))
}

/// A fresh directory under the target directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("exports").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Three runs of `main` calling `parse`, then `eval`, which calls `parse` again, on a manual
/// clock. Self times: main 3 µs, parse 15 µs, eval 18 µs.
fn known_snapshot() -> Snapshot {
    let clock = ManualClock::new();
    let p = PerformanceProfiler::builder().clock(&clock).build().unwrap();
    let step = |ns| clock.advance(Duration::from_nanos(ns));
    for _ in 0..3 {
        let _main = p.scope("main").unwrap();
        step(1_000);
        {
            let _parse = p.scope("parse").unwrap();
            step(3_000);
        }
        let _eval = p.scope("eval").unwrap();
        step(6_000);
        let _parse = p.scope("parse").unwrap();
        step(2_000);
    }
    let snap = p.snapshot();
    let self_ns = |name| snap.function(name).unwrap().self_ns;
    assert_eq!((self_ns("main"), self_ns("parse"), self_ns("eval")), (3_000, 15_000, 18_000));
    snap
}

#[test]
fn go_tool_pprof_reads_the_profile() {
    if !have("go", "version") {
        return;
    }
    let snap = known_snapshot();
    let dir = scratch("pprof");
    let file = dir.join("profile.pb.gz");
    perfcore::report::write_pprof(&snap, std::fs::File::create(&file).unwrap()).unwrap();
    // (flat, cum) per function, as `go tool pprof -top` prints them.
    let top = |index: &str, unit: &str| {
        let text = run(Command::new("go")
            .args(["tool", "pprof", "-top", &format!("-sample_index={index}"), "-unit=ns"])
            .arg(&file)
            .env("HOME", &dir));
        let mut rows = std::collections::BTreeMap::new();
        for line in text.lines() {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() == 6 && cols[0].ends_with(unit) {
                let num = |c: &str| c.trim_end_matches(unit).parse::<u64>().unwrap();
                rows.insert(cols[5].to_owned(), (num(cols[0]), num(cols[3])));
            }
        }
        rows
    };
    let self_top = top("self", "ns");
    assert_eq!(self_top.len(), 3, "{self_top:?}");
    for f in &snap.functions {
        assert_eq!(self_top[&f.name].0, f.self_ns, "flat self of {}", f.name);
    }
    // Cumulative self time is the time under a function: eval holds its own and a parse's.
    assert_eq!(self_top["main"].1, 36_000);
    assert_eq!(self_top["eval"].1, 24_000);
    let calls = top("calls", "");
    for f in &snap.functions {
        assert_eq!(calls[&f.name].0, f.count, "calls of {}", f.name);
    }
}
