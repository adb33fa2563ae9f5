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

/// Whether `program` runs with `args`; when it does not, fails under
/// `PERFCORE_REQUIRE_TOOLS=1` and otherwise prints why the test is skipped.
fn have_with(program: &str, args: &[&str]) -> bool {
    let ok = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let msg = format!(
            "`{program} {}` does not run: install it with .ci/install-tools.sh",
            args.join(" ")
        );
        assert!(std::env::var("PERFCORE_REQUIRE_TOOLS").as_deref() != Ok("1"), "{msg}");
        eprintln!("skipped: {msg}");
    }
    ok
}

fn have(program: &str, arg: &str) -> bool {
    have_with(program, &[arg])
}

/// Whether python3 can import `module` (same rules as [`have_with`]).
fn have_python_module(module: &str) -> bool {
    have_with("python3", &["-c", &format!("import {module}")])
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
    let mut snap = known_snapshot();
    // Allocations of `eval` (tracked per function): its own 3,000 bytes go to its one path.
    let eval = snap.functions.iter().position(|f| f.name == "eval").unwrap();
    let mut a = perfcore::AllocationStats::default();
    (a.calls, a.allocated_bytes, a.self_allocated_bytes) = (3, 4_500, 3_000);
    (a.allocations, a.self_allocations) = (9, 6);
    snap.functions[eval].allocations = Some(a);
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
            let num = |c: &str| c.strip_suffix(unit).and_then(|n| n.parse::<u64>().ok());
            if let [flat, _, _, cum, _, name] = cols[..]
                && let (Some(flat), Some(cum)) = (num(flat), num(cum))
            {
                rows.insert(name.to_owned(), (flat, cum));
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
    // (`-unit=ns` labels the counts "ns" too.)
    let calls = top("calls", "ns");
    for f in &snap.functions {
        assert_eq!(calls[&f.name].0, f.count, "calls of {}", f.name);
    }
    let space = top("alloc_space", "B");
    assert_eq!(space["eval"], (3_000, 3_000), "{space:?}");
    // 9 allocations, 6 of them in its own body.
    let objects = top("alloc_objects", "ns");
    assert_eq!(objects["eval"].0, 6, "{objects:?}");
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

/// The speedscope release whose published file-format schema the export is checked against.
const SPEEDSCOPE: &str = "speedscope@1.25.0";

#[test]
fn speedscope_json_matches_the_published_schema() {
    if !have("npm", "--version") || !have_python_module("jsonschema") {
        return;
    }
    let snap = known_snapshot();
    let json = perfcore::report::to_speedscope_json(&snap);
    let dir = scratch("speedscope");
    std::fs::write(dir.join("profile.speedscope.json"), &json).unwrap();
    // The schema ships in the speedscope package: dist/release/file-format-schema.json. A
    // pinned release, so that a new one cannot change what this test checks unannounced.
    run(Command::new("npm").args(["pack", "--silent", SPEEDSCOPE]).current_dir(&dir));
    let tarball = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "tgz"))
        .expect("npm pack wrote no tarball");
    run(Command::new("tar").arg("xzf").arg(&tarball).current_dir(&dir));
    let script = "import json, sys, jsonschema\n\
        schema = json.load(open(sys.argv[1]))\n\
        jsonschema.validate(json.load(open(sys.argv[2])), schema)\n\
        print('valid')\n";
    let out = run(Command::new("python3")
        .args([
            "-c",
            script,
            "package/dist/release/file-format-schema.json",
            "profile.speedscope.json",
        ])
        .current_dir(&dir));
    assert_eq!(out.trim(), "valid");

    // Weights of the samples whose leaf is a frame add up to that function's self time.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let frames = v["shared"]["frames"].as_array().unwrap();
    let profile = &v["profiles"][0];
    let mut by_leaf = vec![0u64; frames.len()];
    let samples = profile["samples"].as_array().unwrap();
    for (s, w) in samples.iter().zip(profile["weights"].as_array().unwrap()) {
        let leaf = s.as_array().unwrap().last().unwrap().as_u64().unwrap() as usize;
        by_leaf[leaf] += w.as_u64().unwrap();
    }
    for (i, f) in snap.functions.iter().enumerate() {
        assert_eq!(frames[i]["name"], f.name.as_str());
        assert_eq!(by_leaf[i], f.self_ns, "{}", f.name);
    }
    assert_eq!(profile["endValue"], 36_000);
}

/// Undoes the interval log's tag mapping (percent-encoded bytes).
fn untag(tag: &str) -> String {
    if tag == "_" {
        return String::new();
    }
    let (mut bytes, raw) = (Vec::new(), tag.as_bytes());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            bytes.push(u8::from_str_radix(&tag[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(bytes).unwrap()
}

#[test]
fn python_hdrh_reads_the_interval_log() {
    if !have_python_module("hdrh") {
        return;
    }
    let snap = odd_snapshot();
    let dir = scratch("hdr");
    let file = dir.join("perfcore.hlog");
    perfcore::report::write_hdr_log(&snap, std::fs::File::create(&file).unwrap()).unwrap();
    let script = "import json, sys\n\
        from hdrh.histogram import HdrHistogram\n\
        from hdrh.log import HistogramLogReader\n\
        reader = HistogramLogReader(sys.argv[1], HdrHistogram(1, 2**42, 2))\n\
        out = []\n\
        while True:\n\
        \x20   h = reader.get_next_interval_histogram()\n\
        \x20   if h is None: break\n\
        \x20   out.append({'tag': h.get_tag(), 'count': h.get_total_count(),\n\
        \x20       'p50': h.get_value_at_percentile(50), 'p90': h.get_value_at_percentile(90),\n\
        \x20       'p99': h.get_value_at_percentile(99), 'max': h.get_max_value(),\n\
        \x20       'start': h.get_start_time_stamp(), 'end': h.get_end_time_stamp()})\n\
        print(json.dumps(out))\n";
    let out = run(Command::new("python3").args(["-c", script]).arg(&file));
    let intervals: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(intervals.len(), snap.functions.len());
    for i in &intervals {
        let name = untag(i["tag"].as_str().unwrap());
        let f = snap.function(&name).unwrap_or_else(|| panic!("no function {name:?}"));
        assert_eq!(i["count"].as_u64(), Some(f.count), "{name}");
        for (key, ours) in
            [("p50", f.p50_ns), ("p90", f.p90_ns), ("p99", f.p99_ns), ("max", f.max_ns)]
        {
            let theirs = i[key].as_f64().unwrap();
            let error = (theirs - ours as f64).abs() / ours as f64;
            assert!(error <= 1.0 / 128.0, "{name} {key}: hdrh {theirs}, perfcore {ours}");
        }
        // Milliseconds since the epoch: the snapshot's window.
        assert_eq!(i["start"].as_f64(), Some(1_700_000_000_000.0));
        assert_eq!(i["end"].as_f64(), Some(1_700_000_060_000.0));
    }
}
