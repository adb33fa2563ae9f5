//! The load driver: scenarios as bounded plans of phases, run over loopback keep-alive
//! connections.
//!
//! Open-loop phases send request `i` at `start + i / rate` whichever connection is free
//! first, and measure its latency from that *intended* time, not from when it was actually
//! sent: a stalled service delays the sends behind it, and that wait counts in their
//! latency, so the quantiles are corrected for coordinated omission. Closed-loop phases
//! (baseline) send the next request when the answer to the last one is in.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use perfcore::Snapshot;
use serde::{Deserialize, Serialize};

use super::client::{Client, parse_url};
use super::handlers::{ROUTES, mix};
use super::report::{
    ClientReport, PerfcoreWindow, Quantiles, RouteReport, ScenarioVerdict, SoakFigures, StepReport,
    quantile,
};
use super::{ServiceError, server};

/// The longest run a plan may have.
pub const MAX_DURATION: Duration = Duration::from_secs(15 * 60);
/// The most requests a plan may send.
pub const MAX_REQUESTS: u64 = 5_000_000;
/// The highest rate a plan may ask for, requests per second.
const MAX_RATE: f64 = 50_000.0;
/// The most connections a plan may open.
const MAX_CONNECTIONS: usize = 256;
/// A closed-loop phase's bound on requests per second of its duration.
const CLOSED_LOOP_CAP_PER_SEC: u64 = 20_000;

/// The stress scenario's steps (the rate doubles at each).
const STRESS_STEPS: u32 = 10;
/// The stress SLO: p99 at most this.
const SLO_P99: Duration = Duration::from_millis(50);
/// The stress SLO: unexpected errors (rejected, I/O) at most this share.
const SLO_ERRORS: f64 = 0.01;

/// A load scenario (the seed's, in short bounded versions).
///
/// # Examples
/// ```
/// use perfcore_examples::service::Scenario;
/// let s: Scenario = "spike".parse()?;
/// assert_eq!(s, Scenario::Spike);
/// assert_eq!(s.to_string(), "spike");
/// assert!("nope".parse::<Scenario>().is_err());
/// # Ok::<(), perfcore_examples::service::ServiceError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// One connection, closed loop (default 3 s).
    Baseline,
    /// Several connections, open loop at a target rate (default 4 connections, 200/s, 5 s).
    Load,
    /// The rate doubles each step (100/s to 50,000/s, 10 steps over 10 s) until the SLO breaks
    /// (p99 over 50 ms or over 1% rejected/I/O errors) or the top step.
    Stress,
    /// A steady rate (100/s), a burst at 8× for 15% of the run, the steady rate again (5 s).
    Spike,
    /// A steady rate (200/s) for the duration (default 6 s): first vs last third's p95.
    Endurance,
    /// Endurance with the endpoint scraped every second, RSS, CPU and the profiler's share
    /// (default 60 s).
    Soak,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 6] =
        [Self::Baseline, Self::Load, Self::Stress, Self::Spike, Self::Endurance, Self::Soak];

    /// The name (`"baseline"`, ...).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore_examples::service::Scenario::Soak.as_str(), "soak");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Load => "load",
            Self::Stress => "stress",
            Self::Spike => "spike",
            Self::Endurance => "endurance",
            Self::Soak => "soak",
        }
    }

    fn default_duration(self) -> Duration {
        Duration::from_secs(match self {
            Self::Baseline => 3,
            Self::Load | Self::Spike => 5,
            Self::Endurance => 6,
            Self::Stress => 10,
            Self::Soak => 60,
        })
    }

    fn default_rate(self) -> f64 {
        match self {
            Self::Baseline => 0.0,
            Self::Stress | Self::Spike => 100.0,
            Self::Load | Self::Endurance | Self::Soak => 200.0,
        }
    }

    fn default_connections(self) -> usize {
        match self {
            Self::Baseline => 1,
            Self::Load | Self::Endurance | Self::Soak => 4,
            Self::Stress | Self::Spike => 8,
        }
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scenario {
    type Err = ServiceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|x| x.as_str().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            ServiceError::InvalidOption {
                name: "scenario",
                reason: format!(
                    "{s:?} is not one of baseline, load, stress, spike, endurance, soak"
                ),
            }
        })
    }
}

/// One phase of a plan.
///
/// # Examples
/// ```
/// use perfcore_examples::service::{LoadOptions, Scenario};
/// let plan = LoadOptions::new(Scenario::Spike, "http://127.0.0.1:1").plan()?;
/// assert_eq!(plan.phases.len(), 3);
/// assert_eq!(plan.phases[1].rate, Some(800.0));
/// # Ok::<(), perfcore_examples::service::ServiceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// Its name (`steady`, `burst`, `step 3`, ...).
    pub name: String,
    /// How long it lasts.
    #[serde(with = "secs")]
    pub duration: Duration,
    /// The open-loop rate, requests per second; `None` for a closed loop.
    pub rate: Option<f64>,
    /// Connections.
    pub connections: usize,
}

impl Phase {
    /// The most requests the phase sends.
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// let p = perfcore_examples::service::Phase { name: "x".into(), duration: Duration::from_secs(2), rate: Some(100.0), connections: 1 };
    /// assert_eq!(p.max_requests(), 200);
    /// ```
    #[must_use]
    pub fn max_requests(&self) -> u64 {
        match self.rate {
            Some(r) => (r * self.duration.as_secs_f64()).floor() as u64,
            None => (self.duration.as_secs_f64() * CLOSED_LOOP_CAP_PER_SEC as f64).ceil() as u64,
        }
    }
}

mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v).map_err(serde::de::Error::custom)
    }
}

/// A scenario's bounded plan: phases run one after the other.
///
/// # Examples
/// ```
/// use perfcore_examples::service::{LoadOptions, Scenario, MAX_REQUESTS};
/// let plan = LoadOptions::new(Scenario::Stress, "http://127.0.0.1:1").plan()?;
/// assert!(plan.max_requests() <= MAX_REQUESTS);
/// assert_eq!(plan.phases.len(), 10);
/// # Ok::<(), perfcore_examples::service::ServiceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The scenario.
    pub scenario: Scenario,
    /// The phases.
    pub phases: Vec<Phase>,
    /// The seed of the request mix.
    pub seed: u64,
}

impl Plan {
    /// The plan's total duration.
    ///
    /// # Examples
    /// ```
    /// # use perfcore_examples::service::*;
    /// let plan = LoadOptions::new(Scenario::Load, "http://127.0.0.1:1").plan()?;
    /// assert_eq!(plan.duration().as_secs(), 5);
    /// # Ok::<(), ServiceError>(())
    /// ```
    #[must_use]
    pub fn duration(&self) -> Duration {
        self.phases.iter().map(|p| p.duration).sum()
    }

    /// The most requests the plan sends.
    ///
    /// # Examples
    /// ```
    /// # use perfcore_examples::service::*;
    /// let plan = LoadOptions::new(Scenario::Load, "http://127.0.0.1:1").plan()?;
    /// assert_eq!(plan.max_requests(), 1000);
    /// # Ok::<(), ServiceError>(())
    /// ```
    #[must_use]
    pub fn max_requests(&self) -> u64 {
        self.phases.iter().map(Phase::max_requests).sum()
    }
}

/// How to drive a scenario against a service.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use perfcore_examples::service::{LoadOptions, Scenario};
/// let o = LoadOptions::new(Scenario::Load, "http://127.0.0.1:8080")
///     .duration(Duration::from_secs(10)).rate(500.0).connections(8);
/// assert_eq!(o.plan()?.max_requests(), 5000);
/// assert!(LoadOptions::new(Scenario::Load, "http://x").duration(Duration::from_secs(3600)).plan().is_err());
/// # Ok::<(), perfcore_examples::service::ServiceError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LoadOptions {
    scenario: Scenario,
    target: String,
    duration: Option<Duration>,
    rate: Option<f64>,
    connections: Option<usize>,
    seed: u64,
    perfcore_url: Option<String>,
    metrics_url: Option<String>,
}

impl LoadOptions {
    /// The scenario's defaults against the service at `target` (`http://host:port`).
    ///
    /// # Examples
    /// ```
    /// let _ = perfcore_examples::service::LoadOptions::new(
    ///     perfcore_examples::service::Scenario::Baseline, "http://127.0.0.1:8080");
    /// ```
    #[must_use]
    pub fn new(scenario: Scenario, target: &str) -> Self {
        Self {
            scenario,
            target: target.to_owned(),
            duration: None,
            rate: None,
            connections: None,
            seed: 14,
            perfcore_url: None,
            metrics_url: None,
        }
    }

    /// The run's total duration (the phases scale with it); at most 15 minutes.
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// # use perfcore_examples::service::*;
    /// let plan = LoadOptions::new(Scenario::Stress, "http://x").duration(Duration::from_secs(20)).plan()?;
    /// assert_eq!(plan.phases[0].duration, Duration::from_secs(2));
    /// # Ok::<(), ServiceError>(())
    /// ```
    #[must_use]
    pub fn duration(mut self, d: Duration) -> Self {
        self.duration = Some(d);
        self
    }

    /// The (base) open-loop rate, requests per second (stress starts there, spike's burst is
    /// 8× it).
    ///
    /// # Examples
    /// ```
    /// # use perfcore_examples::service::*;
    /// let plan = LoadOptions::new(Scenario::Stress, "http://x").rate(50.0).plan()?;
    /// assert_eq!(plan.phases[5].rate, Some(1600.0));
    /// # Ok::<(), ServiceError>(())
    /// ```
    #[must_use]
    pub fn rate(mut self, r: f64) -> Self {
        self.rate = Some(r);
        self
    }

    /// Connections (ignored by baseline, which has one).
    ///
    /// # Examples
    /// ```
    /// # use perfcore_examples::service::*;
    /// let plan = LoadOptions::new(Scenario::Load, "http://x").connections(2).plan()?;
    /// assert_eq!(plan.phases[0].connections, 2);
    /// # Ok::<(), ServiceError>(())
    /// ```
    #[must_use]
    pub fn connections(mut self, n: usize) -> Self {
        self.connections = Some(n);
        self
    }

    /// The seed of the request mix (default 14): the same seed sends the same requests.
    ///
    /// # Examples
    /// ```
    /// # use perfcore_examples::service::*;
    /// assert_eq!(LoadOptions::new(Scenario::Load, "http://x").seed(7).plan()?.seed, 7);
    /// # Ok::<(), ServiceError>(())
    /// ```
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// perfcore's endpoint of the target (`http://host:port`, or its `/metrics` URL): its
    /// `/snapshot.json` is read before and after the run, so
    /// [`SliReport::from_report`](super::SliReport::from_report) can compare. Needed for an
    /// external target; for a service of this process it replaces reading
    /// `perfcore::global()` directly.
    ///
    /// # Examples
    /// ```
    /// # use perfcore_examples::service::*;
    /// let _ = LoadOptions::new(Scenario::Load, "http://127.0.0.1:8000").perfcore("http://127.0.0.1:9464");
    /// ```
    #[must_use]
    pub fn perfcore(mut self, url: &str) -> Self {
        self.perfcore_url = Some(url.trim_end_matches('/').trim_end_matches("/metrics").to_owned());
        self
    }

    /// The `/metrics` URL the soak scrapes every second (default: the `perfcore` URL's, or
    /// the endpoint of the in-process service).
    ///
    /// # Examples
    /// ```
    /// # use perfcore_examples::service::*;
    /// let _ = LoadOptions::new(Scenario::Soak, "http://x:1").metrics_url("http://x:2/metrics");
    /// ```
    #[must_use]
    pub fn metrics_url(mut self, url: &str) -> Self {
        self.metrics_url = Some(url.to_owned());
        self
    }

    /// The plan these options give.
    ///
    /// # Errors
    /// [`ServiceError::InvalidOption`] for a duration under 100 ms or over
    /// [`MAX_DURATION`], a rate not in (0, 50,000], connections not in 1..=256, or a plan
    /// over [`MAX_REQUESTS`].
    ///
    /// # Examples
    /// ```
    /// # use perfcore_examples::service::*;
    /// assert!(LoadOptions::new(Scenario::Load, "http://x").rate(0.0).plan().is_err());
    /// ```
    pub fn plan(&self) -> Result<Plan, ServiceError> {
        let bad = |name, reason: String| Err(ServiceError::InvalidOption { name, reason });
        let d = self.duration.unwrap_or_else(|| self.scenario.default_duration());
        if d < Duration::from_millis(100) || d > MAX_DURATION {
            return bad("duration", format!("{d:?} is not in 100 ms..=15 min"));
        }
        let rate = self.rate.unwrap_or_else(|| self.scenario.default_rate());
        if self.scenario != Scenario::Baseline && !(rate > 0.0 && rate <= MAX_RATE) {
            return bad("rate", format!("{rate} is not in (0, {MAX_RATE}]"));
        }
        let c = self.connections.unwrap_or_else(|| self.scenario.default_connections());
        if c == 0 || c > MAX_CONNECTIONS {
            return bad("connections", format!("{c} is not in 1..={MAX_CONNECTIONS}"));
        }
        let phase = |name: String, duration: Duration, rate: Option<f64>| Phase {
            name,
            duration,
            rate,
            connections: if rate.is_none() { 1 } else { c },
        };
        let phases = match self.scenario {
            Scenario::Baseline => vec![phase("closed loop".into(), d, None)],
            Scenario::Load | Scenario::Endurance | Scenario::Soak => {
                vec![phase("steady".into(), d, Some(rate))]
            }
            Scenario::Stress => (0..STRESS_STEPS)
                .map(|k| {
                    phase(
                        format!("step {}", k + 1),
                        d / STRESS_STEPS,
                        Some((rate * f64::from(1u32 << k)).min(MAX_RATE)),
                    )
                })
                .collect(),
            Scenario::Spike => vec![
                phase("before".into(), d.mul_f64(0.4), Some(rate)),
                phase("burst".into(), d.mul_f64(0.15), Some((rate * 8.0).min(MAX_RATE))),
                phase("after".into(), d.mul_f64(0.45), Some(rate)),
            ],
        };
        let plan = Plan { scenario: self.scenario, phases, seed: self.seed };
        if plan.max_requests() > MAX_REQUESTS {
            return bad(
                "rate",
                format!("the plan sends {} requests, over {MAX_REQUESTS}", plan.max_requests()),
            );
        }
        Ok(plan)
    }

    /// Runs the scenario and returns the client's figures. Against a service of this
    /// process, it also keeps `perfcore::global()`'s snapshots from just before and after
    /// (for [`Service::compare`](super::Service::compare)); against an external one with
    /// [`perfcore`](Self::perfcore), that endpoint's `/snapshot.json`.
    ///
    /// # Errors
    /// As [`plan`](Self::plan); [`ServiceError::InvalidUrl`] for a bad target;
    /// [`ServiceError::Io`] when the target is not reachable at the start; errors reading
    /// the perfcore endpoint's snapshot. Failed requests during the run are counted, not
    /// returned.
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// # use perfcore_examples::service::*;
    /// let service = ServiceOptions::new().workers(2).start()?;
    /// let report = LoadOptions::new(Scenario::Load, &service.url())
    ///     .duration(Duration::from_millis(500)).rate(100.0).run()?;
    /// assert_eq!(report.overall.requests, 50);
    /// # service.stop();
    /// # Ok::<(), ServiceError>(())
    /// ```
    pub fn run(&self) -> Result<ClientReport, ServiceError> {
        let plan = self.plan()?;
        let (addr, _) = parse_url(&self.target)?;
        let live = server::live(addr);
        let metrics_url = self
            .metrics_url
            .clone()
            .or_else(|| self.perfcore_url.as_ref().map(|u| format!("{u}/metrics")));
        let soak = plan.scenario == Scenario::Soak;
        if soak && metrics_url.is_none() && live.is_none() {
            return Err(ServiceError::InvalidOption {
                name: "metrics_url",
                reason: "the soak scrapes an endpoint: give metrics_url or perfcore".into(),
            });
        }
        // Reachable at all? (Not a request to a handler: an unknown path answers 404.)
        Client::new(&self.target)?.get("/__perfcore_probe").map(|_| ())?;

        let scope_cost_ns = if soak { scope_cost_ns() } else { 0.0 };
        let before = self.perfcore_snapshot(live.is_some())?;
        let cpu0 = (super::process_cpu_ns(), live.as_ref().map(|l| l.worker_cpu_ns()));
        let rss0 = super::rss_bytes();
        let scraper = if soak {
            let url = match (&metrics_url, &live) {
                (Some(u), _) => u.clone(),
                (None, Some(l)) => l.metrics_url.clone(),
                (None, None) => String::new(),
            };
            Some(Scraper::start(url, live.clone()))
        } else {
            None
        };

        let start = Instant::now();
        let mut samples = Vec::new();
        let mut phase_bounds = Vec::new();
        // Each run of a process continues the request sequence where the last one stopped,
        // so a second run does not find every item it asks for already cached.
        let mut seq = NEXT_SEQ.fetch_add(plan.max_requests(), Ordering::Relaxed);
        let mut stress_steps = Vec::new();
        for phase in &plan.phases {
            let offset = start.elapsed();
            let got = run_phase(&self.target, phase, plan.seed, seq, start, offset)?;
            seq += got.len() as u64;
            phase_bounds.push((offset, offset + phase.duration));
            if plan.scenario == Scenario::Stress {
                let step = step_report(phase, &got, offset);
                let broke = step.broke;
                stress_steps.push(step);
                samples.extend(got);
                if broke {
                    break;
                }
            } else {
                samples.extend(got);
            }
        }
        let elapsed = start.elapsed();
        let cpu1 = (super::process_cpu_ns(), live.as_ref().map(|l| l.worker_cpu_ns()));
        let scrape = scraper.map(Scraper::stop);
        let after = self.perfcore_snapshot(live.is_some())?;
        let rss1 = super::rss_bytes();

        let routes: Vec<RouteReport> = ROUTES
            .iter()
            .enumerate()
            .map(|(i, (route, handler))| {
                route_report(
                    route,
                    handler,
                    samples.iter().filter(|s| s.route as usize == i),
                    elapsed,
                )
            })
            .filter(|r| r.requests > 0)
            .collect();
        let overall = route_report("all", "", samples.iter(), elapsed);
        let verdict = verdict(&plan, &samples, &phase_bounds, stress_steps, &overall, elapsed);
        let perfcore = match (before, after) {
            (Some(before), Some(after)) => Some(PerfcoreWindow { before, after }),
            _ => None,
        };
        let soak = scrape.map(|scrape| {
            let process_cpu_ns = cpu1.0.saturating_sub(cpu0.0);
            let worker_cpu_ns = cpu1.1.zip(cpu0.1).map(|(b, a)| b.saturating_sub(a));
            let scopes = perfcore.as_ref().filter(|_| live.is_some()).and_then(|w| {
                w.after
                    .since(&w.before)
                    .ok()
                    .map(|d| d.functions.iter().map(|f| f.count).sum::<u64>())
            });
            let profiler_ns = scopes.map(|s| s as f64 * scope_cost_ns);
            let share = |den: u64| profiler_ns.filter(|_| den > 0).map(|p| p / den as f64);
            let build_total: u64 = scrape.builds.iter().sum();
            let warm_at = elapsed.as_secs_f64() / 10.0;
            SoakFigures {
                rss_warm_bytes: scrape.rss.iter().find(|(t, _)| *t >= warm_at).map(|&(_, b)| b),
                rss_series: scrape.rss.iter().step_by(10).copied().collect(),
                // An external service's: the first and last its endpoint exported.
                rss_start_bytes: if live.is_some() {
                    rss0
                } else {
                    scrape.rss.first().map(|r| r.1)
                },
                rss_end_bytes: if live.is_some() { rss1 } else { scrape.rss.last().map(|r| r.1) },
                scrapes: scrape.latencies.len() as u64 + scrape.errors,
                scrape_errors: scrape.errors,
                scrape_latency: Quantiles::of(&mut scrape.latencies.clone()),
                scrape_build: (!scrape.builds.is_empty())
                    .then(|| Quantiles::of(&mut scrape.builds.clone())),
                scrape_bytes: scrape.last_bytes,
                process_cpu_ns,
                worker_cpu_ns,
                scopes,
                scope_cost_ns,
                profiler_share_of_workers: worker_cpu_ns.and_then(share),
                profiler_share_of_process: share(process_cpu_ns),
                endpoint_share_of_process: (process_cpu_ns > 0 && !scrape.builds.is_empty())
                    .then(|| build_total as f64 / process_cpu_ns as f64),
                requests_per_sec: overall.throughput_per_sec,
                driver_sample_bytes: (samples.capacity() * std::mem::size_of::<Sample>()) as u64,
            }
        });
        Ok(ClientReport {
            scenario: plan.scenario,
            target: self.target.clone(),
            plan,
            elapsed_secs: elapsed.as_secs_f64(),
            overall,
            routes,
            verdict,
            soak,
            target_addr: live.map(|l| l.addr),
            perfcore,
        })
    }

    fn perfcore_snapshot(&self, in_process: bool) -> Result<Option<Snapshot>, ServiceError> {
        let Some(url) = &self.perfcore_url else {
            return Ok(in_process.then(|| perfcore::global().snapshot()));
        };
        let full = format!("{url}/snapshot.json");
        let answer = Client::new(url)?.get("/snapshot.json")?;
        if answer.status != 200 {
            return Err(ServiceError::Status { url: full, status: answer.status });
        }
        let text = String::from_utf8_lossy(&answer.body);
        Snapshot::from_json(&text)
            .map(Some)
            .map_err(|e| ServiceError::Snapshot { reason: format!("{full}: {e}") })
    }
}

static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

/// One request's outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    /// Index into `ROUTES`.
    pub(crate) route: u8,
    /// When it was meant to be sent, since the run's start.
    pub(crate) at_ns: u64,
    /// Its latency.
    pub(crate) latency_ns: u64,
    /// The status; 0 for an I/O error.
    pub(crate) status: u16,
}

impl Sample {
    fn answered(&self) -> bool {
        self.status != 0 && self.status != 503
    }
    fn unexpected(&self) -> bool {
        !self.answered()
    }
}

const QUERIES: [&str; 6] =
    ["red+kettle", "steel+drill", "smart+camera", "quiet+lamp", "desk", "green+bottle+model"];

/// Request `i` of the mix: its route index and path.
pub(crate) fn request(seed: u64, i: u64) -> (u8, String) {
    let h = mix(seed.wrapping_mul(0x1000_0000_01B3) ^ i);
    let pick = h % 100;
    let h2 = mix(h);
    if pick < 50 {
        // Four in five ids are among 200 hot ones: the cache answers most lookups.
        let id = if h2 % 5 < 4 { h2 % 200 } else { 1000 + h2 % 50_000 };
        (0, format!("/items/{id}"))
    } else if pick < 75 {
        (1, format!("/search?q={}", QUERIES[(h2 % QUERIES.len() as u64) as usize]))
    } else if pick < 90 {
        (
            2,
            format!(
                "/checkout?order={}",
                seed.wrapping_mul(1_000_000_007).wrapping_add(i) % 1_000_000_000_000
            ),
        )
    } else {
        (3, "/healthz".to_owned())
    }
}

/// Runs one phase; `seq` numbers its first request; `offset` is its start since the run's.
fn run_phase(
    target: &str,
    phase: &Phase,
    seed: u64,
    seq: u64,
    run_start: Instant,
    offset: Duration,
) -> Result<Vec<Sample>, ServiceError> {
    let n = phase.max_requests();
    let next = AtomicU64::new(0);
    let phase_start = run_start + offset;
    let deadline = phase_start + phase.duration;
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for _ in 0..phase.connections {
            let mut client = Client::new(target)?;
            let next = &next;
            handles.push(scope.spawn(move || {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let intended = match phase.rate {
                        Some(rate) => {
                            let t = phase_start + Duration::from_secs_f64(i as f64 / rate);
                            let now = Instant::now();
                            if t > now {
                                std::thread::sleep(t - now);
                            }
                            t
                        }
                        None => {
                            let now = Instant::now();
                            if now >= deadline {
                                break;
                            }
                            now
                        }
                    };
                    let (route, path) = request(seed, seq + i);
                    let status = client.get(&path).map_or(0, |r| r.status);
                    let done = Instant::now();
                    out.push(Sample {
                        route,
                        at_ns: intended.saturating_duration_since(run_start).as_nanos() as u64,
                        latency_ns: done.saturating_duration_since(intended).as_nanos() as u64,
                        status,
                    });
                }
                out
            }));
        }
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().unwrap_or_default());
        }
        Ok(all)
    })
}

fn route_report<'a>(
    route: &str,
    handler: &str,
    samples: impl Iterator<Item = &'a Sample>,
    elapsed: Duration,
) -> RouteReport {
    let mut r =
        RouteReport { route: route.into(), handler: handler.into(), ..RouteReport::default() };
    let mut lat = Vec::new();
    for s in samples {
        r.requests += 1;
        match s.status {
            0 => r.io_errors += 1,
            503 => r.rejected += 1,
            _ => lat.push(s.latency_ns),
        }
        if !(200..300).contains(&s.status) {
            r.errors += 1;
        }
    }
    r.latency = Quantiles::of(&mut lat);
    r.throughput_per_sec = r.answered() as f64 / elapsed.as_secs_f64().max(1e-9);
    r
}

/// A stress step's figures; its achieved rate is over the time from the step's start to its
/// last answer (longer than the step when the service fell behind).
fn step_report(phase: &Phase, samples: &[Sample], offset: Duration) -> StepReport {
    let last_answer = samples.iter().map(|s| s.at_ns + s.latency_ns).max().unwrap_or(0);
    let span = (last_answer.saturating_sub(offset.as_nanos() as u64) as f64 / 1e9)
        .max(phase.duration.as_secs_f64())
        .max(1e-9);
    let mut lat: Vec<u64> = samples.iter().map(|s| s.latency_ns).collect();
    lat.sort_unstable();
    let unexpected = samples.iter().filter(|s| s.unexpected()).count() as u64;
    let p99 = quantile(&lat, 0.99);
    let requests = samples.len() as u64;
    let answered = requests - unexpected;
    StepReport {
        rate: phase.rate.unwrap_or(0.0),
        requests,
        achieved_rate: answered as f64 / span,
        p99_ns: p99,
        unexpected_errors: unexpected,
        broke: p99 > SLO_P99.as_nanos() as u64
            || unexpected as f64 > SLO_ERRORS * requests.max(1) as f64,
    }
}

fn p95_of<'a>(samples: impl Iterator<Item = &'a Sample>) -> u64 {
    let mut v: Vec<u64> = samples.map(|s| s.latency_ns).collect();
    v.sort_unstable();
    quantile(&v, 0.95)
}

fn within(s: &Sample, from: Duration, to: Duration) -> bool {
    s.at_ns >= from.as_nanos() as u64 && s.at_ns < to.as_nanos() as u64
}

fn verdict(
    plan: &Plan,
    samples: &[Sample],
    bounds: &[(Duration, Duration)],
    steps: Vec<StepReport>,
    overall: &RouteReport,
    elapsed: Duration,
) -> ScenarioVerdict {
    match plan.scenario {
        Scenario::Baseline => ScenarioVerdict::Baseline {
            requests_per_sec: overall.requests as f64 / elapsed.as_secs_f64().max(1e-9),
        },
        Scenario::Load => ScenarioVerdict::Load {
            target_rate: plan.phases[0].rate.unwrap_or(0.0),
            achieved_rate: overall.throughput_per_sec,
            unexpected_error_ratio: (overall.rejected + overall.io_errors) as f64
                / overall.requests.max(1) as f64,
        },
        Scenario::Stress => {
            let breaking_rate = steps.iter().find(|s| s.broke).map(|s| s.rate);
            let max_sustained_rate =
                steps.iter().filter(|s| !s.broke).map(|s| s.rate).reduce(f64::max);
            ScenarioVerdict::Stress {
                steps,
                breaking_rate,
                max_sustained_rate,
                slo_p99_ns: SLO_P99.as_nanos() as u64,
                slo_error_ratio: SLO_ERRORS,
            }
        }
        Scenario::Spike => {
            let (b0, b1, b2) = (bounds[0], bounds[1], bounds[2]);
            let before = p95_of(samples.iter().filter(|s| within(s, b0.0, b0.1)));
            let burst = p95_of(samples.iter().filter(|s| within(s, b1.0, b1.1)));
            let after = p95_of(samples.iter().filter(|s| within(s, b2.0, b2.1)));
            let threshold = (2 * before).max(before + 1_000_000);
            let window = Duration::from_millis(100);
            let mut windows = Vec::new();
            let mut t = b2.0;
            while t < b2.1 {
                let end = (t + window).min(b2.1);
                let in_w: Vec<&Sample> = samples.iter().filter(|s| within(s, t, end)).collect();
                windows.push((t, in_w.is_empty() || p95_of(in_w.into_iter()) <= threshold));
                t = end;
            }
            let recovery_ms = (0..windows.len())
                .find(|&i| windows[i..(i + 3).min(windows.len())].iter().all(|w| w.1))
                .map(|i| (windows[i].0 - b2.0).as_secs_f64() * 1e3);
            ScenarioVerdict::Spike {
                base_rate: plan.phases[0].rate.unwrap_or(0.0),
                burst_rate: plan.phases[1].rate.unwrap_or(0.0),
                before_p95_ns: before,
                burst_p95_ns: burst,
                after_p95_ns: after,
                threshold_ns: threshold,
                recovery_ms,
            }
        }
        Scenario::Endurance | Scenario::Soak => {
            let (s, e) = bounds[0];
            let third = (e - s) / 3;
            let first = p95_of(samples.iter().filter(|x| within(x, s, s + third)));
            let last = p95_of(samples.iter().filter(|x| within(x, e - third, e)));
            ScenarioVerdict::Endurance {
                first_p95_ns: first,
                last_p95_ns: last,
                drift_ratio: if first == 0 { 0.0 } else { last as f64 / first as f64 },
            }
        }
    }
}

/// A thread scraping an endpoint every second.
struct Scraper {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<ScrapeFigures>,
}

#[derive(Default)]
struct ScrapeFigures {
    latencies: Vec<u64>,
    /// The endpoint's own build time of each scrape (in-process services only).
    builds: Vec<u64>,
    /// (seconds since the start, RSS bytes) at every scrape.
    rss: Vec<(f64, u64)>,
    errors: u64,
    last_bytes: u64,
}

impl Scraper {
    fn start(url: String, live: Option<Arc<server::Shared>>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let mut figures = ScrapeFigures::default();
            let Ok(mut client) = Client::new(&url) else {
                figures.errors += 1;
                return figures;
            };
            let started = Instant::now();
            let mut next = started;
            while !flag.load(Ordering::Acquire) {
                // The service's memory: this process's when it runs here, else what its
                // endpoint exports (`process_resident_memory_bytes`, from the sampler).
                let at = started.elapsed().as_secs_f64();
                if live.is_some()
                    && let Some(rss) = super::rss_bytes()
                {
                    figures.rss.push((at, rss));
                }
                let t = Instant::now();
                match client.get("") {
                    Ok(r) if r.status == 200 => {
                        figures.latencies.push(t.elapsed().as_nanos() as u64);
                        figures.last_bytes = r.body.len() as u64;
                        if live.is_none()
                            && let Some(rss) = exported_rss(&r.body)
                        {
                            figures.rss.push((at, rss));
                        }
                        if let Some(b) = live.as_ref().and_then(|l| l.last_scrape_build()) {
                            figures.builds.push(b.as_nanos() as u64);
                        }
                    }
                    _ => figures.errors += 1,
                }
                next += Duration::from_secs(1);
                while !flag.load(Ordering::Acquire) && Instant::now() < next {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            figures
        });
        Self { stop, handle }
    }

    fn stop(self) -> ScrapeFigures {
        self.stop.store(true, Ordering::Release);
        self.handle.join().unwrap_or_default()
    }
}

/// The `…process_resident_memory_bytes` gauge of an exposition (the first sample of it).
fn exported_rss(text: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(text).ok()?;
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(' ')?;
        let name = name.split('{').next()?;
        if line.starts_with('#') || !name.ends_with("process_resident_memory_bytes") {
            return None;
        }
        let v: f64 = value.split_whitespace().next()?.parse().ok()?;
        (v.is_finite() && v >= 0.0).then_some(v as u64)
    })
}

#[perfcore::profile(name = "service::scope_cost_probe")]
fn probe(x: u64) -> u64 {
    std::hint::black_box(x).wrapping_add(1)
}

fn plain(x: u64) -> u64 {
    std::hint::black_box(x).wrapping_add(1)
}

/// One `#[profile]` scope's cost on this machine, ns: a profiled empty function against the
/// same function unprofiled, best of 5 rounds of 200,000 calls each.
pub(crate) fn scope_cost_ns() -> f64 {
    const N: u64 = 200_000;
    let round = |f: fn(u64) -> u64| {
        let t = Instant::now();
        let mut acc = 0u64;
        for i in 0..N {
            acc = acc.wrapping_add(std::hint::black_box(f)(i));
        }
        std::hint::black_box(acc);
        t.elapsed().as_nanos() as f64 / N as f64
    };
    let best = |f| (0..5).map(|_| round(f)).fold(f64::INFINITY, f64::min);
    (best(probe) - best(plain)).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exported_rss_is_read_from_the_text() {
        let text = b"# HELP perfcore_process_resident_memory_bytes RSS.\n\
            # TYPE perfcore_process_resident_memory_bytes gauge\n\
            perfcore_process_resident_memory_bytes 6455296\n";
        assert_eq!(exported_rss(text), Some(6_455_296));
        assert_eq!(
            exported_rss(b"perfcore_process_resident_memory_bytes{x=\"1\"} 5.0e3\n"),
            Some(5_000)
        );
        assert_eq!(exported_rss(b"other_bytes 3\n"), None);
        assert_eq!(exported_rss(b"perfcore_process_resident_memory_bytes NaN\n"), None);
        assert_eq!(exported_rss(&[0xff, 0xfe]), None);
    }
    use proptest::prelude::*;

    #[test]
    fn scenarios_round_trip() {
        for s in Scenario::ALL {
            assert_eq!(s.to_string().parse::<Scenario>().unwrap(), s);
        }
    }

    #[test]
    fn default_plans_are_short_and_bounded() {
        for s in Scenario::ALL {
            let plan = LoadOptions::new(s, "http://127.0.0.1:1").plan().unwrap();
            assert!(plan.duration() <= Duration::from_secs(60), "{s}");
            assert!(plan.max_requests() <= 200_000, "{s}: {}", plan.max_requests());
        }
    }

    #[test]
    fn refuses_unbounded_plans() {
        let o = |s| LoadOptions::new(s, "http://x");
        assert!(o(Scenario::Soak).duration(Duration::from_secs(16 * 60)).plan().is_err());
        assert!(o(Scenario::Load).rate(f64::NAN).plan().is_err());
        assert!(o(Scenario::Load).rate(1e9).plan().is_err());
        assert!(o(Scenario::Load).connections(0).plan().is_err());
        assert!(
            o(Scenario::Soak).duration(Duration::from_secs(900)).rate(10_000.0).plan().is_err()
        );
        assert!(o(Scenario::Soak).duration(Duration::from_secs(600)).plan().is_ok());
    }

    #[test]
    fn the_mix_is_deterministic_and_covers_every_route() {
        let routes: std::collections::HashSet<u8> = (0..200).map(|i| request(14, i).0).collect();
        assert_eq!(routes.len(), 4);
        assert_eq!(request(3, 77), request(3, 77));
    }

    proptest! {
        #[test]
        fn any_options_give_a_bounded_plan_or_an_error(
            ms in 0u64..2_000_000, rate in 0.0f64..100_000.0, c in 0usize..400, k in 0usize..6,
        ) {
            let o = LoadOptions::new(Scenario::ALL[k], "http://x")
                .duration(Duration::from_millis(ms)).rate(rate).connections(c);
            if let Ok(plan) = o.plan() {
                prop_assert!(plan.duration() <= MAX_DURATION + Duration::from_millis(1));
                prop_assert!(plan.max_requests() <= MAX_REQUESTS);
                prop_assert!(plan.phases.iter().all(|p| (1..=MAX_CONNECTIONS).contains(&p.connections)));
            }
        }
    }
}
