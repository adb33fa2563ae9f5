//! Budgets: an amount per period over a scope of the bill, with thresholds on the actual
//! spend and on the forecast of the period's end, each firing once per period.
//!
//! A check ([`CostMonitor::check_budgets`]) reads each budget's scope as one daily series,
//! sums the period so far (up to the last day with data), forecasts the rest of the period
//! with [`forecast_series`](super::forecast_series) (the end of the period is the actual
//! spend so far plus the forecast sum of the remaining days, with its interval), and fires
//! every threshold crossed that has not fired in this period yet. Which thresholds fired is
//! kept in the store (`budget_alerts`, keyed by budget, period and threshold), so a threshold
//! fires once per period even across processes and restarts, and a check run twice fires
//! nothing new.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use super::series::DailySeries;
use super::time::Day;
use super::{
    CostError, CostMetric, CostMonitor, Currency, Dimension, ForecastOptions, Money, Period,
    decimal_from_f64, forecast_series,
};

/// The period a budget's amount is for.
///
/// # Examples
/// ```
/// use perfcore::cost::{BudgetPeriod, Day};
/// let day = Day::parse("2024-08-14").unwrap();
/// assert_eq!(BudgetPeriod::Monthly.of(day).to_string(), "2024-08-01..2024-08-31");
/// assert_eq!(BudgetPeriod::Quarterly.of(day).to_string(), "2024-07-01..2024-09-30");
/// assert_eq!("yearly".parse::<BudgetPeriod>().unwrap(), BudgetPeriod::Yearly);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetPeriod {
    /// An ISO week, Monday to Sunday.
    Weekly,
    /// A calendar month.
    Monthly,
    /// A calendar quarter.
    Quarterly,
    /// A calendar year.
    Yearly,
}

impl BudgetPeriod {
    /// The period of this kind that holds `day`.
    #[must_use]
    pub fn of(self, day: Day) -> Period {
        let (y, m, _) = day.ymd();
        let months = |first: u32, n: u32| {
            let from = Day::from_ymd(y, first, 1).unwrap_or(day);
            let mut end = from;
            for _ in 0..n {
                end = end.next_month_start();
            }
            Period { from, to: Day(end.0 - 1) }
        };
        match self {
            BudgetPeriod::Weekly => Period::week_of(day),
            BudgetPeriod::Monthly => Period::month_of(day),
            BudgetPeriod::Quarterly => months((m - 1) / 3 * 3 + 1, 3),
            BudgetPeriod::Yearly => months(1, 12),
        }
    }
}

impl fmt::Display for BudgetPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BudgetPeriod::Weekly => "weekly",
            BudgetPeriod::Monthly => "monthly",
            BudgetPeriod::Quarterly => "quarterly",
            BudgetPeriod::Yearly => "yearly",
        })
    }
}

impl FromStr for BudgetPeriod {
    type Err = CostError;
    fn from_str(s: &str) -> Result<BudgetPeriod, CostError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "weekly" | "week" => Ok(BudgetPeriod::Weekly),
            "monthly" | "month" => Ok(BudgetPeriod::Monthly),
            "quarterly" | "quarter" => Ok(BudgetPeriod::Quarterly),
            "yearly" | "year" | "annual" | "annually" => Ok(BudgetPeriod::Yearly),
            other => Err(CostError::Invalid {
                what: "budget period",
                message: format!("{other:?} is not weekly, monthly, quarterly or yearly"),
            }),
        }
    }
}

/// What a threshold compares with the budget: the spend so far, or the forecast of the
/// period's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdBasis {
    /// The spend so far in the period.
    Actual,
    /// The expected spend at the period's end (spend so far + forecast of the rest).
    Forecast,
}

/// A share of the budget that raises an alert when the actual or forecast spend reaches it.
///
/// # Examples
/// ```
/// use perfcore::cost::{BudgetThreshold, ThresholdBasis};
/// let t: BudgetThreshold = "100:forecast".parse().unwrap();
/// assert_eq!(t, BudgetThreshold::new("100".parse().unwrap(), ThresholdBasis::Forecast));
/// assert_eq!(t.to_string(), "100% forecast");
/// assert_eq!("80%".parse::<BudgetThreshold>().unwrap().to_string(), "80% actual");
/// assert!("eighty".parse::<BudgetThreshold>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BudgetThreshold {
    /// Percent of the budget's amount (80 for 80%).
    pub percent: Decimal,
    /// Compared with the actual or the forecast spend.
    pub basis: ThresholdBasis,
}

impl BudgetThreshold {
    /// `percent`% of the budget on `basis`.
    #[must_use]
    pub fn new(percent: Decimal, basis: ThresholdBasis) -> BudgetThreshold {
        BudgetThreshold { percent, basis }
    }
}

impl fmt::Display for BudgetThreshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let basis = match self.basis {
            ThresholdBasis::Actual => "actual",
            ThresholdBasis::Forecast => "forecast",
        };
        write!(f, "{}% {basis}", self.percent.normalize())
    }
}

impl FromStr for BudgetThreshold {
    type Err = CostError;
    /// `80`, `80%`, `80:actual`, `100:forecast`, `100% forecast`.
    fn from_str(s: &str) -> Result<BudgetThreshold, CostError> {
        let t = s.trim();
        let (number, basis) = match t.find([':', ' ']) {
            Some(i) => (&t[..i], t[i + 1..].trim()),
            None => (t, "actual"),
        };
        let basis = match basis.to_ascii_lowercase().as_str() {
            "actual" => ThresholdBasis::Actual,
            "forecast" => ThresholdBasis::Forecast,
            other => {
                return Err(CostError::Invalid {
                    what: "budget threshold",
                    message: format!("{s:?}: the basis {other:?} is not actual or forecast"),
                });
            }
        };
        let number = number.trim().trim_end_matches('%');
        let percent: Decimal = number.parse().map_err(|_| CostError::Invalid {
            what: "budget threshold",
            message: format!(
                "{s:?}: {number:?} is not a percentage (write 80, 80% or 100:forecast)"
            ),
        })?;
        if percent <= Decimal::ZERO {
            return Err(CostError::Invalid {
                what: "budget threshold",
                message: format!("{s:?}: a threshold must be above 0%"),
            });
        }
        Ok(BudgetThreshold { percent, basis })
    }
}

/// One condition on the bill's rows a budget covers: a dimension and the value it must have.
///
/// # Examples
/// ```
/// use perfcore::cost::{BudgetScope, Dimension};
/// let s: BudgetScope = "tag:team=web".parse().unwrap();
/// assert_eq!(s, BudgetScope::new(Dimension::Tag("team".into()), "web"));
/// assert_eq!(s.to_string(), "tag:team=web");
/// assert!("service".parse::<BudgetScope>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BudgetScope {
    /// The dimension (service, provider, account, region, `tag:KEY`…).
    pub dimension: Dimension,
    /// The value it must have, as breakdowns show it.
    pub value: String,
}

impl BudgetScope {
    /// Rows whose `dimension` is `value`.
    #[must_use]
    pub fn new(dimension: Dimension, value: impl Into<String>) -> BudgetScope {
        BudgetScope { dimension, value: value.into() }
    }
}

impl fmt::Display for BudgetScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.dimension, self.value)
    }
}

impl FromStr for BudgetScope {
    type Err = CostError;
    /// `DIMENSION=VALUE`: `service=Amazon EC2`, `provider=AWS`, `tag:team=web`.
    fn from_str(s: &str) -> Result<BudgetScope, CostError> {
        let Some((dim, value)) = s.split_once('=') else {
            return Err(CostError::Invalid {
                what: "budget scope",
                message: format!("{s:?} is not DIMENSION=VALUE (service=EC2, tag:team=web)"),
            });
        };
        let dimension: Dimension = dim.parse()?;
        if matches!(
            dimension,
            Dimension::Day | Dimension::Week | Dimension::Month | Dimension::BillingPeriod
        ) {
            return Err(CostError::Invalid {
                what: "budget scope",
                message: format!("{s:?}: a budget's period is its own; scope it by something else"),
            });
        }
        Ok(BudgetScope { dimension, value: value.trim().to_owned() })
    }
}

/// An amount of money per period over a scope, with alert thresholds.
///
/// Without thresholds, a budget alerts at 80% of the actual spend and 100% of the forecast,
/// as AWS Budgets' and Azure's defaults suggest.
///
/// # Examples
/// ```
/// use perfcore::cost::{Budget, BudgetPeriod, Currency, Dimension, Money};
/// let b = Budget::new("web", Money::new("1000".parse().unwrap(), Currency::USD), BudgetPeriod::Monthly)
///     .scope(Dimension::Tag("team".into()), "web")
///     .threshold("50:actual".parse().unwrap());
/// assert_eq!(b.thresholds.len(), 1);
/// assert_eq!(b.describe(), "web: 1000 USD monthly for tag:team=web; alerts at 50% actual");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Its name (unique in a store).
    pub name: String,
    /// The amount per period.
    pub amount: Money,
    /// The period.
    pub period: BudgetPeriod,
    /// The conditions the rows it covers meet, all of them (none: the whole bill).
    #[serde(default)]
    pub scope: Vec<BudgetScope>,
    /// The thresholds.
    pub thresholds: Vec<BudgetThreshold>,
    /// The cost figure it counts (default billed).
    #[serde(default = "billed")]
    pub metric: CostMetric,
}

fn billed() -> CostMetric {
    CostMetric::Billed
}

impl Budget {
    /// A budget of `amount` per `period` over the whole bill, alerting at 80% actual and
    /// 100% forecast.
    #[must_use]
    pub fn new(name: impl Into<String>, amount: Money, period: BudgetPeriod) -> Budget {
        Budget {
            name: name.into(),
            amount,
            period,
            scope: Vec::new(),
            thresholds: vec![
                BudgetThreshold::new(Decimal::from(80), ThresholdBasis::Actual),
                BudgetThreshold::new(Decimal::ONE_HUNDRED, ThresholdBasis::Forecast),
            ],
            metric: CostMetric::Billed,
        }
    }

    /// Narrows it to rows whose `dimension` is `value` (conditions add up: all must hold).
    #[must_use]
    pub fn scope(mut self, dimension: Dimension, value: impl Into<String>) -> Budget {
        self.scope.push(BudgetScope::new(dimension, value));
        self
    }

    /// Adds a threshold; the first one given replaces the default pair.
    #[must_use]
    pub fn threshold(mut self, threshold: BudgetThreshold) -> Budget {
        if self.thresholds == Budget::new("", self.amount, self.period).thresholds {
            self.thresholds.clear();
        }
        if !self.thresholds.contains(&threshold) {
            self.thresholds.push(threshold);
        }
        self
    }

    /// Sets the cost figure it counts.
    #[must_use]
    pub fn metric(mut self, metric: CostMetric) -> Budget {
        self.metric = metric;
        self
    }

    /// One line for people.
    #[must_use]
    pub fn describe(&self) -> String {
        let scope = if self.scope.is_empty() {
            "the whole bill".to_owned()
        } else {
            self.scope.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        };
        let at: Vec<String> = self.thresholds.iter().map(ToString::to_string).collect();
        format!(
            "{}: {} {} for {scope}; alerts at {}",
            self.name,
            self.amount,
            self.period,
            at.join(", ")
        )
    }

    fn validate(&self) -> Result<(), CostError> {
        let bad = |message: String| Err(CostError::Invalid { what: "budget", message });
        if self.name.trim().is_empty() {
            return bad("its name is empty".into());
        }
        if self.amount.amount <= Decimal::ZERO {
            return bad(format!("{}: the amount {} is not above zero", self.name, self.amount));
        }
        if self.thresholds.is_empty() {
            return bad(format!("{}: no thresholds", self.name));
        }
        Ok(())
    }
}

/// A threshold crossed: what a budget alert callback receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetAlert {
    /// The budget's name.
    pub budget: String,
    /// The period.
    pub period: Period,
    /// The last day of data the check read.
    pub as_of: Day,
    /// The threshold crossed.
    pub threshold: BudgetThreshold,
    /// The budget's amount.
    pub amount: Money,
    /// The spend so far in the period.
    pub actual: Money,
    /// The expected spend at the period's end, when there is enough history to forecast it.
    pub forecast: Option<Money>,
    /// The spend the threshold compared (`actual` or `forecast`) as a percentage of `amount`.
    pub percent: f64,
    /// What happened, for people.
    pub message: String,
}

/// The forecast of a budget period's end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeriodForecast {
    /// Spend so far + the forecast of the remaining days.
    pub expected: Money,
    /// The interval's lower end.
    pub lower: Money,
    /// The interval's upper end.
    pub upper: Money,
    /// The interval's level (0.8).
    pub level: f64,
    /// The forecasting method used.
    pub method: String,
    /// Days of the period left to forecast.
    pub remaining_days: u32,
}

/// Where a budget stands after a check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetStatus {
    /// The budget.
    pub budget: Budget,
    /// The current period.
    pub period: Period,
    /// The last day of data read.
    pub as_of: Day,
    /// The spend so far.
    pub actual: Money,
    /// `actual` as a percentage of the amount.
    pub percent: f64,
    /// The forecast of the period's end.
    pub forecast: Option<PeriodForecast>,
    /// Why there is no forecast, when there is none.
    pub forecast_note: Option<String>,
    /// The thresholds crossed now (fired in this check or before).
    pub crossed: Vec<BudgetThreshold>,
    /// The alerts this check fired (each threshold fires once per period).
    pub new_alerts: Vec<BudgetAlert>,
}

impl BudgetStatus {
    /// One line for people.
    #[must_use]
    pub fn describe(&self) -> String {
        let forecast = match (&self.forecast, &self.forecast_note) {
            (Some(f), _) if f.remaining_days == 0 => "; the period is over".to_owned(),
            (Some(f), _) => format!(
                "; forecast {} (80% interval {}–{}, {})",
                f.expected.display(),
                f.lower.display(),
                f.upper.display(),
                f.method
            ),
            (None, Some(note)) => format!("; no forecast: {note}"),
            (None, None) => String::new(),
        };
        let crossed = if self.crossed.is_empty() {
            String::new()
        } else {
            let c: Vec<String> = self.crossed.iter().map(ToString::to_string).collect();
            format!("; crossed {}", c.join(", "))
        };
        format!(
            "{} {}: {} of {} spent ({:.0}%) to {}{forecast}{crossed}",
            self.budget.name,
            self.period,
            self.actual.display(),
            self.budget.amount.display(),
            self.percent,
            self.as_of,
        )
    }
}

/// Percent of `amount` that `spend` is.
fn percent_of(spend: Decimal, amount: Decimal) -> f64 {
    let s = spend.to_f64().unwrap_or(0.0);
    let a = amount.to_f64().unwrap_or(f64::MAX);
    if a > 0.0 { s / a * 100.0 } else { 0.0 }
}

/// The thresholds that `actual` and `forecast` (amounts in the budget's currency) reach.
pub(crate) fn crossed(
    thresholds: &[BudgetThreshold],
    amount: Decimal,
    actual: Decimal,
    forecast: Option<Decimal>,
) -> Vec<BudgetThreshold> {
    thresholds
        .iter()
        .filter(|t| {
            let spend = match t.basis {
                ThresholdBasis::Actual => Some(actual),
                ThresholdBasis::Forecast => forecast,
            };
            spend.is_some_and(|s| {
                amount
                    .checked_mul(t.percent)
                    .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
                    .is_some_and(|limit| s >= limit)
            })
        })
        .copied()
        .collect()
}

/// A function called with each alert as it fires.
pub type BudgetAlertCallback = Box<dyn FnMut(&BudgetAlert) + Send>;

impl CostMonitor {
    /// Saves a budget in the store (replacing one of the same name).
    ///
    /// # Examples
    /// ```
    /// use perfcore::cost::{Budget, BudgetPeriod, CostMonitor, Currency, Money};
    /// let mut monitor = CostMonitor::new()?;
    /// monitor.add_budget(Budget::new("all", Money::new("5000".parse()?, Currency::USD), BudgetPeriod::Monthly))?;
    /// assert_eq!(monitor.budgets()?.len(), 1);
    /// assert!(monitor.remove_budget("all")?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_budget(&mut self, budget: Budget) -> Result<(), CostError> {
        budget.validate()?;
        self.store.put_budget(&budget)
    }

    /// The budgets, by name.
    pub fn budgets(&self) -> Result<Vec<Budget>, CostError> {
        self.store.budgets()
    }

    /// Removes a budget and its alert history; whether it existed.
    pub fn remove_budget(&mut self, name: &str) -> Result<bool, CostError> {
        self.store.remove_budget(name)
    }

    /// Calls `callback` with each budget alert as a check fires it.
    pub fn on_budget_alert(&mut self, callback: impl FnMut(&BudgetAlert) + Send + 'static) {
        self.alert_callbacks.push(Box::new(callback));
    }

    /// Every alert fired so far, oldest period first.
    pub fn budget_alerts(&self) -> Result<Vec<BudgetAlert>, CostError> {
        self.store.budget_alerts()
    }

    /// Checks every budget as of the last day with data, and fires the thresholds crossed
    /// for the first time in their period (the callbacks are called and the alert is
    /// recorded); call it after each import.
    ///
    /// Each budget's scope is read as one daily series; the spend so far is the period's sum
    /// up to the last day with data; the period's end is that plus the forecast sum of the
    /// remaining days ([`forecast_series`], with its 80% interval).
    /// Which thresholds fired is kept in the store, keyed by budget, period and threshold, so
    /// each fires once per period, across processes and restarts.
    ///
    /// # Examples
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use perfcore::cost::{Budget, BudgetPeriod, CostMonitor, Currency, Day, Money};
    /// use perfcore::cost::synthetic::{SyntheticRow, focus_csv};
    /// let start = Day::parse("2024-09-01").unwrap();
    /// let rows: Vec<SyntheticRow> =
    ///     (0..20).map(|i| SyntheticRow::new(Day(start.0 + i), "EC2", "i-1", "50".parse().unwrap())).collect();
    /// let path = std::env::temp_dir().join(format!("budget-doc-{}.csv", std::process::id()));
    /// std::fs::write(&path, focus_csv(&rows))?;
    /// let mut monitor = CostMonitor::new()?;
    /// monitor.import(&path, &Default::default())?;
    /// # std::fs::remove_file(&path)?;
    /// monitor.add_budget(Budget::new("ec2", Money::new("1200".parse()?, Currency::USD), BudgetPeriod::Monthly))?;
    /// let fired = Arc::new(Mutex::new(Vec::new()));
    /// let sink = Arc::clone(&fired);
    /// monitor.on_budget_alert(move |alert| sink.lock().unwrap().push(alert.threshold.to_string()));
    /// let status = monitor.check_budgets()?;
    /// // 20 days × 50 = 1000 spent (83%); 30 days at 50 = 1500 forecast (125%).
    /// assert_eq!(status[0].actual.to_string(), "1000 USD");
    /// assert_eq!(*fired.lock().unwrap(), ["80% actual", "100% forecast"]);
    /// monitor.check_budgets()?; // each threshold fires once per period
    /// assert_eq!(fired.lock().unwrap().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_budgets(&mut self) -> Result<Vec<BudgetStatus>, CostError> {
        let as_of = self.data_range()?.map_or_else(Day::today, |p| p.to);
        self.check_budgets_at(as_of)
    }

    /// Checks every budget as of `as_of` (data after it is ignored).
    pub fn check_budgets_at(&mut self, as_of: Day) -> Result<Vec<BudgetStatus>, CostError> {
        let mut out = Vec::new();
        for budget in self.store.budgets()? {
            let mut status = self.budget_status(budget, as_of)?;
            let forecast = status.forecast.as_ref().map(|f| f.expected);
            for t in status.crossed.clone() {
                let (spend, word) = match t.basis {
                    ThresholdBasis::Actual => (status.actual, "spend so far"),
                    ThresholdBasis::Forecast => match forecast {
                        Some(f) => (f, "forecast spend at the period's end"),
                        None => continue,
                    },
                };
                let percent = percent_of(spend.amount, status.budget.amount.amount);
                let interval = match (&status.forecast, t.basis) {
                    (Some(f), ThresholdBasis::Forecast) if f.remaining_days > 0 => format!(
                        " (80% interval {}–{}, {})",
                        f.lower.display(),
                        f.upper.display(),
                        f.method
                    ),
                    _ => String::new(),
                };
                let alert = BudgetAlert {
                    budget: status.budget.name.clone(),
                    period: status.period,
                    as_of,
                    threshold: t,
                    amount: status.budget.amount,
                    actual: status.actual,
                    forecast,
                    percent,
                    message: format!(
                        "budget {}: {word} {}{interval} is {percent:.0}% of {} for {} (threshold {t}, data to {as_of})",
                        status.budget.name,
                        spend.display(),
                        status.budget.amount.display(),
                        status.period,
                    ),
                };
                if self.store.record_alert(&alert)? {
                    for callback in &mut self.alert_callbacks {
                        callback(&alert);
                    }
                    status.new_alerts.push(alert);
                }
            }
            out.push(status);
        }
        Ok(out)
    }

    /// The scope of `budget` as one daily series over all the data (`None` when nothing in
    /// the bill matches it).
    fn scoped_series(&self, budget: &Budget) -> Result<Option<DailySeries>, CostError> {
        let dims: Vec<Dimension> = budget.scope.iter().map(|s| s.dimension.clone()).collect();
        let mut matching = self
            .daily_series(Period::all(), &dims, budget.metric)?
            .into_iter()
            .filter(|s| s.keys.iter().zip(&budget.scope).all(|(k, sc)| *k == sc.value));
        let Some(mut first) = matching.next() else { return Ok(None) };
        for s in matching {
            if s.currency != first.currency {
                return Err(CostError::MixedCurrency {
                    first: first.currency.to_string(),
                    second: s.currency.to_string(),
                });
            }
            for (a, b) in first.values.iter_mut().zip(&s.values) {
                if let (Some(a), Some(b)) = (a.as_mut(), b) {
                    *a = a.checked_add(*b).ok_or(CostError::Overflow)?;
                }
            }
        }
        first.keys = budget.scope.iter().map(ToString::to_string).collect();
        Ok(Some(first))
    }

    fn budget_status(&self, budget: Budget, as_of: Day) -> Result<BudgetStatus, CostError> {
        let period = budget.period.of(as_of);
        let currency = budget.amount.currency;
        let series = self.scoped_series(&budget)?;
        if let Some(s) = &series
            && s.currency != currency
        {
            return Err(CostError::MixedCurrency {
                first: currency.to_string(),
                second: s.currency.to_string(),
            });
        }
        let so_far = Period { from: period.from, to: as_of };
        let actual = match &series {
            Some(s) => s.sum(so_far)?,
            None => Money::zero(currency),
        };
        let remaining = u32::try_from(period.to.0 - as_of.0).unwrap_or(0);
        let (forecast, forecast_note) = match &series {
            _ if remaining == 0 => {
                (None, Some("the period is over: the actual spend is final".into()))
            }
            None => (None, Some("no billing data in the budget's scope".into())),
            Some(s) => match forecast_rest(s, as_of, remaining, actual, currency) {
                Ok(f) => (Some(f), None),
                Err(CostError::InsufficientHistory { days, needed }) => (
                    None,
                    Some(format!(
                        "insufficient history: {days} days with data, a forecast needs {needed}"
                    )),
                ),
                Err(e) => return Err(e),
            },
        };
        // At the period's end the actual spend is the forecast: forecast thresholds read it.
        let forecast_amount = forecast
            .as_ref()
            .map(|f| f.expected.amount)
            .or((remaining == 0).then_some(actual.amount));
        let crossed =
            crossed(&budget.thresholds, budget.amount.amount, actual.amount, forecast_amount);
        let percent = percent_of(actual.amount, budget.amount.amount);
        let forecast = forecast.or_else(|| {
            (remaining == 0).then(|| PeriodForecast {
                expected: actual,
                lower: actual,
                upper: actual,
                level: 0.8,
                method: "actual (the period is over)".into(),
                remaining_days: 0,
            })
        });
        Ok(BudgetStatus {
            budget,
            period,
            as_of,
            actual,
            percent,
            forecast,
            forecast_note,
            crossed,
            new_alerts: Vec::new(),
        })
    }
}

/// Spend so far + the forecast sum of the `remaining` days after `as_of`.
fn forecast_rest(
    s: &DailySeries,
    as_of: Day,
    remaining: u32,
    actual: Money,
    currency: Currency,
) -> Result<PeriodForecast, CostError> {
    // The history up to as_of; days between the data's end and as_of are gaps.
    let mut history = s.to_f64();
    let len = usize::try_from(i64::from(as_of.0) - i64::from(s.start.0) + 1).unwrap_or(0);
    history.resize(len, None);
    let options = ForecastOptions::default().horizon_days(remaining);
    let f = forecast_series(&history, &options)?;
    let sum = f.sum(remaining as usize)?;
    let money = |x: f64| -> Result<Money, CostError> {
        let d = decimal_from_f64(x).ok_or(CostError::Overflow)?.round_dp(2);
        Ok(Money::new(actual.amount.checked_add(d).ok_or(CostError::Overflow)?, currency))
    };
    Ok(PeriodForecast {
        expected: money(sum.expected)?,
        lower: money(sum.lower)?,
        upper: money(sum.upper)?,
        level: f.level,
        method: f.method.name().to_owned(),
        remaining_days: remaining,
    })
}
