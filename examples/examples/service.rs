//! The example service under load: starts it, runs a scenario, prints perfcore's figures
//! beside the client's, exits 1 when a check fails.
//!
//! ```text
//! cargo run --release -p perfcore-examples --example service -- target/example-service.json
//! cargo run --release -p perfcore-examples --example service -- --scenario load [--duration 10s] [--rate N] [--connections N] [--json OUT]
//! cargo run --release -p perfcore-examples --example service -- --serve [--addr A] [--metrics-addr B] [--duration D]
//! cargo run --release -p perfcore-examples --example service -- --scenario load --target URL --perfcore URL
//! ```
//!
//! With one argument (a path, as the test command runs every example) it runs every
//! scenario in a short smoke version (about 20 s in all) against one service and writes the
//! JSON reports there. `--serve` only serves (for `perfcore top` and Prometheus) until the
//! duration ends (default: until killed). `--target` drives an external service (the Python
//! one) and compares against its perfcore endpoint's `/snapshot.json`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use perfcore_examples::service::{LoadOptions, Scenario, ServiceOptions, SliReport};

type Error = Box<dyn std::error::Error>;

fn value(argv: &[String], flag: &str) -> Option<String> {
    argv.iter().position(|a| a == flag).and_then(|i| argv.get(i + 1)).cloned()
}

fn parse_duration(s: &str) -> Result<Duration, Error> {
    let s = s.trim();
    let (num, unit) = s.find(|c: char| c.is_ascii_alphabetic()).map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s:?} (say 10s, 500ms or 2m)"))?;
    let secs = match unit {
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("bad duration unit in {s:?} (ms, s or m)").into()),
    };
    Ok(Duration::try_from_secs_f64(secs)?)
}

fn options(argv: &[String], scenario: Scenario, target: &str) -> Result<LoadOptions, Error> {
    let mut o = LoadOptions::new(scenario, target);
    if let Some(d) = value(argv, "--duration") {
        o = o.duration(parse_duration(&d)?);
    }
    if let Some(r) = value(argv, "--rate") {
        o = o.rate(r.parse()?);
    }
    if let Some(c) = value(argv, "--connections") {
        o = o.connections(c.parse()?);
    }
    Ok(o)
}

fn write_json(path: &str, reports: &[SliReport]) -> Result<(), Error> {
    let passed = reports.iter().all(SliReport::passed);
    let json = serde_json::json!({ "passed": passed, "reports": reports });
    if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(&json)?)?;
    println!("wrote {path}");
    Ok(())
}

fn service(argv: &[String]) -> Result<perfcore_examples::service::Service, Error> {
    let mut o = ServiceOptions::new();
    if let Some(a) = value(argv, "--addr") {
        o = o.addr(a.parse::<SocketAddr>()?);
    }
    if let Some(a) = value(argv, "--metrics-addr") {
        o = o.metrics_addr(a.parse::<SocketAddr>()?);
    }
    if let Some(w) = value(argv, "--workers") {
        o = o.workers(w.parse()?);
    }
    Ok(o.start()?)
}

fn run() -> Result<bool, Error> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.iter().any(|a| a == "--serve") {
        let s = service(&argv)?;
        println!("serving {} ; perfcore endpoint {}", s.url(), s.metrics_url());
        match value(&argv, "--duration") {
            Some(d) => std::thread::sleep(parse_duration(&d)?),
            None => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
        }
        s.stop();
        return Ok(true);
    }
    if let Some(target) = value(&argv, "--target") {
        let scenario: Scenario =
            value(&argv, "--scenario").unwrap_or_else(|| "load".into()).parse()?;
        let perfcore =
            value(&argv, "--perfcore").ok_or("--target needs --perfcore URL (its endpoint)")?;
        let report = options(&argv, scenario, &target)?.perfcore(&perfcore).run()?;
        let sli = SliReport::from_report(&report)?;
        print!("{sli}");
        if let Some(out) = value(&argv, "--json") {
            write_json(&out, std::slice::from_ref(&sli))?;
        }
        return Ok(sli.passed());
    }
    if let Some(name) = value(&argv, "--scenario") {
        let scenario: Scenario = name.parse()?;
        let s = service(&argv)?;
        println!("service {} ; perfcore endpoint {}", s.url(), s.metrics_url());
        let report = options(&argv, scenario, &s.url())?.run()?;
        let sli = s.compare(&report)?;
        print!("{sli}");
        if let Some(out) = value(&argv, "--json") {
            write_json(&out, std::slice::from_ref(&sli))?;
        }
        s.stop();
        return Ok(sli.passed());
    }
    // The smoke run: one path argument.
    let out = argv
        .first()
        .filter(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "target/example-service.json".into());
    let s = service(&argv)?;
    println!("service {} ; perfcore endpoint {}", s.url(), s.metrics_url());
    let smoke = [
        (Scenario::Baseline, 1500),
        (Scenario::Load, 3000),
        (Scenario::Stress, 4200),
        (Scenario::Spike, 3000),
        (Scenario::Endurance, 3000),
        (Scenario::Soak, 5000),
    ];
    let mut reports = Vec::new();
    for (scenario, ms) in smoke {
        let report =
            LoadOptions::new(scenario, &s.url()).duration(Duration::from_millis(ms)).run()?;
        let sli = s.compare(&report)?;
        println!();
        print!("{sli}");
        reports.push(sli);
    }
    s.stop();
    write_json(&out, &reports)?;
    Ok(reports.iter().all(SliReport::passed))
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("a check failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            let mut msg = e.to_string();
            let mut src = e.source();
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}
