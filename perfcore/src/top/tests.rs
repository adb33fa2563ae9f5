//! The dashboard against ratatui's `TestBackend`: what the screen says after updates and
//! keys, at many sizes.

use super::draw::histogram_bins;
use super::*;
use crate::monitor::Observation;
use crate::stats::{CallNode, FunctionStats};
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const MS: u64 = 1_000_000;

fn function(
    name: &str,
    module: &str,
    durations: &[u64],
    self_ns: u64,
    errors: u64,
) -> FunctionStats {
    let mut f = FunctionStats::from_durations(name, durations.iter().copied());
    f.module_path = module.to_owned();
    f.self_ns = self_ns;
    f.errors = errors;
    f
}

/// Four functions whose orders by self time, p95 and calls all differ, and a call tree:
/// checkout calls query and get; page calls get.
fn snapshot(scale: u64, ended_s: u64) -> Snapshot {
    let functions = vec![
        function(
            "api::checkout",
            "shop::api",
            &vec![5 * MS; 2 * scale as usize],
            30 * MS * scale,
            0,
        ),
        function(
            "db::query",
            "shop::db",
            &vec![MS; 6 * scale as usize],
            60 * MS * scale,
            2 * scale,
        ),
        function(
            "cache::get",
            "shop::cache",
            &vec![10_000; 40 * scale as usize],
            5 * MS * scale,
            0,
        ),
        function(
            "render::page",
            "shop::web",
            &vec![2 * MS; 3 * scale as usize],
            20 * MS * scale,
            0,
        ),
    ];
    let mut snap = Snapshot::from_functions(functions, 0, ended_s * 1_000_000_000);
    let node = |parent, function, count| CallNode {
        parent,
        function,
        count,
        errors: 0,
        total_ns: count * MS,
        self_ns: count * MS / 2,
    };
    snap.call_tree = vec![
        node(None, 0, 2 * scale),
        node(Some(0), 1, 6 * scale),
        node(Some(0), 2, 30 * scale),
        node(None, 3, 3 * scale),
        node(Some(3), 2, 10 * scale),
    ];
    snap
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(frame, app)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..height {
        for x in 0..width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn line_with<'a>(screen: &'a str, text: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no line with {text:?} in\n{screen}"))
}

fn keys(app: &mut App, keys: &str) {
    for c in keys.chars() {
        app.apply(Key::Char(c));
    }
}

#[test]
fn renders_the_header_and_a_row_per_function() {
    let app = App::from_snapshot("run.json", snapshot(1, 10));
    let s = screen(&app, 140, 40);
    let header = line_with(&s, "perfcore top");
    assert!(header.contains("SNAPSHOT") && header.contains("run.json"), "{header}");
    assert!(header.contains("4 functions (4 shown)") && header.contains("sort self▼"), "{header}");
    assert!(header.contains("window 10.0s") && header.contains("filter none"), "{header}");
    assert!(s.contains("no system data (a snapshot file)"), "{s}");
    assert!(s.contains("alerts: none"));
    for column in
        ["function", "calls/s", "err/s", "errors", "err%", "self%▼", "p50", "p95", "p99", "max"]
    {
        assert!(line_with(&s, "calls/s").contains(column), "{column}");
    }
    // db::query: 6 calls over 10 s, 2 errors (33.3%), 60 of 115 ms of self time.
    let row = line_with(&s, "db::query");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cells[..7], ["db::query", "0.60", "6", "0.20", "2", "33.3%", "52.2%"], "{row}");
    assert_eq!(&cells[8..], ["1.00ms", "1.00ms", "1.00ms", "1.00ms"], "{row}");
    // Sorted by self time, largest first.
    assert_eq!(
        app.visible_functions(),
        ["db::query", "api::checkout", "render::page", "cache::get"]
    );
    let order: Vec<usize> = ["db::query", "api::checkout", "render::page", "cache::get"]
        .iter()
        .map(|n| s.find(&format!(" {n}")).or_else(|| s.find(n)).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{s}");
}

#[test]
fn s_and_digits_change_the_sort_and_r_reverses_it() {
    let mut app = App::from_snapshot("run.json", snapshot(1, 10));
    keys(&mut app, "s");
    assert_eq!(app.sort(), Sort::P95);
    assert_eq!(
        app.visible_functions(),
        ["api::checkout", "render::page", "db::query", "cache::get"]
    );
    let s = screen(&app, 140, 40);
    assert!(line_with(&s, "perfcore top").contains("sort p95▼"));
    assert!(line_with(&s, "calls/s").contains("p95▼"));
    keys(&mut app, "4");
    assert_eq!(
        app.visible_functions(),
        ["cache::get", "db::query", "render::page", "api::checkout"]
    );
    keys(&mut app, "r");
    assert_eq!(
        app.visible_functions(),
        ["api::checkout", "render::page", "db::query", "cache::get"]
    );
    assert!(line_with(&screen(&app, 140, 40), "calls/s").contains("calls/s▲"));
    keys(&mut app, "5");
    keys(&mut app, "r");
    assert_eq!(app.visible_functions()[0], "db::query");
    keys(&mut app, "ssss");
    assert_eq!(app.sort(), Sort::P99);
}

#[test]
fn the_filter_hides_rows_and_esc_clears_it() {
    let mut app = App::from_snapshot("run.json", snapshot(1, 10));
    keys(&mut app, "/");
    keys(&mut app, "CACHE");
    let typing = screen(&app, 140, 40);
    assert!(typing.contains("filter: CACHE_"), "{typing}");
    // Not applied until Enter.
    assert_eq!(app.visible_functions().len(), 4);
    app.apply(Key::Enter);
    assert_eq!(app.visible_functions(), ["cache::get"]);
    let s = screen(&app, 140, 40);
    assert!(
        s.contains("cache::get") && !s.contains("db::query") && !s.contains("api::checkout"),
        "{s}"
    );
    assert!(line_with(&s, "perfcore top").contains("filter \"CACHE\"") && s.contains("(1 shown)"));
    // By module too.
    keys(&mut app, "/");
    app.apply(Key::Backspace);
    app.apply(Key::Backspace);
    app.apply(Key::Backspace);
    app.apply(Key::Backspace);
    app.apply(Key::Backspace);
    keys(&mut app, "shop::web");
    app.apply(Key::Enter);
    assert_eq!(app.visible_functions(), ["render::page"]);
    keys(&mut app, "/nothing");
    app.apply(Key::Enter);
    assert!(screen(&app, 140, 40).contains("no function matches the filter"));
    keys(&mut app, "/");
    app.apply(Key::Esc);
    assert_eq!(app.visible_functions().len(), 4);
    assert!(!app.should_quit());
}

#[test]
fn enter_shows_the_histogram_callers_and_callees() {
    let mut app = App::from_snapshot("run.json", snapshot(1, 10));
    keys(&mut app, "1");
    // cache::get is last by self time.
    app.apply(Key::End);
    assert_eq!(app.selected_function().unwrap().name, "cache::get");
    app.apply(Key::Enter);
    let s = screen(&app, 140, 40);
    assert!(s.contains("latency histogram"), "{s}");
    assert!(s.contains("10µs"), "the bucket's label:\n{s}");
    assert!(s.contains("shop::cache") && s.contains("calls 40"), "{s}");
    let callers = line_with(&s, "api::checkout");
    assert!(callers.contains("30"), "checkout calls get 30 times: {callers}");
    assert!(line_with(&s, "render::page").contains("10"));
    assert!(s.contains(" callers ") && s.contains(" callees "));
    assert!(s.contains("none in the call tree"), "get calls nothing:\n{s}");
    // Esc closes the detail first, then quits.
    app.apply(Key::Esc);
    assert!(!screen(&app, 140, 40).contains("latency histogram"));
    assert!(!app.should_quit());
    app.apply(Key::Home);
    app.apply(Key::Down);
    app.apply(Key::Enter);
    let s = screen(&app, 140, 40);
    assert!(s.contains("┌ api::checkout "), "{s}");
    assert!(s.contains("(thread root)"), "checkout runs at the root:\n{s}");
    assert!(
        line_with(&s, "db::query").contains(" 6 ") && line_with(&s, "cache::get").contains(" 30 "),
        "{s}"
    );
    app.apply(Key::Esc);
    app.apply(Key::Esc);
    assert!(app.should_quit());
}

#[test]
fn live_rates_come_from_successive_snapshots() {
    let t = Instant::now();
    let mut app = App::new("http://127.0.0.1:9464");
    assert!(screen(&app, 140, 40).contains("waiting for the first refresh"));
    app.update(snapshot(1, 10), &[], t);
    // The second snapshot has twice every count, 5 s later: db::query made 6 more calls.
    app.update(snapshot(2, 15), &[], t + Duration::from_secs(5));
    let s = screen(&app, 140, 40);
    assert!(line_with(&s, "perfcore top").contains("LIVE"));
    assert!(s.contains("rates over the last 5.00s"), "{s}");
    let cells: Vec<&str> = line_with(&s, "db::query").split_whitespace().collect();
    assert_eq!(&cells[1..7], ["1.20", "12", "0.40", "4", "33.3%", "52.2%"]);
    // A snapshot whose clock did not move: the wall clock between updates instead.
    app.update(snapshot(3, 15), &[], t + Duration::from_secs(7));
    let s = screen(&app, 140, 40);
    let cells: Vec<&str> = line_with(&s, "db::query").split_whitespace().collect();
    assert_eq!(cells[1], "3.00");
    // A reset profiler (fewer calls than before): rates over its own window.
    app.update(snapshot(1, 10), &[], t + Duration::from_secs(8));
    let s = screen(&app, 140, 40);
    let cells: Vec<&str> = line_with(&s, "db::query").split_whitespace().collect();
    assert_eq!(cells[1], "0.60");
}

#[test]
fn pause_stops_updates_and_freezes_the_display() {
    let t = Instant::now();
    let mut app = App::new("http://x:1");
    app.update(snapshot(1, 10), &[], t);
    keys(&mut app, "p");
    let frozen = screen(&app, 140, 40);
    assert!(line_with(&frozen, "perfcore top").contains("PAUSED"));
    assert!(!app.update(
        snapshot(5, 20),
        &[Observation::gauge("system_cpu_utilization_ratio", "", 0.5)],
        t + Duration::from_secs(10)
    ));
    assert_eq!(screen(&app, 140, 40), frozen);
    keys(&mut app, " ");
    assert!(!app.is_paused());
    assert!(app.update(snapshot(5, 20), &[], t + Duration::from_secs(10)));
    assert!(line_with(&screen(&app, 140, 40), "db::query").contains(" 30 "));
}

#[test]
fn system_sparklines_and_alerts_from_observations() {
    let t = Instant::now();
    let mut app = App::new("http://x:1");
    let gib = 1024.0 * 1024.0 * 1024.0;
    for i in 0..30 {
        let obs = vec![
            Observation::gauge("system_cpu_utilization_ratio", "", (i % 10) as f64 / 10.0),
            Observation::gauge("system_cpu_core_utilization_ratio", "", 1.0).label("core", "0"),
            Observation::gauge("system_memory_used_bytes", "", 2.0 * gib),
            Observation::gauge("system_memory_total_bytes", "", 8.0 * gib),
            Observation::gauge("alerts", "", 1.0)
                .label("alertname", "cpu_high")
                .label("alertstate", "firing")
                .label("severity", "critical"),
            Observation::gauge("alerts", "", 1.0)
                .label("alertname", "slow_checkout")
                .label("alertstate", "pending")
                .label("severity", "warning")
                .label("function", "api::checkout"),
        ];
        app.update(snapshot(1, 10 + i), &obs, t + Duration::from_secs(i));
    }
    let s = screen(&app, 140, 40);
    assert!(s.contains("CPU 90.0%"), "{s}");
    assert!(s.contains("memory 25.0% (2.00GiB of 8.00GiB; scale 0 to its top)"), "{s}");
    assert!(!s.contains("no system data"));
    // The sparkline drew bars (the block characters).
    assert!(s.chars().any(|c| ('▁'..='█').contains(&c)), "{s}");
    let firing = line_with(&s, "cpu_high");
    assert!(firing.contains("FIRING") && firing.contains("critical"), "{firing}");
    let pending = line_with(&s, "slow_checkout");
    assert!(pending.contains("PENDING") && pending.contains("function=api::checkout"));
    assert!(s.find("cpu_high") < s.find("slow_checkout"), "firing first");
    assert!(app.cpu.len() == 30 && app.memory.len() == 30);
}

#[test]
fn a_failed_refresh_shows_a_status_line_and_keeps_the_data() {
    let mut app = App::new("http://127.0.0.1:1");
    app.update(snapshot(1, 10), &[], Instant::now());
    app.set_status("cannot reach http://127.0.0.1:1: connection refused (retrying)");
    let s = screen(&app, 140, 40);
    assert!(s.contains("cannot reach http://127.0.0.1:1: connection refused"), "{s}");
    assert!(s.contains("db::query"));
    app.update(snapshot(1, 11), &[], Instant::now());
    assert!(!screen(&app, 140, 40).contains("cannot reach"));
}

#[test]
fn scrolls_to_keep_the_selection_in_view() {
    let functions: Vec<FunctionStats> =
        (0..200).map(|i| function(&format!("f{i:03}"), "m", &[MS], (200 - i) * MS, 0)).collect();
    let mut app =
        App::from_snapshot("many.json", Snapshot::from_functions(functions, 0, 1_000_000_000));
    let s = screen(&app, 100, 20);
    assert!(s.contains("f000") && !s.contains("f150"));
    app.apply(Key::End);
    let s = screen(&app, 100, 20);
    assert!(s.contains("f199") && !s.contains("f000"), "{s}");
    app.apply(Key::PageUp);
    let s = screen(&app, 100, 20);
    assert_eq!(app.selected_function().unwrap().name, format!("f{:03}", 199 - app.page.get()));
    assert!(s.contains(&app.selected_function().unwrap().name));
    app.apply(Key::Home);
    app.apply(Key::Char('j'));
    app.apply(Key::Down);
    app.apply(Key::Char('k'));
    assert_eq!(app.selected_function().unwrap().name, "f001");
    app.apply(Key::PageDown);
    assert!(screen(&app, 100, 20).contains(&app.selected_function().unwrap().name));
    // The selection follows its function across a re-sort.
    let chosen = app.selected_function().unwrap().name.clone();
    app.apply(Key::Char('r'));
    assert_eq!(app.selected_function().unwrap().name, chosen);
}

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut app = App::from_snapshot("run.json", snapshot(1, 10));
    keys(&mut app, "?");
    let s = screen(&app, 140, 40);
    assert!(s.contains(" keys ") && s.contains("cycle the sort"), "{s}");
    keys(&mut app, "x");
    assert!(!screen(&app, 140, 40).contains("cycle the sort"));
    assert!(!app.should_quit());
}

#[test]
fn small_and_large_terminals_draw_without_panicking() {
    let mut app = App::from_snapshot("run.json", snapshot(1, 10));
    let s = screen(&app, 20, 5);
    assert!(s.contains("terminal too"), "{s}");
    assert!(s.replace('\n', "").contains("small"));
    for (w, h) in [(1, 1), (59, 40), (60, 12), (300, 100), (1000, 3)] {
        let _ = screen(&app, w, h);
        app.apply(Key::Enter);
        let _ = screen(&app, w, h);
        app.apply(Key::Esc);
    }
    assert!(screen(&app, 60, 12).contains("db::query"));
}

#[test]
fn histogram_bins_fit_and_keep_every_call() {
    let f = FunctionStats::from_durations("f", (0..2000u64).map(|i| 1 + i * i * 997));
    for max in [1, 2, 5, 10, 40, 100] {
        let bins = histogram_bins(&f, max);
        assert!(!bins.is_empty() && bins.len() <= max, "{max}: {}", bins.len());
        assert_eq!(bins.iter().map(|b| b.1).sum::<u64>(), 2000);
        assert!(bins.windows(2).all(|w| w[0].0 < w[1].0));
    }
    assert!(histogram_bins(&FunctionStats::from_durations("e", []), 10).is_empty());
}

#[test]
fn options_are_validated() {
    assert!(
        TopOptions::new(Source::Url("http://127.0.0.1:9464/metrics".into())).validate().is_ok()
    );
    let e = TopOptions::new(Source::Url("https://x".into())).validate().unwrap_err();
    assert!(e.to_string().contains("https"), "{e}");
    let e = TopOptions::new(Source::Url("http://x:1".into()))
        .interval(Duration::from_millis(1))
        .validate()
        .unwrap_err();
    assert!(matches!(e, TopError::Interval(_)));
    assert_eq!("P99".parse::<Sort>(), Ok(Sort::P99));
    assert!("median".parse::<Sort>().unwrap_err().contains("self, p95"));
    let app = TopOptions::new(Source::Snapshot {
        name: "f.json".into(),
        snapshot: Box::new(snapshot(1, 10)),
    })
    .sort(Sort::Calls)
    .filter("db")
    .app();
    assert_eq!(app.visible_functions(), ["db::query"]);
    assert_eq!(key_of(KeyCode::Char('q')), Some(Key::Char('q')));
    assert_eq!(key_of(KeyCode::F(1)), None);
}

fn any_key() -> impl Strategy<Value = Key> {
    prop_oneof![
        prop::sample::select(vec![
            'q', 's', 'r', '/', 'p', ' ', '?', 'j', 'k', 'g', 'G', '1', '6', '9', 'd', 'b'
        ])
        .prop_map(Key::Char),
        Just(Key::Enter),
        Just(Key::Esc),
        Just(Key::Backspace),
        Just(Key::Up),
        Just(Key::Down),
        Just(Key::PageUp),
        Just(Key::PageDown),
        Just(Key::Home),
        Just(Key::End),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_keys_and_any_size_never_panic(
        keys in prop::collection::vec(any_key(), 0..40),
        sizes in prop::collection::vec((1u16..=300, 1u16..=100), 1..4),
        live: bool,
    ) {
        let mut app = if live { App::new("http://x:1") } else { App::from_snapshot("f", snapshot(1, 10)) };
        let mut terminal = Terminal::new(TestBackend::new(sizes[0].0, sizes[0].1)).unwrap();
        for (i, key) in keys.iter().enumerate() {
            app.apply(*key);
            if live && i % 7 == 0 {
                app.update(snapshot(1 + i as u64, 10 + i as u64), &[], Instant::now());
            }
            let (w, h) = sizes[i % sizes.len()];
            terminal.backend_mut().resize(w, h);
            terminal.draw(|frame| draw(frame, &app)).unwrap();
            prop_assert!(app.order.len() <= app.snapshot.functions.len());
            prop_assert!(app.order.is_empty() || app.selected < app.order.len());
        }
    }
}

#[test]
fn the_command_refuses_bad_options_before_touching_the_terminal() {
    let run = |args: &[&str]| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = crate::cli::run(args.iter().copied(), &mut out, &mut err);
        (code, String::from_utf8_lossy(&err).into_owned())
    };
    let (code, err) = run(&["perfcore", "top"]);
    assert_eq!(code, 2, "{err}");
    let (code, err) = run(&["perfcore", "top", "--url", "http://127.0.0.1:1", "--sort", "median"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a sort key"), "{err}");
    let (code, err) = run(&["perfcore", "top", "--url", "https://127.0.0.1:1"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid endpoint URL") && err.contains("https"), "{err}");
    let (code, err) = run(&["perfcore", "top", "--url", "http://127.0.0.1:1", "--interval", "0s"]);
    assert_eq!(code, 2);
    assert!(err.contains("interval"), "{err}");
    let (code, err) = run(&["perfcore", "top", "/no/such/snapshot.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("/no/such/snapshot.json"), "{err}");
    let (code, _) = run(&["perfcore", "top", "f.json", "--url", "http://127.0.0.1:1"]);
    assert_eq!(code, 2, "a file and a URL at once");
}

#[test]
fn narrow_terminals_drop_columns_rather_than_cut_values() {
    use super::draw::columns_for;
    assert_eq!(columns_for(140, Sort::SelfTime).len(), 11);
    for width in [60u16, 80, 100] {
        for sort in Sort::ALL {
            let shown = columns_for(width, sort);
            let used: u16 = shown.iter().map(|_| 7).sum::<u16>() + 2;
            assert!(used + 16 <= width + 2, "{width} {sort:?}: {shown:?}");
            assert!(!shown.is_empty());
        }
    }
    // The sorted column stays, even one of low priority.
    assert!(columns_for(60, Sort::Total).contains(&6));
    let mut app = App::from_snapshot("run.json", snapshot(1, 10));
    let s = screen(&app, 80, 24);
    let header = line_with(&s, "calls/s");
    assert!(
        header.contains("calls/s") && header.contains("p95") && header.contains("self%▼"),
        "{header}"
    );
    let cells: Vec<&str> = line_with(&s, "db::query").split_whitespace().collect();
    assert_eq!(cells[0], "db::query");
    assert!(cells.contains(&"1.00ms") && cells.contains(&"52.2%"), "{cells:?}");
    keys(&mut app, "6");
    let s = screen(&app, 60, 20);
    assert!(line_with(&s, "function ").contains("total▼"), "{s}");
}

/// Live, the quantile columns cover the last ten seconds or so: a function that was slow at
/// first and has been fast since shows its fast calls, not the whole run's.
#[test]
fn live_quantiles_cover_the_recent_window() {
    let t = Instant::now();
    let mut app = App::new("http://x:1");
    // 100 calls of 50 ms, then 100 more of 1 µs every second for 20 s.
    let at = |s: u64| {
        let mut durations = vec![50 * MS; 100];
        durations.extend(std::iter::repeat_n(1_000, 100 * s as usize));
        let snap = vec![function("svc::flip", "svc", &durations, 0, 0)];
        Snapshot::from_functions(snap, 0, (100 + s) * 1_000_000_000)
    };
    for s in 0..=20 {
        app.update(at(s), &[], t + Duration::from_secs(s));
    }
    let whole = at(20).functions[0].p95_ns;
    assert!(whole < 2_000, "the whole run's p95 is already fast: {whole}");
    let recent = app.quantiles(0).unwrap();
    assert!(recent[3] < 2_000, "max of the last window {recent:?}");
    let s = screen(&app, 140, 20);
    assert!(s.contains("quantiles over the last 1"), "{s}");
    // And the other way: fast at first, slow in the window; the cumulative p95 is still fast.
    let mut app = App::new("http://x:1");
    let at = |s: u64| {
        let mut durations = vec![1_000; 10_000];
        durations.extend(std::iter::repeat_n(50 * MS, 10 * s as usize));
        let snap = vec![function("svc::slow", "svc", &durations, 0, 0)];
        Snapshot::from_functions(snap, 0, (100 + s) * 1_000_000_000)
    };
    for s in 0..=12 {
        app.update(at(s), &[], t + Duration::from_secs(s));
    }
    assert!(at(12).functions[0].p95_ns < 2_000);
    let recent = app.quantiles(0).unwrap();
    assert!(recent[1] > 40 * MS, "the window's p95 {recent:?}");
    let s = screen(&app, 140, 20);
    let row = line_with(&s, "svc::slow");
    assert!(row.contains("50.0ms") || row.contains("49."), "{row}");
    // No call in the window: a dash, and the function sorts last by p95.
    let idle = Snapshot::from_functions(vec![function("svc::idle", "svc", &[MS], 0, 0)], 0, 1);
    let mut app = App::new("http://x:1").with_sort(Sort::P95);
    for s in 0..3 {
        let mut snap = idle.clone();
        snap.ended_unix_ns = (200 + s) * 1_000_000_000;
        app.update(snap, &[], t + Duration::from_secs(s));
    }
    assert_eq!(app.quantiles(0), None);
    let s = screen(&app, 140, 20);
    assert!(line_with(&s, "svc::idle").contains(" - "), "{s}");
}
