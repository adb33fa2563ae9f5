use super::*;
use crate::regress::rng::Rng;
use crate::regress::{CompareOptions, compare};
use crate::{AllocationStats, CallNode, FunctionStats};

const DATA_OPEN: &str = "<script type=\"application/json\" id=\"perfcore-data\">";

/// The embedded JSON document of a page.
fn embedded(page: &str) -> serde_json::Value {
    let start = page.find(DATA_OPEN).expect("data element") + DATA_OPEN.len();
    let len = page[start..].find("</script>").expect("end of the data element");
    serde_json::from_str(&page[start..start + len]).expect("the data is JSON")
}

fn node(
    parent: Option<usize>,
    function: usize,
    count: u64,
    total_ns: u64,
    self_ns: u64,
) -> CallNode {
    CallNode { parent, function, count, errors: 0, total_ns, self_ns }
}

/// `functions` functions and a call tree of `nodes` nodes: each node's parent is an earlier
/// node at most 40 deep, totals are self time plus the children's totals.
fn big_snapshot(functions: usize, nodes: usize, seed: u64) -> Snapshot {
    let mut rng = Rng::new(seed);
    let fs = (0..functions)
        .map(|i| {
            let base = 500 + (i as u64 % 997) * 1_000;
            let name = format!("crate::module_{}::function_{i}", i % 50);
            FunctionStats::from_durations(&name, (0..8).map(|k| base + k * (base / 7)))
        })
        .collect();
    let mut snap =
        Snapshot::from_functions(fs, 1_700_000_000_000_000_000, 1_700_000_060_000_000_000);
    let mut depth = vec![0usize; nodes];
    let mut parents = vec![None; nodes];
    for i in 1..nodes {
        // Mostly recent parents, so paths get deep; roots now and then.
        if rng.next_u64().is_multiple_of(50) {
            continue;
        }
        let back = 1 + (rng.next_u64() % (i as u64).min(64)) as usize;
        let p = i - back;
        if depth[p] < 40 {
            parents[i] = Some(p);
            depth[i] = depth[p] + 1;
        }
    }
    let self_ns: Vec<u64> = (0..nodes).map(|_| 1_000 + rng.next_u64() % 1_000_000).collect();
    let mut total = self_ns.clone();
    for i in (0..nodes).rev() {
        if let Some(p) = parents[i] {
            total[p] += total[i];
        }
    }
    snap.call_tree = (0..nodes)
        .map(|i| node(parents[i], (i * 7919) % functions, 1 + (i as u64 % 9), total[i], self_ns[i]))
        .collect();
    snap
}

/// A small snapshot with a nested call tree, allocations and errors.
fn small_snapshot(evil: &str) -> Snapshot {
    let mut handle = FunctionStats::from_durations("handle", [9_000, 11_000, 10_000]);
    handle.errors = 1;
    let query = FunctionStats::from_durations(evil, [4_000, 5_000, 6_000]);
    let mut render = FunctionStats::from_durations("render", [2_000, 2_000, 3_000]);
    render.allocations = Some(AllocationStats {
        calls: 3,
        allocated_bytes: 3 * 4096,
        self_allocated_bytes: 3 * 4096,
        freed_bytes: 0,
        allocations: 6,
        self_allocations: 6,
    });
    let mut snap = Snapshot::from_functions(vec![handle, query, render], 0, 1_000_000);
    snap.call_tree = vec![
        node(None, 0, 3, 30_000, 8_000),
        node(Some(0), 1, 3, 15_000, 15_000),
        node(Some(0), 2, 3, 7_000, 7_000),
    ];
    snap
}

#[test]
fn names_are_escaped_everywhere() {
    let evil = "q</script><img src=x onerror=alert(1)>\"'&\u{2028}é";
    let mut recs = small_snapshot(evil);
    // Make the evil function dominant, so it is a hotspot and a recommendation too.
    recs.functions[1].self_ns = 10_000_000;
    let cmp = compare(&recs, &recs, &[], &CompareOptions::default());
    let options = HtmlOptions::default()
        .title(format!("title {evil}"))
        .comparison(cmp)
        .baseline_name(format!("base {evil}"));
    let page = to_html(&recs, &options);
    assert!(!page.contains("<img"), "an unescaped tag in the page");
    assert!(!page.contains("onerror=alert(1)>"));
    assert_eq!(page.matches("</script>").count(), 2, "only the page's own scripts end");
    let json = &page[page.find(DATA_OPEN).unwrap()..];
    assert!(!json.contains('\u{2028}'), "U+2028 in a script breaks older JavaScript parsers");
    // The HTML side: escaped text in the title, the hotspots and the baseline's name.
    assert!(page.contains(
        "<title>title q&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"
    ));
    assert!(page.contains("<code class=\"fname\">q&lt;/script&gt;&lt;img"));
    assert!(page.contains("base q&lt;/script&gt;"));
    // The JSON side: \u escapes only.
    assert!(page.contains(
        "q\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e\\\"'\\u0026\\u2028é"
    ));
}

#[test]
fn embedded_data_round_trips() {
    let evil = "x</script><!-- \"q\" & 'r' \u{2029} ünï";
    let snap = small_snapshot(evil);
    let cmp = compare(&snap, &snap, &[], &CompareOptions::default());
    let page = to_html(&snap, &HtmlOptions::default().comparison(cmp.clone()).baseline_name("v1"));
    let data = embedded(&page);
    let f = &data["functions"];
    let names: Vec<&str> =
        f["name"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(names, ["handle", evil, "render"]);
    for (i, s) in snap.functions.iter().enumerate() {
        assert_eq!(f["calls"][i], s.count);
        assert_eq!(f["errors"][i], s.errors);
        assert_eq!(f["total"][i], s.total_ns);
        assert_eq!(f["self"][i], s.self_ns);
        assert_eq!(f["p50"][i], s.p50_ns);
        assert_eq!(f["p99"][i], s.p99_ns);
        assert_eq!(f["max"][i], s.max_ns);
        let flat: Vec<u64> = s.histogram.buckets().flat_map(|(v, n)| [v, n]).collect();
        assert_eq!(f["histogram"][i], serde_json::json!(flat));
    }
    assert_eq!(f["bytes_per_call"], serde_json::json!([null, null, 4096.0]));
    let t = &data["tree"];
    assert_eq!(t["function"], serde_json::json!([0, 1, 2]));
    assert_eq!(t["parent_back"], serde_json::json!([0, 1, 2]));
    assert_eq!(t["total"], serde_json::json!([30_000, 15_000, 7_000]));
    assert_eq!(t["self"], serde_json::json!([8_000, 15_000, 7_000]));
    assert_eq!(data["total_self_ns"], snap.functions.iter().map(|f| f.self_ns).sum::<u64>());
    let c = &data["comparison"];
    assert_eq!(c["baseline"], "v1");
    let compared: Vec<&str> =
        c["function"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let expected: Vec<&str> = cmp.functions.iter().map(|f| f.function.as_str()).collect();
    assert_eq!(compared, expected);
    assert_eq!(c["verdict"][0], cmp.functions[0].verdict.name());
}

#[test]
fn summary_figures_and_sections() {
    let snap = small_snapshot("query");
    let page = to_html(&snap, &HtmlOptions::default());
    // Window 1 ms, 9 calls, 1 error in 9, allocations by render.
    assert!(page.contains("data-testid=\"summary-window\""));
    assert!(page.contains("<div class=\"value\">1.00 ms</div>"));
    assert!(page.contains("<div class=\"value\">9</div>"));
    assert!(page.contains("<div class=\"value\">11.1%</div>"), "1 error in 9 calls");
    assert!(page.contains("data-testid=\"summary-memory\""));
    assert!(page.contains("most by render (12.0 KiB)"));
    assert!(!page.contains("id=\"comparison\""), "no comparison section without one");
    for id in ["summary", "hotspots", "recommendations", "flamegraph", "functions", "histogram"] {
        assert!(page.contains(&format!("data-testid=\"{id}\"")), "{id} missing");
    }
    // Without allocation figures there is no memory card.
    let plain = Snapshot::from_functions(vec![FunctionStats::from_durations("f", [1])], 0, 1);
    assert!(!to_html(&plain, &HtmlOptions::default()).contains("summary-memory"));
}

#[test]
fn broken_call_tree_is_not_trusted() {
    let mut snap = small_snapshot("q");
    snap.call_tree[1].parent = Some(5); // a parent after the node
    snap.call_tree.push(node(Some(0), 99, 1, 1, 1)); // a function that does not exist
    let data = embedded(&to_html(&snap, &HtmlOptions::default()));
    assert_eq!(data["tree"]["function"], serde_json::json!([0, 1, 2]));
    assert_eq!(data["tree"]["parent_back"], serde_json::json!([0, 0, 0]));
}

#[test]
fn digits_are_grouped() {
    assert_eq!(group_digits(0), "0");
    assert_eq!(group_digits(999), "999");
    assert_eq!(group_digits(1_000), "1,000");
    assert_eq!(group_digits(12_345_678), "12,345,678");
}

#[test]
fn large_snapshot_report_size() {
    let snap = big_snapshot(10_000, 100_000, 7);
    let page = to_html(&snap, &HtmlOptions::default());
    let data = embedded(&page);
    assert_eq!(data["functions"]["name"].as_array().unwrap().len(), 10_000);
    assert_eq!(data["tree"]["function"].as_array().unwrap().len(), 100_000);
    println!("10,000 functions / 100,000 nodes: {} bytes", page.len());
    assert!(page.len() < 8 * 1024 * 1024, "{} bytes", page.len());
}

/// `cargo test --release -p perfcore --features html,testing --lib report::html -- --ignored --nocapture`
#[test]
#[ignore = "a timing, for people: run it in release"]
fn time_large_report() {
    let snap = big_snapshot(10_000, 100_000, 7);
    let start = std::time::Instant::now();
    let runs = 5;
    let mut len = 0;
    for _ in 0..runs {
        len = std::hint::black_box(to_html(&snap, &HtmlOptions::default())).len();
    }
    println!(
        "to_html, 10,000 functions / 100,000 nodes: {:.1} ms per report, {:.2} MB",
        start.elapsed().as_secs_f64() * 1e3 / f64::from(runs),
        len as f64 / 1e6
    );
    if let Some(path) = std::env::var_os("PERFCORE_HTML_OUT") {
        std::fs::write(path, to_html(&snap, &HtmlOptions::default())).unwrap();
    }
}

#[test]
fn assets_cannot_end_their_elements() {
    assert!(!JS.to_ascii_lowercase().contains("</script"));
    assert!(!JS.contains("<!--"));
    assert!(!CSS.to_ascii_lowercase().contains("</style"));
    assert!(!(CSS.contains("url(") || CSS.contains("@import")), "the style sheet fetches nothing");
}

#[test]
fn quoted_names_in_a_strategy_become_code() {
    assert_eq!(with_code_spans("look at `a&lt;b` now"), "look at <code>a&lt;b</code> now");
    // An odd number of backticks is left as it is rather than guessed at.
    assert_eq!(with_code_spans("a ` b ` c `"), "a ` b ` c `");
}
