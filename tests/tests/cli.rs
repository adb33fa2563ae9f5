//! The `perfcore` command, run in-process through `perfcore::cli::run`: exit codes, messages
//! that name what was wrong and where, and each command's output.

use std::path::{Path, PathBuf};

use perfcore::{FunctionStats, Snapshot};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn perfcore(dir: &Path, args: &[&str]) -> Out {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let store = dir.join("store");
    let mut all = vec!["perfcore", "--dir", store.to_str().unwrap()];
    all.extend_from_slice(args);
    let code = perfcore::cli::run(all, &mut out, &mut err);
    Out { code, stdout: String::from_utf8(out).unwrap(), stderr: String::from_utf8(err).unwrap() }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("perfcore-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A snapshot file of two functions, `parse` taking `parse_ns` per call (with spread).
fn run_file(dir: &Path, file: &str, parse_ns: u64) -> String {
    let spread = |i: u64| (i * 7_919) % 2_000;
    let snap = Snapshot::from_functions(
        vec![
            FunctionStats::from_durations("app::parse", (0..500).map(|i| parse_ns + spread(i))),
            FunctionStats::from_durations("app::load", (0..500).map(|i| 50_000 + spread(i))),
        ],
        1_000_000_000,
        2_000_000_000,
    );
    let path = dir.join(file);
    snap.write_json(&path).unwrap();
    path.to_str().unwrap().to_owned()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../perfcore/tests/fixtures")
}

#[test]
fn help_version_and_usage_errors() {
    let dir = scratch("help");
    let help = perfcore(&dir, &["--help"]);
    assert_eq!(help.code, 0);
    assert!(
        help.stdout.contains("compare") && help.stdout.contains("Exit codes"),
        "{}",
        help.stdout
    );
    let bad = perfcore(&dir, &["compare", "only-one"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("CURRENT"), "{}", bad.stderr);
    let ambiguous = perfcore(&dir, &["compare", "a", "b", "--threshold", "10"]);
    assert_eq!(ambiguous.code, 2);
    assert!(ambiguous.stderr.contains("write 10% or 0.1"), "{}", ambiguous.stderr);
}

#[test]
fn compare_judges_and_exits_by_the_verdict() {
    let dir = scratch("compare");
    let base = run_file(&dir, "base.json", 100_000);
    let same = run_file(&dir, "same.json", 100_000);
    let slow = run_file(&dir, "slow.json", 130_000);
    let ok = perfcore(&dir, &["compare", &base, &same]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("2 unchanged"), "{}", ok.stdout);
    let regressed = perfcore(&dir, &["compare", &base, &slow]);
    assert_eq!(regressed.code, 1, "{}", regressed.stdout);
    assert!(regressed.stdout.lines().nth(1).unwrap().starts_with("regressed         app::parse"));
    let md = perfcore(&dir, &["compare", &base, &slow, "--format", "markdown"]);
    assert!(md.stdout.starts_with("### ❌ perfcore: 1 function regressed"), "{}", md.stdout);
    let json = perfcore(&dir, &["compare", &base, &slow, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["functions"][0]["function"], "app::parse");
    assert_eq!(v["functions"][0]["verdict"], "regressed");
    // A per-function threshold above the change lets it pass.
    let lenient = perfcore(&dir, &["compare", &base, &slow, "--threshold-for", "app::*=50%"]);
    assert_eq!(lenient.code, 0, "{}", lenient.stdout);
}

#[test]
fn a_missing_baseline_passes_unless_required() {
    let dir = scratch("missing");
    let cur = run_file(&dir, "cur.json", 100_000);
    let first = perfcore(&dir, &["compare", "main", &cur]);
    assert_eq!(first.code, 0);
    assert!(first.stdout.contains("no baseline `main` yet"), "{}", first.stdout);
    let required = perfcore(&dir, &["compare", "main", &cur, "--require-baseline"]);
    assert_eq!(required.code, 2);
    assert!(
        required.stderr.contains("`main` is neither a file nor a baseline in"),
        "{}",
        required.stderr
    );
}

#[test]
fn bad_files_name_the_file_and_the_place() {
    let dir = scratch("bad");
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"schema_version\": 2,\n  \"functions\": [ }").unwrap();
    let out = perfcore(&dir, &["show", broken.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("broken.json") && out.stderr.contains("line 2"), "{}", out.stderr);
    let future = dir.join("future.json");
    std::fs::write(&future, r#"{"schema_version": 99, "functions": []}"#).unwrap();
    let out = perfcore(&dir, &["show", future.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("schema version 99"), "{}", out.stderr);
    let other = dir.join("other.json");
    std::fs::write(&other, r#"{"hello": 1}"#).unwrap();
    let out = perfcore(&dir, &["show", other.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("other.json"), "{}", out.stderr);
}

#[test]
fn baselines_are_saved_listed_compared_with_their_history_and_deleted() {
    let dir = scratch("store");
    for i in 0..4 {
        let run = run_file(&dir, &format!("run{i}.json"), 100_000 + i * 500);
        let cmd = if i == 0 { "save" } else { "record" };
        let out = perfcore(&dir, &["baseline", cmd, "main", &run, "--label", "job=ci"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    let list = perfcore(&dir, &["baseline", "list"]);
    assert!(list.stdout.lines().nth(1).unwrap().starts_with("main "), "{}", list.stdout);
    assert!(list.stdout.contains("     4 "), "4 runs in the history: {}", list.stdout);
    let show = perfcore(&dir, &["baseline", "show", "main"]);
    assert!(
        show.stdout.contains("label job = ci") && show.stdout.contains("app::parse"),
        "{}",
        show.stdout
    );
    let history = perfcore(&dir, &["baseline", "history", "main", "--function", "app::parse"]);
    assert_eq!(history.code, 0, "{}", history.stderr);
    assert_eq!(history.stdout.lines().count(), 2 + 4, "{}", history.stdout);
    // The stored name as the baseline: its history sets the noise floor.
    let slow = run_file(&dir, "slow.json", 140_000);
    let out = perfcore(&dir, &["compare", "main", &slow, "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(v["functions"][0]["history_runs"].as_u64().unwrap() >= 3, "{}", out.stdout);
    let gone = perfcore(&dir, &["baseline", "delete", "main"]);
    assert_eq!(gone.code, 0);
    let again = perfcore(&dir, &["baseline", "show", "main"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("main"), "{}", again.stderr);
    let bad_name = perfcore(&dir, &["baseline", "save", "../evil", &slow]);
    assert_eq!(bad_name.code, 2);
}

#[test]
fn merge_adds_runs_up() {
    let dir = scratch("merge");
    let (a, b) = (run_file(&dir, "a.json", 100_000), run_file(&dir, "b.json", 100_000));
    let merged = dir.join("merged.json");
    let out = perfcore(&dir, &["merge", &a, &b, "-o", merged.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let snap = Snapshot::read_json(&merged).unwrap();
    assert_eq!(snap.function("app::parse").unwrap().count, 1_000);
}

#[test]
fn budgets_are_checked() {
    let dir = scratch("budgets");
    let run = run_file(&dir, "run.json", 100_000);
    let budgets = dir.join("budgets.toml");
    std::fs::write(
        &budgets,
        "[functions.\"app::parse\"]\np95 = \"90us\"\n\n[functions.\"app::load\"]\np95 = \"1ms\"\n",
    )
    .unwrap();
    let out = perfcore(&dir, &["check", &run, "--budgets", budgets.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("app::parse") && out.stdout.contains("90"), "{}", out.stdout);
    std::fs::write(&budgets, "[functions.\"app::*\"]\np95 = \"1ms\"\n").unwrap();
    let out = perfcore(&dir, &["check", &run, "--budgets", budgets.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    std::fs::write(&budgets, "[functions.\"app::*\"]\np95 = 200\n").unwrap();
    let out = perfcore(&dir, &["check", &run, "--budgets", budgets.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("budgets.toml:2:") && out.stderr.contains("no unit"),
        "{}",
        out.stderr
    );
}

#[test]
fn other_tools_results_are_read() {
    let dir = scratch("import");
    let criterion = fixtures().join("criterion");
    let (base, new) =
        (format!("{}@base", criterion.display()), format!("{}@new", criterion.display()));
    let out = perfcore(&dir, &["compare", &base, &new]);
    assert!(out.code == 0 || out.code == 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("scope/1thread/perfcore_guard"), "{}", out.stdout);
    // Benchmarks without the `base` criterion baseline are named as skipped.
    assert!(out.stderr.contains("skipped"), "{}", out.stderr);
    let pytest = fixtures().join("pytest-benchmark/with-data.json");
    let out = perfcore(&dir, &["show", pytest.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("pytest-benchmark results"), "{}", out.stdout);
}

#[test]
fn report_writes_every_format_asked_for() {
    let dir = scratch("report");
    let base = run_file(&dir, "base.json", 100_000);
    let head = run_file(&dir, "head.json", 200_000);
    let path = |f: &str| dir.join(f).to_str().unwrap().to_owned();
    let r = perfcore(
        &dir,
        &[
            "report",
            &head,
            "--baseline",
            &base,
            "--html",
            &path("r.html"),
            "--json",
            &path("r.json"),
            "--folded",
            &path("f.txt"),
            "--speedscope",
            &path("s.json"),
            "--pprof",
            &path("p.pb.gz"),
            "--hdr",
            &path("h.hlog"),
            "--prometheus",
            &path("m.prom"),
            "--markdown",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Markdown went to standard output, with the comparison's verdict.
    assert!(
        r.stdout.contains("`app::parse`") && r.stdout.contains("1 function regressed"),
        "{}",
        r.stdout
    );
    for f in ["r.html", "r.json", "f.txt", "s.json", "p.pb.gz", "h.hlog", "m.prom"] {
        assert!(r.stderr.contains(&path(f)), "{f} not reported: {}", r.stderr);
        assert!(std::fs::metadata(dir.join(f)).unwrap().len() > 0, "{f} is empty");
    }
    let report =
        perfcore::report::Report::from_json(&std::fs::read_to_string(dir.join("r.json")).unwrap())
            .unwrap();
    assert_eq!(report.baseline.as_deref(), Some(base.as_str()));
    assert!(report.comparison.unwrap().has_regressions());
    let html = std::fs::read_to_string(dir.join("r.html")).unwrap();
    assert!(html.contains("<!DOCTYPE html>") || html.contains("<!doctype html>"));
    // pprof is gzip: the magic bytes.
    assert_eq!(&std::fs::read(dir.join("p.pb.gz")).unwrap()[..2], &[0x1f, 0x8b]);
    // Without a format the Markdown report goes to standard output.
    let plain = perfcore(&dir, &["report", &head]);
    assert_eq!(plain.code, 0);
    assert!(plain.stdout.starts_with("## perfcore report"), "{}", plain.stdout);
}

#[test]
fn report_refuses_what_it_cannot_do_by_name() {
    let dir = scratch("report-bad");
    let head = run_file(&dir, "head.json", 100_000);
    let two = perfcore(&dir, &["report", &head, "--markdown", "--folded"]);
    assert_eq!(two.code, 2);
    assert!(
        two.stderr.contains("more than one format asked for standard output"),
        "{}",
        two.stderr
    );
    let trace = perfcore(&dir, &["report", &head, "--chrome-trace", "-"]);
    assert_eq!(trace.code, 2);
    assert!(trace.stderr.contains("has no timeline"), "{}", trace.stderr);
    let missing = perfcore(&dir, &["report", "/no/such/run.json", "--json"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("/no/such/run.json"), "{}", missing.stderr);
    let unwritable = perfcore(&dir, &["report", &head, "--html", "/no/such/dir/r.html"]);
    assert_eq!(unwritable.code, 2);
    assert!(unwritable.stderr.contains("/no/such/dir/r.html"), "{}", unwritable.stderr);
}

fn focus_sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/focus/focus_sample.csv")
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn cost_import_report_and_breakdowns() {
    let dir = scratch("cost");
    let sample = focus_sample();
    // A report before any import says what to do.
    let none = perfcore(&dir, &["cost", "report"]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains("perfcore cost import"), "{}", none.stderr);
    let first = perfcore(&dir, &["cost", "import", &sample]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stdout.contains("1000 imported") && first.stdout.contains("20.52022672899 USD"),
        "{}",
        first.stdout
    );
    let again = perfcore(&dir, &["cost", "import", &sample]);
    assert_eq!(again.code, 0);
    assert!(again.stdout.contains("already imported"), "{}", again.stdout);
    let report = perfcore(&dir, &["cost", "report", "--period", "monthly"]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(report.stdout.contains("Total cost: 20.52 USD"), "{}", report.stdout);
    assert!(report.stdout.contains("Amazon Elastic Compute Cloud"), "{}", report.stdout);
    // A breakdown as JSON: rows per (day, service) that add up to the total, exactly.
    let json = perfcore(
        &dir,
        &["cost", "report", "--month", "2024-09", "--by", "day,service", "--format", "json"],
    );
    assert_eq!(json.code, 0, "{}", json.stderr);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["day"].as_str().unwrap().starts_with("2024-09-")));
    assert_eq!(doc["total"]["USD"], "20.52022672899");
    let md = perfcore(
        &dir,
        &["cost", "report", "--by", "provider,tag:environment", "--format", "markdown"],
    );
    assert!(
        md.stdout.starts_with("| provider | tag:environment | billed cost | rows |"),
        "{}",
        md.stdout
    );
    let html = dir.join("costs.html");
    let page =
        perfcore(&dir, &["cost", "report", "--format", "html", "-o", html.to_str().unwrap()]);
    assert_eq!(page.code, 0, "{}", page.stderr);
    assert!(std::fs::read_to_string(&html).unwrap().contains("20.52 USD"));
    let imports = perfcore(&dir, &["cost", "imports"]);
    assert!(
        imports.stdout.contains("focus_sample.csv") && imports.stdout.contains("1000 rows"),
        "{}",
        imports.stdout
    );
    // Bad usage names the option.
    let bad = perfcore(&dir, &["cost", "report", "--by", "colour"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("\"colour\""), "{}", bad.stderr);
    let bad = perfcore(&dir, &["cost", "report", "--month", "2024-13"]);
    assert!(bad.code == 2 && bad.stderr.contains("--month"), "{}", bad.stderr);
}

#[test]
fn cost_forecast_of_the_sample() {
    let dir = scratch("cost-forecast");
    let none = perfcore(&dir, &["cost", "forecast"]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert_eq!(perfcore(&dir, &["cost", "import", &focus_sample()]).code, 0);
    let text = perfcore(&dir, &["cost", "forecast", "--days", "7"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("7 days after 2024-09-30 (80% interval)"), "{}", text.stdout);
    assert!(text.stdout.contains("the month 2024-09 ends at"), "{}", text.stdout);
    let json = perfcore(&dir, &["cost", "forecast", "--by", "service", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["dimensions"][0], "service");
    let series = doc["series"].as_array().unwrap();
    assert!(!series.is_empty() && series[0]["points"].as_array().unwrap().len() == 30);
    assert!(doc["insufficient_history"].is_array());
    let bad = perfcore(&dir, &["cost", "forecast", "--level", "1.5"]);
    assert!(bad.code == 2 && bad.stderr.contains("interval level"), "{}", bad.stderr);
}

#[test]
fn cost_import_errors_name_the_line_and_column() {
    let dir = scratch("cost-errors");
    let text = std::fs::read_to_string(focus_sample()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let bad_line = lines[3].replacen("\"USD\"", "\"dollars\"", 1);
    lines[3] = &bad_line;
    let path = dir.join("bad.csv");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let strict = perfcore(&dir, &["cost", "import", "--strict", path.to_str().unwrap()]);
    assert_eq!(strict.code, 2);
    assert!(
        strict.stderr.contains("bad.csv:4: column BillingCurrency: \"dollars\""),
        "{}",
        strict.stderr
    );
    let lenient = perfcore(&dir, &["cost", "import", path.to_str().unwrap()]);
    assert_eq!(lenient.code, 0, "{}", lenient.stderr);
    assert!(
        lenient.stdout.contains("skipped 1 rows")
            && lenient.stdout.contains("line 4: column BillingCurrency"),
        "{}",
        lenient.stdout
    );
    assert!(lenient.stderr.contains("1 rows skipped"), "{}", lenient.stderr);
    // The sample covers the same account and month: refused, then replaced.
    let sample = focus_sample();
    let refused = perfcore(&dir, &["cost", "import", &sample]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("--replace"), "{}", refused.stderr);
    let replaced = perfcore(&dir, &["cost", "import", "--replace", &sample]);
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    assert!(replaced.stdout.contains("replaced the same billing periods"), "{}", replaced.stdout);
    let missing = dir.join("missing.csv");
    std::fs::write(&missing, "BilledCost,ChargePeriodStart\n1,2024-09-01\n").unwrap();
    let m = perfcore(&dir, &["cost", "import", missing.to_str().unwrap()]);
    assert!(
        m.code == 2 && m.stderr.contains("missing the mandatory columns BillingAccountId"),
        "{}",
        m.stderr
    );
}

#[test]
fn cost_functions_prices_a_snapshot() {
    let dir = scratch("cost-functions");
    let snap = run_file(&dir, "run.json", 2_000_000);
    let out = perfcore(&dir, &["cost", "functions", &snap, "--vcpu-hour", "0.048"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("app::parse") && out.stdout.contains("per 1M calls"),
        "{}",
        out.stdout
    );
    let json =
        perfcore(&dir, &["cost", "functions", &snap, "--vcpu-hour", "0.048", "--format", "json"]);
    let costs: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    // app::parse: 500 calls of ~2 ms of self time at $0.048 per vCPU-hour.
    let parse = costs.as_array().unwrap().iter().find(|c| c["name"] == "app::parse").unwrap();
    let per_call: f64 = parse["cost_per_call"]["amount"].as_str().unwrap().parse().unwrap();
    assert!((per_call - 0.048 * 0.002_001 / 3600.0).abs() < 1e-10, "{per_call}");
    let md = perfcore(&dir, &["report", &snap, "--markdown", "--vcpu-hour", "0.048"]);
    assert!(md.stdout.contains("### Cost of each function"), "{}", md.stdout);
    let bad = perfcore(&dir, &["cost", "functions", &snap, "--vcpu-hour=-1"]);
    assert!(bad.code == 2 && bad.stderr.contains("--vcpu-hour `-1` is negative"), "{}", bad.stderr);
}

/// 60 days of two services from 2024-08-01, web with a spike on 2024-09-20.
fn cost_history(dir: &Path) -> String {
    use perfcore::cost::Day;
    use perfcore::cost::synthetic::{SyntheticRow, focus_csv};
    let d0 = Day::parse("2024-08-01").unwrap();
    let mut rows = Vec::new();
    for i in 0..60 {
        let day = Day(d0.0 + i);
        let weekend = (day.0 + 3).rem_euclid(7) >= 5;
        let jitter = i64::from((i * 37) % 11) - 5; // -5..5 cents
        let web = if i == 50 {
            900
        } else if weekend {
            60
        } else {
            100
        };
        let cents = |c: i64| format!("{}.{:02}", c / 100, c % 100).parse().unwrap();
        rows.push(SyntheticRow::new(day, "web", "web-1", cents(web * 100 + jitter)));
        rows.push(SyntheticRow::new(day, "db", "db-1", cents(5_000 + jitter)));
    }
    let path = dir.join("history.csv");
    std::fs::write(&path, focus_csv(&rows)).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn cost_anomalies_and_budgets() {
    let dir = scratch("cost-watch");
    let none = perfcore(&dir, &["cost", "budget", "add", "all", "--amount", "4000"]);
    assert_eq!(none.code, 0, "{}", none.stderr);
    let bad =
        perfcore(&dir, &["cost", "budget", "add", "x", "--amount", "10", "--threshold", "lots"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("\"lots\""), "{}", bad.stderr);
    let web = perfcore(
        &dir,
        &[
            "cost",
            "budget",
            "add",
            "web",
            "--amount",
            "2500",
            "--scope",
            "service=web",
            "--threshold",
            "90:actual",
        ],
    );
    assert!(web.stdout.contains("for service=web; alerts at 90% actual"), "{}", web.stdout);
    let history = cost_history(&dir);
    // The import checks the budgets: September's web spend passes 90% of 2500 with the spike.
    let import = perfcore(&dir, &["cost", "import", &history]);
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert!(import.stderr.contains("alert: budget web: spend so far"), "{}", import.stderr);
    let list = perfcore(&dir, &["cost", "budget", "list", "--format", "json"]);
    let budgets: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(budgets.as_array().unwrap().len(), 2);
    // Checked again: nothing new fires, but --fail-on-alert sees the crossed threshold.
    let check = perfcore(&dir, &["cost", "budget", "check", "--fail-on-alert"]);
    assert_eq!(check.code, 1, "{}", check.stdout);
    assert!(!check.stdout.contains("ALERT"), "{}", check.stdout);
    assert!(check.stdout.contains("web 2024-09-01..2024-09-30"), "{}", check.stdout);
    let json = perfcore(&dir, &["cost", "budget", "check", "--format", "json"]);
    let statuses: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(statuses[0]["budget"]["name"], "all");
    assert!(statuses[0]["forecast"]["expected"]["amount"].is_string(), "{}", json.stdout);
    let anomalies = perfcore(&dir, &["cost", "anomalies", "--by", "service", "--format", "json"]);
    let found: serde_json::Value = serde_json::from_str(&anomalies.stdout).unwrap();
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1, "{}", anomalies.stdout);
    assert_eq!(found[0]["day"], "2024-09-20");
    assert_eq!(found[0]["key"], "web");
    assert_eq!(found[0]["drivers"][0]["resource"], "web-1");
    let text = perfcore(&dir, &["cost", "anomalies", "--by", "total", "--days", "5"]);
    assert!(text.stdout.starts_with("0 anomalies"), "{}", text.stdout);
    let removed = perfcore(&dir, &["cost", "budget", "remove", "web"]);
    assert_eq!(removed.code, 0);
    let again = perfcore(&dir, &["cost", "budget", "remove", "web"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cost_opportunities_and_savings() {
    let dir = scratch("cost-opportunities");
    let sample = focus_sample();
    assert_eq!(perfcore(&dir, &["cost", "import", &sample]).code, 0);
    let json = perfcore(
        &dir,
        &["cost", "opportunities", "--format", "json", "--commitment-discount", "0.3"],
    );
    assert_eq!(json.code, 0, "{}", json.stderr);
    let list: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    for o in list.as_array().unwrap() {
        let n = |k: &str| o[k]["amount"].as_str().unwrap().parse::<f64>().unwrap();
        assert!(n("potential_savings") <= n("current_monthly_cost"), "{o}");
        assert!(["high", "medium", "low"].contains(&o["confidence"].as_str().unwrap()), "{o}");
    }
    let text =
        perfcore(&dir, &["cost", "opportunities", "--trusted-advisor", "--percentile", "0.995"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(!text.stdout.is_empty());
    let bad = perfcore(&dir, &["cost", "opportunities", "--underutilized-cpu", "1.5"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("underutilised CPU threshold"), "{}", bad.stderr);
    let prices = dir.join("prices.csv");
    std::fs::write(&prices, "provider,region,sku,price\naws,us-east-1,m5.large,cheap\n").unwrap();
    let bad = perfcore(&dir, &["cost", "opportunities", "--prices", prices.to_str().unwrap()]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("line 2"), "{}", bad.stderr);
    let savings = perfcore(&dir, &["cost", "savings"]);
    assert_eq!(savings.code, 0, "{}", savings.stderr);
    assert!(savings.stdout.contains("no decisions applied yet"), "{}", savings.stdout);
}
