//! The dashboard's state: the data of the last refresh and the view over it. Pure: no
//! terminal, no clock but the instants it is handed.

use std::cell::Cell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::monitor::Observation;
use crate::stats::{FunctionStats, Snapshot};

/// Points of CPU and memory history kept (one per refresh): more than any terminal is wide.
pub(crate) const HISTORY: usize = 512;

/// A key the dashboard understands, independent of the terminal library.
///
/// # Examples
/// ```
/// use perfcore::top::{App, Key};
/// let mut app = App::new("example");
/// app.apply(Key::Char('q'));
/// assert!(app.should_quit());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Key {
    /// A printable character (`q`, `s`, `/`, a digit, a letter of a filter).
    Char(char),
    /// Enter / Return.
    Enter,
    /// Escape.
    Esc,
    /// Backspace.
    Backspace,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Home.
    Home,
    /// End.
    End,
}

/// The column the table is sorted by (largest first unless reversed).
///
/// # Examples
/// ```
/// use perfcore::top::Sort;
/// assert_eq!(Sort::SelfTime.next(), Sort::P95);
/// assert_eq!(Sort::Total.next(), Sort::SelfTime);
/// assert_eq!(Sort::P99.as_str(), "p99");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Sort {
    /// Share of self time (over the last refresh when live, else the snapshot's).
    #[default]
    SelfTime,
    /// 95th percentile latency.
    P95,
    /// 99th percentile latency.
    P99,
    /// Calls per second (then total calls).
    Calls,
    /// Errors per second (then total errors).
    Errors,
    /// Total wall time.
    Total,
}

impl Sort {
    /// Every key, in the order `s` cycles through them (and `1`..`6` pick them).
    pub const ALL: [Sort; 6] =
        [Sort::SelfTime, Sort::P95, Sort::P99, Sort::Calls, Sort::Errors, Sort::Total];

    /// The next key in [`Sort::ALL`], wrapping around.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::top::Sort::P95.next(), perfcore::top::Sort::P99);
    /// ```
    #[must_use]
    pub fn next(self) -> Sort {
        let i = Sort::ALL.iter().position(|&s| s == self).unwrap_or(0);
        Sort::ALL[(i + 1) % Sort::ALL.len()]
    }

    /// The name used on the command line (`--sort`) and in the header.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::top::Sort::SelfTime.as_str(), "self");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::SelfTime => "self",
            Sort::P95 => "p95",
            Sort::P99 => "p99",
            Sort::Calls => "calls",
            Sort::Errors => "errors",
            Sort::Total => "total",
        }
    }
}

impl std::str::FromStr for Sort {
    type Err = String;

    /// Parses `self|p95|p99|calls|errors|total`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sort::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            format!("`{s}` is not a sort key: use self, p95, p99, calls, errors or total")
        })
    }
}

/// One function's figures for the table, computed once per refresh.
#[derive(Clone, Debug, Default)]
pub(crate) struct Row {
    /// Calls per second over the rate window (`None` before a second refresh when live).
    pub(crate) calls_per_sec: Option<f64>,
    /// Errors per second over the rate window.
    pub(crate) errors_per_sec: Option<f64>,
    /// Failed calls over calls, over the rate window (0 without calls).
    pub(crate) error_ratio: f64,
    /// The function's share of all self time over the rate window.
    pub(crate) self_share: f64,
    /// p50, p95, p99 and max (ns) of the calls in the last [`QUANTILE_WINDOW`], when live
    /// (`None`: no call in it, or a static dashboard, which shows the snapshot's own).
    pub(crate) recent: Option<[u64; 4]>,
}

/// What a live dashboard's quantile columns cover: long enough for a steady p99, short
/// enough that a spike shows at once (the whole run's quantiles would hide it).
pub(crate) const QUANTILE_WINDOW: Duration = Duration::from_secs(10);

/// Snapshots held for the quantile window are at least this far apart (so at most six
/// are held, whatever the refresh interval).
const RECENT_SPACING: Duration = Duration::from_secs(2);

/// A pending or firing alert, as the endpoint exports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AlertLine {
    pub(crate) name: String,
    pub(crate) state: String,
    pub(crate) severity: String,
    /// The series' other labels, `k=v` joined by spaces.
    pub(crate) labels: String,
}

/// What the dashboard shows and how: the last refresh's data (snapshot, system history,
/// alerts) and the view (sort, filter, selection, detail, pause), changed by [`App::apply`]
/// and [`App::update`] and drawn by [`draw`](super::draw).
///
/// # Examples
/// ```
/// use std::time::Instant;
/// use perfcore::top::{App, Key};
/// let p = perfcore::PerformanceProfiler::new();
/// { let _g = p.scope("checkout")?; }
/// let mut app = App::new("example");
/// app.update(p.snapshot(), &[], Instant::now());
/// assert_eq!(app.visible_functions(), vec!["checkout"]);
/// app.apply(Key::Char('/'));
/// for c in "nothing".chars() { app.apply(Key::Char(c)); }
/// app.apply(Key::Enter);
/// assert!(app.visible_functions().is_empty());
/// # Ok::<(), perfcore::ProfileError>(())
/// ```
#[derive(Debug)]
pub struct App {
    pub(crate) source: String,
    /// Whether refreshes come from a live endpoint (rates from successive snapshots).
    pub(crate) live: bool,
    pub(crate) snapshot: Snapshot,
    pub(crate) rows: Vec<Row>,
    /// Indices into `rows` / `snapshot.functions`: filtered and sorted.
    pub(crate) order: Vec<usize>,
    /// When the last update came, when live (its snapshot is `snapshot`, the base of the
    /// next update's rates).
    previous_at: Option<Instant>,
    /// What the rates cover: the last refresh's interval, or the snapshot's window.
    pub(crate) rate_window: Option<Duration>,
    /// Earlier snapshots (with their clock, Unix ns), the oldest first: the base of the
    /// quantile window.
    recent: VecDeque<Snapshot>,
    /// What the quantile columns cover when live (the window, or less at the start).
    pub(crate) quantile_span: Option<Duration>,
    pub(crate) cpu: VecDeque<f64>,
    pub(crate) memory: VecDeque<f64>,
    /// The last memory figures, used and total bytes.
    pub(crate) memory_bytes: Option<(f64, f64)>,
    pub(crate) alerts: Vec<AlertLine>,
    pub(crate) updates: u64,
    pub(crate) sort: Sort,
    pub(crate) reverse: bool,
    pub(crate) filter: String,
    /// The filter being typed, after `/`.
    pub(crate) input: Option<String>,
    pub(crate) selected: usize,
    /// The selected function (name, module), kept across refreshes and re-sorts.
    selected_key: Option<(String, String)>,
    /// The first row shown, kept by [`draw`](super::draw) so the selection stays in view.
    pub(crate) offset: Cell<usize>,
    /// Rows the table showed at the last draw (the PgUp/PgDn step).
    pub(crate) page: Cell<usize>,
    pub(crate) detail: bool,
    pub(crate) help: bool,
    pub(crate) paused: bool,
    quit: bool,
    pub(crate) status: Option<String>,
}

impl App {
    /// An empty dashboard over `source` (shown in the header: a URL or a file name), live:
    /// rates come from successive [`update`](Self::update)s.
    ///
    /// # Examples
    /// ```
    /// let app = perfcore::top::App::new("http://127.0.0.1:9464");
    /// assert!(app.visible_functions().is_empty());
    /// ```
    #[must_use]
    pub fn new(source: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            live: true,
            snapshot: Snapshot::default(),
            rows: Vec::new(),
            order: Vec::new(),
            previous_at: None,
            rate_window: None,
            recent: VecDeque::new(),
            quantile_span: None,
            cpu: VecDeque::new(),
            memory: VecDeque::new(),
            memory_bytes: None,
            alerts: Vec::new(),
            updates: 0,
            sort: Sort::default(),
            reverse: false,
            filter: String::new(),
            input: None,
            selected: 0,
            selected_key: None,
            offset: Cell::new(0),
            page: Cell::new(10),
            detail: false,
            help: false,
            paused: false,
            quit: false,
            status: None,
        }
    }

    /// A static dashboard of one snapshot (a file): rates over the snapshot's own window.
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// { let _g = p.scope("load")?; }
    /// let app = perfcore::top::App::from_snapshot("run.json", p.snapshot());
    /// assert_eq!(app.visible_functions(), vec!["load"]);
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    #[must_use]
    pub fn from_snapshot(source: impl Into<String>, snapshot: Snapshot) -> Self {
        let mut app = Self::new(source);
        app.live = false;
        app.update(snapshot, &[], Instant::now());
        app
    }

    /// Sets the sort key (as `--sort` does).
    ///
    /// # Examples
    /// ```
    /// use perfcore::top::{App, Sort};
    /// let app = App::new("x").with_sort(Sort::P99);
    /// assert_eq!(app.sort(), Sort::P99);
    /// ```
    #[must_use]
    pub fn with_sort(mut self, sort: Sort) -> Self {
        self.sort = sort;
        self.refresh_order();
        self
    }

    /// Sets the filter (as `--filter` does): only functions whose name or module contains
    /// `text`, ignoring case, are listed.
    ///
    /// # Examples
    /// ```
    /// let app = perfcore::top::App::new("x").with_filter("db::");
    /// # let _ = app;
    /// ```
    #[must_use]
    pub fn with_filter(mut self, text: impl Into<String>) -> Self {
        self.filter = text.into();
        self.refresh_order();
        self
    }

    /// The current sort key.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::top::App::new("x").sort(), perfcore::top::Sort::SelfTime);
    /// ```
    #[must_use]
    pub fn sort(&self) -> Sort {
        self.sort
    }

    /// Whether updates are ignored (the `p` key).
    ///
    /// # Examples
    /// ```
    /// use perfcore::top::{App, Key};
    /// let mut app = App::new("x");
    /// app.apply(Key::Char('p'));
    /// assert!(app.is_paused());
    /// ```
    #[must_use]
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Whether the user asked to quit (`q`, or Esc with nothing open).
    ///
    /// # Examples
    /// ```
    /// use perfcore::top::{App, Key};
    /// let mut app = App::new("x");
    /// app.apply(Key::Esc);
    /// assert!(app.should_quit());
    /// ```
    #[must_use]
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// The names of the listed functions, in table order (filtered and sorted).
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::top::App::new("x").visible_functions().is_empty());
    /// ```
    #[must_use]
    pub fn visible_functions(&self) -> Vec<&str> {
        self.order.iter().map(|&i| self.snapshot.functions[i].name.as_str()).collect()
    }

    /// The selected function, if any is listed.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::top::App::new("x").selected_function().is_none());
    /// ```
    #[must_use]
    pub fn selected_function(&self) -> Option<&FunctionStats> {
        self.order.get(self.selected).map(|&i| &self.snapshot.functions[i])
    }

    /// Shows a status line (a failed refresh: "cannot reach …: reason"); the data of the
    /// last good refresh stays on screen. The next successful update clears it.
    ///
    /// # Examples
    /// ```
    /// let mut app = perfcore::top::App::new("x");
    /// app.set_status("cannot reach http://127.0.0.1:1: connection refused");
    /// ```
    pub fn set_status(&mut self, message: impl Into<String>) {
        self.status = Some(message.into());
    }

    /// Takes a refresh: the profiler's `snapshot` and the endpoint's other `observations`
    /// (system gauges, application metrics, alerts), received at `now`. Rates (calls/s,
    /// errors/s, self-time share) come from the difference with the previous update, over
    /// the snapshots' own clock (or `now` when that did not move); the first update, and a
    /// static dashboard, use the snapshot's own window. Ignored while paused; returns
    /// whether it was taken.
    ///
    /// # Examples
    /// ```
    /// use std::time::{Duration, Instant};
    /// use perfcore::monitor::Observation;
    /// let p = perfcore::PerformanceProfiler::new();
    /// let mut app = perfcore::top::App::new("x");
    /// let t = Instant::now();
    /// assert!(app.update(p.snapshot(), &[Observation::gauge("system_cpu_utilization_ratio", "", 0.5)], t));
    /// { let _g = p.scope("f")?; }
    /// app.update(p.snapshot(), &[], t + Duration::from_secs(1));
    /// assert_eq!(app.visible_functions(), vec!["f"]);
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn update(
        &mut self,
        snapshot: Snapshot,
        observations: &[Observation],
        now: Instant,
    ) -> bool {
        if self.paused {
            return false;
        }
        self.status = None;
        self.updates += 1;
        self.rows = self.rows_for(&snapshot, now);
        if self.live {
            self.recent_quantiles(&snapshot);
        }
        self.observe(observations);
        if self.live {
            self.previous_at = Some(now);
        }
        self.snapshot = snapshot;
        self.refresh_order();
        true
    }

    /// The table's figures: rates over the delta since the previous snapshot when there is
    /// one (and it is an earlier state of the same profiler), else over the window.
    fn rows_for(&mut self, snapshot: &Snapshot, now: Instant) -> Vec<Row> {
        let delta = self.previous_at.and_then(|then| {
            let prev = &self.snapshot;
            let d = snapshot.since(prev).ok()?;
            let clock =
                Duration::from_nanos(snapshot.ended_unix_ns.saturating_sub(prev.ended_unix_ns));
            let dt = if clock.is_zero() { now.saturating_duration_since(then) } else { clock };
            Some((d, dt))
        });
        match delta {
            Some((d, dt)) => {
                self.rate_window = Some(dt);
                let secs = dt.as_secs_f64();
                let total_self: u64 = d.functions.iter().map(|f| f.self_ns).sum();
                // `since` keeps functions with new calls only, in the later snapshot's order.
                let mut new = d.functions.iter().peekable();
                snapshot
                    .functions
                    .iter()
                    .map(|f| {
                        let same = new.next_if(|n| {
                            n.name == f.name
                                && n.module_path == f.module_path
                                && n.file == f.file
                                && n.line == f.line
                        });
                        let (calls, errors, self_ns) =
                            same.map_or((0, 0, 0), |n| (n.count, n.errors, n.self_ns));
                        Row {
                            calls_per_sec: (secs > 0.0).then(|| calls as f64 / secs),
                            errors_per_sec: (secs > 0.0).then(|| errors as f64 / secs),
                            error_ratio: share(errors, calls),
                            self_share: share(self_ns, total_self),
                            recent: None,
                        }
                    })
                    .collect()
            }
            None => {
                let window = snapshot.window();
                self.rate_window = (!window.is_zero()).then_some(window);
                let secs = window.as_secs_f64();
                let total_self: u64 = snapshot.functions.iter().map(|f| f.self_ns).sum();
                snapshot
                    .functions
                    .iter()
                    .map(|f| Row {
                        calls_per_sec: (secs > 0.0).then(|| f.count as f64 / secs),
                        errors_per_sec: (secs > 0.0).then(|| f.errors as f64 / secs),
                        error_ratio: f.error_rate(),
                        self_share: share(f.self_ns, total_self),
                        recent: None,
                    })
                    .collect()
            }
        }
    }

    /// Each row's quantiles over the last [`QUANTILE_WINDOW`]: `snapshot` minus the newest
    /// held snapshot at least that old (or the oldest held, at the start), then `snapshot`
    /// is held if the last one held is [`RECENT_SPACING`] old.
    fn recent_quantiles(&mut self, snapshot: &Snapshot) {
        let now = snapshot.ended_unix_ns;
        let window = QUANTILE_WINDOW.as_nanos() as u64;
        let cutoff = now.saturating_sub(window);
        let base =
            self.recent.iter().rev().find(|s| s.ended_unix_ns <= cutoff).or(self.recent.front());
        let delta = match base.map(|b| snapshot.since(b)) {
            Some(Ok(delta)) => Some(delta),
            Some(Err(_)) => {
                // A reset profiler (or another one) is not a later state of what is held.
                self.recent.clear();
                None
            }
            None => None,
        };
        if let Some(delta) = delta {
            self.quantile_span = Some(delta.window());
            let mut new = delta.functions.iter().peekable();
            for (f, row) in snapshot.functions.iter().zip(&mut self.rows) {
                let same = new.next_if(|n| {
                    n.name == f.name
                        && n.module_path == f.module_path
                        && n.file == f.file
                        && n.line == f.line
                });
                row.recent = same.map(|n| [n.p50_ns, n.p95_ns, n.p99_ns, n.max_ns]);
            }
        }
        let spacing = RECENT_SPACING.as_nanos() as u64;
        if self.recent.back().is_none_or(|b| now >= b.ended_unix_ns + spacing) {
            // Without call tree and timeline: only the functions are subtracted.
            let mut held = snapshot.clone();
            held.call_tree.clear();
            held.timeline = None;
            self.recent.push_back(held);
        }
        while self.recent.len() > 1 && self.recent[1].ended_unix_ns <= cutoff {
            self.recent.pop_front();
        }
    }

    /// The quantiles a row shows: the recent window's when live, else the snapshot's own
    /// (`None`: live, and no call in the window).
    pub(crate) fn quantiles(&self, i: usize) -> Option<[u64; 4]> {
        if self.live {
            self.rows.get(i).and_then(|r| r.recent)
        } else {
            self.snapshot.functions.get(i).map(|f| [f.p50_ns, f.p95_ns, f.p99_ns, f.max_ns])
        }
    }

    /// CPU and memory history points, and the alerts.
    fn observe(&mut self, observations: &[Observation]) {
        let cpu: Vec<f64> = observations
            .iter()
            .filter(|o| o.name == "system_cpu_utilization_ratio" && o.value.is_finite())
            .map(|o| o.value)
            .collect();
        if !cpu.is_empty() {
            push_bounded(&mut self.cpu, cpu.iter().sum::<f64>() / cpu.len() as f64);
        }
        let find = |name: &str| {
            observations.iter().find(|o| o.name == name && o.value.is_finite()).map(|o| o.value)
        };
        if let (Some(used), Some(total)) =
            (find("system_memory_used_bytes"), find("system_memory_total_bytes"))
        {
            self.memory_bytes = Some((used, total));
            push_bounded(&mut self.memory, if total > 0.0 { used / total } else { 0.0 });
        }
        self.alerts = observations
            .iter()
            .filter(|o| o.name == "alerts" && o.value > 0.0)
            .filter_map(|o| {
                let state = o.label_value("alertstate")?;
                matches!(state, "firing" | "pending").then(|| AlertLine {
                    name: o.label_value("alertname").unwrap_or("?").to_owned(),
                    state: state.to_owned(),
                    severity: o.label_value("severity").unwrap_or("").to_owned(),
                    labels: o
                        .labels
                        .iter()
                        .filter(|(k, _)| !matches!(&**k, "alertname" | "alertstate" | "severity"))
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                })
            })
            .collect();
        // Firing first, then critical before warning, then by name.
        self.alerts.sort_by(|a, b| {
            (a.state != "firing", a.severity != "critical", &a.name).cmp(&(
                b.state != "firing",
                b.severity != "critical",
                &b.name,
            ))
        });
    }

    /// Recomputes the filtered, sorted order (once per refresh or view change) and keeps
    /// the selection on the same function when it is still listed.
    fn refresh_order(&mut self) {
        let needle = self.filter.to_lowercase();
        let functions = &self.snapshot.functions;
        let mut order: Vec<usize> = (0..functions.len())
            .filter(|&i| {
                needle.is_empty()
                    || functions[i].name.to_lowercase().contains(&needle)
                    || functions[i].module_path.to_lowercase().contains(&needle)
            })
            .collect();
        let rows = &self.rows;
        let key = |i: usize| -> (f64, f64) {
            let (f, r) = (&functions[i], &rows[i]);
            // Functions without a call in the quantile window sort below every other.
            let q = |k: usize| self.quantiles(i).map_or(-1.0, |q| q[k] as f64);
            match self.sort {
                Sort::SelfTime => (r.self_share, f.self_ns as f64),
                Sort::P95 => (q(1), q(2)),
                Sort::P99 => (q(2), q(3)),
                Sort::Calls => (r.calls_per_sec.unwrap_or(0.0), f.count as f64),
                Sort::Errors => (r.errors_per_sec.unwrap_or(0.0), f.errors as f64),
                Sort::Total => (f.total_ns as f64, f.count as f64),
            }
        };
        let keys: Vec<(f64, f64)> = (0..functions.len()).map(key).collect();
        order.sort_unstable_by(|&a, &b| {
            let (ka, kb) = (keys[a], keys[b]);
            let by_value = kb.0.total_cmp(&ka.0).then(kb.1.total_cmp(&ka.1));
            let by_value = if self.reverse { by_value.reverse() } else { by_value };
            by_value.then_with(|| functions[a].name.cmp(&functions[b].name)).then(a.cmp(&b))
        });
        self.order = order;
        if let Some((name, module)) = &self.selected_key
            && let Some(pos) = self
                .order
                .iter()
                .position(|&i| functions[i].name == *name && functions[i].module_path == *module)
        {
            self.selected = pos;
        }
        self.selected = self.selected.min(self.order.len().saturating_sub(1));
        self.remember_selection();
    }

    fn remember_selection(&mut self) {
        self.selected_key =
            self.selected_function().map(|f| (f.name.clone(), f.module_path.clone()));
        if self.order.is_empty() {
            self.detail = false;
        }
    }

    fn select(&mut self, to: usize) {
        self.selected = to.min(self.order.len().saturating_sub(1));
        self.remember_selection();
    }

    /// Handles one key: `q` quits, Esc closes the detail (or help, or the filter being
    /// typed) and else quits, `s` cycles the sort and `1`..`6` pick it, `r` reverses, `/`
    /// starts a filter (Enter applies, Esc clears), ↑↓ `j` `k` PgUp PgDn Home End move,
    /// Enter opens the selected function's detail, `p` or space pauses, `?` shows help.
    ///
    /// # Examples
    /// ```
    /// use perfcore::top::{App, Key, Sort};
    /// let mut app = App::new("x");
    /// app.apply(Key::Char('s'));
    /// assert_eq!(app.sort(), Sort::P95);
    /// app.apply(Key::Char('6'));
    /// assert_eq!(app.sort(), Sort::Total);
    /// ```
    pub fn apply(&mut self, key: Key) {
        if let Some(input) = &mut self.input {
            match key {
                Key::Char(c) if !c.is_control() => input.push(c),
                Key::Backspace => {
                    input.pop();
                }
                Key::Enter => {
                    self.filter = std::mem::take(input);
                    self.input = None;
                    self.refresh_order();
                }
                Key::Esc => {
                    self.input = None;
                    self.filter.clear();
                    self.refresh_order();
                }
                _ => {}
            }
            return;
        }
        if self.help {
            match key {
                Key::Char('q') => self.quit = true,
                _ => self.help = false,
            }
            return;
        }
        let page = self.page.get().max(1);
        match key {
            Key::Char('q') => self.quit = true,
            Key::Esc if self.detail => self.detail = false,
            Key::Esc => self.quit = true,
            Key::Char('?') => self.help = true,
            Key::Char('p' | ' ') => self.paused = !self.paused,
            Key::Char('s') => {
                self.sort = self.sort.next();
                self.refresh_order();
            }
            Key::Char(c @ '1'..='6') => {
                self.sort = Sort::ALL[usize::from(c as u8 - b'1')];
                self.refresh_order();
            }
            Key::Char('r') => {
                self.reverse = !self.reverse;
                self.refresh_order();
            }
            Key::Char('/') => {
                self.detail = false;
                self.input = Some(self.filter.clone());
            }
            Key::Enter if !self.order.is_empty() => self.detail = !self.detail,
            Key::Up | Key::Char('k') => self.select(self.selected.saturating_sub(1)),
            Key::Down | Key::Char('j') => self.select(self.selected.saturating_add(1)),
            Key::PageUp => self.select(self.selected.saturating_sub(page)),
            Key::PageDown => self.select(self.selected.saturating_add(page)),
            Key::Home | Key::Char('g') => self.select(0),
            Key::End | Key::Char('G') => self.select(usize::MAX),
            _ => {}
        }
    }
}

fn share(part: u64, total: u64) -> f64 {
    if total == 0 { 0.0 } else { part as f64 / total as f64 }
}

fn push_bounded(history: &mut VecDeque<f64>, v: f64) {
    if history.len() == HISTORY {
        history.pop_front();
    }
    history.push_back(v.clamp(0.0, 1.0));
}
