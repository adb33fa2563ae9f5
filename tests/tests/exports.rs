//! The machine-readable exports, read back by the tools they are for: `go tool pprof`,
//! speedscope's published JSON schema, Python's `hdrh`, `promtool`.
//!
//! The tools come from `.ci/install-tools.sh`. A test whose tool is missing prints a notice
//! and passes, unless `PERFCORE_REQUIRE_TOOLS=1` (as CI sets it), when it fails.

use std::path::PathBuf;
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

/// Functions with names that test every format's escaping, and durations whose quantile
/// ranks are whole numbers (2,000 calls, each value 20 times), so every library's rounding
/// of a rank picks the same call.
fn odd_snapshot() -> Snapshot {
    let names = [
        "plain",
        "with space, comma",
        "quote \" and backslash \\",
        "line\nfeed\r",
        "naïve ünïcödé λ 🦀",
        "semi;colon",
        "per%cent",
        "",
    ];
    let functions = names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let scale = 1 + k as u64 * 37;
            let durations = (1..=100u64).flat_map(|v| std::iter::repeat_n(v * v * 100 * scale, 20));
            perfcore::FunctionStats::from_durations(name, durations)
        })
        .collect();
    Snapshot::from_functions(functions, 1_700_000_000_000_000_000, 1_700_000_060_000_000_000)
}

#[test]
fn promtool_accepts_the_prometheus_text() {
    if !have("promtool", "--version") {
        return;
    }
    use perfcore::report::{ExpositionFormat, PrometheusOptions, to_prometheus_text};
    use std::io::Write as _;
    let snap = odd_snapshot();
    // (success, what it printed)
    let check = |format| {
        let options = PrometheusOptions::new().const_label("instance", "a\"b\\").format(format);
        let text = to_prometheus_text(&snap, &options);
        let mut child = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), said)
    };
    let (ok, said) = check(ExpositionFormat::Prometheus);
    assert!(ok && said.trim().is_empty(), "promtool on the classic format: {said}");
    // OpenMetrics parses; promtool's lint (of the classic format) only objects that the
    // counters' `# TYPE` lines name the family without `_total`.
    let (_, said) = check(ExpositionFormat::OpenMetrics);
    for line in said.lines().filter(|l| !l.trim().is_empty()) {
        assert!(line.ends_with("_total no help text"), "promtool on OpenMetrics: {line}");
    }
}
