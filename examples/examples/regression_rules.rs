//! Regression rules on simulated runs: how often perfcore's verdict, seed 003's rule (mean
//! more than 10% slower), a t-test on means, and rules in the style of criterion and asv
//! flag a regression — with no change (false alarms), with real shifts (power), and in the
//! tail only; and how reliably change points are found in a run history. This makes the
//! tables of STATISTICS.md.
//!
//! ```text
//! cargo run --release -p perfcore-examples --example regression_rules [-- OUT.md] [--trials N]
//! ```
//!
//! Each row is `trials` pairs of runs (default 1,000) of log-normal call times with 1%
//! run-to-run drift, fixed seeds: the same command prints the same table.

use std::fmt::Write as _;
use std::time::Instant;

use perfcore::testing::simulate::{Rule, Scenario, Shift, change_point_rate, flag_rates};

struct Row {
    what: &'static str,
    scenario: Scenario,
}

fn rows() -> Vec<Row> {
    let base = Scenario::default();
    let with = |calls: usize, shift: Shift| Scenario { calls, shift, ..base.clone() };
    let mut rows = Vec::new();
    for calls in [30, 100, 1_000, 10_000] {
        rows.push(Row { what: "A/A", scenario: with(calls, Shift::None) });
    }
    for calls in [30, 1_000, 10_000] {
        let s = Scenario { outliers: 0.03, ..with(calls, Shift::None) };
        rows.push(Row { what: "A/A, 3% outliers", scenario: s });
    }
    for calls in [30, 100, 1_000] {
        rows.push(Row { what: "+15%", scenario: with(calls, Shift::Scale(1.15)) });
    }
    for sigma in [0.1, 0.5] {
        let s = Scenario { sigma, ..with(30, Shift::Scale(1.15)) };
        rows.push(Row { what: "+15%", scenario: s });
    }
    for calls in [100, 10_000] {
        rows.push(Row { what: "+3%", scenario: with(calls, Shift::Scale(1.03)) });
    }
    for history_runs in [0, 10, 30] {
        for calls in [30, 100, 1_000] {
            let s = Scenario {
                sigma: 0.05,
                threshold: 0.02,
                history_runs,
                ..with(calls, Shift::Scale(1.05))
            };
            rows.push(Row { what: "+5%, threshold 2%", scenario: s });
        }
        let s = Scenario { sigma: 0.05, threshold: 0.02, history_runs, ..with(1_000, Shift::None) };
        rows.push(Row { what: "A/A, threshold 2%", scenario: s });
    }
    let tail = Shift::Tail { quantile: 0.98, factor: 2.0 };
    for (calls, history_runs) in [(2_000, 0), (2_000, 10), (10_000, 10)] {
        let s = Scenario { history_runs, ..with(calls, tail) };
        rows.push(Row { what: "p99 ×2, median same", scenario: s });
    }
    let s = Scenario { history_runs: 10, ..with(10_000, Shift::None) };
    rows.push(Row { what: "A/A", scenario: s });
    rows
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let trials = args
        .iter()
        .position(|a| a == "--trials")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000usize);
    let out_path = args.iter().find(|a| !a.starts_with("--") && a.parse::<usize>().is_err());
    let started = Instant::now();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "| scenario | calls | σ | threshold | history | {} | perfcore: p99 |",
        Rule::ALL.map(Rule::name).join(" | ")
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|{}---:|", "---:|".repeat(Rule::ALL.len()));
    for (i, row) in rows().iter().enumerate() {
        let s = &row.scenario;
        let rates = flag_rates(s, trials, 1_000 + i as u64);
        let cells: Vec<String> =
            rates.iter().map(|r| format!("{:.1}%", r.flagged * 100.0)).collect();
        let p99 = rates[0].flagged_p99 * 100.0;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.0}% | {} | {} | {p99:.1}% |",
            row.what,
            s.calls,
            s.sigma,
            s.threshold * 100.0,
            s.history_runs,
            cells.join(" | ")
        );
    }
    let _ =
        writeln!(md, "\n| change points: 200 runs, 2% noise | found (±2 runs) / none reported |");
    let _ = writeln!(md, "|---|---:|");
    for (what, step) in [("one 10% step", 0.10), ("one 5% step", 0.05), ("no step", 0.0)] {
        let rate = change_point_rate(trials, 200, step, 0.02, 77);
        let _ = writeln!(md, "| {what} | {:.1}% |", rate * 100.0);
    }
    let _ = writeln!(md, "\n{trials} trials per row; {:.1} s.", started.elapsed().as_secs_f64());
    print!("{md}");
    if let Some(path) = out_path
        && let Err(e) = std::fs::write(path, &md)
    {
        eprintln!("error: cannot write {path}: {e}");
        std::process::exit(2);
    }
}
