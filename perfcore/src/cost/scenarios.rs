//! Seeded daily cost series with what real bills have — a trend, a weekly cycle, noise, a
//! level shift, missing days, month-end charges — for backtesting forecasts
//! ([`forecast_series`](super::forecast_series)) and benchmarking them. The same spec and
//! seed always give the same series.
//!
//! # Examples
//! ```
//! use perfcore::cost::{Day, scenarios::ScenarioSpec};
//! let spec = ScenarioSpec { trend: 0.002, ..ScenarioSpec::steady(90) };
//! let start = Day::parse("2024-01-01").unwrap();
//! let a = spec.generate(start, 7);
//! assert_eq!(a.len(), 90);
//! assert_eq!(a, spec.generate(start, 7));
//! ```

use crate::regress::rng::Rng;

use super::time::Day;

/// What a generated series holds. Amounts are in units of `level` a day.
///
/// # Examples
/// ```
/// use perfcore::cost::{Day, scenarios::ScenarioSpec};
/// let spec = ScenarioSpec { missing: vec![3], noise: 0.0, ..ScenarioSpec::steady(14) };
/// let y = spec.generate(Day::parse("2024-01-01").unwrap(), 1); // a Monday
/// assert_eq!(y[3], None);
/// assert_eq!(y[0], Some(1000.0 * spec.weekly[0]));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioSpec {
    /// Days generated.
    pub days: usize,
    /// The daily cost on day 0 before the weekly cycle.
    pub level: f64,
    /// Growth per day as a fraction of `level` (0.001: +0.1% of the first day's level a day).
    pub trend: f64,
    /// Multipliers of the level by ISO weekday, Monday first.
    pub weekly: [f64; 7],
    /// Noise: the standard deviation of a normal error, as a fraction of `level`.
    pub noise: f64,
    /// From this day on, the level is higher by this fraction of `level` (a new cluster).
    pub level_shift: Option<(usize, f64)>,
    /// On the last day of each month, this fraction of `level` is added (0: none).
    pub month_end_spike: f64,
    /// Days without data (`None`).
    pub missing: Vec<usize>,
    /// Each week, each weekday's multiplier takes a normal step of this size (0: a fixed
    /// cycle; above 0 the cycle itself wanders, and last week is the best guess of this one).
    pub seasonal_walk: f64,
}

impl ScenarioSpec {
    /// A flat $1,000 a day, 25% lower at weekends, 3% noise, nothing else.
    #[must_use]
    pub fn steady(days: usize) -> ScenarioSpec {
        ScenarioSpec {
            days,
            level: 1000.0,
            trend: 0.0,
            weekly: [1.1, 1.1, 1.1, 1.1, 1.05, 0.78, 0.77],
            noise: 0.03,
            level_shift: None,
            month_end_spike: 0.0,
            missing: Vec::new(),
            seasonal_walk: 0.0,
        }
    }

    /// The series from `start`, with the noise of `seed`.
    #[must_use]
    pub fn generate(&self, start: Day, seed: u64) -> Vec<Option<f64>> {
        let mut rng = Rng::new(seed);
        let mut weekly = self.weekly;
        (0..self.days)
            .map(|t| {
                let day = Day(start.0 + t as i32);
                let weekday = (day.0 + 3).rem_euclid(7) as usize;
                if weekday == 0 && t > 0 && self.seasonal_walk > 0.0 {
                    for w in &mut weekly {
                        *w = (*w + self.seasonal_walk * rng.normal()).max(0.05);
                    }
                }
                let mut level = self.level * (1.0 + self.trend * t as f64);
                if let Some((from, size)) = self.level_shift
                    && t >= from
                {
                    level += size * self.level;
                }
                let mut v = level * weekly[weekday] + self.noise * self.level * rng.normal();
                if self.month_end_spike != 0.0 && day.next().month_start() == day.next() {
                    v += self.month_end_spike * self.level;
                }
                (!self.missing.contains(&t)).then_some(v)
            })
            .collect()
    }
}

/// The named scenarios of the backtest table (STATISTICS.md), a year each.
///
/// # Examples
/// ```
/// let names: Vec<&str> = perfcore::cost::scenarios::scenarios().iter().map(|(n, _)| *n).collect();
/// assert!(names.contains(&"combined"));
/// ```
#[must_use]
pub fn scenarios() -> Vec<(&'static str, ScenarioSpec)> {
    let year = 365;
    let steady = ScenarioSpec::steady(year);
    vec![
        ("steady", steady.clone()),
        ("trend", ScenarioSpec { trend: 0.0015, ..steady.clone() }),
        (
            "noisy",
            ScenarioSpec {
                noise: 0.15,
                trend: 0.001,
                weekly: [1.03, 1.03, 1.03, 1.03, 1.0, 0.94, 0.94],
                ..steady.clone()
            },
        ),
        ("level_shift", ScenarioSpec { level_shift: Some((200, 0.3)), ..steady.clone() }),
        ("late_level_shift", ScenarioSpec { level_shift: Some((330, 0.3)), ..steady.clone() }),
        ("month_end", ScenarioSpec { month_end_spike: 1.5, ..steady.clone() }),
        ("missing_days", ScenarioSpec { missing: vec![40, 41, 200, 340, 362], ..steady.clone() }),
        ("seasonal_walk", ScenarioSpec { seasonal_walk: 0.05, noise: 0.01, ..steady.clone() }),
        (
            "combined",
            ScenarioSpec {
                trend: 0.001,
                noise: 0.05,
                level_shift: Some((250, 0.2)),
                month_end_spike: 1.0,
                missing: vec![180],
                ..steady
            },
        ),
    ]
}
