//! The sampler's history: per series, bounded ring buffers at three resolutions, and the
//! least-squares trend over a window.
//!
//! Each series (a metric name and its labels) keeps
//! - raw points for the last 10 minutes, at the sampler's interval;
//! - 10-second aggregates (min, mean, max) for the last 2 hours;
//! - 1-minute aggregates for the last 24 hours.
//!
//! Every ring is allocated whole when its series first appears, so memory does not grow with
//! uptime. Per series that is `16 × raw points + 32 × (720 + 1440)` bytes plus about 200
//! bytes of bookkeeping: at a 1 s interval (601 raw points) **about 79 KiB per series**. A
//! typical machine (4 cores, 2 disks, 3 network interfaces) has 33 system and process series,
//! **about 2.5 MiB** in all; [`SystemSampler::memory_bytes`](super::SystemSampler::memory_bytes)
//! says what it holds now. A series that receives no point for the longest retention (an
//! unmounted disk, a removed interface) is dropped; at most [`HistoryOptions::max_series`]
//! series are kept, the least recently updated going first.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use super::{MetricKind, MonitorError, Observation};

const NS_PER_SEC: u64 = 1_000_000_000;
const TEN_SECONDS_NS: u64 = 10 * NS_PER_SEC;
const MINUTE_NS: u64 = 60 * NS_PER_SEC;

/// How much history the sampler keeps per series.
///
/// The defaults: raw points for 10 minutes, 10-second aggregates for 2 hours, 1-minute
/// aggregates for 24 hours, at most 4096 series.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use perfcore::monitor::HistoryOptions;
/// let h = HistoryOptions::default().raw(Duration::from_secs(300)).max_series(256);
/// assert_eq!(h.raw_retention(), Duration::from_secs(300));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryOptions {
    raw: Duration,
    ten_seconds: Duration,
    minutes: Duration,
    max_series: usize,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        Self {
            raw: Duration::from_secs(600),
            ten_seconds: Duration::from_secs(2 * 3600),
            minutes: Duration::from_secs(24 * 3600),
            max_series: 4096,
        }
    }
}

impl HistoryOptions {
    /// How long raw points are kept (default 10 minutes).
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// let h = perfcore::monitor::HistoryOptions::default().raw(Duration::from_secs(60));
    /// assert_eq!(h.raw_retention(), Duration::from_secs(60));
    /// ```
    #[must_use]
    pub fn raw(mut self, retention: Duration) -> Self {
        self.raw = retention;
        self
    }

    /// How long 10-second aggregates are kept (default 2 hours).
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// let h = perfcore::monitor::HistoryOptions::default().ten_seconds(Duration::from_secs(3600));
    /// assert_eq!(h.ten_seconds_retention(), Duration::from_secs(3600));
    /// ```
    #[must_use]
    pub fn ten_seconds(mut self, retention: Duration) -> Self {
        self.ten_seconds = retention;
        self
    }

    /// How long 1-minute aggregates are kept (default 24 hours).
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// let h = perfcore::monitor::HistoryOptions::default().minutes(Duration::from_secs(7200));
    /// assert_eq!(h.minutes_retention(), Duration::from_secs(7200));
    /// ```
    #[must_use]
    pub fn minutes(mut self, retention: Duration) -> Self {
        self.minutes = retention;
        self
    }

    /// The most series kept (default 4096); past it the least recently updated is dropped.
    ///
    /// # Examples
    /// ```
    /// let h = perfcore::monitor::HistoryOptions::default().max_series(10);
    /// assert_eq!(h.max_series_kept(), 10);
    /// ```
    #[must_use]
    pub fn max_series(mut self, n: usize) -> Self {
        self.max_series = n;
        self
    }

    /// How long raw points are kept.
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// assert_eq!(perfcore::monitor::HistoryOptions::default().raw_retention(), Duration::from_secs(600));
    /// ```
    #[must_use]
    pub fn raw_retention(&self) -> Duration {
        self.raw
    }

    /// How long 10-second aggregates are kept.
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// assert_eq!(perfcore::monitor::HistoryOptions::default().ten_seconds_retention(), Duration::from_secs(7200));
    /// ```
    #[must_use]
    pub fn ten_seconds_retention(&self) -> Duration {
        self.ten_seconds
    }

    /// How long 1-minute aggregates are kept.
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// assert_eq!(perfcore::monitor::HistoryOptions::default().minutes_retention(), Duration::from_secs(86_400));
    /// ```
    #[must_use]
    pub fn minutes_retention(&self) -> Duration {
        self.minutes
    }

    /// The most series kept.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::HistoryOptions::default().max_series_kept(), 4096);
    /// ```
    #[must_use]
    pub fn max_series_kept(&self) -> usize {
        self.max_series
    }

    /// Checks the options (any raw retention fits any interval: the raw ring keeps at least
    /// two points).
    pub(crate) fn validate(&self) -> Result<(), MonitorError> {
        let invalid = |option: &'static str, reason: String| {
            Err(MonitorError::InvalidOption { option, reason })
        };
        if self.raw.is_zero() {
            return invalid("history.raw", "must be longer than zero".into());
        }
        if self.ten_seconds < Duration::from_secs(10) {
            return invalid(
                "history.ten_seconds",
                format!("{:?} is shorter than 10 s", self.ten_seconds),
            );
        }
        if self.minutes < Duration::from_secs(60) {
            return invalid("history.minutes", format!("{:?} is shorter than 1 min", self.minutes));
        }
        if self.max_series == 0 {
            return invalid("history.max_series", "must be at least 1".into());
        }
        Ok(())
    }
}

/// One point of a series' history: the min, mean and max of the values in its time slot
/// (all three equal for a raw point).
///
/// # Examples
/// ```
/// let p = perfcore::monitor::HistoryPoint { at_unix_ns: 0, min: 1.0, mean: 2.0, max: 3.0 };
/// assert!(p.min <= p.mean && p.mean <= p.max);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HistoryPoint {
    /// The start of the slot (the sample's instant for a raw point), in ns since the Unix epoch.
    pub at_unix_ns: u64,
    /// The smallest value in the slot.
    pub min: f64,
    /// The mean of the values in the slot.
    pub mean: f64,
    /// The largest value in the slot.
    pub max: f64,
}

/// Where a series is heading: the least-squares slope over a window, and, for a ratio rising
/// toward 1 or a `*_used_bytes` rising toward its `*_total_bytes`, when it gets there.
///
/// # Examples
/// ```
/// let t = perfcore::monitor::Trend { slope_per_second: 0.0, current: 0.5, time_to_exhaustion: None };
/// assert!(t.time_to_exhaustion.is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Trend {
    /// The change per second, fitted by least squares over the window.
    pub slope_per_second: f64,
    /// The latest value.
    pub current: f64,
    /// How long until the series reaches its limit at this slope (a ratio's 1, a used
    /// figure's total); `None` when it is not rising, has no limit, or is past it.
    pub time_to_exhaustion: Option<Duration>,
}

/// A time slot's aggregate.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Agg {
    start_ns: u64,
    min: f64,
    max: f64,
    sum: f64,
    count: u32,
}

impl Agg {
    fn new(start_ns: u64, v: f64) -> Self {
        Self { start_ns, min: v, max: v, sum: v, count: 1 }
    }

    fn add(&mut self, v: f64) {
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += v;
        self.count = self.count.saturating_add(1);
    }

    fn point(&self) -> HistoryPoint {
        HistoryPoint {
            at_unix_ns: self.start_ns,
            min: self.min,
            mean: self.sum / f64::from(self.count.max(1)),
            max: self.max,
        }
    }
}

/// A fixed-capacity ring: pushing onto a full one drops the oldest.
#[derive(Debug)]
struct Ring<T> {
    items: VecDeque<T>,
    cap: usize,
}

impl<T> Ring<T> {
    fn new(cap: usize) -> Self {
        Self { items: VecDeque::with_capacity(cap), cap }
    }

    fn push(&mut self, item: T) {
        if self.items.len() == self.cap {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }

    fn bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<T>()
    }
}

/// One resolution of aggregates: the closed slots and the open one.
#[derive(Debug)]
struct Tier {
    slot_ns: u64,
    closed: Ring<HistoryPoint>,
    open: Option<Agg>,
}

impl Tier {
    fn new(slot_ns: u64, retention: Duration) -> Self {
        let cap = usize::try_from(duration_ns(retention).div_ceil(slot_ns)).unwrap_or(usize::MAX);
        Self { slot_ns, closed: Ring::new(cap.max(1)), open: None }
    }

    fn add(&mut self, at_ns: u64, v: f64) {
        let start = at_ns - at_ns % self.slot_ns;
        match &mut self.open {
            Some(a) if a.start_ns == start => a.add(v),
            Some(a) if start < a.start_ns => a.add(v), // a clock step back: keep it in the slot
            open => {
                if let Some(done) = open.take() {
                    self.closed.push(done.point());
                }
                *open = Some(Agg::new(start, v));
            }
        }
    }

    fn points(&self, from_ns: u64) -> Vec<HistoryPoint> {
        self.closed
            .items
            .iter()
            .copied()
            .chain(self.open.iter().map(Agg::point))
            .filter(|p| p.at_unix_ns + self.slot_ns > from_ns)
            .collect()
    }
}

#[derive(Debug)]
struct Series {
    kind: MetricKind,
    raw: Ring<(u64, f64)>,
    ten: Tier,
    minute: Tier,
    last_ns: u64,
}

impl Series {
    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.raw.bytes()
            + self.ten.closed.bytes()
            + self.minute.closed.bytes()
    }
}

/// The history of every series the sampler reports, fed with each sample's instant (so tests
/// drive it with a manual clock).
#[derive(Debug)]
pub(crate) struct History {
    options: HistoryOptions,
    raw_points: usize,
    series: HashMap<String, Series>,
    now_ns: u64,
}

/// The key of a series: its name and its labels sorted by label name.
fn series_key<'a>(name: &str, labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut labels: Vec<(&str, &str)> = labels.into_iter().collect();
    labels.sort_unstable();
    let mut key = String::with_capacity(name.len() + 16 * labels.len());
    key.push_str(name);
    for (k, v) in labels {
        key.push('\u{1f}');
        key.push_str(k);
        key.push('=');
        key.push_str(v);
    }
    key
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl History {
    /// An empty history for a sampler ticking every `interval`.
    pub(crate) fn new(options: HistoryOptions, interval: Duration) -> Self {
        let interval_ns = duration_ns(interval).max(1);
        let raw_points = usize::try_from(duration_ns(options.raw).div_ceil(interval_ns) + 1)
            .map_or(2, |n| n.max(2));
        Self { options, raw_points, series: HashMap::new(), now_ns: 0 }
    }

    /// Records one sample's observations at `at_ns`, then drops the series that aged out.
    pub(crate) fn record(&mut self, at_ns: u64, observations: &[Observation]) {
        self.now_ns = self.now_ns.max(at_ns);
        for o in observations {
            if !o.value.is_finite() {
                continue;
            }
            let key = series_key(&o.name, o.labels.iter().map(|(k, v)| (&**k, v.as_str())));
            if !self.series.contains_key(&key) {
                self.make_room();
            }
            let (options, raw_points) = (self.options, self.raw_points);
            let s = self.series.entry(key).or_insert_with(|| Series {
                kind: o.kind,
                raw: Ring::new(raw_points),
                ten: Tier::new(TEN_SECONDS_NS, options.ten_seconds),
                minute: Tier::new(MINUTE_NS, options.minutes),
                last_ns: at_ns,
            });
            s.raw.push((at_ns, o.value));
            s.ten.add(at_ns, o.value);
            s.minute.add(at_ns, o.value);
            s.last_ns = s.last_ns.max(at_ns);
        }
        let longest =
            duration_ns(self.options.raw.max(self.options.ten_seconds).max(self.options.minutes));
        let cutoff = self.now_ns.saturating_sub(longest);
        self.series.retain(|_, s| s.last_ns >= cutoff);
    }

    /// Drops the least recently updated series if the history is full.
    fn make_room(&mut self) {
        if self.series.len() < self.options.max_series {
            return;
        }
        let oldest = self.series.iter().min_by_key(|(_, s)| s.last_ns).map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            self.series.remove(&k);
        }
    }

    /// The bytes the history holds now.
    pub(crate) fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .series
                .iter()
                .map(|(k, s)| k.capacity() + std::mem::size_of::<String>() + s.bytes())
                .sum::<usize>()
    }

    /// How many series it holds.
    #[cfg(test)]
    pub(crate) fn series_count(&self) -> usize {
        self.series.len()
    }

    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<&Series> {
        self.series.get(&series_key(name, labels.iter().copied()))
    }

    /// The points of one series over the last `range` (up to the latest sample): raw points
    /// if the range fits the raw retention, else 10-second aggregates if it fits theirs, else
    /// 1-minute aggregates. Oldest first; empty for an unknown series.
    pub(crate) fn history(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        range: Duration,
    ) -> Vec<HistoryPoint> {
        let Some(s) = self.find(name, labels) else {
            return Vec::new();
        };
        let from = self.now_ns.saturating_sub(duration_ns(range));
        if range <= self.options.raw {
            s.raw
                .items
                .iter()
                .filter(|(at, _)| *at >= from)
                .map(|&(at, v)| HistoryPoint { at_unix_ns: at, min: v, mean: v, max: v })
                .collect()
        } else if range <= self.options.ten_seconds {
            s.ten.points(from)
        } else {
            s.minute.points(from)
        }
    }

    /// The least-squares trend of one series over the last `window` (see [`Trend`]); `None`
    /// for an unknown series or one with fewer than two points in the window.
    pub(crate) fn trend(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        window: Duration,
    ) -> Option<Trend> {
        let s = self.find(name, labels)?;
        let points = self.history(name, labels, window);
        let current = s.raw.items.back()?.1;
        let slope = least_squares_slope(&points)?;
        let limit = if s.kind == MetricKind::Gauge && name.ends_with("_ratio") {
            Some(1.0)
        } else if let Some(stem) = name.strip_suffix("_used_bytes") {
            let total = format!("{stem}_total_bytes");
            self.find(&total, labels).and_then(|t| t.raw.items.back()).map(|p| p.1)
        } else {
            None
        };
        let time_to_exhaustion = limit
            .filter(|&l| slope > 0.0 && current < l)
            .and_then(|l| Duration::try_from_secs_f64((l - current) / slope).ok());
        Some(Trend { slope_per_second: slope, current, time_to_exhaustion })
    }
}

/// The least-squares slope (per second) of the points' means over their instants; `None` for
/// fewer than two points or all at one instant.
fn least_squares_slope(points: &[HistoryPoint]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let t0 = points[0].at_unix_ns;
    #[allow(clippy::cast_precision_loss)] // seconds since the first point: far below 2^52
    let xs = points.iter().map(|p| (p.at_unix_ns.saturating_sub(t0)) as f64 / 1e9);
    #[allow(clippy::cast_precision_loss)]
    let n = points.len() as f64;
    let mean_x = xs.clone().sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.mean).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, p) in xs.zip(points) {
        sxy += (x - mean_x) * (p.mean - mean_y);
        sxx += (x - mean_x) * (x - mean_x);
    }
    (sxx > 0.0).then(|| sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: u64 = NS_PER_SEC;

    fn obs(name: &'static str, v: f64) -> Observation {
        Observation::gauge(name, "", v)
    }

    /// A clock the tests move by hand: the history only ever sees these instants.
    struct ManualClock(u64);

    impl ManualClock {
        fn tick(&mut self, by: u64) -> u64 {
            self.0 += by;
            self.0
        }
    }

    #[test]
    fn raw_points_for_short_ranges_aggregates_for_long_ones() {
        let mut h = History::new(HistoryOptions::default(), Duration::from_secs(1));
        let mut clock = ManualClock(1_000_000 * S);
        for i in 0..3600 {
            h.record(clock.tick(S), &[obs("g", f64::from(i))]);
        }
        let raw = h.history("g", &[], Duration::from_secs(60));
        assert_eq!(raw.len(), 61);
        assert!(raw.iter().all(|p| p.min == p.mean && p.mean == p.max));
        let ten = h.history("g", &[], Duration::from_secs(1800));
        assert!((180..=182).contains(&ten.len()), "{}", ten.len());
        assert!(ten.iter().all(|p| p.min <= p.mean && p.mean <= p.max));
        let minutes = h.history("g", &[], Duration::from_secs(3 * 3600));
        assert!((60..=61).contains(&minutes.len()), "{}", minutes.len());
        assert!(h.history("nope", &[], Duration::from_secs(60)).is_empty());
    }

    #[test]
    fn labels_are_matched_in_any_order() {
        let mut h = History::new(HistoryOptions::default(), Duration::from_secs(1));
        let o = obs("d", 1.0).label("mount", "/").label("device", "sda");
        h.record(S, &[o]);
        assert_eq!(
            h.history("d", &[("device", "sda"), ("mount", "/")], Duration::from_secs(10)).len(),
            1
        );
        assert!(h.history("d", &[("mount", "/")], Duration::from_secs(10)).is_empty());
    }

    #[test]
    fn forty_eight_hours_keep_memory_constant() {
        let mut h = History::new(HistoryOptions::default(), Duration::from_secs(1));
        let mut clock = ManualClock(0);
        let sample = |v: f64| {
            vec![obs("a_ratio", v), obs("b_bytes", v * 1e9), obs("c", v).label("core", "0")]
        };
        h.record(clock.tick(S), &sample(0.0));
        let at_start = h.memory_bytes();
        let mut at_25h = 0;
        for i in 1..48 * 3600 {
            h.record(clock.tick(S), &sample(f64::from(i % 100) / 100.0));
            if i == 25 * 3600 {
                at_25h = h.memory_bytes();
            }
        }
        assert_eq!(h.memory_bytes(), at_start);
        assert_eq!(at_25h, at_start);
        assert_eq!(h.series_count(), 3);
        // What the module docs state: about 79 KiB per series at 1 s.
        let per_series = (at_start - std::mem::size_of::<History>()) / 3;
        assert!((70_000..90_000).contains(&per_series), "{per_series}");
        // 24 h of 1-minute aggregates are all there.
        assert_eq!(h.history("a_ratio", &[], Duration::from_secs(24 * 3600)).len(), 1441);
    }

    #[test]
    fn vanished_series_age_out_and_the_count_is_capped() {
        let mut h = History::new(HistoryOptions::default().max_series(3), Duration::from_secs(1));
        let mut clock = ManualClock(0);
        h.record(clock.tick(S), &[obs("disk", 1.0), obs("cpu", 1.0)]);
        for _ in 0..(24 * 3600 / 60) {
            h.record(clock.tick(60 * S), &[obs("cpu", 1.0)]);
        }
        h.record(clock.tick(60 * S), &[obs("cpu", 1.0)]);
        assert_eq!(h.series_count(), 1);
        h.record(clock.tick(S), &[obs("x", 1.0), obs("y", 1.0), obs("z", 1.0)]);
        assert_eq!(h.series_count(), 3);
    }

    #[test]
    fn trend_and_time_to_exhaustion() {
        let mut h = History::new(HistoryOptions::default(), Duration::from_secs(1));
        let mut clock = ManualClock(0);
        for i in 0..100 {
            let used = 1e9 + f64::from(i) * 1e6; // 1 MB/s
            h.record(
                clock.tick(S),
                &[
                    obs("m_used_bytes", used),
                    obs("m_total_bytes", 2e9),
                    obs("r_ratio", 0.5 + f64::from(i) * 0.001),
                    obs("flat", 3.0),
                    Observation::counter("c_total", "", f64::from(i)),
                ],
            );
        }
        let w = Duration::from_secs(600);
        let t = h.trend("m_used_bytes", &[], w).unwrap();
        assert!((t.slope_per_second - 1e6).abs() < 1e-3);
        let left = t.time_to_exhaustion.unwrap().as_secs_f64();
        assert!((left - (2e9 - t.current) / 1e6).abs() < 1e-3);
        let r = h.trend("r_ratio", &[], w).unwrap();
        assert!((r.time_to_exhaustion.unwrap().as_secs_f64() - (1.0 - 0.599) / 0.001).abs() < 1e-3);
        let f = h.trend("flat", &[], w).unwrap();
        assert_eq!(f.slope_per_second, 0.0);
        assert!(f.time_to_exhaustion.is_none());
        assert!(h.trend("c_total", &[], w).unwrap().time_to_exhaustion.is_none());
        assert!(h.trend("missing", &[], w).is_none());
    }

    #[test]
    fn validation_names_the_option() {
        let e = HistoryOptions::default().raw(Duration::ZERO).validate().unwrap_err();
        assert!(e.to_string().contains("history.raw"), "{e}");
        assert!(HistoryOptions::default().max_series(0).validate().is_err());
    }

    proptest! {
        #[test]
        fn aggregates_bound_their_values(values in proptest::collection::vec(-1e6f64..1e6, 1..400), step in 1u64..30) {
            let mut h = History::new(HistoryOptions::default(), Duration::from_secs(1));
            let mut clock = ManualClock(0);
            for v in &values {
                h.record(clock.tick(step * S), &[obs("v", *v)]);
            }
            let (lo, hi) = values.iter().fold((f64::MAX, f64::MIN), |(l, u), v| (l.min(*v), u.max(*v)));
            for range in [600u64, 7200, 86_400] {
                let pts = h.history("v", &[], Duration::from_secs(range));
                prop_assert!(!pts.is_empty());
                for p in &pts {
                    prop_assert!(p.min <= p.mean + 1e-9 && p.mean <= p.max + 1e-9);
                    prop_assert!(p.min >= lo && p.max <= hi);
                }
                prop_assert!(pts.windows(2).all(|w| w[0].at_unix_ns < w[1].at_unix_ns));
            }
        }

        #[test]
        fn slope_of_a_line_is_recovered(a in -1e3f64..1e3, b in -1e3f64..1e3, n in 2usize..200) {
            let points: Vec<HistoryPoint> = (0..n)
                .map(|i| {
                    let x = i as f64;
                    let y = a * x + b;
                    HistoryPoint { at_unix_ns: i as u64 * S, min: y, mean: y, max: y }
                })
                .collect();
            let s = least_squares_slope(&points).unwrap();
            prop_assert!((s - a).abs() <= 1e-6 * (1.0 + a.abs() + b.abs()));
        }
    }
}
