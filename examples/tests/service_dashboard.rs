//! The whole library in one service, for a minute: the example service
//! (`perfcore_examples::service`) under the soak scenario while a real Prometheus scrapes its
//! endpoint every second, then every query of the Grafana dashboard in examples/grafana,
//! asked of that Prometheus, returns the service's data in the shape its panel draws.
//!
//! This is the soak's smoke version (BENCHMARKS.md holds the 10-minute run): no lost calls
//! (the client's count per handler equals perfcore's), no failed scrape, memory that does not
//! run away. Prometheus comes from `.ci/install-tools.sh`; without it the test prints a
//! notice and passes, unless `PERFCORE_REQUIRE_TOOLS=1` (as CI sets it).

// The Prometheus harness and the dashboard reader the tests crate's live tests share. This
// test lives here, beside the service, so that the tests crate does not depend on the
// examples crate (trybuild copies its dev-dependencies into every UI test build).
#[path = "../../tests/tests/common/dashboard.rs"]
mod dashboard;
#[path = "../../tests/tests/common/prom.rs"]
mod prom;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use perfcore::monitor::{AlertRule, Monitor};
use perfcore_examples::service::{LoadOptions, Scenario, ServiceOptions};

/// The soak's length here: the issue's one-minute smoke.
const SOAK: Duration = Duration::from_secs(60);
/// `$__rate_interval` as Grafana would set it for a 1 s scrape interval on a short range
/// (at least four scrapes).
const RATE_INTERVAL: &str = "10s";
/// The handlers the load reaches (healthz is not in the scenario's mix).
const HANDLERS: [&str; 4] = ["get_item", "search", "checkout", "db_lookup"];

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// A profiled function's name without its module path (`…::handlers::get_item` → `get_item`).
fn short(function: &str) -> &str {
    function.rsplit("::").next().unwrap_or(function)
}

fn label<'a>(series: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    series.get(name).and_then(serde_json::Value::as_str)
}

#[test]
fn the_dashboard_shows_the_example_service_under_a_minute_of_load() {
    if !prom::have("prometheus") {
        return;
    }
    let dir = prom::scratch("service_dashboard");
    let service =
        ServiceOptions::new().sample_interval(Duration::from_millis(500)).start().unwrap();
    // A rule that holds from the first sample, so the alert panels have a row to show: a
    // monitor of the test's own, which the service's endpoint serves with its own (every
    // started monitor registers with the endpoints' default sources).
    let always =
        AlertRule::parse("dashboard_check: system_memory_total_bytes > 0 severity warning")
            .unwrap();
    let _monitor = Monitor::builder()
        .interval(Duration::from_millis(500))
        .rules(vec![always])
        .start()
        .unwrap();
    let (prometheus, prom) = prom::start_prometheus(
        &dir,
        &format!(
            "  - job_name: service\n    static_configs:\n      - targets: ['{}']\n",
            service.metrics_addr()
        ),
        1,
    );
    let instance = service.metrics_addr().to_string();
    let diagnostics = || format!("prometheus log:\n{}", prometheus.log());

    // The soak: the scenario's own scraper hits the endpoint every second too.
    let started = unix_now();
    let report = LoadOptions::new(Scenario::Soak, &service.url()).duration(SOAK).run().unwrap();
    let ended = unix_now();
    let sli = service.compare(&report).unwrap();
    assert!(sli.passed(), "{sli}");
    let soak = report.soak.clone().unwrap();
    println!("{sli}\n{soak:#?}");
    assert_eq!(soak.scrape_errors, 0, "{soak:?}");
    assert!(soak.scrapes >= SOAK.as_secs() - 5, "{soak:?}");
    let (rss0, rss1) = (soak.rss_start_bytes.unwrap(), soak.rss_end_bytes.unwrap());
    // Flat: perfcore's memory is bounded by the functions, not the calls. The allowance is
    // for the allocator and the driver's own samples (it keeps every latency).
    assert!(rss1 < rss0 + 64 * 1024 * 1024, "RSS {rss0} -> {rss1}");
    for handler in ["get_item", "search", "checkout"] {
        let row = sli.rows.iter().find(|r| short(&r.handler) == handler);
        assert!(row.is_some_and(|r| r.perfcore_count > 0), "{handler}: {sli}");
    }

    // The last scrape after the load: Prometheus's count equals perfcore's.
    let own = perfcore::global().snapshot();
    let checkout = own.functions.iter().find(|f| f.name.ends_with("::checkout")).unwrap();
    let (checkout_name, checkout) = (checkout.name.clone(), checkout.count as f64);
    let scraped = prom::query_until(
        prom,
        &format!(
            r#"perfcore_function_duration_seconds_count{{function="{checkout_name}",instance="{instance}"}}"#
        ),
        Duration::from_secs(15),
        |v| v >= checkout,
    );
    assert_eq!(scraped, Some(checkout), "{}", diagnostics());

    // Every panel's query, as Grafana sends it for this instance and all functions, during
    // the load's last stretch.
    let at = ended - 3.0;
    assert!(at - 10.0 > started, "the load ran {:.0} s", ended - started);
    let vars = [("job", "service"), ("instance", instance.as_str()), ("function", ".*")];
    let d = dashboard::load();
    let mut results = BTreeMap::new();
    for q in dashboard::queries(&d) {
        let promql = dashboard::substitute(&q.expr, RATE_INTERVAL, &vars);
        let series = prom::query(prom, &promql, Some(at));
        assert!(
            !series.is_empty(),
            "{} {}: no data for {promql}\n{}",
            q.panel,
            q.ref_id,
            diagnostics()
        );
        for (labels, value) in &series {
            for l in &q.legend_labels {
                assert!(labels.get(l).is_some(), "{}: a series without `{l}`: {labels}", q.panel);
            }
            assert!(!value.is_infinite(), "{}: {labels} = {value}", q.panel);
        }
        results.insert((q.panel.clone(), q.ref_id.clone()), series);
    }
    let get = |panel: &str, r: &str| &results[&(panel.to_owned(), r.to_owned())];
    let by_function = |panel: &str, r: &str| -> BTreeMap<String, f64> {
        get(panel, r)
            .iter()
            .filter_map(|(l, v)| label(l, "function").map(|f| (short(f).to_owned(), *v)))
            .collect()
    };

    // Per-function panels show every handler the load reached.
    for (panel, r) in [
        ("Latency per function: p50, p95, p99", "A"),
        ("Calls per second per function", "A"),
        ("Self time per function (cores busy)", "A"),
    ] {
        let functions: BTreeSet<String> = by_function(panel, r).into_keys().collect();
        for handler in HANDLERS {
            assert!(functions.contains(handler), "{panel}: no {handler} in {functions:?}");
        }
    }
    // Quantiles in order, for each function with calls in the window.
    let latency = "Latency per function: p50, p95, p99";
    let (p50, p95, p99) =
        (by_function(latency, "A"), by_function(latency, "B"), by_function(latency, "C"));
    for handler in HANDLERS {
        let (a, b, c) = (p50[handler], p95[handler], p99[handler]);
        assert!(0.0 < a && a <= b && b <= c && c < 10.0, "{handler}: p50 {a} p95 {b} p99 {c}");
    }
    // The failing route fails about one order in twenty; the others never.
    let ratio = by_function("Error ratio per function", "A");
    assert!((0.0..0.25).contains(&ratio["checkout"]) && ratio["checkout"] > 0.0, "{ratio:?}");
    assert_eq!(ratio["search"], 0.0, "{ratio:?}");
    // The call rate: Prometheus's, against the client's own throughput (the dashboard's
    // "Calls per second" counts every profiled call, db_lookup's too: compare the handlers).
    let rates = by_function("Calls per second per function", "A");
    let handlers_rate: f64 = ["get_item", "search", "checkout"].iter().map(|h| rates[*h]).sum();
    let client_rate = report.overall.answered() as f64 / report.elapsed_secs;
    let r = handlers_rate / client_rate;
    assert!((0.7..1.3).contains(&r), "{handlers_rate} calls/s against the client's {client_rate}");
    // System panels: one machine, memory within its total, the root disk.
    let cpu = get("CPU", "A");
    assert!(cpu.len() == 1 && (0.0..=1.0).contains(&cpu[0].1), "{cpu:?}");
    let (used, total) = (get("Memory", "A")[0].1, get("Memory", "B")[0].1);
    assert!(0.0 < used && used <= total, "memory {used} of {total}");
    assert!(get("Disk used per mount", "A").iter().any(|(l, _)| label(l, "mount").is_some()));
    // Alerts: the test's always-firing rule, in both alert panels.
    let alerts = get("Active alerts", "A");
    assert!(
        alerts.iter().any(|(l, _)| label(l, "alertname") == Some("dashboard_check")),
        "{alerts:?}"
    );
    assert!(get("Firing alerts", "A")[0].1 >= 1.0);
    // The application's cache hit rate, among the ratios.
    let ratios = get("Application ratios", "A");
    assert!(
        ratios.iter().any(|(l, v)| label(l, "__name__") == Some("perfcore_service_cache_ratio")
            && (0.0..=1.0).contains(v)),
        "{ratios:?}"
    );

    // The template variables offer this job, this instance and the handlers.
    for (name, promql) in dashboard::variable_queries(&d) {
        let promql = dashboard::substitute(&promql, RATE_INTERVAL, &vars);
        let values: BTreeSet<String> = prom::query(prom, &promql, None)
            .iter()
            .filter_map(|(l, _)| label(l, &name))
            .map(|v| if name == "function" { short(v) } else { v }.to_owned())
            .collect();
        let expected: Vec<&str> = match name.as_str() {
            "job" => vec!["service"],
            "instance" => vec![instance.as_str()],
            _ => HANDLERS.to_vec(),
        };
        for e in expected {
            assert!(values.contains(e), "variable {name}: {values:?} has no {e}");
        }
    }
    service.stop();
}
