//! Anomalies and budgets for Python (issue 12): the conversions and argument parsing behind
//! `CostMonitor.detect_cost_anomalies`, `add_budget`, `budgets`, `check_budgets`,
//! `on_budget_alert` and `budget_alerts` (the methods themselves are in `cost.rs`).
//!
//! Results are plain dicts: amounts as `decimal.Decimal` with the dict's `"currency"` beside
//! them, days as `"YYYY-MM-DD"`, periods as `{"from": ..., "to": ...}`.

use perfcore::cost::{
    self, AnomalyOptions, Budget, BudgetPeriod, BudgetScope, BudgetThreshold, CostError, Dimension,
    Money, Period,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::to_py_err;

/// A JSON value as Python: `{"amount": "1.5", "currency": "USD"}` objects (the core's
/// `Money`) become `Decimal("1.5")`, and the dict holding them gains `"currency"`.
fn json_to_py<'py>(py: Python<'py>, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for v in items {
                list.append(json_to_py(py, v)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let d = PyDict::new(py);
            let mut currency = None;
            for (k, v) in map {
                if let Some((amount, c)) = money_of(v) {
                    d.set_item(k, amount)?;
                    currency.get_or_insert(c);
                } else {
                    d.set_item(k, json_to_py(py, v)?)?;
                }
            }
            if let Some(c) = currency
                && !d.contains("currency")?
            {
                d.set_item("currency", c)?;
            }
            d.into_any()
        }
    })
}

fn money_of(value: &serde_json::Value) -> Option<(Decimal, String)> {
    let o = value.as_object()?;
    if o.len() != 2 {
        return None;
    }
    let amount: Decimal = o.get("amount")?.as_str()?.parse().ok()?;
    Some((amount, o.get("currency")?.as_str()?.to_owned()))
}

/// Any of the core's results as Python (see [`json_to_py`]).
pub(crate) fn to_py<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value).map_err(|e| PyValueError::new_err(e.to_string()))?;
    json_to_py(py, &json)
}

/// `by`: a dimension name, or `"total"` / None for the total.
pub(crate) fn group_arg(by: Option<&str>) -> PyResult<Option<Dimension>> {
    match by.map(str::trim) {
        None | Some("total") => Ok(None),
        Some(name) => name.parse().map(Some).map_err(to_py_err),
    }
}

/// The anomaly options of `detect_cost_anomalies`' keyword arguments.
pub(crate) fn anomaly_options(
    threshold: f64,
    min_impact: Option<Decimal>,
    min_relative_change: f64,
    increases_only: bool,
    metric: &str,
) -> PyResult<AnomalyOptions> {
    let mut o = AnomalyOptions::default()
        .with_threshold(threshold)
        .with_min_relative_change(min_relative_change)
        .increases_only(increases_only)
        .with_metric(metric.parse().map_err(to_py_err)?);
    if let Some(m) = min_impact {
        o = o.with_min_impact(m);
    }
    Ok(o)
}

/// The days judged: the last `days` days of data, or `start..=end`, or all of them.
pub(crate) fn anomaly_period(
    monitor: &cost::CostMonitor,
    days: Option<u32>,
    range: Option<(cost::Day, cost::Day)>,
) -> Result<Option<Period>, CostError> {
    if let Some((from, to)) = range {
        return Period::new(from, to).map(Some);
    }
    match days {
        Some(n) => monitor.last_days(n),
        None => monitor.data_range(),
    }
}

/// A budget from `add_budget`'s arguments. `scope` is a dict `{dimension: value}`
/// (`{"service": "EC2", "tag:team": "web"}`); `thresholds` a list of `"80:actual"` strings
/// or `(80, "actual")` pairs.
pub(crate) fn budget_arg(
    name: &str,
    amount: Money,
    period: &str,
    scope: Option<&Bound<'_, PyAny>>,
    thresholds: Option<&Bound<'_, PyAny>>,
    metric: &str,
) -> PyResult<Budget> {
    let period: BudgetPeriod = period.parse().map_err(to_py_err)?;
    let mut b = Budget::new(name, amount, period).metric(metric.parse().map_err(to_py_err)?);
    if let Some(scope) = scope.filter(|s| !s.is_none()) {
        let d = scope.cast::<PyDict>().map_err(|_| {
            PyTypeError::new_err(
                "scope: expected a dict {dimension: value}, e.g. {\"service\": \"EC2\"}",
            )
        })?;
        for (k, v) in d.iter() {
            let (k, v): (String, String) = (k.extract()?, v.extract()?);
            let s: BudgetScope = format!("{k}={v}").parse().map_err(to_py_err)?;
            b.scope.push(s);
        }
    }
    if let Some(list) = thresholds.filter(|t| !t.is_none()) {
        for item in list.try_iter()? {
            let item = item?;
            let t: BudgetThreshold = if let Ok(s) = item.cast::<PyString>() {
                s.to_cow()?.parse().map_err(to_py_err)?
            } else {
                let (pct, basis): (Bound<'_, PyAny>, String) = item.extract().map_err(|_| {
                    PyTypeError::new_err(
                        "thresholds: each is \"80:actual\" or a pair (80, \"forecast\")",
                    )
                })?;
                let pct = pct.str()?.to_cow()?.into_owned();
                format!("{pct}:{basis}").parse().map_err(to_py_err)?
            };
            b = b.threshold(t);
        }
    }
    Ok(b)
}
