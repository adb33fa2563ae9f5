//! Cost forecasts in money: each daily series of the store forecast with
//! [`forecast_series`](super::forecast_series), rounded to cents, with the horizon's total
//! and the month-end projection ("the month will end at X ± Y").

use std::fmt::Write as _;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::forecast::{Backtest, ForecastMethod, ForecastOptions, MIN_HISTORY_DAYS};
use super::{
    CostError, CostMetric, CostMonitor, Currency, DailySeries, Day, Dimension, ForecastSum, Money,
    Period, decimal_from_f64, forecast_series,
};
use crate::report::markdown::md_text;

/// What to forecast: how many days, grouped by what, which cost figure, and how.
///
/// # Examples
/// ```
/// use perfcore::cost::{CostMetric, Dimension, ForecastRequest};
/// let r = ForecastRequest::new(14).by(Dimension::Service).metric(CostMetric::Effective);
/// assert_eq!((r.days, r.by.len()), (14, 1));
/// assert_eq!(ForecastRequest::default().days, 30);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastRequest {
    /// Days forecast after the last day with data (1 to 3,660).
    pub days: u32,
    /// Forecast each group of these dimensions (none: the total).
    pub by: Vec<Dimension>,
    /// The cost figure (billed by default).
    pub metric: CostMetric,
    /// The method's options (their `horizon_days` is set from `days`).
    pub options: ForecastOptions,
}

impl Default for ForecastRequest {
    fn default() -> Self {
        ForecastRequest::new(30)
    }
}

impl ForecastRequest {
    /// The total's forecast for `days` days.
    #[must_use]
    pub fn new(days: u32) -> ForecastRequest {
        ForecastRequest {
            days,
            by: Vec::new(),
            metric: CostMetric::Billed,
            options: ForecastOptions::default(),
        }
    }

    /// Adds a dimension to group by.
    #[must_use]
    pub fn by(mut self, dimension: Dimension) -> ForecastRequest {
        self.by.push(dimension);
        self
    }

    /// Sets the cost figure.
    #[must_use]
    pub fn metric(mut self, metric: CostMetric) -> ForecastRequest {
        self.metric = metric;
        self
    }

    /// Sets the method's options (the interval level, the backtest, outliers).
    #[must_use]
    pub fn options(mut self, options: ForecastOptions) -> ForecastRequest {
        self.options = options;
        self
    }
}

/// An expected amount with its prediction interval.
///
/// # Examples
/// ```
/// use perfcore::cost::{Currency, Money, MoneyInterval};
/// let usd = |s: &str| Money::new(s.parse().unwrap(), Currency::USD);
/// let i = MoneyInterval { expected: usd("100"), lower: usd("90"), upper: usd("110") };
/// assert_eq!(i.half_width().to_string(), "10 USD");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyInterval {
    /// The expected amount.
    pub expected: Money,
    /// The interval's lower end.
    pub lower: Money,
    /// The interval's upper end.
    pub upper: Money,
}

impl MoneyInterval {
    /// Half the interval's width: the `Y` of "X ± Y".
    #[must_use]
    pub fn half_width(&self) -> Money {
        let w = self.upper.amount.saturating_sub(self.lower.amount) / Decimal::TWO;
        Money::new(w.normalize(), self.expected.currency)
    }
}

/// One day's forecast.
///
/// # Examples
/// ```
/// use perfcore::cost::{Currency, Day, ForecastPoint, Money};
/// let usd = |s: &str| Money::new(s.parse().unwrap(), Currency::USD);
/// let p = ForecastPoint { day: Day::parse("2024-10-01").unwrap(), expected: usd("20"), lower: usd("18"), upper: usd("22") };
/// assert!(p.lower.amount <= p.expected.amount);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForecastPoint {
    /// The day.
    pub day: Day,
    /// Its expected cost.
    pub expected: Money,
    /// The interval's lower end.
    pub lower: Money,
    /// The interval's upper end.
    pub upper: Money,
}

/// Where the month of the last day with data will end: the actual cost so far plus the
/// forecast of its remaining days.
///
/// # Examples
/// ```
/// # use perfcore::cost::{CostMonitor, ForecastRequest, ImportOptions};
/// # let mut monitor = CostMonitor::new()?;
/// # monitor.import("../tests/data/focus/focus_sample.csv", &ImportOptions::default())?;
/// let forecast = monitor.forecast(&ForecastRequest::new(30))?;
/// let m = &forecast.series[0].month_end;
/// // The sample ends on 2024-09-30: the month is over, and ends at its actual cost.
/// assert_eq!((m.remaining_days, m.actual_days), (0, 30));
/// assert_eq!(m.projected.expected, m.actual);
/// # Ok::<(), perfcore::cost::CostError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthEnd {
    /// The calendar month.
    pub month: Period,
    /// Its actual cost to the last day with data (rounded as the forecasts are).
    pub actual: Money,
    /// Days of it the series covers to that day.
    pub actual_days: u32,
    /// Days of it left to forecast.
    pub remaining_days: u32,
    /// The month's projected total and its interval.
    pub projected: MoneyInterval,
}

/// The forecast of one series (a group and a currency).
///
/// # Examples
/// ```
/// # use perfcore::cost::{CostMonitor, ForecastRequest, ImportOptions};
/// # let mut monitor = CostMonitor::new()?;
/// # monitor.import("../tests/data/focus/focus_sample.csv", &ImportOptions::default())?;
/// let forecast = monitor.forecast(&ForecastRequest::new(7))?;
/// let total = &forecast.series[0];
/// assert_eq!((total.name(), total.points.len()), ("total".to_owned(), 7));
/// assert!(total.total.lower.amount <= total.total.expected.amount);
/// # Ok::<(), perfcore::cost::CostError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesCostForecast {
    /// The group's value of each dimension (empty for the total).
    pub keys: Vec<String>,
    /// The currency.
    pub currency: Currency,
    /// The method used.
    pub method: ForecastMethod,
    /// Why.
    pub reason: String,
    /// The backtest on the series' own history.
    pub backtest: Option<Backtest>,
    /// Days of history (from the group's first day with a cost).
    pub history_days: usize,
    /// Days of it without data.
    pub missing_days: usize,
    /// Each day forecast.
    pub points: Vec<ForecastPoint>,
    /// The sum of the days forecast.
    pub total: MoneyInterval,
    /// The month of the last day with data, projected to its end.
    pub month_end: MonthEnd,
}

impl SeriesCostForecast {
    /// The group's name: its keys joined with ` / `, or `total`.
    #[must_use]
    pub fn name(&self) -> String {
        if self.keys.is_empty() { "total".to_owned() } else { self.keys.join(" / ") }
    }
}

/// A series that was not forecast: too little history.
///
/// # Examples
/// ```
/// use perfcore::cost::{CostMonitor, ForecastRequest};
/// let forecast = CostMonitor::new()?.forecast(&ForecastRequest::new(30))?;
/// assert_eq!(forecast.insufficient_history[0].days, 0);
/// assert_eq!(forecast.insufficient_history[0].name(), "total");
/// # Ok::<(), perfcore::cost::CostError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsufficientSeries {
    /// The group's value of each dimension (empty for the total).
    pub keys: Vec<String>,
    /// Its currency (None when the store has no data at all).
    pub currency: Option<Currency>,
    /// Days with data.
    pub days: usize,
    /// Days needed.
    pub needed: usize,
}

impl InsufficientSeries {
    /// The group's name: its keys joined with ` / `, or `total`.
    #[must_use]
    pub fn name(&self) -> String {
        if self.keys.is_empty() { "total".to_owned() } else { self.keys.join(" / ") }
    }
}

/// The cost forecast of the store: one series per group and currency.
///
/// # Examples
/// ```
/// use perfcore::cost::{CostMonitor, Dimension, ForecastRequest, ImportOptions};
/// let mut monitor = CostMonitor::new()?;
/// monitor.import("../tests/data/focus/focus_sample.csv", &ImportOptions::default())?;
/// let f = monitor.forecast(&ForecastRequest::new(30).by(Dimension::Service))?;
/// assert_eq!(f.as_of.unwrap().to_string(), "2024-09-30");
/// assert!(f.to_text().contains("(80% interval)"));
/// assert!(f.to_json().starts_with('{'));
/// # Ok::<(), perfcore::cost::CostError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostForecast {
    /// The last day with data: forecasts start the day after.
    pub as_of: Option<Day>,
    /// Days forecast.
    pub days: u32,
    /// The intervals' level.
    pub level: f64,
    /// The cost figure.
    pub metric: CostMetric,
    /// The dimensions grouped by.
    pub dimensions: Vec<String>,
    /// The series forecast, largest first.
    pub series: Vec<SeriesCostForecast>,
    /// The series with too little history to forecast.
    pub insufficient_history: Vec<InsufficientSeries>,
}

/// An amount from a float, rounded by [`round_amount`].
fn money(x: f64, currency: Currency) -> Result<Money, CostError> {
    let d = decimal_from_f64(x).ok_or(CostError::Overflow)?;
    Ok(Money::new(round_amount(d), currency))
}

/// Cents from a dollar (or euro…) up, four significant digits below (a service costing
/// $0.0042 a day is not forecast at $0.00).
fn round_amount(d: Decimal) -> Decimal {
    let d = if d.abs() >= Decimal::ONE {
        d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
    } else {
        d.round_sf(4).unwrap_or(d).round_dp(8)
    };
    d.normalize()
}

fn interval(s: ForecastSum, c: Currency) -> Result<MoneyInterval, CostError> {
    Ok(MoneyInterval {
        expected: money(s.expected, c)?,
        lower: money(s.lower, c)?,
        upper: money(s.upper, c)?,
    })
}

impl CostMonitor {
    /// Forecasts the daily cost after the last day with data: the total, or each group of
    /// `request.by`, with 80% intervals (see [`forecast_series`] for the method), the
    /// horizon's total and the month-end projection.
    ///
    /// A group's history starts on its first day with a cost (the zeros before a service
    /// existed are not history); groups with fewer than [`MIN_HISTORY_DAYS`] days of it are
    /// listed in [`CostForecast::insufficient_history`], not forecast.
    ///
    /// # Errors
    /// [`CostError::Invalid`] for options out of range or a time dimension in `by`; the
    /// store's errors.
    ///
    /// # Examples
    /// ```
    /// use perfcore::cost::{CostMonitor, ForecastRequest, ImportOptions};
    /// let mut monitor = CostMonitor::new()?;
    /// monitor.import("../tests/data/focus/focus_sample.csv", &ImportOptions::default())?;
    /// let f = monitor.forecast(&ForecastRequest::new(30))?;
    /// let total = &f.series[0];
    /// assert_eq!(total.points[0].day.to_string(), "2024-10-01");
    /// assert!(total.total.upper.amount >= total.total.expected.amount);
    /// # Ok::<(), perfcore::cost::CostError>(())
    /// ```
    pub fn forecast(&self, request: &ForecastRequest) -> Result<CostForecast, CostError> {
        let mut out = CostForecast {
            as_of: None,
            days: request.days,
            level: request.options.level,
            metric: request.metric,
            dimensions: request.by.iter().map(ToString::to_string).collect(),
            series: Vec::new(),
            insufficient_history: Vec::new(),
        };
        let options = request.options.clone().horizon_days(request.days);
        options.validate()?;
        let all = self.daily_series(Period::all(), &request.by, request.metric)?;
        if all.is_empty() {
            out.insufficient_history.push(InsufficientSeries {
                keys: Vec::new(),
                currency: None,
                days: 0,
                needed: MIN_HISTORY_DAYS,
            });
            return Ok(out);
        }
        for s in &all {
            out.as_of = Some(out.as_of.map_or(s.end(), |d: Day| d.max(s.end())));
            match forecast_one(s, &options)? {
                Ok(f) => out.series.push(f),
                Err(i) => out.insufficient_history.push(i),
            }
        }
        Ok(out)
    }
}

/// The forecast of one series, or why there is none.
fn forecast_one(
    s: &DailySeries,
    options: &ForecastOptions,
) -> Result<Result<SeriesCostForecast, InsufficientSeries>, CostError> {
    let mut values = s.to_f64();
    // Before the group's first cost it did not exist yet: no history, not zero spend.
    for v in values.iter_mut() {
        match v {
            Some(x) if *x == 0.0 => *v = None,
            Some(_) => break,
            None => {}
        }
    }
    let as_of = s.end();
    let month = Period::month_of(as_of);
    let remaining = u32::try_from(month.to.0 - as_of.0).unwrap_or(0);
    let horizon = options.horizon_days.max(remaining);
    let f = match forecast_series(&values, &options.clone().horizon_days(horizon.max(1))) {
        Ok(f) => f,
        Err(CostError::InsufficientHistory { days, needed }) => {
            return Ok(Err(InsufficientSeries {
                keys: s.keys.clone(),
                currency: Some(s.currency),
                days,
                needed,
            }));
        }
        Err(e) => return Err(e),
    };
    let c = s.currency;
    let days = options.horizon_days as usize;
    let mut points = Vec::with_capacity(days);
    for i in 0..days {
        points.push(ForecastPoint {
            day: Day(as_of.0 + 1 + i as i32),
            expected: money(f.mean[i], c)?,
            lower: money(f.lower[i], c)?,
            upper: money(f.upper[i], c)?,
        });
    }
    let total = interval(f.sum(days)?, c)?;
    let to_date = Period { from: month.from.max(s.start), to: as_of };
    let exact = s.sum(to_date)?;
    let actual = Money::new(round_amount(exact.amount), c);
    let rest = f.sum(remaining as usize)?;
    let add = |x: f64| -> Result<Money, CostError> {
        let m = money(x, c)?;
        actual.checked_add(m)
    };
    let projected = if remaining == 0 {
        MoneyInterval { expected: actual, lower: actual, upper: actual }
    } else {
        MoneyInterval {
            expected: add(rest.expected)?,
            lower: add(rest.lower)?,
            upper: add(rest.upper)?,
        }
    };
    let actual_days = u32::try_from(to_date.days()).unwrap_or(0);
    Ok(Ok(SeriesCostForecast {
        keys: s.keys.clone(),
        currency: c,
        method: f.method,
        reason: f.reason.clone(),
        backtest: f.backtest.clone(),
        history_days: f.history_days,
        missing_days: f.missing_days,
        points,
        total,
        month_end: MonthEnd { month, actual, actual_days, remaining_days: remaining, projected },
    }))
}

fn cents(m: &Money) -> String {
    format!("{} {}", m.amount, m.currency)
}

fn pct(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

fn backtest_text(b: Option<&Backtest>) -> String {
    let opt = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"));
    match b {
        Some(b) => format!(
            "backtest {} origins × {} days: MASE {} (Holt-Winters {}, seasonal naive {}), {} interval covered {} of {} days",
            b.origins,
            b.horizon,
            opt(b.mase),
            opt(b.holt_winters.mase),
            opt(b.seasonal_naive.mase),
            pct(b.level),
            pct(b.coverage),
            b.points
        ),
        None => "no backtest (history too short)".to_owned(),
    }
}

impl CostForecast {
    /// The forecast for people: per series the horizon's total, the method and its backtest,
    /// the month-end projection; the days of the total when it is the only series.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::cost::{CostMonitor, ForecastRequest, ImportOptions};
    /// # let mut monitor = CostMonitor::new()?;
    /// # monitor.import("../tests/data/focus/focus_sample.csv", &ImportOptions::default())?;
    /// let text = monitor.forecast(&ForecastRequest::new(30))?.to_text();
    /// assert!(text.contains("the month 2024-09 ends at"), "{text}");
    /// # Ok::<(), perfcore::cost::CostError>(())
    /// ```
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let level = pct(self.level);
        match self.as_of {
            Some(d) => {
                let by = if self.dimensions.is_empty() {
                    String::new()
                } else {
                    format!(" by {}", self.dimensions.join(", "))
                };
                let _ = writeln!(
                    s,
                    "{} cost forecast{by}: {} days after {d} ({level} interval)",
                    self.metric, self.days
                );
            }
            None => {
                let _ = writeln!(s, "{} cost forecast: no cost data yet", self.metric);
            }
        }
        for f in &self.series {
            let t = &f.total;
            let _ = writeln!(
                s,
                "\n{}: {} expected over {} days ({level}: {} to {})",
                f.name(),
                cents(&t.expected),
                self.days,
                cents(&t.lower),
                cents(&t.upper)
            );
            let m = &f.month_end;
            let month = &m.month.from.to_string()[..7];
            if m.remaining_days == 0 {
                let _ = writeln!(
                    s,
                    "  the month {month} ends at {} (actual, complete)",
                    cents(&m.actual)
                );
            } else {
                let _ = writeln!(
                    s,
                    "  the month {month} ends at {} ± {} ({} actual over {} days + {} forecast)",
                    cents(&m.projected.expected),
                    cents(&m.projected.half_width()),
                    cents(&m.actual),
                    m.actual_days,
                    if m.remaining_days == 1 {
                        "1 day".to_owned()
                    } else {
                        format!("{} days", m.remaining_days)
                    }
                );
            }
            let _ = writeln!(s, "  method: {}: {}", f.method, f.reason);
            let _ = writeln!(s, "  {}", backtest_text(f.backtest.as_ref()));
            if f.missing_days > 0 {
                let _ = writeln!(
                    s,
                    "  {} of {} days of history had no data (skipped, not read as zero)",
                    f.missing_days, f.history_days
                );
            }
        }
        if let [only] = self.series.as_slice() {
            let _ = writeln!(
                s,
                "\n{:>10}  {:>14}  {:>14}  {:>14}",
                "day", "expected", "lower", "upper"
            );
            for p in &only.points {
                let _ = writeln!(
                    s,
                    "{}  {:>14}  {:>14}  {:>14}",
                    p.day, p.expected.amount, p.lower.amount, p.upper.amount
                );
            }
        }
        if !self.insufficient_history.is_empty() {
            let _ = writeln!(
                s,
                "\ninsufficient history (fewer than {MIN_HISTORY_DAYS} days with data; not forecast):"
            );
            for i in &self.insufficient_history {
                let name = i.name();
                let _ = writeln!(s, "  {name}: {} days", i.days);
            }
        }
        s
    }

    /// The forecast as a Markdown table, one row per series.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::cost::{CostMonitor, ForecastRequest, ImportOptions};
    /// # let mut monitor = CostMonitor::new()?;
    /// # monitor.import("../tests/data/focus/focus_sample.csv", &ImportOptions::default())?;
    /// let md = monitor.forecast(&ForecastRequest::new(30))?.to_markdown();
    /// assert!(md.contains("| total |"), "{md}");
    /// # Ok::<(), perfcore::cost::CostError>(())
    /// ```
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let level = pct(self.level);
        let mut s = format!(
            "| series | next {} days | {level} interval | month end | method | MASE | coverage |\n|---|---:|---:|---:|---|---:|---:|\n",
            self.days
        );
        for f in &self.series {
            let bt = f.backtest.as_ref();
            let _ = writeln!(
                s,
                "| {} | {} | {} – {} | {} ± {} | {} | {} | {} |",
                md_text(&f.name()),
                cents(&f.total.expected),
                f.total.lower.amount,
                f.total.upper.amount,
                cents(&f.month_end.projected.expected),
                f.month_end.projected.half_width().amount,
                f.method.name(),
                bt.and_then(|b| b.mase).map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}")),
                bt.map_or_else(|| "n/a".to_owned(), |b| pct(b.coverage)),
            );
        }
        for i in &self.insufficient_history {
            let name = i.name();
            let _ = writeln!(
                s,
                "| {} | insufficient history: {} of {} days | | | | | |",
                md_text(&name),
                i.days,
                i.needed
            );
        }
        s
    }

    /// The whole forecast as JSON (amounts as decimal strings).
    ///
    /// # Examples
    /// ```
    /// # use perfcore::cost::{CostMonitor, ForecastRequest};
    /// let json = CostMonitor::new()?.forecast(&ForecastRequest::new(30))?.to_json();
    /// assert!(json.contains("\"insufficient_history\""));
    /// # Ok::<(), perfcore::cost::CostError>(())
    /// ```
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::scenarios::ScenarioSpec;
    use crate::cost::synthetic::{SyntheticRow, focus_csv};

    fn monitor_of(rows: &[SyntheticRow]) -> CostMonitor {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("perfcore-forecast-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bill.csv");
        std::fs::write(&path, focus_csv(rows)).unwrap();
        let mut m = CostMonitor::new().unwrap();
        m.import(&path, &Default::default()).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        m
    }

    fn rows(service: &str, start: Day, values: &[Option<f64>]) -> Vec<SyntheticRow> {
        values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let v = (*v)?;
                let cost = decimal_from_f64((v * 100.0).round() / 100.0)?;
                Some(SyntheticRow::new(
                    Day(start.0 + i as i32),
                    service,
                    &format!("{service}-1"),
                    cost,
                ))
            })
            .collect()
    }

    #[test]
    fn the_month_ends_at_actual_plus_forecast() {
        let start = Day::from_ymd(2024, 6, 1).unwrap();
        // Data to 2024-09-20: ten days of September left.
        let days = (Day::from_ymd(2024, 9, 20).unwrap().0 - start.0 + 1) as usize;
        let y = ScenarioSpec::steady(days).generate(start, 4);
        let mut all = rows("checkout", start, &y);
        // A new service with five days of history: listed, not guessed.
        let late = Day(start.0 + days as i32 - 5);
        all.extend(rows("search", late, &[Some(3.0); 5]));
        let m = monitor_of(&all);
        let f = m.forecast(&ForecastRequest::new(30).by(Dimension::Service)).unwrap();
        assert_eq!(f.as_of.unwrap().to_string(), "2024-09-20");
        assert_eq!(f.series.len(), 1);
        assert_eq!(f.insufficient_history.len(), 1);
        assert_eq!(
            (f.insufficient_history[0].keys[0].as_str(), f.insufficient_history[0].days),
            ("search", 5)
        );
        let s = &f.series[0];
        let me = &s.month_end;
        assert_eq!((me.actual_days, me.remaining_days), (20, 10));
        let actual: f64 = y[days - 20..].iter().map(|v| (v.unwrap() * 100.0).round() / 100.0).sum();
        assert!((me.actual.amount.to_string().parse::<f64>().unwrap() - actual).abs() < 0.01);
        // Actual + the first ten days' sum; the band is narrower than the 30 days'.
        let first_ten: Decimal = s.points[..10].iter().map(|p| p.expected.amount).sum();
        let expect = me.actual.amount + first_ten;
        assert!(
            (me.projected.expected.amount - expect).abs() < Decimal::new(5, 2),
            "{expect} {:?}",
            me.projected
        );
        assert!(me.projected.lower.amount < me.projected.expected.amount);
        assert!(me.projected.half_width().amount < s.total.half_width().amount);
        let text = f.to_text();
        assert!(
            text.contains("the month 2024-09 ends at") && text.contains("search: 5 days"),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(&f.to_json()).unwrap();
        assert_eq!(json["series"][0]["points"].as_array().unwrap().len(), 30);
        assert_eq!(json["insufficient_history"][0]["days"], 5);
        assert!(f.to_markdown().contains("insufficient history: 5 of 14 days"));
    }

    #[test]
    fn the_sample_is_forecast_from_its_thirty_days() {
        let mut m = CostMonitor::new().unwrap();
        m.import(crate::cost::tests::SAMPLE, &Default::default()).unwrap();
        let f = m.forecast(&ForecastRequest::new(30)).unwrap();
        let t = &f.series[0];
        assert_eq!(t.history_days, 30);
        assert!(t.backtest.is_some());
        assert!(
            t.total.lower.amount <= t.total.expected.amount
                && t.total.expected.amount <= t.total.upper.amount
        );
        assert!(m.forecast(&ForecastRequest::new(0)).is_err());
        assert!(m.forecast(&ForecastRequest::new(5).by(Dimension::Day)).is_err());
    }
}
