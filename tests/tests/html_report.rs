//! The HTML report in a real browser: headless Chromium loads the page, runs its script, and
//! the dumped DOM shows each part rendered (summary, table rows, flamegraph frames, histogram
//! bars, comparison rows), no script error, and the results of a scripted sort, filter, zoom
//! and search (`#test-...` in the URL).
//!
//! Needs `chromium` (`.ci/install-tools.sh`); skipped when it is absent, unless
//! `PERFCORE_REQUIRE_TOOLS=1`. `PERFCORE_HTML_SCREENSHOT=path.png` also saves a screenshot, and the page beside it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use perfcore::regress::{CompareOptions, compare};
use perfcore::report::html::{HtmlOptions, to_html, write_html};
use perfcore::testing::ManualClock;
use perfcore::{FunctionStats, PerformanceProfiler, Snapshot};

/// The browser, or `None` (with a notice) when it is absent and not required.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PERFCORE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("PERFCORE_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "chromium not found at {} (install it with .ci/install-tools.sh)",
        path.display()
    );
    eprintln!("skipped: chromium not found at {}", path.display());
    None
}

/// A fresh directory under the system's temporary directory.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "perfcore-html-{tag}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium on `page` (a file URL with an optional fragment) with `args`,
/// returns its stdout.
fn run_chromium(browser: &Path, dir: &Path, url: &str, args: &[&str]) -> String {
    let profile = dir.join(format!("profile-{}", args.len()));
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1400,2000",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the DOM is UTF-8")
}

/// The DOM after the page's script ran, without the scripts themselves (whose source holds
/// the same attribute names the test counts).
fn dump_dom(browser: &Path, dir: &Path, file: &Path, fragment: &str) -> String {
    let url = format!("file://{}{fragment}", file.display());
    let mut dom = run_chromium(browser, dir, &url, &["--dump-dom"]);
    if let Some(at) = dom.find("<script") {
        dom.truncate(at);
    }
    dom
}

/// The value of `attr="..."` on the `<body>` of a dumped DOM.
fn body_attr(dom: &str, attr: &str) -> Option<String> {
    let start = dom.find("<body")?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let key = format!(" {attr}=\"");
    let at = tag.find(&key)? + key.len();
    Some(tag[at..at + tag[at..].find('"')?].to_owned())
}

fn assert_ready(dom: &str) {
    assert_eq!(body_attr(dom, "data-error"), None, "the page's script failed");
    assert_eq!(body_attr(dom, "data-ready").as_deref(), Some("1"), "the script did not finish");
}

/// A service's request handler, profiled on a manual clock: nested scopes, varied
/// durations, failed queries. `slow_db` makes every query take 2.5 times as long.
fn service_run(slow_db: bool) -> Snapshot {
    let clock = ManualClock::new();
    let p = PerformanceProfiler::builder().clock(&clock).build().unwrap();
    let us = |n: u64| Duration::from_micros(n);
    let mut seed = 42u64;
    let mut jitter = |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        n + (seed >> 33) % (n / 2 + 1)
    };
    for request in 0..400u64 {
        let _req = p.scope("http::handle_request").unwrap();
        clock.advance(us(jitter(20)));
        {
            let _auth = p.scope("auth::verify_token").unwrap();
            clock.advance(us(jitter(35)));
        }
        for _ in 0..3 {
            let q = p.scope("db::query <users & \"orders\">").unwrap();
            {
                let _a = p.scope("db::pool::acquire").unwrap();
                // One acquire in 20 waits: a tail.
                clock.advance(us(if request % 20 == 0 { 900 } else { jitter(8) }));
            }
            clock.advance(us(jitter(if slow_db { 300 } else { 120 })));
            {
                let _d = p.scope("db::decode_rows").unwrap();
                clock.advance(us(jitter(40)));
            }
            if request % 25 == 0 {
                q.mark_failed();
            }
        }
        {
            let _r = p.scope("render::template").unwrap();
            clock.advance(us(jitter(60)));
            for _ in 0..12 {
                let _e = p.scope("render::escape_html").unwrap();
                clock.advance(us(jitter(3)));
            }
            for _ in 0..3 {
                let _partial = p.scope("render::partial").unwrap();
                clock.advance(us(jitter(15)));
                for _ in 0..4 {
                    let _e = p.scope("render::escape_html").unwrap();
                    clock.advance(us(jitter(3)));
                }
            }
        }
        {
            let _j = p.scope("json::serialize").unwrap();
            clock.advance(us(jitter(45)));
        }
    }
    p.snapshot()
}

#[test]
fn report_renders_in_chromium() {
    let Some(browser) = chromium() else { return };
    let dir = temp_dir("service");
    let baseline = service_run(false);
    let current = service_run(true);
    let cmp = compare(&baseline, &current, &[], &CompareOptions::default());
    assert!(cmp.has_regressions(), "the slower queries are a regression");
    let options = HtmlOptions::default()
        .title("checkout-service · nightly".to_string())
        .comparison(cmp)
        .baseline_name("main".to_string());
    let file = dir.join("report.html");
    write_html(&current, &options, std::fs::File::create(&file).unwrap()).unwrap();

    let dom = dump_dom(&browser, &dir, &file, "");
    assert_ready(&dom);
    // Summary figures: 400 requests of 1 + 1 + 3 × 3 + 1 + 12 + 3 × 5 + 1 scopes.
    assert!(dom.contains("data-testid=\"summary-calls\""));
    assert!(dom.contains("<div class=\"value\">16,000</div>"), "total calls");
    assert!(dom.contains("data-testid=\"hotspot\""));
    assert!(dom.contains("data-testid=\"recommendation\""));
    // One table row per function.
    assert_eq!(dom.matches("data-testid=\"fn-row\"").count(), current.functions().len());
    // The flamegraph drew every node (all wider than half a pixel) plus the root.
    let frames = dom.matches("data-testid=\"flame-frame\"").count();
    assert_eq!(frames, current.call_tree.len() + 1, "flamegraph frames");
    assert!(dom.contains(&format!("data-frames=\"{frames}\"")));
    // The histogram of the first row (most self time) with its bars and three markers.
    assert!(dom.matches("data-testid=\"hist-bar\"").count() >= 3);
    assert_eq!(dom.matches("data-testid=\"hist-marker\"").count(), 3);
    // The comparison: every function compared, the query regressed.
    assert_eq!(dom.matches("data-testid=\"cmp-row\"").count(), current.functions().len());
    assert!(dom.contains("data-verdict=\"regressed\""));
    assert!(dom.contains("class=\"regressed\""));
    // Escaped names came through as text.
    assert!(dom.contains("db::query &lt;users &amp; \"orders\"&gt;"));

    // Scripted interaction through the page's test hook.
    let fragment = "#test-sort=calls&test-sort-asc=name&test-filter=db::&test-zoom=render::template\
                    &test-search=db::&test-select=auth::verify_token&test-hover=render::partial";
    let dom = dump_dom(&browser, &dir, &file, fragment);
    assert_ready(&dom);
    assert_eq!(body_attr(&dom, "data-test-sort-first").as_deref(), Some("render::escape_html"));
    assert_eq!(body_attr(&dom, "data-test-sort-asc-first").as_deref(), Some("auth::verify_token"));
    assert_eq!(
        body_attr(&dom, "data-test-filter-rows").as_deref(),
        Some("3"),
        "three db:: functions"
    );
    assert_eq!(dom.matches("data-testid=\"fn-row\"").count(), 3, "rows after the filter");
    // Zoomed into render::template: the root and handler above it, itself and its three
    // descendants (escape_html, partial, escape_html under partial).
    assert_eq!(body_attr(&dom, "data-test-zoom-root").as_deref(), Some("render::template"));
    assert_eq!(body_attr(&dom, "data-test-zoom-frames").as_deref(), Some("6"));
    // Searching db:: while zoomed into render finds nothing there.
    assert_eq!(body_attr(&dom, "data-test-search-matches").as_deref(), Some("0"));
    assert_eq!(body_attr(&dom, "data-selected").as_deref(), Some("auth::verify_token"));
    assert!(body_attr(&dom, "data-test-hist-bars").unwrap().parse::<u32>().unwrap() >= 2);
    // Hovering a frame shows its name, calls, and share of the whole.
    let tip = body_attr(&dom, "data-test-tip").unwrap();
    assert!(tip.starts_with("render::partial"), "{tip}");
    assert!(tip.contains("calls1,200") && tip.contains("of all"), "{tip}");

    if let Some(png) = std::env::var_os("PERFCORE_HTML_SCREENSHOT") {
        let shot = format!("--screenshot={}", Path::new(&png).display());
        run_chromium(&browser, &dir, &format!("file://{}", file.display()), &[&shot]);
        assert!(std::fs::metadata(&png).unwrap().len() > 10_000, "a blank screenshot");
        std::fs::copy(&file, Path::new(&png).with_extension("html")).unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ten_thousand_functions_render_a_page_of_rows() {
    let Some(browser) = chromium() else { return };
    let dir = temp_dir("large");
    let functions = (0..10_000u64)
        .map(|i| {
            let name = format!("crate::module_{}::function_{i}", i % 100);
            FunctionStats::from_durations(&name, (0..5).map(|k| 1_000 + i * 10 + k * 100))
        })
        .collect();
    let snap = Snapshot::from_functions(functions, 0, 60_000_000_000);
    let file = dir.join("large.html");
    std::fs::write(&file, to_html(&snap, &HtmlOptions::default())).unwrap();

    let dom = dump_dom(&browser, &dir, &file, "#test-filter=function_99");
    assert_ready(&dom);
    // function_99, function_990..999, function_9900..9999: 111 rows, all shown.
    assert_eq!(body_attr(&dom, "data-test-filter-rows").as_deref(), Some("111"));
    assert_eq!(dom.matches("data-testid=\"fn-row\"").count(), 111);

    let dom = dump_dom(&browser, &dir, &file, "#test-sort=self");
    assert_ready(&dom);
    // At most one page of rows in the DOM, the slowest first.
    assert_eq!(dom.matches("data-testid=\"fn-row\"").count(), 200);
    assert_eq!(
        body_attr(&dom, "data-test-sort-first").as_deref(),
        Some("crate::module_99::function_9999")
    );
    assert!(dom.contains("Show 200 more"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn empty_snapshot_renders() {
    let Some(browser) = chromium() else { return };
    let dir = temp_dir("empty");
    let file = dir.join("empty.html");
    let snap = Snapshot::default();
    let cmp = compare(&snap, &snap, &[], &CompareOptions::default());
    std::fs::write(&file, to_html(&snap, &HtmlOptions::default().comparison(cmp))).unwrap();
    let dom = dump_dom(&browser, &dir, &file, "#test-sort=p99&test-zoom=nothing&test-search=x");
    assert_ready(&dom);
    assert_eq!(dom.matches("data-testid=\"fn-row\"").count(), 0);
    assert!(dom.contains("No call tree was recorded"));
    assert_eq!(body_attr(&dom, "data-test-search-matches").as_deref(), Some("0"));
    std::fs::remove_dir_all(&dir).unwrap();
}
