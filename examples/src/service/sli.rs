//! The client's figures beside perfcore's: the SLI table and its checks.

use std::fmt;

use perfcore::{FunctionStats, HISTOGRAM_SUB_BUCKETS, Snapshot};
use serde::{Deserialize, Serialize};

use super::ServiceError;
use super::report::{ClientReport, ScenarioVerdict, SoakFigures};

/// One handler's figures, the client's beside perfcore's.
///
/// # Examples
/// ```
/// let row = perfcore_examples::service::SliRow::default();
/// assert_eq!(row.client_count, row.perfcore_count);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SliRow {
    /// The route.
    pub route: String,
    /// The handler's name in perfcore.
    pub handler: String,
    /// Requests a handler answered, as the client counted them.
    pub client_count: u64,
    /// Calls of the handler perfcore recorded over the run.
    pub perfcore_count: u64,
    /// Answered requests with an error status, as the client counted them.
    pub client_errors: u64,
    /// Failed calls perfcore recorded.
    pub perfcore_errors: u64,
    /// The client's p95, ns (end to end: queueing, network, the handler).
    pub client_p95_ns: u64,
    /// perfcore's p95 of the handler, ns.
    pub perfcore_p95_ns: u64,
    /// The client's p99, ns.
    pub client_p99_ns: u64,
    /// perfcore's p99, ns.
    pub perfcore_p99_ns: u64,
    /// The client's answered requests per second.
    pub client_per_sec: f64,
    /// perfcore's calls per second over its snapshots' window.
    pub perfcore_per_sec: f64,
}

/// One check of an [`SliReport`].
///
/// # Examples
/// ```
/// let c = perfcore_examples::service::Check { name: "x".into(), passed: true, detail: String::new() };
/// assert!(c.passed);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What is checked (`items: count`, ...).
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// The figures compared.
    pub detail: String,
}

/// perfcore's figures over a run beside the client's, with the checks: for each handler the
/// counts and the error counts are EQUAL (no lost calls), perfcore's server-side p95 and p99
/// are at most the client's end-to-end ones plus one histogram bucket (1/64 of the value),
/// and the scenario's own verdict holds.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use perfcore_examples::service::{LoadOptions, Scenario, ServiceOptions};
/// let service = ServiceOptions::new().workers(2).start()?;
/// let report = LoadOptions::new(Scenario::Load, &service.url())
///     .duration(Duration::from_millis(500)).rate(100.0).run()?;
/// let sli = service.compare(&report)?;
/// assert!(sli.passed(), "{sli}");
/// service.stop();
/// # Ok::<(), perfcore_examples::service::ServiceError>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SliReport {
    /// The client's report.
    pub client: ClientReport,
    /// One row per handler.
    pub rows: Vec<SliRow>,
    /// The checks.
    pub checks: Vec<Check>,
}

/// Whether perfcore's function `f` is the handler `handler` (its name's last segment, after
/// `::` in Rust or `.` in Python).
fn is_handler(f: &FunctionStats, handler: &str) -> bool {
    let name = f.name.as_str();
    name == handler
        || name
            .strip_suffix(handler)
            .is_some_and(|rest| rest.ends_with("::") || rest.ends_with('.'))
}

/// A server-side quantile may exceed the client's by one histogram bucket.
fn bucket_slack(client_ns: u64) -> u64 {
    client_ns + client_ns.div_ceil(u64::from(HISTOGRAM_SUB_BUCKETS)) + 1
}

impl SliReport {
    /// Compares a report that carries perfcore's snapshots (from a run against a service of
    /// this process, or with [`LoadOptions::perfcore`](super::LoadOptions::perfcore)).
    ///
    /// # Errors
    /// [`ServiceError::Snapshot`] when the report has no snapshots or they do not subtract.
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// # use perfcore_examples::service::*;
    /// # let service = ServiceOptions::new().workers(2).start()?;
    /// let report = LoadOptions::new(Scenario::Baseline, &service.url())
    ///     .duration(Duration::from_millis(200)).run()?;
    /// assert!(SliReport::from_report(&report)?.passed());
    /// # service.stop();
    /// # Ok::<(), ServiceError>(())
    /// ```
    pub fn from_report(report: &ClientReport) -> Result<Self, ServiceError> {
        let window = report.perfcore.as_ref().ok_or_else(|| ServiceError::Snapshot {
            reason: "the report carries no perfcore snapshots: run it against a service of this \
                     process, or give LoadOptions::perfcore the target's endpoint"
                .into(),
        })?;
        let delta = window
            .after
            .since(&window.before)
            .map_err(|e| ServiceError::Snapshot { reason: e.to_string() })?;
        Ok(Self::from_snapshot(report, &delta))
    }

    /// Compares a report with perfcore's snapshot of what happened over the run (a delta).
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// # use perfcore_examples::service::*;
    /// # let service = ServiceOptions::new().workers(2).start()?;
    /// let report = LoadOptions::new(Scenario::Baseline, &service.url())
    ///     .duration(Duration::from_millis(200)).run()?;
    /// // An empty snapshot: perfcore saw none of the calls.
    /// let sli = SliReport::from_snapshot(&report, &perfcore::Snapshot::default());
    /// assert!(!sli.passed());
    /// # service.stop();
    /// # Ok::<(), ServiceError>(())
    /// ```
    #[must_use]
    pub fn from_snapshot(report: &ClientReport, delta: &Snapshot) -> Self {
        let mut rows = Vec::new();
        let mut checks = Vec::new();
        let secs = delta.window().as_secs_f64();
        let secs = if secs > 0.0 { secs } else { report.elapsed_secs.max(1e-9) };
        for (route, handler) in super::handlers::ROUTES {
            let client = report.route(route).cloned().unwrap_or_default();
            let fs: Vec<&FunctionStats> =
                delta.functions.iter().filter(|f| is_handler(f, handler)).collect();
            if client.requests == 0 && fs.is_empty() {
                continue;
            }
            let (count, errors) = fs.iter().fold((0, 0), |(c, e), f| (c + f.count, e + f.errors));
            let q = |p: f64| {
                fs.first().and_then(|f| f.quantile(p).ok()).map_or(0, |d| d.as_nanos() as u64)
            };
            let row = SliRow {
                route: route.into(),
                handler: fs.first().map_or_else(|| handler.to_owned(), |f| f.name.clone()),
                client_count: client.answered(),
                perfcore_count: count,
                client_errors: client.handler_errors(),
                perfcore_errors: errors,
                client_p95_ns: client.latency.p95_ns,
                perfcore_p95_ns: q(0.95),
                client_p99_ns: client.latency.p99_ns,
                perfcore_p99_ns: q(0.99),
                client_per_sec: client.throughput_per_sec,
                perfcore_per_sec: count as f64 / secs,
            };
            let mut check = |what: &str, passed: bool, detail: String| {
                checks.push(Check { name: format!("{route}: {what}"), passed, detail });
            };
            check(
                "count",
                row.client_count == row.perfcore_count,
                format!("client {} == perfcore {}", row.client_count, row.perfcore_count),
            );
            check(
                "errors",
                row.client_errors == row.perfcore_errors,
                format!("client {} == perfcore {}", row.client_errors, row.perfcore_errors),
            );
            check(
                "p95",
                row.perfcore_p95_ns <= bucket_slack(row.client_p95_ns),
                format!(
                    "perfcore {} ns <= client {} ns + 1 bucket",
                    row.perfcore_p95_ns, row.client_p95_ns
                ),
            );
            check(
                "p99",
                row.perfcore_p99_ns <= bucket_slack(row.client_p99_ns),
                format!(
                    "perfcore {} ns <= client {} ns + 1 bucket",
                    row.perfcore_p99_ns, row.client_p99_ns
                ),
            );
            rows.push(row);
        }
        checks.push(Check {
            name: format!("{}: verdict", report.scenario),
            passed: report.verdict.passed(),
            detail: report.verdict.to_string(),
        });
        Self { client: report.clone(), rows, checks }
    }

    /// Whether every check held.
    ///
    /// # Examples
    /// See [`SliReport`].
    #[must_use]
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The scenario's verdict.
    ///
    /// # Examples
    /// See [`SliReport`].
    #[must_use]
    pub fn verdict(&self) -> &ScenarioVerdict {
        &self.client.verdict
    }

    /// The soak's figures (soak only).
    ///
    /// # Examples
    /// See [`SliReport`].
    #[must_use]
    pub fn soak(&self) -> Option<&SoakFigures> {
        self.client.soak.as_ref()
    }
}

impl fmt::Display for SliReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.client;
        let ms = |ns: u64| ns as f64 / 1e6;
        writeln!(
            f,
            "scenario {} against {}: {} requests in {:.1} s ({:.0}/s), {} errors ({} rejected, {} I/O)",
            c.scenario,
            c.target,
            c.overall.requests,
            c.elapsed_secs,
            c.overall.requests as f64 / c.elapsed_secs.max(1e-9),
            c.overall.errors,
            c.overall.rejected,
            c.overall.io_errors
        )?;
        writeln!(
            f,
            "{:<9} {:>17} {:>13} {:>21} {:>21} {:>15}",
            "route",
            "count cli/pc",
            "errors cli/pc",
            "p95 ms cli/pc",
            "p99 ms cli/pc",
            "per s cli/pc"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<9} {:>17} {:>13} {:>21} {:>21} {:>15}",
                r.route,
                format!("{}/{}", r.client_count, r.perfcore_count),
                format!("{}/{}", r.client_errors, r.perfcore_errors),
                format!("{:.3}/{:.3}", ms(r.client_p95_ns), ms(r.perfcore_p95_ns)),
                format!("{:.3}/{:.3}", ms(r.client_p99_ns), ms(r.perfcore_p99_ns)),
                format!("{:.0}/{:.0}", r.client_per_sec, r.perfcore_per_sec),
            )?;
        }
        writeln!(f, "{}", c.verdict)?;
        if let Some(s) = &c.soak {
            let mib = |b: Option<u64>| {
                b.map_or_else(|| "?".into(), |b| format!("{:.1} MiB", b as f64 / 1048576.0))
            };
            let pct =
                |x: Option<f64>| x.map_or_else(|| "?".into(), |x| format!("{:.3}%", x * 100.0));
            // In process, the RSS is this process's, the driver's samples included; else the
            // service's own, as its endpoint exports it; the build time is known in process only.
            let in_process = s.worker_cpu_ns.is_some();
            let driver = if in_process {
                format!(
                    " (the driver's samples: {:.1} MiB of it)",
                    s.driver_sample_bytes as f64 / 1048576.0
                )
            } else {
                " (the service's, as its endpoint exports it)".to_owned()
            };
            let build = s.scrape_build.map_or_else(String::new, |b| {
                format!(" (built in p50 {:.2} ms p99 {:.2} ms)", ms(b.p50_ns), ms(b.p99_ns))
            });
            writeln!(
                f,
                "soak: RSS {} -> {} at a tenth of the run -> {} at the end{driver}; {} scrapes ({} failed), p50 {:.2} ms p99 {:.2} ms{build}, {} bytes; \
                 scope cost {:.1} ns x {} scopes = {} of the workers' CPU, {} of the process's; \
                 endpoint <= {} of the process's; {:.0} requests/s",
                mib(s.rss_start_bytes),
                mib(s.rss_warm_bytes),
                mib(s.rss_end_bytes),
                s.scrapes,
                s.scrape_errors,
                ms(s.scrape_latency.p50_ns),
                ms(s.scrape_latency.p99_ns),
                s.scrape_bytes,
                s.scope_cost_ns,
                s.scopes.map_or_else(|| "?".into(), |n| n.to_string()),
                pct(s.profiler_share_of_workers),
                pct(s.profiler_share_of_process),
                pct(s.endpoint_share_of_process),
                s.requests_per_sec
            )?;
        }
        for check in &self.checks {
            writeln!(
                f,
                "[{}] {}: {}",
                if check.passed { "PASS" } else { "FAIL" },
                check.name,
                check.detail
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_names_match_by_last_segment() {
        let f = |n: &str| FunctionStats::from_durations(n, [1u64]);
        assert!(is_handler(&f("perfcore_examples::service::handlers::get_item"), "get_item"));
        assert!(is_handler(&f("app.get_item"), "get_item"));
        assert!(is_handler(&f("get_item"), "get_item"));
        assert!(!is_handler(&f("x::forget_item"), "get_item"));
    }

    #[test]
    fn one_bucket_of_slack() {
        assert_eq!(bucket_slack(6400), 6501);
        assert!(bucket_slack(0) >= 1);
    }
}
