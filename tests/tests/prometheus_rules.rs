//! The Prometheus alerting rules shipped in examples/prometheus: `promtool check rules` and
//! `promtool test rules` pass, and the file holds the same thresholds, `for` durations and
//! severities as perfcore's own default rules.
//!
//! promtool comes from `.ci/install-tools.sh`; without it the test prints a notice and
//! passes, unless `PERFCORE_REQUIRE_TOOLS=1` (as CI sets it), when it fails.

#[path = "common/prom.rs"]
mod prom;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use perfcore::monitor::AlertRule;

fn rules_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/prometheus")
}

fn promtool(args: &[&str]) {
    let out = Command::new("promtool").args(args).current_dir(rules_dir()).output().unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_checks_and_unit_tests_the_rules() {
    if !prom::have("promtool") {
        return;
    }
    promtool(&["check", "rules", "perfcore-alerts.yml"]);
    promtool(&["test", "rules", "perfcore-alerts.test.yml"]);
}

/// (threshold, for, severity) of each rule in the file, read line by line: the last number
/// of an `expr` (or the line after it that ends one), `for: Nm`, `severity: …`.
fn file_rules() -> Vec<(f64, Duration, String)> {
    let text = std::fs::read_to_string(rules_dir().join("perfcore-alerts.yml")).unwrap();
    let mut out = Vec::new();
    let mut threshold = None;
    let mut for_ = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("- alert:") {
            threshold = None;
            for_ = None;
        } else if let Some(rest) = line.rsplit_once("> ") {
            if let Ok(v) = rest.1.trim().parse::<f64>() {
                threshold = Some(v);
            }
        } else if let Some(m) = line.strip_prefix("for: ") {
            let minutes: u64 = m.trim_end_matches('m').parse().unwrap();
            for_ = Some(Duration::from_secs(60 * minutes));
        } else if let Some(s) = line.strip_prefix("severity: ") {
            out.push((threshold.unwrap(), for_.unwrap(), s.to_owned()));
        }
    }
    out
}

#[test]
fn the_file_holds_perfcores_default_rules() {
    let mut file = file_rules();
    let mut ours: Vec<(f64, Duration, String)> = AlertRule::defaults()
        .iter()
        .map(|r| (r.threshold, r.for_duration, r.severity.as_str().to_owned()))
        .collect();
    let key = |r: &(f64, Duration, String)| (r.0.to_bits(), r.1, r.2.clone());
    file.sort_by_key(key);
    ours.sort_by_key(key);
    assert_eq!(file, ours);
}
