//! Cost anomalies: days whose spend leaves the band the recent past expects, with the
//! resources that drove them (see [`AnomalyOptions`] for the method).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::series::DailySeries;
use super::time::Day;
use super::{CostError, CostMetric, CostMonitor, Dimension, Money, Period, decimal_from_f64};

/// The thresholds of anomaly detection, and the method they tune.
///
/// # The expected band
/// For each day, from the `window_days` before it (42 by default, gaps skipped):
/// - the **weekly profile**: per weekday, the median distance of that weekday's values from
///   their local level (the median of the week ending on them), so a weekday that is always
///   busy is expected to be busy, and a level shift disturbs only a few of the distances;
/// - the **level**: the median of the last seven values with their weekday taken out (a level
///   shift is absorbed within four days instead of flagging for weeks);
/// - the **usual spread**: 1.4826 × the median absolute deviation of the same-weekday changes
///   a week apart, ÷ √2: a robust standard deviation of the day's noise, which a trend does
///   not inflate (it only moves the changes' centre) and one past spike barely moves; times
///   1.35, because the expected value is itself estimated from a few noisy days (the factor
///   makes the deviations of plain Gaussian series unit-variance, measured in the tests).
///
/// The expected value is level + the day's weekday profile. A day is an anomaly when it is
/// more than `threshold` spreads away (4 by default: on plain Gaussian weekly series with a
/// trend, about 3 days in 10,000 do, against 0.6 in 10,000 for exact Gaussian tails: the
/// estimated band's tails are heavier), **and** the difference is at least `min_impact` in money and `min_relative_change`
/// of the expected value (so a series with no noise at all does not flag a one-cent change).
/// Days with fewer than `min_history_days` of history before them are not judged.
///
/// AWS Cost Anomaly Detection works per service, account or cost category and reports an
/// impact in money with the root causes; this is the same shape, with a method that is
/// stated instead of learned.
///
/// # Examples
/// ```
/// use perfcore::cost::AnomalyOptions;
/// let strict = AnomalyOptions::default().with_threshold(3.0).with_min_impact("50".parse().unwrap());
/// assert_eq!(strict.threshold, 3.0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AnomalyOptions {
    /// How many usual spreads from the expected value make an anomaly (default 4).
    pub threshold: f64,
    /// The smallest difference from the expected value worth reporting, in the series'
    /// currency (default 1).
    pub min_impact: Decimal,
    /// The smallest difference as a share of the expected value (default 0.1: 10%).
    pub min_relative_change: f64,
    /// Days of history the band is computed from (default 42).
    pub window_days: usize,
    /// Days with data needed in the window before a day is judged (default 14).
    pub min_history_days: usize,
    /// Report increases only (default: drops too, which can mean a broken service).
    pub increases_only: bool,
    /// The drivers listed per anomaly (default 5).
    pub max_drivers: usize,
    /// The cost figure read (default billed).
    pub metric: CostMetric,
}

impl Default for AnomalyOptions {
    fn default() -> AnomalyOptions {
        AnomalyOptions {
            threshold: 4.0,
            min_impact: Decimal::ONE,
            min_relative_change: 0.1,
            window_days: 42,
            min_history_days: 14,
            increases_only: false,
            max_drivers: 5,
            metric: CostMetric::Billed,
        }
    }
}

impl AnomalyOptions {
    /// Sets how many spreads make an anomaly.
    #[must_use]
    pub fn with_threshold(mut self, spreads: f64) -> AnomalyOptions {
        self.threshold = spreads;
        self
    }

    /// Sets the smallest difference in money worth reporting.
    #[must_use]
    pub fn with_min_impact(mut self, amount: Decimal) -> AnomalyOptions {
        self.min_impact = amount;
        self
    }

    /// Sets the smallest difference as a share of the expected value.
    #[must_use]
    pub fn with_min_relative_change(mut self, share: f64) -> AnomalyOptions {
        self.min_relative_change = share;
        self
    }

    /// Reports increases only.
    #[must_use]
    pub fn increases_only(mut self, yes: bool) -> AnomalyOptions {
        self.increases_only = yes;
        self
    }

    /// Sets the cost figure read.
    #[must_use]
    pub fn with_metric(mut self, metric: CostMetric) -> AnomalyOptions {
        self.metric = metric;
        self
    }

    fn validate(&self) -> Result<(), CostError> {
        let bad = |what: &'static str, message: String| Err(CostError::Invalid { what, message });
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return bad(
                "anomaly threshold",
                format!("{} is not a positive number", self.threshold),
            );
        }
        if !(self.min_relative_change.is_finite() && self.min_relative_change >= 0.0) {
            return bad(
                "anomaly min_relative_change",
                format!("{} is not a share ≥ 0", self.min_relative_change),
            );
        }
        if self.window_days < 7 || self.min_history_days == 0 {
            return bad(
                "anomaly window",
                format!(
                    "window_days {} must be at least 7 and min_history_days {} at least 1",
                    self.window_days, self.min_history_days
                ),
            );
        }
        Ok(())
    }
}

/// Which way a day left its band.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyDirection {
    /// Spend above the band.
    Increase,
    /// Spend below the band.
    Decrease,
}

/// A resource's part in an anomaly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnomalyDriver {
    /// The resource.
    pub resource: String,
    /// What it cost that day.
    pub actual: Money,
    /// What its own recent past expected.
    pub expected: Money,
    /// `actual − expected`.
    pub impact: Money,
}

/// A day whose spend left its expected band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// The day.
    pub day: Day,
    /// The dimension the series are grouped by (`total` for the total).
    pub dimension: String,
    /// The group (a service, a resource…; `total`).
    pub key: String,
    /// What it cost that day.
    pub actual: Money,
    /// What its recent past expected.
    pub expected: Money,
    /// The band's low end (`expected − threshold × spread`).
    pub lower: Money,
    /// The band's high end.
    pub upper: Money,
    /// `actual − expected`.
    pub impact: Money,
    /// `impact` as a multiple of the usual spread (`None` when the series had no noise at all).
    pub spreads: Option<f64>,
    /// Above or below the band.
    pub direction: AnomalyDirection,
    /// The resources that moved most in the same direction, largest first.
    pub drivers: Vec<AnomalyDriver>,
}

impl Anomaly {
    /// One line for people.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::cost::*;
    /// # let usd = |s: &str| Money::new(s.parse().unwrap(), Currency::USD);
    /// let a = Anomaly {
    ///     day: Day::parse("2024-09-30").unwrap(), dimension: "service".into(), key: "EC2".into(),
    ///     actual: usd("900"), expected: usd("100"), lower: usd("60"), upper: usd("140"),
    ///     impact: usd("800"), spreads: Some(80.0), direction: AnomalyDirection::Increase,
    ///     drivers: vec![],
    /// };
    /// assert_eq!(a.describe(), "2024-09-30 service EC2: 900.00 USD against 100.00 expected (+800.00, 80.0× the usual spread)");
    /// ```
    #[must_use]
    pub fn describe(&self) -> String {
        let sign = if self.impact.amount.is_sign_negative() { "" } else { "+" };
        let spreads = self.spreads.map_or_else(
            || "a series with no noise".to_owned(),
            |s| format!("{s:.1}× the usual spread"),
        );
        let what = if self.dimension == "total" {
            "total".to_owned()
        } else {
            format!("{} {}", self.dimension, self.key)
        };
        format!(
            "{} {what}: {} {} against {} expected ({sign}{}, {spreads})",
            self.day,
            self.actual.display_amount(),
            self.actual.currency,
            self.expected.display_amount(),
            self.impact.display_amount(),
        )
    }
}

/// How much wider than the noise a day's deviation from its expected value is, because the
/// level and the weekly profile are themselves estimated from a few noisy days: the standard
/// deviation of `(actual − expected) / noise` on Gaussian weekly series with a trend
/// (`calibration_of_the_band` below measures it: 1.31–1.35 for 28–56-day windows).
const ESTIMATE_ERROR: f64 = 1.35;

/// The band of one day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Band {
    pub(crate) expected: f64,
    pub(crate) spread: f64,
}

fn median(values: &mut [f64]) -> f64 {
    let n = values.len();
    debug_assert!(n > 0);
    let mid = n / 2;
    let (_, m, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *m;
    if n % 2 == 1 {
        upper
    } else {
        let lower = values[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

/// The expected band of day `t` of `values` from the `window` days before it, or `None` with
/// fewer than `min_history` of them holding data.
pub(crate) fn band(
    values: &[Option<f64>],
    t: usize,
    window: usize,
    min_history: usize,
) -> Option<Band> {
    band_with(values, &local_levels(values), t, window, min_history)
}

/// The local level of each day: the median of the week ending on it, complete (a part of a
/// week would lean to the weekdays it holds).
pub(crate) fn local_levels(values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut week = Vec::with_capacity(7);
    (0..values.len())
        .map(|s| {
            if s < 6 {
                return None;
            }
            week.clear();
            week.extend(values[s - 6..=s].iter().flatten().copied());
            (week.len() == 7).then(|| median(&mut week))
        })
        .collect()
}

/// [`band`] with the local levels computed once for the whole series.
fn band_with(
    values: &[Option<f64>],
    locals: &[Option<f64>],
    t: usize,
    window: usize,
    min_history: usize,
) -> Option<Band> {
    let from = t.saturating_sub(window);
    let present = (from..t).filter(|&s| values[s].is_some()).count();
    if present < min_history.max(2) {
        return None;
    }
    // Each weekday's usual distance from the local level; lag 7, 14… is t's weekday.
    let mut by_weekday: [Vec<f64>; 7] = Default::default();
    for s in from..t {
        if let (Some(y), Some(m)) = (values[s], locals[s]) {
            by_weekday[(t - s) % 7].push(y - m);
        }
    }
    // A weekday never seen in a complete week: its usual level is unknown, so no band.
    let mut profile = [0.0; 7];
    for (p, devs) in profile.iter_mut().zip(&mut by_weekday) {
        if devs.is_empty() {
            return None;
        }
        *p = median(devs);
    }
    // The level: the last seven days with data, their weekday taken out.
    let mut recent: Vec<f64> = (from..t)
        .rev()
        .filter_map(|s| values[s].map(|y| y - profile[(t - s) % 7]))
        .take(7)
        .collect();
    let level = median(&mut recent);
    // The noise: same-weekday changes a week apart (a trend only shifts their centre).
    let mut changes: Vec<f64> =
        (from.max(7)..t).filter_map(|s| Some(values[s]? - values[s - 7]?)).collect();
    let spread = if changes.len() >= 2 {
        let centre = median(&mut changes);
        let mut dev: Vec<f64> = changes.iter().map(|c| (c - centre).abs()).collect();
        1.4826 * median(&mut dev) / std::f64::consts::SQRT_2 * ESTIMATE_ERROR
    } else {
        0.0
    };
    Some(Band { expected: level + profile[0], spread })
}

/// A day of a series found outside its band (before money and drivers).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Flagged {
    pub(crate) index: usize,
    pub(crate) actual: f64,
    pub(crate) band: Band,
}

/// The days of `values` from `first` on that leave their band.
pub(crate) fn detect(
    values: &[Option<f64>],
    first: usize,
    options: &AnomalyOptions,
    min_impact: f64,
) -> Vec<Flagged> {
    let mut out = Vec::new();
    let locals = local_levels(values);
    for t in first..values.len() {
        let Some(actual) = values[t] else { continue };
        let Some(band) =
            band_with(values, &locals, t, options.window_days, options.min_history_days)
        else {
            continue;
        };
        let diff = actual - band.expected;
        if options.increases_only && diff <= 0.0 {
            continue;
        }
        let big = diff.abs() > options.threshold * band.spread
            && diff.abs() >= min_impact
            && diff.abs() >= options.min_relative_change * band.expected.abs();
        if big {
            out.push(Flagged { index: t, actual, band });
        }
    }
    out
}

fn money(value: f64, currency: super::Currency) -> Money {
    let amount = decimal_from_f64(value).unwrap_or_default().round_dp(6).normalize();
    Money::new(amount, currency)
}

impl CostMonitor {
    /// The anomalies of the days of `period`, per group of `by` (a service, a resource…; `None`:
    /// the total), each with the resources that drove it.
    ///
    /// The history before `period` is read too, so that its first days are judged against
    /// their own past. See [the method](crate::cost::AnomalyOptions).
    ///
    /// # Examples
    /// ```
    /// use perfcore::cost::{AnomalyOptions, CostMonitor, Day, Dimension, Period};
    /// use perfcore::cost::synthetic::{SyntheticRow, focus_csv};
    /// let start = Day::parse("2024-09-01").unwrap();
    /// let rows: Vec<SyntheticRow> = (0..30)
    ///     .map(|i| {
    ///         let cost = if i == 25 { "480" } else if i % 7 == 5 { "60" } else { "100" };
    ///         SyntheticRow::new(Day(start.0 + i), "EC2", "i-1", cost.parse().unwrap())
    ///     })
    ///     .collect();
    /// let path = std::env::temp_dir().join(format!("anomaly-doc-{}.csv", std::process::id()));
    /// std::fs::write(&path, focus_csv(&rows))?;
    /// let mut monitor = CostMonitor::new()?;
    /// monitor.import(&path, &Default::default())?;
    /// # std::fs::remove_file(&path)?;
    /// let found = monitor.anomalies(Some(&Dimension::Service), Period::all(), &AnomalyOptions::default())?;
    /// assert_eq!(found.len(), 1);
    /// assert_eq!(found[0].day.to_string(), "2024-09-26");
    /// assert_eq!(found[0].drivers[0].resource, "i-1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn anomalies(
        &self,
        by: Option<&Dimension>,
        period: Period,
        options: &AnomalyOptions,
    ) -> Result<Vec<Anomaly>, CostError> {
        options.validate()?;
        let min_impact = rust_decimal::prelude::ToPrimitive::to_f64(&options.min_impact)
            .unwrap_or(f64::MAX)
            .max(0.0);
        let dims: Vec<Dimension> = by.into_iter().cloned().collect();
        let series = self.daily_series(Period::all(), &dims, options.metric)?;
        let dimension = by.map_or_else(|| "total".to_owned(), ToString::to_string);
        let mut found = Vec::new();
        let mut flagged_groups = Vec::new();
        // Each series is judged on its own: split them over the cores.
        let judge = |s: &DailySeries| -> Vec<Flagged> {
            let first = usize::try_from(i64::from(period.from.0) - i64::from(s.start.0))
                .unwrap_or(0)
                .min(s.values.len());
            detect(&s.to_f64(), first, options, min_impact)
        };
        let threads = std::thread::available_parallelism().map_or(1, usize::from).min(8);
        let chunk = series.len().div_ceil(threads.max(1)).max(1);
        let flags: Vec<Vec<Flagged>> = if series.len() < 64 || threads == 1 {
            series.iter().map(judge).collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = series
                    .chunks(chunk)
                    .map(|part| scope.spawn(move || part.iter().map(judge).collect::<Vec<_>>()))
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            })
        };
        for (s, flagged) in series.iter().zip(&flags) {
            for f in flagged {
                if !period.contains(s.day(f.index)) {
                    continue;
                }
                flagged_groups.push((s.keys.clone(), s.currency, s.day(f.index)));
                found.push(anomaly(s, f, &dimension, options));
            }
        }
        if !found.is_empty() && by != Some(&Dimension::Resource) && options.max_drivers > 0 {
            let mut per_resource = dims.clone();
            per_resource.push(Dimension::Resource);
            let children = self.daily_series(Period::all(), &per_resource, options.metric)?;
            for (a, (keys, currency, day)) in found.iter_mut().zip(&flagged_groups) {
                a.drivers = drivers(&children, keys, *currency, *day, a.direction, options);
            }
        }
        found.sort_by(|a, b| {
            a.day.cmp(&b.day).then(b.impact.amount.abs().cmp(&a.impact.amount.abs()))
        });
        Ok(found)
    }
}

fn anomaly(s: &DailySeries, f: &Flagged, dimension: &str, options: &AnomalyOptions) -> Anomaly {
    let c = s.currency;
    let actual = Money::new(s.values[f.index].unwrap_or_default(), c);
    let expected = money(f.band.expected, c);
    let half = options.threshold * f.band.spread;
    let impact = Money::new(actual.amount - expected.amount, c);
    Anomaly {
        day: s.day(f.index),
        dimension: dimension.to_owned(),
        key: s.name(),
        actual,
        expected,
        lower: money(f.band.expected - half, c),
        upper: money(f.band.expected + half, c),
        impact,
        spreads: (f.band.spread > 0.0).then(|| (f.actual - f.band.expected) / f.band.spread),
        direction: if f.actual >= f.band.expected {
            AnomalyDirection::Increase
        } else {
            AnomalyDirection::Decrease
        },
        drivers: Vec::new(),
    }
}

/// The resources of the group `keys` that moved most in `direction` on `day`.
fn drivers(
    children: &[DailySeries],
    keys: &[String],
    currency: super::Currency,
    day: Day,
    direction: AnomalyDirection,
    options: &AnomalyOptions,
) -> Vec<AnomalyDriver> {
    let mut out: Vec<(f64, AnomalyDriver)> = Vec::new();
    for c in children {
        if c.currency != currency || c.keys.len() != keys.len() + 1 || c.keys[..keys.len()] != *keys
        {
            continue;
        }
        let Ok(t) = usize::try_from(i64::from(day.0) - i64::from(c.start.0)) else { continue };
        let values = c.to_f64();
        let Some(Some(actual)) = values.get(t).copied() else { continue };
        // A resource new in the window has no band: all of its spend is unexpected.
        let expected = band(&values, t, options.window_days, 1).map_or(0.0, |b| b.expected);
        let moved = actual - expected;
        let same_way = match direction {
            AnomalyDirection::Increase => moved > 0.0,
            AnomalyDirection::Decrease => moved < 0.0,
        };
        if !same_way {
            continue;
        }
        let actual_m = Money::new(c.values[t].unwrap_or_default(), currency);
        let expected_m = money(expected, currency);
        out.push((
            moved.abs(),
            AnomalyDriver {
                resource: c.keys[keys.len()].clone(),
                actual: actual_m,
                expected: expected_m,
                impact: Money::new(actual_m.amount - expected_m.amount, currency),
            },
        ));
    }
    out.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.resource.cmp(&b.1.resource)));
    // The drivers that matter: the largest, and those that moved at least a twentieth of it.
    let floor = out.first().map_or(0.0, |d| d.0 / 20.0);
    out.into_iter().take(options.max_drivers).filter(|d| d.0 >= floor).map(|(_, d)| d).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// splitmix64: deterministic noise in [-1, 1).
    fn noise(seed: &mut u64) -> f64 {
        *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    /// A weekly cycle (weekends at 60%) with a trend and ±`amp` noise.
    fn weekly(days: usize, amp: f64, seed: u64) -> Vec<Option<f64>> {
        let mut s = seed;
        (0..days)
            .map(|i| {
                let base = 100.0 + 0.2 * i as f64;
                let week = if i % 7 >= 5 { 0.6 } else { 1.0 };
                Some(base * week + amp * noise(&mut s))
            })
            .collect()
    }

    fn opts() -> AnomalyOptions {
        AnomalyOptions::default()
    }

    #[test]
    fn a_plain_weekly_cycle_raises_none() {
        for seed in 0..20 {
            let v = weekly(180, 5.0, seed);
            let found = detect(&v, 0, &opts(), 1.0);
            assert!(found.is_empty(), "seed {seed}: {found:?}");
        }
    }

    #[test]
    fn an_injected_spike_is_found_on_its_day_and_only_there() {
        for seed in 0..20 {
            let mut v = weekly(120, 5.0, seed);
            v[90] = v[90].map(|x| x + 80.0);
            let found = detect(&v, 0, &opts(), 1.0);
            let days: Vec<usize> = found.iter().map(|f| f.index).collect();
            assert_eq!(days, [90], "seed {seed}");
            assert!(found[0].band.spread > 0.0);
        }
    }

    #[test]
    fn a_drop_is_found_unless_only_increases_are_asked_for() {
        let mut v = weekly(60, 2.0, 7);
        v[50] = Some(5.0);
        assert_eq!(detect(&v, 0, &opts(), 1.0).len(), 1);
        assert!(detect(&v, 0, &opts().increases_only(true), 1.0).is_empty());
    }

    #[test]
    fn a_level_shift_flags_its_first_days_only() {
        let mut v = weekly(120, 3.0, 3);
        for x in v.iter_mut().skip(70) {
            *x = x.map(|x| x + 60.0);
        }
        let found = detect(&v, 0, &opts(), 1.0);
        assert!(!found.is_empty() && found[0].index == 70, "{found:?}");
        assert!(found.iter().all(|f| (70..75).contains(&f.index)), "{found:?}");
    }

    #[test]
    fn gaps_are_skipped_not_read_as_zero() {
        let mut v = weekly(90, 3.0, 11);
        v[40] = None;
        v[41] = None;
        assert!(detect(&v, 0, &opts(), 1.0).is_empty());
    }

    #[test]
    fn too_little_history_judges_nothing() {
        let mut v = weekly(13, 0.0, 1);
        v[12] = Some(1e6);
        assert!(detect(&v, 0, &opts(), 1.0).is_empty());
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(opts().with_threshold(f64::NAN).validate().is_err());
        assert!(opts().with_threshold(0.0).validate().is_err());
        assert!(opts().with_min_relative_change(-1.0).validate().is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Scaling a series scales its band: the same days are anomalies.
        #[test]
        fn anomalies_do_not_depend_on_the_unit(seed in 0u64..1000, scale in 0.01f64..1000.0, spike in 20usize..59) {
            let mut v = weekly(60, 4.0, seed);
            v[spike] = v[spike].map(|x| x * 2.5);
            let scaled: Vec<Option<f64>> = v.iter().map(|x| x.map(|x| x * scale)).collect();
            let a: Vec<usize> = detect(&v, 0, &opts(), 0.0).iter().map(|f| f.index).collect();
            let b: Vec<usize> = detect(&scaled, 0, &opts(), 0.0).iter().map(|f| f.index).collect();
            proptest::prop_assert_eq!(a, b);
        }

        /// A constant series has no anomalies, and its band has no width.
        #[test]
        fn a_constant_series_is_never_anomalous(c in -1e6f64..1e6, n in 14usize..80) {
            let v = vec![Some(c); n];
            proptest::prop_assert!(detect(&v, 0, &opts(), 0.0).is_empty());
            if let Some(b) = band(&v, n - 1, 28, 1) {
                proptest::prop_assert_eq!(b.spread, 0.0);
                proptest::prop_assert!((b.expected - c).abs() <= 1e-9 * c.abs().max(1.0));
            }
        }

        /// Any values, gaps included, give finite bands or none, and never panic.
        #[test]
        fn any_series_is_judged_without_panicking(v in proptest::collection::vec(proptest::option::of(-1e9f64..1e9), 0..80)) {
            for f in detect(&v, 0, &opts(), 0.0) {
                proptest::prop_assert!(f.band.expected.is_finite() && f.band.spread.is_finite());
            }
        }
    }
}
#[cfg(test)]
mod calibration {
    /// Standardised deviations `(actual − expected) / spread` of Gaussian weekly series with a
    /// trend: (mean, standard deviation, share beyond 4).
    pub(crate) fn deviations(series: usize, window: usize) -> (f64, f64, f64) {
        let mut zs = Vec::new();
        let mut seed = 1u64;
        let mut u = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        for _ in 0..series {
            let v: Vec<Option<f64>> = (0..150)
                .map(|i| {
                    let g = (-2.0 * u().ln()).sqrt() * (2.0 * std::f64::consts::PI * u()).cos();
                    let week = if i % 7 >= 5 { 0.6 } else { 1.0 };
                    Some((100.0 + 0.2 * f64::from(i)) * week + 3.0 * g)
                })
                .collect();
            for t in 60..150 {
                let Some(b) = super::band(&v, t, window, 14) else { continue };
                zs.push((v[t].unwrap_or_default() - b.expected) / b.spread);
            }
        }
        let n = zs.len() as f64;
        let mean = zs.iter().sum::<f64>() / n;
        let sd = (zs.iter().map(|z| (z - mean).powi(2)).sum::<f64>() / n).sqrt();
        let over4 = zs.iter().filter(|z| z.abs() > 4.0).count() as f64 / n;
        (mean, sd, over4)
    }

    #[test]
    fn calibration_of_the_band() {
        let (mean, sd, over4) = deviations(60, 42);
        assert!(mean.abs() < 0.3, "bias {mean}");
        assert!((0.85..1.15).contains(&sd), "sd {sd}");
        assert!(over4 < 0.002, "{over4} of plain days beyond 4 spreads");
    }
}
