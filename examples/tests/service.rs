//! The example service under a 2-second load scenario: perfcore's counts equal the client's,
//! the failing route fails, every SLI check passes, and the endpoint serves the service's
//! metrics.

use std::time::Duration;

use perfcore_examples::service::{Client, LoadOptions, Scenario, ServiceOptions};

/// The handlers record into the process's global profiler: one test drives a service at a
/// time, or one test's calls would show in another's counts.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn a_two_second_load_scenario_passes_with_exact_counts() {
    let _serial = serial();
    let service = ServiceOptions::new()
        .addr("127.0.0.1:0".parse().unwrap())
        .metrics_addr("127.0.0.1:0".parse().unwrap())
        .workers(8)
        .start()
        .unwrap();
    assert!(service.metrics_url().ends_with("/metrics"));
    let report = LoadOptions::new(Scenario::Load, &service.url())
        .duration(Duration::from_secs(2))
        .run()
        .unwrap();
    let sli = service.compare(&report).unwrap();
    assert!(sli.passed(), "{sli}");
    assert_eq!(report.overall.requests, 400, "200/s for 2 s");
    for row in &sli.rows {
        assert_eq!(row.client_count, row.perfcore_count, "{sli}");
        assert_eq!(row.client_errors, row.perfcore_errors, "{sli}");
    }
    let checkout = sli.rows.iter().find(|r| r.route == "checkout").unwrap();
    assert!(checkout.perfcore_errors > 0, "{sli}");
    assert!(report.route("checkout").unwrap().errors > 0);
    assert_eq!(report.route("items").unwrap().errors, 0);

    // The endpoint exports the handlers, the request counter and the cache ratio.
    let mut scrape = Client::new(&service.metrics_url()).unwrap();
    let text = String::from_utf8(scrape.get("").unwrap().body).unwrap();
    assert!(text.contains("get_item"), "{text}");
    assert!(text.contains("perfcore_service_requests_total"), "{text}");
    assert!(text.contains("route=\"checkout\""), "{text}");
    assert!(text.contains("perfcore_service_cache"), "{text}");
    service.stop();
}

#[test]
fn a_report_from_another_target_is_refused() {
    let _serial = serial();
    let a = ServiceOptions::new().workers(1).start().unwrap();
    let b = ServiceOptions::new().workers(1).start().unwrap();
    let report = LoadOptions::new(Scenario::Baseline, &a.url())
        .duration(Duration::from_millis(200))
        .run()
        .unwrap();
    assert!(b.compare(&report).is_err());
    a.stop();
    b.stop();
}

#[test]
fn malformed_requests_get_400_and_the_service_keeps_serving() {
    let _serial = serial();
    use std::io::{Read, Write};
    let service = ServiceOptions::new().workers(2).start().unwrap();
    let mut raw = std::net::TcpStream::connect(service.addr()).unwrap();
    raw.write_all(b"NOT HTTP\r\n\r\n").unwrap();
    let mut answer = String::new();
    raw.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let mut client = Client::new(&service.url()).unwrap();
    assert_eq!(client.get("/nope").unwrap().status, 404);
    assert_eq!(client.get("/healthz").unwrap().status, 200);
    service.stop();
}

#[test]
fn the_endpoint_snapshot_json_gives_the_same_figures() {
    let _serial = serial();
    let service = ServiceOptions::new().workers(4).start().unwrap();
    let report = LoadOptions::new(Scenario::Load, &service.url())
        .duration(Duration::from_secs(1))
        .perfcore(&service.metrics_url())
        .run()
        .unwrap();
    let sli = perfcore_examples::service::SliReport::from_report(&report).unwrap();
    assert!(sli.passed(), "{sli}");
    assert_eq!(sli.rows.iter().map(|r| r.perfcore_count).sum::<u64>(), report.overall.answered());
    service.stop();
}

#[test]
fn a_full_accept_queue_answers_503() {
    use std::io::{Read, Write};
    let _serial = serial();
    let service = ServiceOptions::new().workers(1).queue_capacity(1).start().unwrap();
    // A keeps the only worker (keep-alive), B waits in the queue, C finds it full.
    let mut a = Client::new(&service.url()).unwrap();
    assert_eq!(a.get("/healthz").unwrap().status, 200);
    let _b = std::net::TcpStream::connect(service.addr()).unwrap();
    // The accept thread queues B before it takes C (one thread, in order).
    let mut c = std::net::TcpStream::connect(service.addr()).unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\n\r\n").unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert_eq!(service.rejected(), 1);
    service.stop();
}
