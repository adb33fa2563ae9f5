//! Daily cost series: what forecasts, anomaly detection and budgets read.
//!
//! A series has one value per day. A day the store holds no data for at all (no import
//! covered it) is a gap, `None`: the forecaster and the anomaly detector skip it rather than
//! read it as zero spend. A day with data, but none for the series' key, is a zero: the
//! service spent nothing that day.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::aggregate::FxMap;
use super::breakdown::GroupKeys;
use super::time::Day;
use super::{CostError, CostMetric, CostMonitor, Currency, Dimension, Money, Period};

/// The daily cost of one group (a service, an account, a tag's value… or everything).
///
/// # Examples
/// ```
/// use perfcore::cost::{Currency, DailySeries, Day};
/// let s = DailySeries {
///     keys: vec!["checkout".into()],
///     currency: Currency::USD,
///     start: Day::parse("2024-09-01").unwrap(),
///     values: vec![Some("1.5".parse().unwrap()), None, Some("2".parse().unwrap())],
/// };
/// assert_eq!(s.end().to_string(), "2024-09-03");
/// assert_eq!(s.to_f64(), vec![Some(1.5), None, Some(2.0)]);
/// assert_eq!(s.days_with_data(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailySeries {
    /// The group's value of each dimension asked for (empty for the total).
    pub keys: Vec<String>,
    /// The currency of every value (the target currency when exchange rates are set).
    pub currency: Currency,
    /// The first day.
    pub start: Day,
    /// One value per day from `start`; `None` where the store has no data for the day.
    pub values: Vec<Option<Decimal>>,
}

impl DailySeries {
    /// The last day (the day before `start` for an empty series).
    #[must_use]
    pub fn end(&self) -> Day {
        Day(self.start.0 + self.values.len() as i32 - 1)
    }

    /// The day of index `i`.
    #[must_use]
    pub fn day(&self, i: usize) -> Day {
        Day(self.start.0 + i as i32)
    }

    /// The values as floating point, for the statistics.
    #[must_use]
    pub fn to_f64(&self) -> Vec<Option<f64>> {
        use rust_decimal::prelude::ToPrimitive;
        self.values.iter().map(|v| v.and_then(|d| d.to_f64())).collect()
    }

    /// How many days have data.
    #[must_use]
    pub fn days_with_data(&self) -> usize {
        self.values.iter().filter(|v| v.is_some()).count()
    }

    /// The sum of the days of `period` that have data.
    pub fn sum(&self, period: Period) -> Result<Money, CostError> {
        let mut total = Decimal::ZERO;
        for (i, v) in self.values.iter().enumerate() {
            if let Some(v) = v
                && period.contains(self.day(i))
            {
                total = total.checked_add(*v).ok_or(CostError::Overflow)?;
            }
        }
        Ok(Money::new(total, self.currency))
    }

    /// The group's name for people: its keys joined with ` / `, or `total`.
    #[must_use]
    pub fn name(&self) -> String {
        if self.keys.is_empty() { "total".to_owned() } else { self.keys.join(" / ") }
    }
}

impl CostMonitor {
    /// The last `days` days that have data (fewer when the data is shorter; at least one),
    /// or `None` without data.
    ///
    /// # Examples
    /// ```
    /// use perfcore::cost::CostMonitor;
    /// let mut monitor = CostMonitor::new()?;
    /// assert_eq!(monitor.last_days(7)?, None);
    /// monitor.import("../tests/data/focus/focus_sample.csv", &Default::default())?;
    /// assert_eq!(monitor.last_days(7)?.unwrap().to_string(), "2024-09-24..2024-09-30");
    /// assert_eq!(monitor.last_days(365)?.unwrap().to_string(), "2024-09-01..2024-09-30");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn last_days(&self, days: u32) -> Result<Option<Period>, CostError> {
        let Some(data) = self.data_range()? else { return Ok(None) };
        let n = i32::try_from(days.max(1)).unwrap_or(i32::MAX / 4);
        Ok(Some(Period { from: Day(data.to.0 - n + 1).max(data.from), to: data.to }))
    }

    /// The daily cost of `period` (clamped to the days that have data), one series per group
    /// of `by` (none: one series, the total) and currency.
    ///
    /// Every series spans the same days, from the first day with data in the period to the
    /// last. With exchange rates set ([`CostMonitor::set_exchange_rates`]) amounts are
    /// converted to the target currency; without them each currency is a series of its own.
    /// Series come sorted by their total, largest first.
    ///
    /// # Examples
    /// ```
    /// use perfcore::cost::{CostMetric, CostMonitor, Dimension, Period};
    /// let mut monitor = CostMonitor::new()?;
    /// monitor.import("../tests/data/focus/focus_sample.csv", &Default::default())?;
    /// let by_service = monitor.daily_series(Period::all(), &[Dimension::Service], CostMetric::Billed)?;
    /// let first = &by_service[0];
    /// assert_eq!(first.keys.len(), 1);
    /// assert!(first.values.len() >= first.days_with_data());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn daily_series(
        &self,
        period: Period,
        by: &[Dimension],
        metric: CostMetric,
    ) -> Result<Vec<DailySeries>, CostError> {
        if by.iter().any(|d| {
            matches!(
                d,
                Dimension::Day | Dimension::Week | Dimension::Month | Dimension::BillingPeriod
            )
        }) {
            return Err(CostError::Invalid {
                what: "series dimensions",
                message: "a daily series is already by day: group it by something else".into(),
            });
        }
        let Some(range) = self.data_range()? else { return Ok(Vec::new()) };
        let from = period.from.max(range.from);
        let to = period.to.min(range.to);
        if to < from {
            return Ok(Vec::new());
        }
        let period = Period { from, to };
        // Straight from the aggregates: each dims id's keys once, no day formatted as text.
        let data = self.data(period, metric, by)?;
        let len = usize::try_from(period.days()).map_err(|_| CostError::Overflow)?;
        let mut has_data = vec![false; len];
        let mut interned = GroupKeys::new(by);
        let mut groups: FxMap<(u32, Currency), Vec<Decimal>> = FxMap::default();
        for row in data.rows.iter().filter(|r| period.contains(r.day)) {
            let Some((gid, currency)) = interned.of(&data, row.dims) else { continue };
            let i = (row.day.0 - from.0) as usize;
            has_data[i] = true;
            let money = match self.rates() {
                Some(rates) => rates.convert(Money::new(row.amount, currency))?,
                None => Money::new(row.amount, currency),
            };
            let values =
                groups.entry((gid, money.currency)).or_insert_with(|| vec![Decimal::ZERO; len]);
            values[i] = values[i].checked_add(money.amount).ok_or(CostError::Overflow)?;
        }
        let groups: BTreeMap<(Vec<String>, Currency), Vec<Decimal>> = groups
            .into_iter()
            .map(|((gid, c), v)| ((interned.keys[gid as usize].clone(), c), v))
            .collect();
        let mut out: Vec<(Decimal, DailySeries)> = groups
            .into_iter()
            .map(|((keys, currency), values)| {
                let total = values.iter().fold(Decimal::ZERO, |a, v| a.saturating_add(*v));
                let values =
                    values.into_iter().zip(&has_data).map(|(v, &h)| h.then_some(v)).collect();
                (total, DailySeries { keys, currency, start: from, values })
            })
            .collect();
        out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.keys.cmp(&b.1.keys)));
        Ok(out.into_iter().map(|(_, s)| s).collect())
    }
}
