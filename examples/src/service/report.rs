//! What the load driver measured: per-route figures, exact quantiles, the scenario's verdict.

use std::net::SocketAddr;

use perfcore::Snapshot;
use serde::{Deserialize, Serialize};

use super::load::{Plan, Scenario};

/// Exact latency quantiles of a set of samples, by nearest rank (the `ceil(q × n)`-th
/// smallest, as perfcore's histograms rank), in nanoseconds; all 0 for no samples.
///
/// # Examples
/// ```
/// use perfcore_examples::service::Quantiles;
/// let q = Quantiles::of(&mut [5, 1, 4, 2, 3]);
/// assert_eq!((q.p50_ns, q.p95_ns, q.p99_ns, q.max_ns), (3, 5, 5, 5));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quantiles {
    /// The median.
    pub p50_ns: u64,
    /// The 95th percentile.
    pub p95_ns: u64,
    /// The 99th percentile.
    pub p99_ns: u64,
    /// The largest.
    pub max_ns: u64,
}

impl Quantiles {
    /// Sorts `samples` and reads the quantiles off them.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore_examples::service::Quantiles::of(&mut []).max_ns, 0);
    /// ```
    #[must_use]
    pub fn of(samples: &mut [u64]) -> Self {
        samples.sort_unstable();
        Self::of_sorted(samples)
    }

    /// The quantiles of samples already sorted ascending.
    ///
    /// # Examples
    /// ```
    /// let q = perfcore_examples::service::Quantiles::of_sorted(&[10, 20]);
    /// assert_eq!((q.p50_ns, q.p99_ns), (10, 20));
    /// ```
    #[must_use]
    pub fn of_sorted(sorted: &[u64]) -> Self {
        Self {
            p50_ns: quantile(sorted, 0.50),
            p95_ns: quantile(sorted, 0.95),
            p99_ns: quantile(sorted, 0.99),
            max_ns: sorted.last().copied().unwrap_or(0),
        }
    }
}

/// The `ceil(q × n)`-th smallest of `sorted` (0 when empty).
#[must_use]
pub(crate) fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The client's figures for one route (or all of them).
///
/// # Examples
/// ```
/// let r = perfcore_examples::service::RouteReport::default();
/// assert_eq!(r.answered(), 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteReport {
    /// The route (`items`, `search`, `checkout`, `healthz`, or `all`).
    pub route: String,
    /// Its handler's name in perfcore (empty for `all`).
    pub handler: String,
    /// Requests sent.
    pub requests: u64,
    /// Requests that failed: a non-2xx status or an I/O error.
    pub errors: u64,
    /// Of the errors, 503s: turned away at the accept queue, before any handler.
    pub rejected: u64,
    /// Of the errors, I/O errors (no answer).
    pub io_errors: u64,
    /// Latency of the answered requests (not rejected, not I/O errors), from the intended
    /// send time in open-loop phases and from the send in closed-loop ones.
    pub latency: Quantiles,
    /// Answered requests per second of the run.
    pub throughput_per_sec: f64,
}

impl RouteReport {
    /// Requests a handler answered (sent − rejected − I/O errors): what perfcore counts.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore_examples::service::RouteReport { requests: 10, errors: 3, rejected: 1, io_errors: 1, ..Default::default() };
    /// assert_eq!((r.answered(), r.handler_errors()), (8, 1));
    /// ```
    #[must_use]
    pub fn answered(&self) -> u64 {
        self.requests.saturating_sub(self.rejected + self.io_errors)
    }

    /// Answered requests that failed (a handler's error status): what perfcore counts as
    /// failed calls.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore_examples::service::RouteReport::default().handler_errors(), 0);
    /// ```
    #[must_use]
    pub fn handler_errors(&self) -> u64 {
        self.errors.saturating_sub(self.rejected + self.io_errors)
    }
}

/// One step of the stress scenario.
///
/// # Examples
/// ```
/// let s = perfcore_examples::service::StepReport::default();
/// assert!(!s.broke);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// The target rate, requests per second.
    pub rate: f64,
    /// Requests sent in the step.
    pub requests: u64,
    /// Answered requests per second, from the step's start to its last answer.
    pub achieved_rate: f64,
    /// The step's p99 latency (from intended send times).
    pub p99_ns: u64,
    /// Rejected (503) and I/O errors: failures beyond the service's intended ones.
    pub unexpected_errors: u64,
    /// Whether the step broke the SLO.
    pub broke: bool,
}

/// What a scenario concluded, besides the per-route figures.
///
/// # Examples
/// ```
/// use perfcore_examples::service::ScenarioVerdict;
/// assert!(ScenarioVerdict::Baseline { requests_per_sec: 900.0 }.passed());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScenarioVerdict {
    /// One connection, closed loop: the service's unloaded speed.
    Baseline {
        /// Requests per second one connection achieved.
        requests_per_sec: f64,
    },
    /// Open loop at a target rate. Passes when at most 1% of requests failed unexpectedly
    /// (rejected or I/O errors).
    Load {
        /// The target rate.
        target_rate: f64,
        /// Answered requests per second.
        achieved_rate: f64,
        /// Rejected and I/O errors over requests.
        unexpected_error_ratio: f64,
    },
    /// Rate steps up until the SLO breaks. Always passes: the breaking point is a finding.
    Stress {
        /// The steps run.
        steps: Vec<StepReport>,
        /// The first step's rate that broke the SLO (`None`: the top step held).
        breaking_rate: Option<f64>,
        /// The highest step's rate that held.
        max_sustained_rate: Option<f64>,
        /// The SLO's p99 bound, nanoseconds.
        slo_p99_ns: u64,
        /// The SLO's bound on unexpected errors (rejected, I/O) over requests.
        slo_error_ratio: f64,
    },
    /// A steady rate, a burst, the steady rate again. Passes when the p95 of 100 ms windows
    /// came back under the threshold (2 × the p95 before the burst, at least +1 ms) and
    /// stayed there for three windows (or to the end).
    Spike {
        /// The steady rate.
        base_rate: f64,
        /// The burst's rate.
        burst_rate: f64,
        /// p95 before the burst.
        before_p95_ns: u64,
        /// p95 during the burst.
        burst_p95_ns: u64,
        /// p95 after the burst.
        after_p95_ns: u64,
        /// The recovery threshold.
        threshold_ns: u64,
        /// Milliseconds from the burst's end to the first window back under the threshold
        /// (`None`: it never came back).
        recovery_ms: Option<f64>,
    },
    /// A steady rate for the duration: the first and last thirds' p95. Passes when the last
    /// third's p95 is at most 2 × the first's, or within 2 ms of it.
    Endurance {
        /// p95 of the first third.
        first_p95_ns: u64,
        /// p95 of the last third.
        last_p95_ns: u64,
        /// last / first.
        drift_ratio: f64,
    },
}

impl ScenarioVerdict {
    /// Whether the scenario's own check passed (see each variant).
    ///
    /// # Examples
    /// ```
    /// use perfcore_examples::service::ScenarioVerdict;
    /// let v = ScenarioVerdict::Endurance { first_p95_ns: 1_000_000, last_p95_ns: 9_000_000, drift_ratio: 9.0 };
    /// assert!(!v.passed());
    /// ```
    #[must_use]
    pub fn passed(&self) -> bool {
        match self {
            Self::Baseline { .. } | Self::Stress { .. } => true,
            Self::Load { unexpected_error_ratio, .. } => *unexpected_error_ratio <= 0.01,
            Self::Spike { recovery_ms, .. } => recovery_ms.is_some(),
            Self::Endurance { first_p95_ns, last_p95_ns, .. } => {
                *last_p95_ns <= (2 * first_p95_ns).max(first_p95_ns + 2_000_000)
            }
        }
    }
}

impl std::fmt::Display for ScenarioVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |ns: u64| ns as f64 / 1e6;
        match self {
            Self::Baseline { requests_per_sec } => {
                write!(f, "baseline: {requests_per_sec:.0} requests/s on one connection")
            }
            Self::Load { target_rate, achieved_rate, unexpected_error_ratio } => write!(
                f,
                "load: {achieved_rate:.0}/s of {target_rate:.0}/s target, {:.2}% unexpected errors (≤ 1%)",
                unexpected_error_ratio * 100.0
            ),
            Self::Stress {
                steps,
                breaking_rate,
                max_sustained_rate,
                slo_p99_ns,
                slo_error_ratio,
            } => {
                write!(
                    f,
                    "stress (SLO p99 ≤ {:.0} ms, unexpected errors ≤ {:.0}%):",
                    ms(*slo_p99_ns),
                    slo_error_ratio * 100.0
                )?;
                for s in steps {
                    write!(
                        f,
                        " {:.0}/s→{:.0}/s p99 {:.2} ms{};",
                        s.rate,
                        s.achieved_rate,
                        ms(s.p99_ns),
                        if s.broke { " BROKE" } else { "" }
                    )?;
                }
                match (breaking_rate, max_sustained_rate) {
                    (Some(b), Some(m)) => write!(f, " breaking point {b:.0}/s (held {m:.0}/s)"),
                    (Some(b), None) => write!(f, " breaking point {b:.0}/s (no step held)"),
                    (None, _) => write!(f, " no breaking point up to the top step"),
                }
            }
            Self::Spike {
                base_rate,
                burst_rate,
                before_p95_ns,
                burst_p95_ns,
                after_p95_ns,
                threshold_ns,
                recovery_ms,
            } => {
                write!(
                    f,
                    "spike {base_rate:.0}/s → {burst_rate:.0}/s → {base_rate:.0}/s: p95 {:.2} / {:.2} / {:.2} ms; ",
                    ms(*before_p95_ns),
                    ms(*burst_p95_ns),
                    ms(*after_p95_ns)
                )?;
                match recovery_ms {
                    Some(r) => write!(
                        f,
                        "recovered (p95 ≤ {:.2} ms) {r:.0} ms after the burst",
                        ms(*threshold_ns)
                    ),
                    None => write!(f, "did NOT recover under {:.2} ms", ms(*threshold_ns)),
                }
            }
            Self::Endurance { first_p95_ns, last_p95_ns, drift_ratio } => write!(
                f,
                "endurance: p95 first third {:.2} ms, last third {:.2} ms (drift ×{drift_ratio:.2})",
                ms(*first_p95_ns),
                ms(*last_p95_ns)
            ),
        }
    }
}

/// The soak's figures: memory, the endpoint's scrape latency, CPU and the profiler's share.
///
/// The profiler's share is an estimate: the scopes perfcore recorded over the run × the cost
/// of one scope, measured in the same process just before the run (a profiled empty function
/// against the same function unprofiled, best of 5 rounds of 200,000 calls), over the CPU
/// the service's worker threads used (`CLOCK_THREAD_CPUTIME_ID`, where the scopes run) and
/// over the whole process's CPU (which includes the load driver and the scraper when they
/// run in the same process). The endpoint's own cost is shown apart: the time it took to
/// build each scrape (`MetricsServer::last_scrape_duration`, wall time on its thread, so an
/// upper bound of the CPU it took) over the process's CPU.
///
/// # Examples
/// ```
/// let s = perfcore_examples::service::SoakFigures::default();
/// assert_eq!(s.scrapes, 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SoakFigures {
    /// The process's resident set at the start, bytes.
    pub rss_start_bytes: Option<u64>,
    /// ... at a tenth of the run (once the service is warm: caches full, every thread's
    /// buffers touched).
    pub rss_warm_bytes: Option<u64>,
    /// ... and at the end.
    pub rss_end_bytes: Option<u64>,
    /// (seconds since the start, RSS bytes), every 10 s.
    pub rss_series: Vec<(f64, u64)>,
    /// Scrapes of the endpoint (one a second).
    pub scrapes: u64,
    /// Scrapes that failed.
    pub scrape_errors: u64,
    /// Scrape latency, as the scraper measured it (connect, request, the whole answer).
    pub scrape_latency: Quantiles,
    /// The endpoint's time building each scrape (in-process services only).
    pub scrape_build: Option<Quantiles>,
    /// Bytes of the last scrape.
    pub scrape_bytes: u64,
    /// The process's CPU time over the run, ns.
    pub process_cpu_ns: u64,
    /// The service's worker threads' CPU time over the run, ns (in-process services only).
    pub worker_cpu_ns: Option<u64>,
    /// Scopes perfcore recorded over the run (in-process services only).
    pub scopes: Option<u64>,
    /// One scope's measured cost, ns.
    pub scope_cost_ns: f64,
    /// scopes × cost / worker CPU.
    pub profiler_share_of_workers: Option<f64>,
    /// scopes × cost / process CPU.
    pub profiler_share_of_process: Option<f64>,
    /// The scrapes' total build time / process CPU (an upper bound of the endpoint's share).
    pub endpoint_share_of_process: Option<f64>,
    /// Answered requests per second.
    pub requests_per_sec: f64,
    /// Bytes the driver's own samples take (in the same RSS when it runs in-process: 24 per
    /// request).
    pub driver_sample_bytes: u64,
}

/// perfcore's figures bracketing a run.
#[derive(Debug, Clone)]
pub(crate) struct PerfcoreWindow {
    pub(crate) before: Snapshot,
    pub(crate) after: Snapshot,
}

/// The client's figures of one scenario run.
///
/// # Examples
/// ```no_run
/// # use perfcore_examples::service::*;
/// # let service = ServiceOptions::new().start()?;
/// let report = LoadOptions::new(Scenario::Baseline, &service.url()).run()?;
/// println!("{} requests, p99 {} ns", report.overall.requests, report.overall.latency.p99_ns);
/// # Ok::<(), ServiceError>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientReport {
    /// The scenario run.
    pub scenario: Scenario,
    /// The target URL.
    pub target: String,
    /// The plan followed.
    pub plan: Plan,
    /// Seconds from the first intended send to the last answer.
    pub elapsed_secs: f64,
    /// All routes together.
    pub overall: RouteReport,
    /// Each route.
    pub routes: Vec<RouteReport>,
    /// The scenario's own finding.
    pub verdict: ScenarioVerdict,
    /// The soak's figures (soak only).
    pub soak: Option<SoakFigures>,
    /// The target's address when it is a service of this process.
    #[serde(skip)]
    pub(crate) target_addr: Option<SocketAddr>,
    /// perfcore's snapshots before and after (in-process, or from a `/snapshot.json`).
    #[serde(skip)]
    pub(crate) perfcore: Option<PerfcoreWindow>,
}

impl ClientReport {
    /// The report of `route`, if it was sent any request.
    ///
    /// # Examples
    /// ```no_run
    /// # use perfcore_examples::service::*;
    /// # let service = ServiceOptions::new().start()?;
    /// let report = LoadOptions::new(Scenario::Load, &service.url()).run()?;
    /// assert!(report.route("checkout").is_some_and(|r| r.errors > 0));
    /// # Ok::<(), ServiceError>(())
    /// ```
    #[must_use]
    pub fn route(&self, route: &str) -> Option<&RouteReport> {
        self.routes.iter().find(|r| r.route == route)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        let q = Quantiles::of_sorted(&v);
        assert_eq!((q.p50_ns, q.p95_ns, q.p99_ns, q.max_ns), (50, 95, 99, 100));
        assert_eq!(quantile(&[7], 0.0), 7);
    }

    #[test]
    fn verdicts() {
        assert!(
            ScenarioVerdict::Load {
                target_rate: 1.0,
                achieved_rate: 1.0,
                unexpected_error_ratio: 0.0
            }
            .passed()
        );
        assert!(
            !ScenarioVerdict::Load {
                target_rate: 1.0,
                achieved_rate: 1.0,
                unexpected_error_ratio: 0.5
            }
            .passed()
        );
        let e =
            |a, b| ScenarioVerdict::Endurance { first_p95_ns: a, last_p95_ns: b, drift_ratio: 0.0 };
        assert!(e(100_000, 1_500_000).passed()); // within 2 ms
        assert!(e(10_000_000, 19_000_000).passed()); // within 2x
        assert!(!e(10_000_000, 21_000_000).passed());
    }

    proptest! {
        #[test]
        fn quantiles_are_monotone_and_are_samples(mut v in proptest::collection::vec(0u64..1_000_000, 1..300)) {
            let q = Quantiles::of(&mut v);
            prop_assert!(q.p50_ns <= q.p95_ns && q.p95_ns <= q.p99_ns && q.p99_ns <= q.max_ns);
            prop_assert!(v.contains(&q.p50_ns) && v.contains(&q.p99_ns));
            // At least 95% of the samples are at or below p95.
            let below = v.iter().filter(|&&x| x <= q.p95_ns).count();
            prop_assert!(below as f64 >= 0.95 * v.len() as f64);
        }
    }
}
