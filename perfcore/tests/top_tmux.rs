//! `perfcore top` for real: the command in a tmux session (a real terminal: raw mode, the
//! alternate screen, key events), over a live endpoint of this process, driven with
//! `send-keys` and read with `capture-pane`.
//!
//! Needs tmux (`.ci/install-tools.sh` installs it); without it the test says so and passes,
//! unless `PERFCORE_REQUIRE_TOOLS=1`, which makes a missing tool a failure.
#![cfg(feature = "cli")]

use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use perfcore::PerformanceProfiler;
use perfcore::monitor::{AlertRule, Monitor, ServerOptions};

/// A tmux server of our own (its own socket), killed with its sessions when dropped.
struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().unwrap()
    }

    /// Starts `command` in a detached 140x40 session; the shell stays after it exits and
    /// says how it ended.
    fn start(name: &str, command: &str) -> Self {
        let t = Tmux {
            socket: format!("perfcore-top-{}-{name}", std::process::id()),
            session: format!("top-{name}"),
        };
        let script = format!("{command}; echo \"top exited with $?\"; sleep 600");
        let out = t.run(&["new-session", "-d", "-s", &t.session, "-x", "140", "-y", "40", &script]);
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
        t
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", &self.session]).stdout)
            .into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    /// Waits (up to a minute: a bound for a stuck run, not a figure asserted) until the
    /// screen satisfies `ok`; returns that screen.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.capture();
            if ok(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "the screen never showed {what}:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn tmux_available() -> bool {
    let found = Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("PERFCORE_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "tmux is not installed and PERFCORE_REQUIRE_TOOLS=1 (install it: .ci/install-tools.sh)"
        );
        eprintln!("skipping: tmux is not installed (.ci/install-tools.sh installs it)");
    }
    found
}

/// A service's calls, made on a thread until `stop`: checkout calls the query and the
/// cache, pages call the cache, one query in ten fails.
fn serve(p: &PerformanceProfiler, stop: &AtomicBool) {
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        {
            let _checkout = p.scope("api::checkout").unwrap();
            {
                let q = p.scope("db::query").unwrap();
                std::thread::sleep(Duration::from_micros(300));
                if i.is_multiple_of(10) {
                    q.mark_failed();
                }
            }
            let _get = p.scope("cache::get").unwrap();
        }
        {
            let _page = p.scope("render::page").unwrap();
            let _get = p.scope("cache::get").unwrap();
        }
        i += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn top_over_a_live_endpoint_in_tmux() {
    if !tmux_available() {
        return;
    }
    let p = Arc::new(PerformanceProfiler::new());
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let (p, stop) = (Arc::clone(&p), Arc::clone(&stop));
        std::thread::spawn(move || serve(&p, &stop))
    };
    // A real system sampler with one rule that fires at once, served by the endpoint.
    let monitor = Monitor::builder()
        .interval(Duration::from_millis(200))
        .rules(vec![
            AlertRule::parse("memory_in_use: system_memory_used_bytes > 0 severity warning")
                .unwrap(),
        ])
        .start()
        .unwrap();
    let served = Arc::clone(&p);
    let server =
        ServerOptions::new("127.0.0.1:0").snapshot(move || served.snapshot()).start().unwrap();
    let url = format!("http://{}", server.local_addr());
    let bin = env!("CARGO_BIN_EXE_perfcore");
    let tmux = Tmux::start("live", &format!("{bin} top --url {url}/metrics --interval 200ms"));

    let main = tmux.wait_for("the functions, live, with rates and system data", |s| {
        [
            "api::checkout",
            "db::query",
            "cache::get",
            "render::page",
            "LIVE",
            "rates over the last",
            "CPU ",
            "memory ",
        ]
        .iter()
        .all(|t| s.contains(t))
    });
    eprintln!("--- main screen ---\n{main}");
    assert!(main.contains(&url), "the header names the source:\n{main}");
    assert!(main.contains("sort self▼"));
    let alerts = tmux.wait_for("the firing alert", |s| s.contains("memory_in_use"));
    assert!(
        alerts.lines().any(|l| l.contains("FIRING") && l.contains("memory_in_use")),
        "{alerts}"
    );

    // 2 sorts by p95, s moves on to p99.
    tmux.keys(&["2"]);
    tmux.wait_for("the p95 sort", |s| s.contains("sort p95▼") && s.contains("p95▼"));
    tmux.keys(&["s"]);
    tmux.wait_for("the p99 sort", |s| s.contains("sort p99▼"));

    // A filter: typed, then applied with Enter.
    tmux.keys(&["/", "db", "Enter"]);
    let filtered = tmux.wait_for("the filter applied", |s| {
        s.contains("filter \"db\"") && s.contains("(1 shown)") && !s.contains("render::page")
    });
    assert!(filtered.contains("db::query"), "{filtered}");

    // The detail of the one function listed: its histogram and its caller.
    tmux.keys(&["Enter"]);
    let detail = tmux.wait_for("the detail", |s| {
        s.contains("latency histogram") && s.contains(" callers ") && s.contains("api::checkout")
    });
    eprintln!("--- detail ---\n{detail}");
    assert!(detail.contains("┌ db::query"), "{detail}");

    // Esc closes the detail, then / Esc clears the filter.
    tmux.keys(&["Escape"]);
    tmux.wait_for("the detail closed", |s| !s.contains("latency histogram"));
    tmux.keys(&["/", "Escape"]);
    tmux.wait_for("every function again", |s| {
        s.contains("render::page") && s.contains("filter none")
    });

    // Pause: the header says so; the refresh counter stops.
    tmux.keys(&["p"]);
    tmux.wait_for("the pause", |s| s.contains("PAUSED"));

    // q quits and leaves the terminal as it was (the alternate screen is gone).
    tmux.keys(&["q"]);
    let after = tmux.wait_for("the command's exit", |s| s.contains("top exited with"));
    assert!(after.contains("top exited with 0"), "{after}");
    assert!(!after.contains("api::checkout"), "the alternate screen was left:\n{after}");

    stop.store(true, Ordering::Relaxed);
    worker.join().unwrap();
    server.stop();
    monitor.stop();
}

#[test]
fn top_says_when_the_endpoint_cannot_be_reached_and_keeps_trying() {
    if !tmux_available() {
        return;
    }
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bin = env!("CARGO_BIN_EXE_perfcore");
    let tmux =
        Tmux::start("down", &format!("{bin} top --url http://127.0.0.1:{port} --interval 100ms"));
    let screen = tmux.wait_for("the status line", |s| s.contains("cannot reach"));
    assert!(screen.contains(&format!("cannot reach http://127.0.0.1:{port}")), "{screen}");
    assert!(screen.contains("waiting for the first refresh"), "{screen}");
    tmux.keys(&["q"]);
    let after = tmux.wait_for("the command's exit", |s| s.contains("top exited with"));
    assert!(after.contains("top exited with 0"), "{after}");
}

#[test]
fn top_shows_a_snapshot_file_in_tmux() {
    if !tmux_available() {
        return;
    }
    let p = PerformanceProfiler::new();
    for _ in 0..5 {
        let _outer = p.scope("batch::run").unwrap();
        let _inner = p.scope("batch::step").unwrap();
    }
    let dir = std::env::temp_dir().join(format!("perfcore-top-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("run.json");
    p.snapshot().write_json(&file).unwrap();
    let bin = env!("CARGO_BIN_EXE_perfcore");
    let tmux = Tmux::start("file", &format!("{bin} top {}", file.display()));
    let screen =
        tmux.wait_for("the snapshot", |s| s.contains("batch::step") && s.contains("SNAPSHOT"));
    assert!(screen.contains("no system data (a snapshot file)"), "{screen}");
    assert!(screen.contains("2 functions (2 shown)"), "{screen}");
    tmux.keys(&["j", "Enter"]);
    tmux.wait_for("the detail", |s| s.contains("latency histogram") && s.contains(" callers "));
    tmux.keys(&["q"]);
    let after = tmux.wait_for("the command's exit", |s| s.contains("top exited with"));
    assert!(after.contains("top exited with 0"), "{after}");
    let _ = std::fs::remove_dir_all(&dir);
}
