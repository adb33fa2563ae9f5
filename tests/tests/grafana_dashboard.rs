//! The Grafana dashboard in examples/grafana follows Grafana's dashboard model (so it imports
//! as it is), and every PromQL expression in it (each panel's queries and the template
//! variables') parses: `promtool check rules` on a rules file made of them. The live test,
//! examples/tests/service_dashboard.rs, evaluates them against a real Prometheus scraping the example
//! service.

#[path = "common/dashboard.rs"]
mod dashboard;
#[path = "common/prom.rs"]
mod prom;

use std::collections::HashSet;
use std::process::Command;

#[test]
fn the_dashboard_follows_grafanas_model() {
    let d = dashboard::load();
    assert!(d["schemaVersion"].as_u64().unwrap() >= 36, "schemaVersion");
    for key in ["title", "uid"] {
        assert!(!d[key].as_str().unwrap().is_empty(), "{key}");
    }
    assert!(d["uid"].as_str().unwrap().len() <= 40, "Grafana's uids are at most 40 characters");
    assert!(d["time"]["from"].is_string() && d["time"]["to"].is_string());

    // Panels: unique ids, a type, a grid position inside the 24 columns, and queries with
    // unique refIds through the data source variable.
    let panels = d["panels"].as_array().unwrap();
    let mut ids = HashSet::new();
    for p in panels {
        let title = p["title"].as_str().unwrap();
        assert!(ids.insert(p["id"].as_u64().unwrap()), "{title}: id taken");
        let kind = p["type"].as_str().unwrap();
        let known = ["row", "timeseries", "stat", "table", "gauge", "bargauge", "text"];
        assert!(known.contains(&kind), "{title}: type {kind}");
        let g = &p["gridPos"];
        let (x, w, h) =
            (g["x"].as_u64().unwrap(), g["w"].as_u64().unwrap(), g["h"].as_u64().unwrap());
        assert!(g["y"].is_u64() && w > 0 && h > 0 && x + w <= 24, "{title}: gridPos {g}");
        if kind == "row" {
            continue;
        }
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{title}");
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title}: no queries");
        let refs: HashSet<_> = targets.iter().map(|t| t["refId"].as_str().unwrap()).collect();
        assert_eq!(refs.len(), targets.len(), "{title}: refIds repeat");
        for t in targets {
            assert!(!t["expr"].as_str().unwrap().trim().is_empty(), "{title}: empty expr");
            assert_eq!(t["datasource"]["type"], "prometheus", "{title}");
        }
    }
    // Panels do not overlap on the grid.
    let mut cells = HashSet::new();
    for p in panels {
        let g = &p["gridPos"];
        let [x, y, w, h] = ["x", "y", "w", "h"].map(|k| g[k].as_u64().unwrap());
        for cx in x..x + w {
            for cy in y..y + h {
                assert!(cells.insert((cx, cy)), "{} overlaps another panel", p["title"]);
            }
        }
    }

    // Template variables: a Prometheus data source, then job, instance and function.
    let vars = d["templating"]["list"].as_array().unwrap();
    let names: Vec<_> = vars.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["datasource", "job", "instance", "function"]);
    assert_eq!((&vars[0]["type"], &vars[0]["query"]), (&"datasource".into(), &"prometheus".into()));
    for v in &vars[1..] {
        assert_eq!(v["type"], "query");
        assert_eq!(v["definition"], v["query"]["query"]);
        assert!(v["multi"] == true && v["includeAll"] == true && v["allValue"] == ".*", "{v}");
    }

    // The issue's panels are there: quantiles per function, call and error rates, CPU,
    // memory, disk and alerts.
    let exprs: Vec<String> = dashboard::queries(&d).into_iter().map(|q| q.expr).collect();
    for needle in [
        "histogram_quantile(0.50, sum by (function, le)",
        "histogram_quantile(0.95, sum by (function, le)",
        "histogram_quantile(0.99, sum by (function, le)",
        "rate(perfcore_function_duration_seconds_count",
        "rate(perfcore_function_errors_total",
        "perfcore_system_cpu_utilization_ratio",
        "perfcore_system_memory_used_bytes",
        "perfcore_system_disk_utilization_ratio",
        "perfcore_alerts",
    ] {
        assert!(exprs.iter().any(|e| e.contains(needle)), "no panel queries {needle}");
    }
    // Every per-function query is filtered by the variables.
    for e in &exprs {
        if e.contains("perfcore_function_") {
            assert!(e.contains(r#"function=~"$function""#), "{e}");
        }
        assert!(e.contains(r#"instance=~"$instance""#), "{e}");
    }
}

#[test]
fn every_expression_parses_as_promql() {
    if !prom::have("promtool") {
        return;
    }
    let d = dashboard::load();
    let vars = [("job", ".*"), ("instance", ".*"), ("function", ".*")];
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    let mut n = 0;
    let mut add = |what: &str, expr: &str| {
        n += 1;
        let expr = dashboard::substitute(expr, "1m", &vars);
        // A YAML block scalar: the expression as it is, quotes and all.
        rules.push_str(&format!(
            "      # {what}\n      - record: dashboard:query_{n}\n        expr: |\n          {expr}\n"
        ));
    };
    for q in dashboard::queries(&d) {
        add(&format!("{} {}", q.panel, q.ref_id), &q.expr);
    }
    for (name, q) in dashboard::variable_queries(&d) {
        add(&format!("variable {name}"), &q);
    }
    let dir = prom::scratch("dashboard_promtool");
    std::fs::write(dir.join("dashboard.rules.yml"), &rules).unwrap();
    let out = Command::new("promtool")
        .args(["check", "rules", "dashboard.rules.yml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let said =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "promtool check rules failed:\n{said}\n{rules}");
    assert!(said.contains(&format!("{n} rules found")), "{said}");
}
