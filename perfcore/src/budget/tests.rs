use proptest::prelude::*;

use super::{BudgetError, BudgetKey, Budgets, DEFAULTS};
use crate::{AllocationStats, FunctionStats, Snapshot};

fn function(name: &str, durations: &[u64]) -> FunctionStats {
    FunctionStats::from_durations(name, durations.iter().copied())
}

fn snapshot(functions: Vec<FunctionStats>) -> Snapshot {
    Snapshot { started_unix_ns: 1, ended_unix_ns: 1_000_000_001, functions, ..Snapshot::default() }
}

fn budgets(text: &str) -> Budgets {
    text.parse().unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> String {
    Budgets::from_toml_str(text).unwrap_err().to_string()
}

#[test]
fn every_duration_key_judges_its_figure() {
    // 100 calls: 1..=100 ms, so p50 ≈ 50 ms, p95 ≈ 95 ms, p99 ≈ 99 ms, max = 100 ms.
    let ms: Vec<u64> = (1..=100).map(|i| i * 1_000_000).collect();
    let snap = snapshot(vec![function("f", &ms)]);
    let f = snap.by_name().remove(0);
    for (key, figure) in [
        (BudgetKey::P50, f.p50_ns),
        (BudgetKey::P95, f.p95_ns),
        (BudgetKey::P99, f.p99_ns),
        (BudgetKey::Max, f.max_ns),
    ] {
        let at = budgets(&format!("[functions.f]\n{key} = \"{figure}ns\""));
        assert!(at.check(&snap).passed(), "{key} at its figure passes");
        let under = budgets(&format!("[functions.f]\n{key} = \"{}ns\"", figure - 1));
        let report = under.check(&snap);
        assert_eq!(report.violations.len(), 1, "{key}");
        let v = &report.violations[0];
        assert_eq!((v.key, v.actual, v.limit), (key, figure as f64, (figure - 1) as f64));
        assert_eq!(v.calls, 100);
    }
    assert_eq!(f.max_ns, 100_000_000);
}

#[test]
fn error_rate_allocations_and_rate() {
    let mut f = function("f", &[10; 1000]);
    f.errors = 2; // 0.2%
    f.allocations = Some(AllocationStats {
        calls: 1000,
        allocated_bytes: 4_096_000,
        allocations: 3000,
        self_allocations: 3000,
        ..AllocationStats::default()
    });
    let snap = snapshot(vec![f]); // 1000 calls in 1 s
    let check = |t: &str| budgets(&format!("[functions.f]\n{t}")).check(&snap);
    assert!(!check("error_rate = 0.001").passed());
    assert!(check("error_rate = 0.002").passed());
    assert!(check("error_rate = 1").passed());
    assert!(check("bytes_per_call = 4096").passed());
    assert!(!check("bytes_per_call = 4095").passed());
    assert!(check("allocs_per_call = 3").passed());
    let r = check("allocs_per_call = 2.5");
    assert_eq!(r.violations[0].actual, 3.0);
    assert!(check("min_calls_per_sec = 1000").passed());
    let r = check("min_calls_per_sec = 1001");
    assert_eq!(r.violations[0].key, BudgetKey::MinCallsPerSec);
    assert!(r.to_string().contains("min_calls_per_sec >= 1001/s"), "{r}");
}

#[test]
fn unmeasured_figures_are_not_passes() {
    let f = function("f", &[10]);
    let mut snap = snapshot(vec![f]);
    let b =
        budgets("[functions.f]\nbytes_per_call = 1\nallocs_per_call = 1\nmin_calls_per_sec = 1");
    let r = b.check(&snap);
    assert!(r.passed());
    assert!(!r.fully_measured());
    assert_eq!(r.not_measured.len(), 2, "{r}");
    assert!(r.to_string().contains("not measured: bytes_per_call of f"), "{r}");
    snap.ended_unix_ns = snap.started_unix_ns; // no window
    assert_eq!(b.check(&snap).not_measured.len(), 3);
}

#[test]
fn every_matching_pattern_applies_and_is_named() {
    let snap = snapshot(vec![function("db::query", &[5_000_000]), function("db::pool::get", &[1])]);
    let b = budgets(
        r#"
        [functions."db::*"]
        max = "1ms"
        [functions."db::q*"]
        max = "2ms"
        [functions."db::**"]
        p50 = "1ns"
        [functions."api::*"]
        max = "1s"
        "#,
    );
    let r = b.check(&snap);
    let got: Vec<(&str, &str, BudgetKey)> =
        r.violations.iter().map(|v| (v.function.as_str(), v.pattern.as_str(), v.key)).collect();
    assert_eq!(
        got,
        [
            ("db::query", "db::**", BudgetKey::P50),
            ("db::query", "db::*", BudgetKey::Max),
            ("db::query", "db::q*", BudgetKey::Max),
        ]
    );
    assert_eq!(r.unmatched_patterns, ["api::*"]);
    assert!(r.to_string().contains("warning: pattern \"api::*\" matched no function"));
}

#[test]
fn callsites_of_one_name_are_judged_once() {
    let mut a = function("f", &[10]);
    a.line = 1;
    let mut b = function("f", &[20]);
    b.line = 2;
    let r = budgets("[functions.f]\nmax = \"1ns\"").check(&snapshot(vec![a, b]));
    assert_eq!(r.violations.len(), 1);
    assert_eq!(r.violations[0].actual, 20.0);
}

#[test]
fn defaults_apply_everywhere_unless_replaced() {
    let snap = snapshot(vec![function("a", &[300]), function("b", &[300])]);
    let b = budgets("[defaults]\nmax = \"100ns\"\n[functions.b]\nmax = \"1us\"");
    let r = b.check(&snap);
    assert_eq!(r.violations.len(), 1);
    assert_eq!(
        (r.violations[0].function.as_str(), r.violations[0].pattern.as_str()),
        ("a", DEFAULTS)
    );
    assert!(r.unmatched_patterns.is_empty());
}

#[test]
fn too_few_calls_are_skipped() {
    let snap = snapshot(vec![function("f", &[300; 5]), function("g", &[300; 50])]);
    let b = budgets("[defaults]\nmin_calls = 10\n[functions.\"*\"]\nmax = \"1ns\"");
    let r = b.check(&snap);
    assert_eq!(r.violations.len(), 1);
    assert_eq!(r.violations[0].function, "g");
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(
        (r.skipped[0].function.as_str(), r.skipped[0].calls, r.skipped[0].min_calls),
        ("f", 5, 10)
    );
    assert!(r.to_string().contains("skipped: f has 5 calls"));
}

#[test]
fn reports_read_well() {
    let snap =
        snapshot(vec![function("api::checkout", &[250_000_000]), function("db::q", &[30_000])]);
    let b = budgets(
        "[functions.\"api::checkout\"]\np95 = \"200ms\"\n[functions.\"db::*\"]\np99 = \"10us\"\n[functions.nope]\np99 = \"1s\"",
    );
    let r = b.check(&snap);
    let text = r.to_string();
    let expected = "\
budgets: 2 of 2 limits exceeded, 1 patterns matched nothing
function       limit                actual    over  pattern
db::q          p99 <= 10.00 µs    30.00 µs    ×3.0  db::*
api::checkout  p95 <= 200.00 ms  250.00 ms  +25.0%  api::checkout
warning: pattern \"nope\" matched no function
";
    assert_eq!(text, expected, "{text}");
    let md = r.to_markdown();
    assert!(md.starts_with("### ❌ Performance budgets: 2 of 2 limits exceeded"), "{md}");
    assert!(
        md.contains(
            "| `db::q` | p99 <= 10.00 µs | **30.00 µs** | ×3.0 | `db::*` |\n| `api::checkout` |"
        ),
        "{md}"
    );
    assert!(md.contains("- warning: pattern \"nope\" matched no function"));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["violations"][0]["function"], "api::checkout");
    assert_eq!(json["violations"][0]["key"], "p95");
    assert_eq!(json["violations"][0]["limit"], 2e8);
    assert_eq!(json["unmatched_patterns"][0], "nope");
    assert_eq!(
        r.violations[0].to_string(),
        "api::checkout: p95 250.00 ms exceeds the limit 200.00 ms (pattern \"api::checkout\")"
    );
    let zero = budgets("[defaults]\nmax = \"0ns\"").check(&snap);
    assert!(zero.violations[0].excess().is_infinite());
    assert!(zero.to_string().contains("over 0"));
}

#[test]
fn errors_name_the_key_pattern_line_and_column() {
    // (file, the message's start, what else it says)
    let cases: [(&str, &str, &str); 13] = [
        (
            "[functions.\"api::checkout\"]\np95 = \"200ms\"\n  p96 = \"1ms\"\n",
            "line 3, column 3: unknown key `p96` in [functions.\"api::checkout\"]",
            "expected one of p50, p95",
        ),
        (
            "[defaults]\nerror_rate = 1.5",
            "line 2, column 14: `error_rate` of [defaults]",
            "a fraction",
        ),
        (
            "[functions.f]\np99 = \"1.5 parsecs\"",
            "line 2, column 7: `p99` of [functions.\"f\"]",
            "unknown unit \"parsecs\"",
        ),
        (
            "[functions.f]\nmax = 3",
            "line 2, column 7: `max`",
            "no unit; write it as a string with one, e.g. \"3ms\"",
        ),
        ("[functions.f]\nbytes_per_call = -1", "line 2, column 18: `bytes_per_call`", "0 or more"),
        (
            "[functions.f]\nbytes_per_call = \"4k\"",
            "line 2, column 18",
            "expected a number, got \"4k\"",
        ),
        ("[functions.f]\nmin_calls = 2.5", "line 2, column 13: `min_calls`", "whole number"),
        (
            "[function.f]\np95 = \"1ms\"",
            "line 1, column 2: unknown key `function` in the top level",
            "defaults, functions",
        ),
        (
            "functions = 3",
            "line 1, column 13: `functions` of the top level",
            "expected a table, got 3",
        ),
        ("[functions]\nf = 3", "line 2, column 5: `f` of [functions.\"f\"]", "expected a table"),
        (
            "[functions.\"\"]\nmax = \"1s\"",
            "line 1, column 12: `functions` of the top level",
            "pattern cannot be empty",
        ),
        (
            "[functions.f]\nmax = \"1s\"\nmax = \"2s\"",
            "line 3, column 1: invalid TOML",
            "duplicate key",
        ),
        ("[functions.f\n", "line 1, column ", "invalid TOML"),
    ];
    for (text, start, detail) in cases {
        let e = err(text);
        assert!(e.starts_with(start) && e.contains(detail), "{text:?} gave {e:?}");
    }
}

#[test]
fn integers_floats_and_underscores() {
    let b =
        budgets("[functions.f]\nbytes_per_call = 1_000\nallocs_per_call = 0x10\nerror_rate = 0");
    assert_eq!(
        b.rules[0].limits,
        [
            (BudgetKey::BytesPerCall, 1000.0),
            (BudgetKey::AllocsPerCall, 16.0),
            (BudgetKey::ErrorRate, 0.0)
        ]
    );
    let e = err("[functions.f]\nerror_rate = nan");
    assert!(e.contains("finite"), "{e}");
}

#[test]
fn read_names_the_file() {
    let dir = std::env::temp_dir().join(format!("perfcore-budget-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("budgets.toml");
    std::fs::write(&path, "[functions.f]\n\np95 = \"5\"\n").unwrap();
    let e = Budgets::read(&path).unwrap_err();
    assert!(matches!(e, BudgetError::InvalidValue { line: 3, column: 7, .. }));
    assert!(e.to_string().starts_with(&format!("{}:3:7: `p95`", path.display())), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
    let e = Budgets::read("/no/such/file.toml").unwrap_err();
    assert!(std::error::Error::source(&e).is_some());
    assert_eq!(e.to_string(), "cannot read budgets file /no/such/file.toml");
}

#[test]
fn the_seed_targets() {
    let b = budgets(
        "[defaults]\np50 = \"50ms\"\np95 = \"200ms\"\np99 = \"500ms\"\nerror_rate = 0.001\n",
    );
    let p = crate::PerformanceProfiler::new();
    {
        let _g = p.scope("fast").unwrap();
    }
    let r = p.check_budgets(&b);
    assert!(r.passed() && r.fully_measured(), "{r}");
    assert_eq!(r.checked, 4);
}

proptest! {
    #[test]
    fn at_the_limit_passes_one_ns_over_fails(ns in 1u64..3_600_000_000_000, k in 0usize..4, n in 1usize..20) {
        let key = BudgetKey::ALL[k];
        let snap = snapshot(vec![function("f", &vec![ns; n])]);
        let f = snap.by_name().remove(0);
        let figure = key.actual(&f).unwrap() as u64;
        prop_assert_eq!(figure, ns, "a single-valued histogram reports its value");
        let at = budgets(&format!("[functions.f]\n{key} = \"{ns}ns\""));
        prop_assert!(at.check(&snap).passed());
        let under = budgets(&format!("[functions.f]\n{key} = \"{}ns\"", ns - 1));
        prop_assert_eq!(under.check(&snap).violations.len(), 1);
    }

    #[test]
    fn parsing_never_panics(text in "\\PC{0,80}") {
        let _ = Budgets::from_toml_str(&text);
    }

    #[test]
    fn parsing_near_valid_files_never_panics(
        key in "(p50|p95|p99|max|error_rate|bytes_per_call|min_calls|x)",
        value in "(\"[0-9.]{0,4}(ms|s|µs|)\"|[0-9._-]{1,5}|true|\\[\\]|\\{\\})",
    ) {
        let _ = Budgets::from_toml_str(&format!("[functions.\"a*\"]\n{key} = {value}\n"));
    }
}
