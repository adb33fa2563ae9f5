//! The monitor: one background thread that samples the system, reads the application
//! metrics and the profiler's function statistics, evaluates the alert rules and hands the
//! alerts to the sinks; and what the endpoint serves of it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::sources::{SnapshotSource, add_default_source, remove_default_source};
use super::{
    ActiveAlert, AlertEngine, AlertRule, AlertSink, FunctionWindow, HistoryPoint, MetricsServer,
    MonitorError, Observation, SamplerOptions, ServerOptions, SinkDispatcher, SystemSample,
    SystemSampler, Trend, metrics_registry,
};

/// How to build a [`Monitor`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use perfcore::monitor::{AlertRule, LogSink, Monitor};
/// let monitor = Monitor::builder()
///     .interval(Duration::from_millis(200))
///     .rule(AlertRule::parse("cache_cold: cache_hit_ratio < 0.8 for 1m")?)
///     .sink(LogSink::new())
///     .start()?;
/// # monitor.stop();
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
pub struct MonitorBuilder {
    sampler: SamplerOptions,
    rules: Vec<AlertRule>,
    sinks: Vec<Box<dyn AlertSink>>,
    queue: usize,
    function_window: Duration,
    snapshot: Option<SnapshotSource>,
    register: bool,
}

impl std::fmt::Debug for MonitorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorBuilder")
            .field("sampler", &self.sampler)
            .field("rules", &self.rules)
            .field("sinks", &self.sinks.len())
            .field("queue", &self.queue)
            .field("function_window", &self.function_window)
            .finish_non_exhaustive()
    }
}

impl Default for MonitorBuilder {
    fn default() -> Self {
        Self {
            sampler: SamplerOptions::default(),
            rules: AlertRule::defaults(),
            sinks: Vec::new(),
            queue: 1024,
            function_window: Duration::from_secs(60),
            snapshot: None,
            register: true,
        }
    }
}

impl MonitorBuilder {
    /// The sampler's options (interval, disks, networks, history); the default samples
    /// every second.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::{Monitor, SamplerOptions};
    /// let b = Monitor::builder().sampler(SamplerOptions::default().networks(false));
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn sampler(mut self, options: SamplerOptions) -> Self {
        self.sampler = options;
        self
    }

    /// How often the monitor samples and evaluates its rules (default 1 s).
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// let b = perfcore::monitor::Monitor::builder().interval(Duration::from_secs(5));
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.sampler = self.sampler.interval(interval);
        self
    }

    /// Replaces the rules (the default is [`AlertRule::defaults`], the seed's thresholds).
    ///
    /// # Examples
    /// ```
    /// let b = perfcore::monitor::Monitor::builder().rules(Vec::new()); // no alerts at all
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn rules(mut self, rules: Vec<AlertRule>) -> Self {
        self.rules = rules;
        self
    }

    /// Adds a rule to those there are.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::{AlertRule, Monitor};
    /// let b = Monitor::builder().rule(AlertRule::above("deep_queue", "queue_depth", 100.0));
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn rule(mut self, rule: AlertRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Adds a sink that alerts are delivered to, on the delivery thread.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::{CallbackSink, Monitor};
    /// let b = Monitor::builder().sink(CallbackSink::new(|e| eprintln!("{} {}", e.rule, e.state.as_str())));
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn sink(mut self, sink: impl AlertSink + 'static) -> Self {
        self.sinks.push(Box::new(sink));
        self
    }

    /// How many alert events wait for the sinks at most (default 1,024); past it the oldest
    /// are dropped and counted, so a slow sink never holds the sampler up.
    ///
    /// # Examples
    /// ```
    /// let b = perfcore::monitor::Monitor::builder().queue_capacity(64);
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn queue_capacity(mut self, events: usize) -> Self {
        self.queue = events.max(1);
        self
    }

    /// The window the function statistics of the rules are computed over (default 60 s):
    /// `function_p95_seconds`, `function_p99_seconds`, `function_error_ratio` and
    /// `function_calls_per_second` are those of the calls in the last window.
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// let b = perfcore::monitor::Monitor::builder().function_window(Duration::from_secs(300));
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn function_window(mut self, window: Duration) -> Self {
        self.function_window = window;
        self
    }

    /// Takes the function statistics from `snapshot` instead of the global profiler.
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// let profiler = Arc::new(perfcore::PerformanceProfiler::new());
    /// let p = Arc::clone(&profiler);
    /// let b = perfcore::monitor::Monitor::builder().snapshot(move || p.snapshot());
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn snapshot(
        mut self,
        snapshot: impl Fn() -> crate::Snapshot + Send + Sync + 'static,
    ) -> Self {
        self.snapshot = Some(Arc::new(snapshot));
        self
    }

    /// Whether [`serve_metrics`](super::serve_metrics) and
    /// [`push_metrics`](super::push_metrics) serve this monitor's system gauges and alert
    /// states (default yes; a monitor for a test of its own may want not).
    ///
    /// # Examples
    /// ```
    /// let b = perfcore::monitor::Monitor::builder().register(false);
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn register(mut self, on: bool) -> Self {
        self.register = on;
        self
    }

    /// Starts the sampler thread and the sinks' delivery thread.
    ///
    /// # Errors
    /// [`MonitorError::InvalidRule`] for a rule that does not validate,
    /// [`MonitorError::InvalidOption`] for a sampler option out of range,
    /// [`MonitorError::Thread`] if a thread cannot start.
    ///
    /// # Examples
    /// ```
    /// let monitor = perfcore::monitor::Monitor::builder().start()?;
    /// monitor.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn start(self) -> Result<Monitor, MonitorError> {
        let engine = Arc::new(Mutex::new(AlertEngine::new(self.rules)?));
        let mut dispatcher = SinkDispatcher::builder().capacity(self.queue);
        for sink in self.sinks {
            dispatcher = dispatcher.sink(sink);
        }
        let dispatcher = Arc::new(dispatcher.start()?);
        let snapshot: SnapshotSource =
            self.snapshot.unwrap_or_else(|| Arc::new(|| crate::global().snapshot()));
        let latest: Arc<Mutex<Vec<Observation>>> = Arc::new(Mutex::new(Vec::new()));
        let tick = {
            let (engine, dispatcher, latest) =
                (Arc::clone(&engine), Arc::clone(&dispatcher), Arc::clone(&latest));
            let mut window = FunctionWindow::new(self.function_window);
            move |sample: &SystemSample| {
                let system = sample.observations();
                let mut observations = system.clone();
                observations.extend(metrics_registry().observations());
                observations.extend(window.observe(sample.at_unix_ns, &snapshot()));
                let events = engine
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .evaluate(sample.at_unix_ns, &observations);
                dispatcher.send_all(events);
                // The endpoint serves the system's gauges; the function figures it serves are
                // the histograms themselves, which Prometheus windows better.
                *latest.lock().unwrap_or_else(PoisonError::into_inner) = system;
            }
        };
        let sampler = SystemSampler::start(self.sampler.on_sample(tick))?;
        let source_id = self.register.then(|| {
            let (engine, latest) = (Arc::clone(&engine), Arc::clone(&latest));
            add_default_source(Arc::new(move || {
                let mut out = latest.lock().unwrap_or_else(PoisonError::into_inner).clone();
                out.extend(engine.lock().unwrap_or_else(PoisonError::into_inner).observations());
                out
            }))
        });
        Ok(Monitor { sampler: Some(sampler), engine, dispatcher, source_id })
    }
}

/// A running monitor: a sampler thread that, at each sample, evaluates the alert rules over
/// the system's figures, the application metrics ([`metrics_registry`]) and the profiler's
/// function statistics over the last minute, and queues the alerts it raises for the sinks.
///
/// With the default rules ([`AlertRule::defaults`]): CPU above 80% warns and above 90% is
/// critical, memory 85% / 95%, a disk 90% / 95%, a function whose p95 is over 2 s warns, one
/// that fails more than 5% of its calls is critical.
///
/// Stopping it (or dropping it) joins its threads; alerts still queued are delivered for up
/// to the dispatcher's shutdown timeout.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use perfcore::monitor::{CallbackSink, Monitor};
/// let monitor = Monitor::builder()
///     .interval(Duration::from_millis(100))
///     .sink(CallbackSink::new(|alert| eprintln!("{}: {}", alert.rule, alert.summary)))
///     .start()?;
/// let server = monitor.serve_metrics("127.0.0.1:0")?; // system gauges, alerts, functions
/// # drop(server);
/// monitor.stop();
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
pub struct Monitor {
    sampler: Option<SystemSampler>,
    engine: Arc<Mutex<AlertEngine>>,
    dispatcher: Arc<SinkDispatcher>,
    source_id: Option<u64>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("sampler", &self.sampler)
            .field("dispatcher", &self.dispatcher)
            .finish_non_exhaustive()
    }
}

impl Monitor {
    /// A builder with the defaults: a sample a second, the seed's alert rules, no sinks.
    ///
    /// # Examples
    /// ```
    /// let monitor = perfcore::monitor::Monitor::builder().start()?;
    /// # monitor.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn builder() -> MonitorBuilder {
        MonitorBuilder::default()
    }

    /// The sampler, for its history, trends and own cost.
    ///
    /// # Panics
    /// Never: the sampler is there until the monitor is stopped, which takes it by value.
    ///
    /// # Examples
    /// ```
    /// let monitor = perfcore::monitor::Monitor::builder().start()?;
    /// let _cpu = monitor.sampler().latest().map(|s| s.cpu_utilization);
    /// # monitor.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn sampler(&self) -> &SystemSampler {
        self.sampler.as_ref().expect("the sampler lives as long as the monitor")
    }

    /// The latest system sample, once there is one.
    ///
    /// # Examples
    /// ```
    /// let monitor = perfcore::monitor::Monitor::builder().start()?;
    /// if let Some(s) = monitor.latest() { assert!(s.memory_total_bytes > 0); }
    /// # monitor.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn latest(&self) -> Option<SystemSample> {
        self.sampler().latest()
    }

    /// A metric's history over the last `range` (see [`SystemSampler::history`]).
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// let monitor = perfcore::monitor::Monitor::builder().start()?;
    /// let points = monitor.history("system_cpu_utilization_ratio", &[], Duration::from_secs(600));
    /// # let _ = points; monitor.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn history(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        range: Duration,
    ) -> Vec<HistoryPoint> {
        self.sampler().history(name, labels, range)
    }

    /// A metric's trend over the last `window` (see [`SystemSampler::trend`]).
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// let monitor = perfcore::monitor::Monitor::builder().start()?;
    /// let trend = monitor.trend("system_memory_utilization_ratio", &[], Duration::from_secs(600));
    /// # let _ = trend; monitor.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn trend(&self, name: &str, labels: &[(&str, &str)], window: Duration) -> Option<Trend> {
        self.sampler().trend(name, labels, window)
    }

    /// The alerts pending or firing now.
    ///
    /// # Examples
    /// ```
    /// let monitor = perfcore::monitor::Monitor::builder().rules(Vec::new()).start()?;
    /// assert!(monitor.active_alerts().is_empty());
    /// # monitor.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn active_alerts(&self) -> Vec<ActiveAlert> {
        self.engine.lock().unwrap_or_else(PoisonError::into_inner).active()
    }

    /// The rules it evaluates.
    ///
    /// # Examples
    /// ```
    /// let monitor = perfcore::monitor::Monitor::builder().start()?;
    /// assert_eq!(monitor.rules().len(), perfcore::monitor::AlertRule::defaults().len());
    /// # monitor.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn rules(&self) -> Vec<AlertRule> {
        self.engine.lock().unwrap_or_else(PoisonError::into_inner).rules().to_vec()
    }

    /// The dispatcher the alerts go through: its counts of delivered, failed and dropped
    /// events, and [`SinkDispatcher::add_sink`] for a sink added later.
    ///
    /// # Examples
    /// ```
    /// let monitor = perfcore::monitor::Monitor::builder().start()?;
    /// assert_eq!(monitor.dispatcher().dropped(), 0);
    /// # monitor.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn dispatcher(&self) -> &SinkDispatcher {
        &self.dispatcher
    }

    /// Starts an endpoint on `addr` serving the global profiler, the application metrics
    /// and this monitor's (and any other started monitor's) system gauges and alert states:
    /// [`serve_metrics`](super::serve_metrics).
    ///
    /// # Errors
    /// As [`serve_metrics`](super::serve_metrics).
    ///
    /// # Examples
    /// ```
    /// let monitor = perfcore::monitor::Monitor::builder().start()?;
    /// let server = monitor.serve_metrics("127.0.0.1:0")?;
    /// # drop(server); monitor.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn serve_metrics(&self, addr: &str) -> Result<MetricsServer, MonitorError> {
        ServerOptions::new(addr).start()
    }

    /// Stops the sampler (joining its thread) and the delivery thread (after delivering what
    /// is queued, for up to the dispatcher's shutdown timeout).
    ///
    /// # Examples
    /// ```
    /// perfcore::monitor::Monitor::builder().start()?.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(id) = self.source_id.take() {
            remove_default_source(id);
        }
        if let Some(sampler) = self.sampler.take() {
            sampler.stop();
        }
        // What is still queued after that is dropped with the dispatcher, counted.
        let _delivered_all = self.dispatcher.flush(Duration::from_secs(2));
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::{AlertEvent, AlertState, CallbackSink};
    use std::time::Instant;

    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_failing_function_fires_the_default_error_rule_through_a_sink() {
        let profiler = Arc::new(crate::PerformanceProfiler::new());
        let events: Arc<Mutex<Vec<AlertEvent>>> = Arc::default();
        let sink_events = Arc::clone(&events);
        // The default error-rate rule, without its two minutes of `for`.
        let rule = AlertRule::above("function_errors", "function_error_ratio", 0.05);
        let p = Arc::clone(&profiler);
        let monitor = Monitor::builder()
            .interval(Duration::from_millis(20))
            .rules(vec![rule])
            .snapshot(move || p.snapshot())
            .register(false)
            .sink(CallbackSink::new(move |e| sink_events.lock().unwrap().push(e.clone())))
            .start()
            .unwrap();
        for i in 0..100 {
            let g = profiler.scope("flaky").unwrap();
            if i % 4 == 0 {
                g.mark_failed();
            }
        }
        wait_for("the firing alert", || {
            events.lock().unwrap().iter().any(|e| e.state == AlertState::Firing)
        });
        let firing = events.lock().unwrap().iter().find(|e| e.state == AlertState::Firing).cloned();
        let firing = firing.unwrap();
        assert_eq!(firing.rule, "function_errors");
        assert_eq!(firing.labels.get("function").map(String::as_str), Some("flaky"), "{firing:?}");
        assert!((firing.value - 0.25).abs() < 1e-9, "{firing:?}");
        assert_eq!(monitor.active_alerts().len(), 1);
        monitor.stop();
    }

    #[test]
    fn a_registered_monitor_is_served_and_leaves_when_stopped() {
        let monitor = Monitor::builder()
            .interval(Duration::from_millis(20))
            .rules(vec![AlertRule::above("always", "system_memory_total_bytes", 0.0)])
            .start()
            .unwrap();
        wait_for("a sample", || monitor.latest().is_some());
        wait_for("the alert", || !monitor.active_alerts().is_empty());
        let obs = super::super::sources::default_observations();
        assert!(obs.iter().any(|o| o.name == "system_memory_total_bytes"));
        assert!(
            obs.iter().any(|o| o.name == "alerts" && o.label_value("alertname") == Some("always"))
        );
        monitor.stop();
        let obs = super::super::sources::default_observations();
        assert!(!obs.iter().any(|o| o.label_value("alertname") == Some("always")));
    }
}
