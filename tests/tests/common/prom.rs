//! A real Prometheus for the tests: the programs from `.ci/install-tools.sh`, started on
//! loopback in a scratch directory and killed when the test ends, and its HTTP API.
//!
//! A test whose program is missing prints a notice and passes, unless
//! `PERFCORE_REQUIRE_TOOLS=1` (as CI sets it), when it fails.
#![allow(dead_code)] // each test file uses its own part of it

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn have(program: &str) -> bool {
    let ok = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let msg =
            format!("`{program} --version` does not run: install it with .ci/install-tools.sh");
        assert!(std::env::var("PERFCORE_REQUIRE_TOOLS").as_deref() != Ok("1"), "{msg}");
        eprintln!("skipped: {msg}");
    }
    ok
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("prometheus").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A free loopback port (bound, then released: the program started next takes it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed when the test ends, however it ends; its output goes to a log
/// file, shown when the test fails.
pub struct Program {
    child: Child,
    log: PathBuf,
}

impl Program {
    pub fn start(cmd: &mut Command, log: PathBuf) -> Self {
        let file = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        Self { child, log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET http://{addr}{target}`: the status and the body.
pub fn get(addr: SocketAddr, target: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    // Prometheus answers its API chunked; unchunk.
    let chunked = text
        .split_once("\r\n\r\n")
        .is_some_and(|(h, _)| h.to_ascii_lowercase().contains("transfer-encoding: chunked"));
    Ok((status, if chunked { unchunk(&body) } else { body }))
}

pub fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

pub fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An instant query's result vector: (labels, value) per series.
pub fn query(prom: SocketAddr, promql: &str, at: Option<f64>) -> Vec<(serde_json::Value, f64)> {
    let mut target = format!("/api/v1/query?query={}", encode(promql));
    if let Some(t) = at {
        target.push_str(&format!("&time={t:.3}"));
    }
    let (status, body) = get(prom, &target).unwrap();
    assert_eq!(status, 200, "{promql}: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "success", "{promql}: {body}");
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["metric"].clone(), r["value"][1].as_str().unwrap().parse::<f64>().unwrap()))
        .collect()
}

/// The one value an instant query returns, waiting (up to `wait`) until it satisfies `ok`.
pub fn query_until(
    prom: SocketAddr,
    promql: &str,
    wait: Duration,
    ok: impl Fn(f64) -> bool,
) -> Option<f64> {
    let deadline = Instant::now() + wait;
    let mut last = None;
    while Instant::now() < deadline {
        if let [(_, v)] = query(prom, promql, None)[..] {
            last = Some(v);
            if ok(v) {
                return last;
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    last
}

/// Starts Prometheus in `dir` with a 1 s scrape and evaluation interval and these
/// `scrape_configs` entries (YAML, each starting `  - job_name:`), and waits until it is ready
/// and has scraped every target once (`count(up == 1)` reaches `targets`).
pub fn start_prometheus(dir: &Path, scrape_configs: &str, targets: usize) -> (Program, SocketAddr) {
    let port = free_port();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n{scrape_configs}"
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let prometheus = Program::start(
        Command::new("prometheus")
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn"),
        dir.join("prometheus.log"),
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(get(addr, "/-/ready"), Ok((200, _))) {
        assert!(Instant::now() < deadline, "prometheus never got ready:\n{}", prometheus.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    // Prometheus applies its targets some seconds after it is ready (service discovery
    // sends updates at most every 5 s): wait for its first scrapes of them all.
    let scraped =
        query_until(addr, "count(up == 1)", Duration::from_secs(60), |v| v >= targets as f64);
    assert_eq!(scraped, Some(targets as f64), "prometheus scrapes nothing:\n{}", prometheus.log());
    (prometheus, addr)
}
