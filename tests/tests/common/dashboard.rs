//! The Grafana dashboard in examples/grafana, read as Grafana reads it: its panels, their
//! queries, and its template variables, with Grafana's variables substituted the way Grafana
//! does before it sends a query to Prometheus.
#![allow(dead_code)] // each test file uses its own part of it

use std::path::PathBuf;

pub fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/grafana/perfcore-dashboard.json")
}

pub fn load() -> serde_json::Value {
    let text = std::fs::read_to_string(path()).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path().display()))
}

/// One query of one panel.
#[derive(Clone, Debug)]
pub struct Query {
    pub panel: String,
    pub ref_id: String,
    /// The PromQL, with Grafana's variables still in it.
    pub expr: String,
    /// The labels its legend names (`{{function}} p95` names `function`): every series the
    /// query returns must carry them.
    pub legend_labels: Vec<String>,
    pub instant: bool,
}

/// Every panel's queries (rows hold none), in the dashboard's order.
pub fn queries(dashboard: &serde_json::Value) -> Vec<Query> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        if panel["type"] == "row" {
            continue;
        }
        let title = panel["title"].as_str().unwrap().to_owned();
        for target in panel["targets"].as_array().unwrap() {
            let legend = target["legendFormat"].as_str().unwrap_or("");
            let legend_labels = legend
                .split("{{")
                .skip(1)
                .filter_map(|s| s.split_once("}}").map(|(l, _)| l.trim().to_owned()))
                .collect();
            out.push(Query {
                panel: title.clone(),
                ref_id: target["refId"].as_str().unwrap().to_owned(),
                expr: target["expr"].as_str().unwrap().to_owned(),
                legend_labels,
                instant: target["instant"] == true,
            });
        }
    }
    out
}

/// The template variables' queries, as PromQL: Grafana's `label_values(selector, label)`
/// asks Prometheus for the label's values among the selector's series, which is what
/// `count by (label) (selector)` returns.
pub fn variable_queries(dashboard: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for var in dashboard["templating"]["list"].as_array().unwrap() {
        if var["type"] != "query" {
            continue;
        }
        let name = var["name"].as_str().unwrap().to_owned();
        let q = var["query"]["query"].as_str().unwrap();
        let inner = q
            .strip_prefix("label_values(")
            .and_then(|s| s.strip_suffix(')'))
            .unwrap_or_else(|| panic!("variable {name}: not label_values(…): {q}"));
        let (selector, label) = inner.rsplit_once(',').unwrap();
        out.push((name, format!("count by ({}) ({})", label.trim(), selector.trim())));
    }
    out
}

/// The query Grafana sends: its variables replaced (a multi-value variable set to "All"
/// becomes its `allValue`, `.*`, as these variables say) and `$__rate_interval` set.
pub fn substitute(expr: &str, rate_interval: &str, values: &[(&str, &str)]) -> String {
    let mut out = expr.replace("$__rate_interval", rate_interval);
    // Longest names first, so `$job` never eats the start of a `$jobs`.
    let mut values = values.to_vec();
    values.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    for (name, value) in values {
        out = out.replace(&format!("${{{name}}}"), value).replace(&format!("${name}"), value);
    }
    assert!(!out.contains('$'), "a variable is left in {out}");
    out
}
