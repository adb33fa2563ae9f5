//! The profiler's function statistics over a sliding window, as observations alert rules read.
//!
//! The profiler's snapshots are cumulative (everything since it started or was reset); an
//! alert on "p95 over 2 s" wants the last minute, not the process's whole life.
//! [`FunctionWindow`] keeps a few earlier snapshots and subtracts the one that starts the
//! window ([`Snapshot::since`], exact for counts and histograms).

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use super::Observation;
use crate::Snapshot;

/// At most this many snapshots are kept (plus the one that starts the window): snapshots
/// closer together than `window / KEPT` are not kept, so memory does not grow with the rate
/// of [`FunctionWindow::observe`] calls.
const KEPT: u32 = 32;

/// Per-function statistics over the last `window`, from the profiler's cumulative snapshots.
///
/// [`observe`](Self::observe) gives, per function (label `function`), the gauges
/// `function_p95_seconds`, `function_p99_seconds`, `function_error_ratio` (failed calls /
/// calls) and `function_calls_per_second`, over the time between the snapshot that starts
/// the window and the one given. A function with no call in the window only gets
/// `function_calls_per_second` = 0 (its quantiles and error ratio have no value, so alerts on
/// them end once the series has been gone for the engine's `stale_after`). The error ratio
/// waits for [`min_calls`](Self::min_calls) calls in the window (10 by default): one failure
/// in a function's first call is not a 100% error rate worth waking anyone for.
///
/// Until a snapshot older than the window is held, the window is the oldest snapshot held; at
/// the first call, the snapshot's own window (since the profiler started). If the profiler
/// was reset (a snapshot holds fewer calls than an earlier one), the history starts over.
///
/// Memory: at most 33 snapshots, without call tree or timeline (each function's histogram
/// keeps only its non-empty buckets).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use perfcore::monitor::FunctionWindow;
/// let p = perfcore::PerformanceProfiler::new();
/// let mut window = FunctionWindow::new(Duration::from_secs(60));
/// { let _g = p.scope("load").unwrap(); }
/// let snap = p.snapshot();
/// let obs = window.observe(snap.ended_unix_ns, &snap);
/// let p95 = obs.iter().find(|o| o.name == "function_p95_seconds").unwrap();
/// assert_eq!(p95.label_value("function"), Some("load"));
/// ```
#[derive(Debug, Clone)]
pub struct FunctionWindow {
    window: Duration,
    min_calls: u64,
    history: VecDeque<(u64, Snapshot)>,
}

impl Default for FunctionWindow {
    /// A 60-second window.
    fn default() -> Self {
        Self::new(Duration::from_secs(60))
    }
}

impl FunctionWindow {
    /// A window of `window` (60 s by [`Default`]).
    ///
    /// # Examples
    /// ```
    /// let w = perfcore::monitor::FunctionWindow::new(std::time::Duration::from_secs(30));
    /// assert_eq!(w.window(), std::time::Duration::from_secs(30));
    /// ```
    #[must_use]
    pub fn new(window: Duration) -> Self {
        Self { window, min_calls: 10, history: VecDeque::new() }
    }

    /// How many calls a function needs in the window before its `function_error_ratio` is
    /// given (default 10; 0 or 1 gives it from the first call).
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::FunctionWindow;
    /// use perfcore::{FunctionStats, Snapshot};
    /// let mut one_failure = FunctionStats::from_durations("f", [1_000]);
    /// one_failure.errors = 1;
    /// let snap = Snapshot::from_functions(vec![one_failure], 0, 1_000_000_000);
    /// let ratio = |w: &mut FunctionWindow| {
    ///     w.observe(1_000_000_000, &snap).iter().any(|o| o.name == "function_error_ratio")
    /// };
    /// assert!(!ratio(&mut FunctionWindow::default()));
    /// assert!(ratio(&mut FunctionWindow::default().min_calls(1)));
    /// ```
    #[must_use]
    pub fn min_calls(mut self, calls: u64) -> Self {
        self.min_calls = calls;
        self
    }

    /// The window's length.
    ///
    /// # Examples
    /// ```
    /// let w = perfcore::monitor::FunctionWindow::default();
    /// assert_eq!(w.window(), std::time::Duration::from_secs(60));
    /// ```
    #[must_use]
    pub fn window(&self) -> Duration {
        self.window
    }

    /// How many snapshots are held (at most 33).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::FunctionWindow::default().held(), 0);
    /// ```
    #[must_use]
    pub fn held(&self) -> usize {
        self.history.len()
    }

    /// Takes `snapshot` (cumulative, of one profiler) taken at `now_unix_ns`, and returns the
    /// statistics of each function over the last window (see the type's docs).
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::FunctionWindow;
    /// use perfcore::{FunctionStats, Snapshot};
    /// let s = 1_000_000_000u64;
    /// let mut w = FunctionWindow::new(std::time::Duration::from_secs(60));
    /// let at = |t: u64, calls: usize| Snapshot::from_functions(vec![FunctionStats::from_durations("f", vec![1_000; calls])], 0, t);
    /// w.observe(10 * s, &at(10 * s, 100));
    /// let obs = w.observe(20 * s, &at(20 * s, 150));
    /// let rate = obs.iter().find(|o| o.name == "function_calls_per_second").unwrap();
    /// assert_eq!(rate.value, 5.0); // 50 calls in 10 s
    /// ```
    pub fn observe(&mut self, now_unix_ns: u64, snapshot: &Snapshot) -> Vec<Observation> {
        // Without call tree and timeline: only the functions are read and kept.
        let current = Snapshot {
            schema_version: snapshot.schema_version,
            started_unix_ns: snapshot.started_unix_ns,
            ended_unix_ns: snapshot.ended_unix_ns,
            functions: snapshot.functions.clone(),
            call_tree: Vec::new(),
            timeline: None,
        };
        let window_ns = u64::try_from(self.window.as_nanos()).unwrap_or(u64::MAX);
        let cutoff = now_unix_ns.saturating_sub(window_ns);
        // The snapshot that starts the window: the newest at or before the cutoff, or else
        // the oldest held.
        let base =
            self.history.iter().rev().find(|(t, _)| *t <= cutoff).or_else(|| self.history.front());
        let since = match base.map(|(_, b)| current.since(b)) {
            None => None,
            Some(Ok(d)) => Some(d),
            Some(Err(_)) => {
                // Reset (or another profiler's snapshot): start over.
                self.history.clear();
                None
            }
        };
        let delta = since.as_ref().unwrap_or(&current);
        let secs = delta.window().as_secs_f64();
        let mut out = Vec::with_capacity(delta.functions.len() * 4);
        for f in &delta.functions {
            let q = |q: f64| f.quantile(q).map_or(f64::NAN, |d| d.as_secs_f64());
            let name = f.name.clone();
            out.push(
                Observation::gauge(
                    "function_p95_seconds",
                    "95th percentile of the function's call time over the window.",
                    q(0.95),
                )
                .label("function", name.clone()),
            );
            out.push(
                Observation::gauge(
                    "function_p99_seconds",
                    "99th percentile of the function's call time over the window.",
                    q(0.99),
                )
                .label("function", name.clone()),
            );
            if f.count >= self.min_calls {
                out.push(
                    Observation::gauge(
                        "function_error_ratio",
                        "Failed calls / calls of the function over the window.",
                        f.error_rate(),
                    )
                    .label("function", name.clone()),
                );
            }
            out.push(calls_per_second(name, if secs > 0.0 { f.count as f64 / secs } else { 0.0 }));
        }
        let mut reported: HashSet<&str> = delta.functions.iter().map(|f| f.name.as_str()).collect();
        for f in &current.functions {
            if reported.insert(f.name.as_str()) {
                out.push(calls_per_second(f.name.clone(), 0.0));
            }
        }
        // Keep it, unless it is too close to the last one kept.
        let spacing = window_ns / u64::from(KEPT);
        let keep = self
            .history
            .back()
            .is_none_or(|(t, _)| now_unix_ns > *t && now_unix_ns - *t >= spacing);
        if keep {
            self.history.push_back((now_unix_ns, current));
        }
        // Drop what is older than the snapshot that starts the window.
        while self.history.len() > 1 && self.history[1].0 <= cutoff {
            self.history.pop_front();
        }
        out
    }
}

fn calls_per_second(function: String, value: f64) -> Observation {
    Observation::gauge(
        "function_calls_per_second",
        "Calls per second of the function over the window.",
        value,
    )
    .label("function", function)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FunctionStats;
    use proptest::prelude::*;

    const S: u64 = 1_000_000_000;

    /// A cumulative snapshot at `t` of functions given as (name, call durations, errors).
    fn snap(t: u64, functions: &[(&str, Vec<u64>, u64)]) -> Snapshot {
        let fs = functions
            .iter()
            .map(|(n, d, e)| {
                let mut f = FunctionStats::from_durations(n, d.clone());
                f.errors = *e;
                f
            })
            .collect();
        Snapshot::from_functions(fs, 0, t)
    }

    fn value(obs: &[Observation], name: &str, function: &str) -> Option<f64> {
        obs.iter()
            .find(|o| o.name == name && o.label_value("function") == Some(function))
            .map(|o| o.value)
    }

    #[test]
    fn statistics_cover_the_window_only() {
        let mut w = FunctionWindow::new(Duration::from_secs(60));
        // 100 fast calls, then, within the last window, 100 slow ones (3 s) with 10 errors.
        let fast = vec![1_000_000u64; 100];
        let mut both = fast.clone();
        both.extend(vec![3 * S; 100]);
        w.observe(100 * S, &snap(100 * S, &[("f", fast.clone(), 0)]));
        let obs = w.observe(160 * S, &snap(160 * S, &[("f", both, 10)]));
        let p95 = value(&obs, "function_p95_seconds", "f").unwrap();
        assert!((p95 - 3.0).abs() < 0.1, "{p95}");
        assert!(value(&obs, "function_p99_seconds", "f").unwrap() >= p95);
        assert_eq!(value(&obs, "function_error_ratio", "f"), Some(0.1));
        assert!(
            (value(&obs, "function_calls_per_second", "f").unwrap() - 100.0 / 60.0).abs() < 1e-9
        );
    }

    #[test]
    fn idle_functions_report_zero_calls_only() {
        let mut w = FunctionWindow::new(Duration::from_secs(60));
        w.observe(10 * S, &snap(10 * S, &[("f", vec![5; 3], 0), ("g", vec![5; 3], 0)]));
        let obs = w.observe(20 * S, &snap(20 * S, &[("f", vec![5; 3], 0), ("g", vec![5; 4], 0)]));
        assert_eq!(value(&obs, "function_calls_per_second", "f"), Some(0.0));
        assert_eq!(value(&obs, "function_p95_seconds", "f"), None);
        assert_eq!(value(&obs, "function_calls_per_second", "g"), Some(0.1));
    }

    #[test]
    fn the_error_ratio_waits_for_enough_calls() {
        let mut w = FunctionWindow::new(Duration::from_secs(60));
        let obs = w.observe(10 * S, &snap(10 * S, &[("f", vec![5; 9], 9)]));
        assert_eq!(value(&obs, "function_error_ratio", "f"), None);
        assert!(value(&obs, "function_p95_seconds", "f").is_some());
        // The window now holds 11 calls (20 − 9), one of them failed.
        let obs = w.observe(20 * S, &snap(20 * S, &[("f", vec![5; 20], 10)]));
        assert_eq!(value(&obs, "function_error_ratio", "f"), Some(1.0 / 11.0));
        let mut eager = FunctionWindow::new(Duration::from_secs(60)).min_calls(0);
        let obs = eager.observe(10 * S, &snap(10 * S, &[("f", vec![5], 1)]));
        assert_eq!(value(&obs, "function_error_ratio", "f"), Some(1.0));
    }

    #[test]
    fn a_reset_starts_over() {
        let mut w = FunctionWindow::new(Duration::from_secs(60));
        w.observe(10 * S, &snap(10 * S, &[("f", vec![5; 10], 0)]));
        let obs = w.observe(20 * S, &snap(20 * S, &[("f", vec![5; 2], 0)]));
        assert_eq!(value(&obs, "function_calls_per_second", "f"), Some(0.1)); // 2 calls over its 20 s
        assert_eq!(w.held(), 1);
    }

    /// Prints the cost of `observe` for 1,000 functions (a measurement: nothing asserted).
    #[test]
    #[ignore = "a measurement: cargo test --release -p perfcore --features monitor --lib measure_ -- --ignored --nocapture"]
    fn measure_observe() {
        let names: Vec<String> = (0..1000).map(|i| format!("f{i}")).collect();
        let at = |t: u64, k: u64| {
            let fs: Vec<(&str, Vec<u64>, u64)> = names
                .iter()
                .map(|n| (n.as_str(), (0..10 * k).map(|j| 1_000 + j * 997).collect(), 0))
                .collect();
            snap(t, &fs)
        };
        let snaps: Vec<Snapshot> = (1..=20).map(|k| at(k * S, k)).collect();
        let mut w = FunctionWindow::new(Duration::from_secs(10));
        let start = std::time::Instant::now();
        let mut n = 0;
        for (k, s) in snaps.iter().enumerate() {
            n += w.observe((k as u64 + 1) * S, s).len();
        }
        println!(
            "observe: 1000 functions: {:?} per call ({n} observations, {} snapshots held)",
            start.elapsed() / 20,
            w.held()
        );
    }

    proptest! {
        /// Memory stays bounded however often it is called, and the rate is that of the window.
        #[test]
        fn bounded_and_exact(steps in proptest::collection::vec((1u64..5_000, 0usize..20), 1..200)) {
            let mut w = FunctionWindow::new(Duration::from_secs(10));
            let mut t = 0u64;
            let mut total = 0usize;
            for (dt_ms, n) in steps {
                t += dt_ms * 1_000_000;
                total += n;
                let obs = w.observe(t, &snap(t, &[("f", vec![1_000; total], 0)]));
                prop_assert!(w.held() <= KEPT as usize + 1);
                if let Some(rate) = value(&obs, "function_calls_per_second", "f") {
                    prop_assert!(rate.is_finite() && rate >= 0.0);
                }
            }
        }
    }
}
