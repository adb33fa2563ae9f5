//! The cost monitor for Python (issue 11): `perfcore.CostMonitor`, `ResourceType`,
//! `CloudProvider`, `CostReport`, `Opportunity`, `OptimizationResult`, `ImportSummary`,
//! `FunctionCost` and `perfcore.function_costs`.
//!
//! Money crosses as `decimal.Decimal`, never as a float: amounts come from the core's exact
//! decimals, and arguments are read exactly (an `int`, a `decimal.Decimal`, a `str`, or a
//! `float` through its shortest repr, so `0.096` is 0.096). Result objects are read as
//! attributes or, as seed 003 reads them, as `obj["key"]`; `to_dict()` gives every field.
//! Days are `"YYYY-MM-DD"` strings (UTC).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};

use perfcore::cost::focus::SkippedRow;
use perfcore::cost::{
    self, AppliedOptimization, Breakdown, BreakdownRow, CostMetric, Currency, Day, Dimension,
    ExchangeRates, ForecastOptions, ForecastRequest, ImportMode, ImportOptions, ImportOutcome,
    Money, MoneySum, OpportunityOptions, Period, Price, ReportPeriod, Resource, SeriesCostForecast,
    UtilizationSample,
};
use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use rust_decimal::Decimal;

use crate::cost_watch;
use crate::error::to_py_err;
use crate::regress::to_data;
use crate::stats::Snapshot;

// ---------------------------------------------------------------------------------------
// Conversions.

/// A decimal from its text: exact, or scientific (`1E-20`), or an error naming `what`.
fn decimal_from_text(text: &str, what: &str) -> PyResult<Decimal> {
    let t = text.trim();
    Decimal::from_str_exact(t)
        .or_else(|_| Decimal::from_scientific(t))
        .map_err(|_| PyValueError::new_err(format!("{what}: {t:?} is not a decimal number")))
}

/// An amount argument: `int`, `decimal.Decimal`, `str`, or `float` through its shortest
/// repr (the core's `decimal_from_f64`). Not `bool`, NaN or infinity.
fn decimal_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Decimal> {
    if value.is_instance_of::<pyo3::types::PyBool>() {
        return Err(PyTypeError::new_err(format!("{what}: expected a number, not bool")));
    }
    if let Ok(i) = value.extract::<i64>() {
        return Ok(Decimal::from(i));
    }
    if let Ok(f) = value.cast::<pyo3::types::PyFloat>() {
        let x = f.value();
        if !x.is_finite() {
            return Err(PyValueError::new_err(format!("{what}: {x} is not a finite number")));
        }
        return cost::decimal_from_f64(x)
            .ok_or_else(|| PyValueError::new_err(format!("{what}: {x:e} does not fit a decimal")));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return decimal_from_text(&s.to_cow()?, what);
    }
    let decimal_type = value.py().import("decimal")?.getattr("Decimal")?;
    if value.is_instance(&decimal_type)? {
        if !value.call_method0("is_finite")?.extract::<bool>()? {
            return Err(PyValueError::new_err(format!("{what}: {value} is not a finite number")));
        }
        return decimal_from_text(&value.str()?.to_cow()?, what);
    }
    if value.is_instance_of::<pyo3::types::PyInt>() {
        let too_big = || PyValueError::new_err(format!("{what}: {value} does not fit a decimal"));
        let i = value.extract::<i128>().map_err(|_| too_big())?;
        return Decimal::try_from_i128_with_scale(i, 0).map_err(|_| too_big());
    }
    Err(PyTypeError::new_err(format!(
        "{what}: expected an int, float, decimal.Decimal or str, not {}",
        value.get_type().name()?
    )))
}

fn opt_decimal_arg(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Decimal>> {
    value.filter(|v| !v.is_none()).map(|v| decimal_arg(v, what)).transpose()
}

fn currency_arg(code: &str) -> PyResult<Currency> {
    Currency::parse(code).ok_or_else(|| {
        PyValueError::new_err(format!("currency: {code:?} is not a three-letter ISO 4217 code"))
    })
}

fn money_sum<'py>(py: Python<'py>, sum: &MoneySum) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (c, a) in &sum.by_currency {
        d.set_item(c.as_str(), a)?;
    }
    Ok(d)
}

/// A day argument: `"YYYY-MM-DD"` or a `datetime.date` (or `datetime`, its date).
fn day_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Day> {
    if let Ok(s) = value.cast::<PyString>() {
        let text = s.to_cow()?;
        return Day::parse(&text).ok_or_else(|| {
            PyValueError::new_err(format!("{what}: {text:?} is not a day (YYYY-MM-DD)"))
        });
    }
    let parts = (|| -> PyResult<(i32, u32, u32)> {
        Ok((
            value.getattr("year")?.extract()?,
            value.getattr("month")?.extract()?,
            value.getattr("day")?.extract()?,
        ))
    })();
    let (y, m, d) = parts.map_err(|_| {
        PyTypeError::new_err(format!("{what}: expected a str (YYYY-MM-DD) or a datetime.date"))
    })?;
    Day::from_ymd(y, m, d)
        .ok_or_else(|| PyValueError::new_err(format!("{what}: {y}-{m}-{d} is not a day")))
}

/// `period` (`daily`, `weekly`, `monthly`, `all`), or the days `from_..=to` when given.
fn report_period(
    period: &str,
    from: Option<&Bound<'_, PyAny>>,
    to: Option<&Bound<'_, PyAny>>,
) -> PyResult<ReportPeriod> {
    let from = from.filter(|v| !v.is_none());
    let to = to.filter(|v| !v.is_none());
    match (from, to) {
        (Some(f), Some(t)) => {
            let p = Period::new(day_arg(f, "from_")?, day_arg(t, "to")?).map_err(to_py_err)?;
            Ok(ReportPeriod::Range(p))
        }
        (None, None) => period.parse().map_err(to_py_err),
        _ => Err(PyValueError::new_err("give both from_ and to (or neither)")),
    }
}

fn metric_arg(metric: &str) -> PyResult<CostMetric> {
    metric.parse().map_err(to_py_err)
}

/// `by`: one dimension name or a sequence of them.
fn dimensions_arg(by: &Bound<'_, PyAny>) -> PyResult<Vec<Dimension>> {
    let names: Vec<String> = if let Ok(s) = by.cast::<PyString>() {
        vec![s.to_cow()?.into_owned()]
    } else {
        by.extract().map_err(|_| {
            PyTypeError::new_err("by: expected a dimension name or a list of dimension names")
        })?
    };
    names.iter().map(|n| Dimension::from_str(n).map_err(to_py_err)).collect()
}

/// A plain Python value as JSON (through `json.dumps`: what it cannot write is a TypeError).
fn json_value(value: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let text: String = value.py().import("json")?.call_method1("dumps", (value,))?.extract()?;
    serde_json::from_str(&text).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// One breakdown row: `{dimension: key, ..., "keys": [...], "cost", "currency", "rows"}`.
/// One series' forecast as seed 003 reads it: Decimal amounts, days as text.
fn series_forecast_dict<'py>(
    py: Python<'py>,
    dimensions: &[String],
    f: &SeriesCostForecast,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, key) in dimensions.iter().zip(&f.keys) {
        d.set_item(name, key)?;
    }
    d.set_item("keys", &f.keys)?;
    d.set_item("currency", f.currency.as_str())?;
    d.set_item("forecast", f.total.expected.amount)?;
    d.set_item("lower", f.total.lower.amount)?;
    d.set_item("upper", f.total.upper.amount)?;
    d.set_item("method", f.method.name())?;
    d.set_item("method_detail", f.method.to_string())?;
    d.set_item("reason", &f.reason)?;
    d.set_item("history_days", f.history_days)?;
    d.set_item("missing_days", f.missing_days)?;
    d.set_item("backtest", f.backtest.as_ref().map(|b| to_data(py, b)).transpose()?)?;
    let daily = PyList::empty(py);
    for p in &f.points {
        let day = PyDict::new(py);
        day.set_item("day", p.day.to_string())?;
        day.set_item("expected", p.expected.amount)?;
        day.set_item("lower", p.lower.amount)?;
        day.set_item("upper", p.upper.amount)?;
        daily.append(day)?;
    }
    d.set_item("daily", daily)?;
    let m = &f.month_end;
    let month = PyDict::new(py);
    month.set_item("month", &m.month.from.to_string()[..7])?;
    month.set_item("actual", m.actual.amount)?;
    month.set_item("expected", m.projected.expected.amount)?;
    month.set_item("lower", m.projected.lower.amount)?;
    month.set_item("upper", m.projected.upper.amount)?;
    month.set_item("actual_days", m.actual_days)?;
    month.set_item("remaining_days", m.remaining_days)?;
    d.set_item("month_end", month)?;
    Ok(d)
}

fn row_dict<'py>(
    py: Python<'py>,
    dimensions: &[String],
    row: &BreakdownRow,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, key) in dimensions.iter().zip(&row.keys) {
        d.set_item(name, key)?;
    }
    d.set_item("keys", &row.keys)?;
    d.set_item("cost", row.cost.amount)?;
    d.set_item("currency", row.cost.currency.as_str())?;
    d.set_item("rows", row.rows)?;
    Ok(d)
}

fn breakdown_dict<'py>(py: Python<'py>, b: &Breakdown) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("dimensions", &b.dimensions)?;
    d.set_item("start", b.period.from.to_string())?;
    d.set_item("end", b.period.to.to_string())?;
    d.set_item("metric", b.metric.to_string())?;
    let rows = PyList::empty(py);
    for r in &b.rows {
        rows.append(row_dict(py, &b.dimensions, r)?)?;
    }
    d.set_item("rows", rows)?;
    d.set_item("total", money_sum(py, &b.total)?)?;
    Ok(d)
}

/// `obj[key]` through the attribute of the same name, for the names in `fields`.
fn field_item<'py>(
    slf: &Bound<'py, PyAny>,
    fields: &[&str],
    key: &str,
) -> PyResult<Bound<'py, PyAny>> {
    if fields.contains(&key) { slf.getattr(key) } else { Err(PyKeyError::new_err(key.to_owned())) }
}

/// `value` with the result objects in it (alone or in a list) as their dicts.
fn plain(value: Bound<'_, PyAny>) -> PyResult<Bound<'_, PyAny>> {
    let is_result = |v: &Bound<'_, PyAny>| {
        v.is_instance_of::<Opportunity>()
            || v.is_instance_of::<OptimizationResult>()
            || v.is_instance_of::<ResourceType>()
            || v.is_instance_of::<CloudProvider>()
    };
    if let Ok(list) = value.cast::<PyList>() {
        let out = PyList::empty(value.py());
        for v in list.iter() {
            out.append(plain(v)?)?;
        }
        return Ok(out.into_any());
    }
    if value.is_instance_of::<ResourceType>() || value.is_instance_of::<CloudProvider>() {
        return value.str().map(Bound::into_any);
    }
    if is_result(&value) {
        return value.call_method0("to_dict");
    }
    Ok(value)
}

/// `{name: obj.name}` for the names in `fields` (result objects in them as dicts, types and
/// providers as their names).
fn fields_dict<'py>(slf: &Bound<'py, PyAny>, fields: &[&str]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(slf.py());
    for f in fields {
        d.set_item(*f, plain(slf.getattr(*f)?)?)?;
    }
    Ok(d)
}

// ---------------------------------------------------------------------------------------
// Resource types and providers.

/// The kind of a resource: `ResourceType.COMPUTE`, `STORAGE`, `NETWORK`, `DATABASE`,
/// `CONTAINER`, `SERVERLESS`, or another by name (`ResourceType.other("gpu")`,
/// `ResourceType("gpu")`; `ResourceType("Networking")` is `NETWORK`, as FOCUS names it).
#[pyclass(module = "perfcore._perfcore", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResourceType {
    inner: cost::ResourceType,
}

#[pymethods]
impl ResourceType {
    #[new]
    fn new(name: &str) -> Self {
        Self { inner: cost::ResourceType::parse(name) }
    }
    /// Virtual machines, instances.
    #[classattr]
    #[pyo3(name = "COMPUTE")]
    fn compute() -> Self {
        Self { inner: cost::ResourceType::Compute }
    }
    /// Object, block and file storage.
    #[classattr]
    #[pyo3(name = "STORAGE")]
    fn storage() -> Self {
        Self { inner: cost::ResourceType::Storage }
    }
    /// Load balancers, data transfer, DNS, CDNs.
    #[classattr]
    #[pyo3(name = "NETWORK")]
    fn network() -> Self {
        Self { inner: cost::ResourceType::Network }
    }
    /// Managed databases.
    #[classattr]
    #[pyo3(name = "DATABASE")]
    fn database() -> Self {
        Self { inner: cost::ResourceType::Database }
    }
    /// Container platforms.
    #[classattr]
    #[pyo3(name = "CONTAINER")]
    fn container() -> Self {
        Self { inner: cost::ResourceType::Container }
    }
    /// Functions.
    #[classattr]
    #[pyo3(name = "SERVERLESS")]
    fn serverless() -> Self {
        Self { inner: cost::ResourceType::Serverless }
    }
    /// A type of another name, kept as given (even a known one's: `other("compute")` is not
    /// `COMPUTE`; `ResourceType(name)` parses).
    #[staticmethod]
    fn other(name: &str) -> Self {
        Self { inner: cost::ResourceType::Other(name.to_owned()) }
    }
    /// `"COMPUTE"`, ..., or `"OTHER"`.
    #[getter]
    fn name(&self) -> &'static str {
        match self.inner {
            cost::ResourceType::Compute => "COMPUTE",
            cost::ResourceType::Storage => "STORAGE",
            cost::ResourceType::Network => "NETWORK",
            cost::ResourceType::Database => "DATABASE",
            cost::ResourceType::Container => "CONTAINER",
            cost::ResourceType::Serverless => "SERVERLESS",
            _ => "OTHER",
        }
    }
    /// `"compute"`, ..., or the other type's name (what reports and breakdowns show).
    #[getter]
    fn value(&self) -> String {
        self.inner.to_string()
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        match &self.inner {
            cost::ResourceType::Other(n) => format!("ResourceType.other({n:?})"),
            _ => format!("ResourceType.{}", self.name()),
        }
    }
}

/// Who bills for a resource: `CloudProvider.AWS`, `AZURE`, `GCP`, `ON_PREMISE`, or another
/// by name (`CloudProvider.other("Oracle")`; `CloudProvider("Amazon Web Services")` is `AWS`).
#[pyclass(module = "perfcore._perfcore", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CloudProvider {
    inner: cost::CloudProvider,
}

#[pymethods]
impl CloudProvider {
    #[new]
    fn new(name: &str) -> Self {
        Self { inner: cost::CloudProvider::parse(name) }
    }
    /// Amazon Web Services.
    #[classattr]
    #[pyo3(name = "AWS")]
    fn aws() -> Self {
        Self { inner: cost::CloudProvider::Aws }
    }
    /// Microsoft Azure.
    #[classattr]
    #[pyo3(name = "AZURE")]
    fn azure() -> Self {
        Self { inner: cost::CloudProvider::Azure }
    }
    /// Google Cloud.
    #[classattr]
    #[pyo3(name = "GCP")]
    fn gcp() -> Self {
        Self { inner: cost::CloudProvider::Gcp }
    }
    /// Your own machines.
    #[classattr]
    #[pyo3(name = "ON_PREMISE")]
    fn on_premise() -> Self {
        Self { inner: cost::CloudProvider::OnPremise }
    }
    /// A provider of another name, kept as given.
    #[staticmethod]
    fn other(name: &str) -> Self {
        Self { inner: cost::CloudProvider::Other(name.to_owned()) }
    }
    /// `"AWS"`, `"AZURE"`, `"GCP"`, `"ON_PREMISE"` or `"OTHER"`.
    #[getter]
    fn name(&self) -> &'static str {
        match self.inner {
            cost::CloudProvider::Aws => "AWS",
            cost::CloudProvider::Azure => "AZURE",
            cost::CloudProvider::Gcp => "GCP",
            cost::CloudProvider::OnPremise => "ON_PREMISE",
            _ => "OTHER",
        }
    }
    /// `"AWS"`, `"Azure"`, `"GCP"`, `"on-premise"` or the other provider's name (what
    /// reports and breakdowns show).
    #[getter]
    fn value(&self) -> String {
        self.inner.to_string()
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        match &self.inner {
            cost::CloudProvider::Other(n) => format!("CloudProvider.other({n:?})"),
            _ => format!("CloudProvider.{}", self.name()),
        }
    }
}

fn resource_type_arg(v: &Bound<'_, PyAny>) -> PyResult<cost::ResourceType> {
    if let Ok(t) = v.cast::<ResourceType>() {
        return Ok(t.get().inner.clone());
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(cost::ResourceType::parse(&s.to_cow()?));
    }
    Err(PyTypeError::new_err("resource_type: expected a ResourceType or a str"))
}

fn provider_arg(v: &Bound<'_, PyAny>) -> PyResult<cost::CloudProvider> {
    if let Ok(t) = v.cast::<CloudProvider>() {
        return Ok(t.get().inner.clone());
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(cost::CloudProvider::parse(&s.to_cow()?));
    }
    Err(PyTypeError::new_err("provider: expected a CloudProvider or a str"))
}

// ---------------------------------------------------------------------------------------
// Result objects.

/// A tracked resource, as `CostMonitor.resources()` lists it.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct TrackedResource {
    inner: Resource,
}

const RESOURCE_FIELDS: &[&str] = &[
    "resource_id",
    "resource_type",
    "provider",
    "region",
    "service",
    "account",
    "tags",
    "usage_hours",
    "cost_per_hour",
    "charges",
    "currency",
    "cost",
    "utilization",
    "metadata",
    "tracked_at_unix",
];

#[pymethods]
impl TrackedResource {
    /// Its id.
    #[getter]
    fn resource_id(&self) -> &str {
        &self.inner.id
    }
    /// Its type.
    #[getter]
    fn resource_type(&self) -> ResourceType {
        ResourceType { inner: self.inner.resource_type.clone() }
    }
    /// Who bills for it.
    #[getter]
    fn provider(&self) -> CloudProvider {
        CloudProvider { inner: self.inner.provider.clone() }
    }
    /// Its region, if given.
    #[getter]
    fn region(&self) -> Option<&str> {
        self.inner.region.as_deref()
    }
    /// Its service, if given.
    #[getter]
    fn service(&self) -> Option<&str> {
        self.inner.service.as_deref()
    }
    /// Its account, if given.
    #[getter]
    fn account(&self) -> Option<&str> {
        self.inner.account.as_deref()
    }
    /// Its tags.
    #[getter]
    fn tags(&self) -> BTreeMap<String, String> {
        self.inner.tags.clone()
    }
    /// Hours it ran.
    #[getter]
    fn usage_hours(&self) -> Decimal {
        self.inner.usage_hours
    }
    /// What an hour costs, if given.
    #[getter]
    fn cost_per_hour(&self) -> Option<Decimal> {
        self.inner.cost_per_hour
    }
    /// The total charged, if given instead of a rate.
    #[getter]
    fn charges(&self) -> Option<Decimal> {
        self.inner.charges
    }
    /// The currency code.
    #[getter]
    fn currency(&self) -> &str {
        self.inner.currency.as_str()
    }
    /// What it cost: `charges`, else `usage_hours × cost_per_hour`.
    #[getter]
    fn cost(&self) -> PyResult<Decimal> {
        self.inner.cost().map(|m| m.amount).map_err(to_py_err)
    }
    /// Its utilisation readings (`at_unix`, `cpu`, `memory`, `network_bytes_per_sec`).
    #[getter]
    fn utilization<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner.utilization)
    }
    /// The metadata given to `track_resource`.
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner.metadata)
    }
    /// When it was tracked, seconds since the epoch (its cost counts on that UTC day).
    #[getter]
    fn tracked_at_unix(&self) -> i64 {
        self.inner.tracked_at_unix
    }
    /// `obj["name"]` is `obj.name`, for the names `keys()` lists.
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        field_item(slf.as_any(), RESOURCE_FIELDS, key)
    }
    fn __contains__(&self, key: &str) -> bool {
        RESOURCE_FIELDS.contains(&key)
    }
    /// The field names (so `dict(obj)` works).
    fn keys(&self) -> Vec<&'static str> {
        RESOURCE_FIELDS.to_vec()
    }
    /// Every field as a dict (money as `decimal.Decimal`).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        fields_dict(slf.as_any(), RESOURCE_FIELDS)
    }
    fn __repr__(&self) -> String {
        format!(
            "TrackedResource({:?}, {}, {}, cost={})",
            self.inner.id,
            self.inner.resource_type,
            self.inner.provider,
            self.inner.cost().map_or_else(|e| e.to_string(), |m| m.to_string())
        )
    }
}

/// A way to spend less, found by a rule, with its evidence. `opp["type"]`,
/// `opp["recommendation"]` and `opp["potential_savings"]` work as the attributes do (seed 003).
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct Opportunity {
    inner: cost::Opportunity,
}

const OPPORTUNITY_FIELDS: &[&str] = &[
    "type",
    "resource_id",
    "recommendation",
    "evidence",
    "potential_savings",
    "current_monthly_cost",
    "currency",
    "confidence",
    "confidence_reason",
    "rule",
    "source",
];

#[pymethods]
impl Opportunity {
    /// The kind: `"underutilized"`, `"idle"`, `"oversized"`, `"low_utilization"`,
    /// `"provider_disparity"` or `"commitment"`.
    #[getter(r#type)]
    fn kind(&self) -> &str {
        &self.inner.kind
    }
    /// The resource it is about.
    #[getter]
    fn resource_id(&self) -> &str {
        &self.inner.resource_id
    }
    /// What to do.
    #[getter]
    fn recommendation(&self) -> &str {
        &self.inner.recommendation
    }
    /// The figures the rule read.
    #[getter]
    fn evidence(&self) -> &str {
        &self.inner.evidence
    }
    /// Savings per 730-hour month.
    #[getter]
    fn potential_savings(&self) -> Decimal {
        self.inner.potential_savings.amount
    }
    /// The monthly cost now.
    #[getter]
    fn current_monthly_cost(&self) -> Decimal {
        self.inner.current_monthly_cost.amount
    }
    /// The currency of both.
    #[getter]
    fn currency(&self) -> &str {
        self.inner.potential_savings.currency.as_str()
    }
    /// `"high"`, `"medium"` or `"low"` (low when the saving rests on an assumed rate).
    #[getter]
    fn confidence(&self) -> &str {
        &self.inner.confidence
    }
    /// Why that confidence.
    #[getter]
    fn confidence_reason(&self) -> &str {
        &self.inner.confidence_reason
    }
    /// The rule that found it.
    #[getter]
    fn rule(&self) -> &str {
        &self.inner.rule
    }
    /// `"tracked"` (a tracked resource) or `"imported"` (billing data).
    #[getter]
    fn source(&self) -> &str {
        &self.inner.source
    }
    /// `obj["name"]` is `obj.name`, for the names `keys()` lists.
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        field_item(slf.as_any(), OPPORTUNITY_FIELDS, key)
    }
    fn __contains__(&self, key: &str) -> bool {
        OPPORTUNITY_FIELDS.contains(&key)
    }
    /// The field names (so `dict(obj)` works).
    fn keys(&self) -> Vec<&'static str> {
        OPPORTUNITY_FIELDS.to_vec()
    }
    /// Every field as a dict (money as `decimal.Decimal`).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        fields_dict(slf.as_any(), OPPORTUNITY_FIELDS)
    }
    fn __repr__(&self) -> String {
        format!(
            "Opportunity(type={:?}, resource_id={:?}, potential_savings={})",
            self.inner.kind, self.inner.resource_id, self.inner.potential_savings
        )
    }
}

/// A decision recorded by `CostMonitor.apply_cost_optimization`: `result["message"]` says
/// what perfcore did (it records; it cannot change cloud resources) and what is left to do.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct OptimizationResult {
    inner: AppliedOptimization,
}

const RESULT_FIELDS: &[&str] =
    &["message", "applied_at", "projected_monthly_cost", "currency", "opportunity"];

#[pymethods]
impl OptimizationResult {
    /// What perfcore did and what is left to do.
    #[getter]
    fn message(&self) -> &str {
        &self.inner.message
    }
    /// When, UTC (`YYYY-MM-DDTHH:MM:SSZ`).
    #[getter]
    fn applied_at(&self) -> &str {
        &self.inner.applied_at
    }
    /// The monthly cost projected after the change.
    #[getter]
    fn projected_monthly_cost(&self) -> Decimal {
        self.inner.projected_monthly_cost.amount
    }
    /// Its currency.
    #[getter]
    fn currency(&self) -> &str {
        self.inner.projected_monthly_cost.currency.as_str()
    }
    /// The opportunity acted on.
    #[getter]
    fn opportunity(&self) -> Opportunity {
        Opportunity { inner: self.inner.opportunity.clone() }
    }
    /// `obj["name"]` is `obj.name`, for the names `keys()` lists.
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        field_item(slf.as_any(), RESULT_FIELDS, key)
    }
    fn __contains__(&self, key: &str) -> bool {
        RESULT_FIELDS.contains(&key)
    }
    /// The field names (so `dict(obj)` works).
    fn keys(&self) -> Vec<&'static str> {
        RESULT_FIELDS.to_vec()
    }
    /// Every field as a dict (money as `decimal.Decimal`).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        fields_dict(slf.as_any(), RESULT_FIELDS)
    }
    fn __repr__(&self) -> String {
        format!(
            "OptimizationResult(resource_id={:?}, projected_monthly_cost={}, applied_at={:?})",
            self.inner.opportunity.resource_id,
            self.inner.projected_monthly_cost,
            self.inner.applied_at
        )
    }
}

/// Seed 003's cost report, every figure computed from the data: `total_cost` and
/// `estimated_savings` are `decimal.Decimal` (so `f"{report.total_cost:.2f}"` rounds exactly).
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct CostReport {
    inner: cost::CostReport,
}

const REPORT_FIELDS: &[&str] = &[
    "period",
    "start",
    "end",
    "metric",
    "total_cost",
    "currency",
    "totals_by_currency",
    "estimated_savings",
    "optimization_opportunities",
    "applied_optimizations",
    "forecast",
    "forecast_note",
    "breakdowns",
    "daily",
    "top_resources",
    "notes",
];

#[pymethods]
impl CostReport {
    /// The period asked for: `"daily"`, `"weekly"`, `"monthly"`, `"all"` or
    /// `"YYYY-MM-DD..YYYY-MM-DD"`.
    #[getter]
    fn period(&self) -> &str {
        &self.inner.period_name
    }
    /// The first day covered.
    #[getter]
    fn start(&self) -> String {
        self.inner.period.from.to_string()
    }
    /// The last day covered (included).
    #[getter]
    fn end(&self) -> String {
        self.inner.period.to.to_string()
    }
    /// The FOCUS cost used (`"billed"`).
    #[getter]
    fn metric(&self) -> String {
        self.inner.metric.to_string()
    }
    /// The total (converted with the monitor's exchange rates if there are several currencies).
    #[getter]
    fn total_cost(&self) -> Decimal {
        self.inner.total_cost.amount
    }
    /// The currency of `total_cost`.
    #[getter]
    fn currency(&self) -> &str {
        self.inner.total_cost.currency.as_str()
    }
    /// The total of each currency, before conversion.
    #[getter]
    fn totals_by_currency<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        money_sum(py, &self.inner.totals_by_currency)
    }
    /// The savings per month of the opportunities found.
    #[getter]
    fn estimated_savings(&self) -> Decimal {
        self.inner.estimated_savings.amount
    }
    /// The decisions applied so far, projected against realised (as `CostMonitor.savings()`).
    #[getter]
    fn applied_optimizations<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner.applied_optimizations.iter().map(|a| realised_dict(py, a)).collect()
    }
    /// What the optimisation rules found.
    #[getter]
    fn optimization_opportunities(&self) -> Vec<Opportunity> {
        self.inner
            .optimization_opportunities
            .iter()
            .map(|o| Opportunity { inner: o.clone() })
            .collect()
    }
    /// The total's expected cost over the 30 days after the last day with data (None with
    /// under 14 days of history; `forecast_note` says why, or gives the interval and method).
    #[getter]
    fn forecast(&self) -> Option<Decimal> {
        self.inner.forecast.map(|m| m.amount)
    }
    /// The forecast's interval and method, or why there is none.
    #[getter]
    fn forecast_note(&self) -> &str {
        &self.inner.forecast_note
    }
    /// The total's forecast day by day: dicts with day, expected, lower, upper, currency.
    #[getter]
    fn forecast_daily<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.inner.forecast_daily.iter().map(|p| cost_watch::to_py(py, p)).collect()
    }
    /// The period's anomalies per service, as `detect_cost_anomalies` gives them.
    #[getter]
    fn anomalies<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.inner
            .anomalies
            .iter()
            .map(|a| {
                let d = cost_watch::to_py(py, a)?;
                d.set_item("description", a.describe())?;
                Ok(d)
            })
            .collect()
    }
    /// Breakdowns by type, provider, region, service, account and charge category: dicts
    /// with `dimensions`, `start`, `end`, `metric`, `rows` (as `get_cost_breakdown` returns
    /// them) and `total` (per currency).
    #[getter]
    fn breakdowns<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner.breakdowns.iter().map(|b| breakdown_dict(py, b)).collect()
    }
    /// The cost of each day: `{"day", "keys", "cost", "currency", "rows"}`.
    #[getter]
    fn daily<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let dims = ["day".to_owned()];
        self.inner.daily.iter().map(|r| row_dict(py, &dims, r)).collect()
    }
    /// The most costly resources (up to 20): `{"resource_id", "service", "provider",
    /// "region", "cost", "currency", "share"}`.
    #[getter]
    fn top_resources<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner
            .top_resources
            .iter()
            .map(|r| {
                let d = PyDict::new(py);
                d.set_item("resource_id", &r.resource_id)?;
                d.set_item("service", &r.service)?;
                d.set_item("provider", &r.provider)?;
                d.set_item("region", &r.region)?;
                d.set_item("cost", r.cost.amount)?;
                d.set_item("currency", r.cost.currency.as_str())?;
                d.set_item("share", r.share)?;
                Ok(d)
            })
            .collect()
    }
    /// Remarks on the data (effective cost far from billed, credits, several currencies).
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.inner.notes.clone()
    }
    /// The report as plain text, for a terminal.
    fn to_text(&self) -> String {
        self.inner.to_text()
    }
    /// The report as Markdown.
    fn to_markdown(&self) -> String {
        self.inner.to_markdown()
    }
    /// The report as JSON (money as exact decimal strings).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// The report as a self-contained HTML page (no script, no network).
    fn to_html(&self) -> String {
        self.inner.to_html()
    }
    /// Writes the HTML page to `path` (atomically).
    fn write_html(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.write_html(&path)).map_err(to_py_err)
    }
    fn __str__(&self) -> String {
        self.inner.to_text()
    }
    /// `obj["name"]` is `obj.name`, for the names `keys()` lists.
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        field_item(slf.as_any(), REPORT_FIELDS, key)
    }
    fn __contains__(&self, key: &str) -> bool {
        REPORT_FIELDS.contains(&key)
    }
    /// The field names (so `dict(obj)` works).
    fn keys(&self) -> Vec<&'static str> {
        REPORT_FIELDS.to_vec()
    }
    /// Every field as a dict (money as `decimal.Decimal`).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        fields_dict(slf.as_any(), REPORT_FIELDS)
    }
    fn __repr__(&self) -> String {
        format!(
            "CostReport(period={:?}, {}, total_cost={}, estimated_savings={})",
            self.inner.period_name,
            self.inner.period,
            self.inner.total_cost,
            self.inner.estimated_savings
        )
    }
}

/// What an import did: rows read, imported and skipped (each skipped row with its line,
/// column, value, reason and cost), the billed cost imported, and the outcome.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct ImportSummary {
    inner: cost::ImportSummary,
}

const SUMMARY_FIELDS: &[&str] = &[
    "path",
    "digest",
    "bytes",
    "format",
    "focus_version",
    "columns",
    "case_insensitive_columns",
    "rows_read",
    "rows_imported",
    "rows_skipped",
    "skipped",
    "skipped_billed",
    "skipped_unreadable_cost",
    "billed",
    "first_day",
    "last_day",
    "aggregates",
    "nulls",
    "normalised",
    "tags_not_json",
    "extra_columns",
    "outcome",
    "previous",
    "previous_billed",
];

fn skipped_dict<'py>(py: Python<'py>, r: &SkippedRow) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("line", r.line)?;
    d.set_item("column", &r.column)?;
    d.set_item("value", &r.value)?;
    d.set_item("reason", &r.reason)?;
    d.set_item("billed_cost", r.billed_cost.map(|m| m.amount))?;
    d.set_item("currency", r.billed_cost.map(|m| m.currency.as_str().to_owned()))?;
    Ok(d)
}

#[pymethods]
impl ImportSummary {
    /// The file.
    #[getter]
    fn path(&self) -> String {
        self.inner.path.to_string_lossy().into_owned()
    }
    /// SHA-256 of its bytes as stored, hex.
    #[getter]
    fn digest(&self) -> &str {
        &self.inner.digest
    }
    /// Its size in bytes.
    #[getter]
    fn bytes(&self) -> u64 {
        self.inner.bytes
    }
    /// `"csv"`, `"csv.gz"` or `"parquet"`.
    #[getter]
    fn format(&self) -> &str {
        &self.inner.format
    }
    /// The FOCUS version its columns suggest.
    #[getter]
    fn focus_version(&self) -> &str {
        &self.inner.focus_version
    }
    /// Its columns, as named in the file.
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.inner.columns.clone()
    }
    /// Columns found only by a case-insensitive match: (FOCUS name, name in the file).
    #[getter]
    fn case_insensitive_columns(&self) -> Vec<(String, String)> {
        self.inner.case_insensitive_columns.clone()
    }
    /// Data rows read.
    #[getter]
    fn rows_read(&self) -> u64 {
        self.inner.rows_read
    }
    /// Rows imported.
    #[getter]
    fn rows_imported(&self) -> u64 {
        self.inner.rows_imported
    }
    /// Rows skipped (lenient mode).
    #[getter]
    fn rows_skipped(&self) -> u64 {
        self.inner.rows_skipped
    }
    /// The skipped rows (up to 10,000): `{"line", "column", "value", "reason",
    /// "billed_cost" (Decimal or None), "currency"}`; the header is line 1.
    #[getter]
    fn skipped<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner.skipped.iter().map(|r| skipped_dict(py, r)).collect()
    }
    /// The BilledCost the skipped rows carried, per currency, where it could be read.
    #[getter]
    fn skipped_billed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        money_sum(py, &self.inner.skipped_billed)
    }
    /// Skipped rows whose BilledCost could not be read.
    #[getter]
    fn skipped_unreadable_cost(&self) -> u64 {
        self.inner.skipped_unreadable_cost
    }
    /// The BilledCost imported, per currency (`{"USD": Decimal(...)}`).
    #[getter]
    fn billed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        money_sum(py, &self.inner.billed)
    }
    /// The first charge day.
    #[getter]
    fn first_day(&self) -> Option<&str> {
        self.inner.first_day.as_deref()
    }
    /// The last charge day.
    #[getter]
    fn last_day(&self) -> Option<&str> {
        self.inner.last_day.as_deref()
    }
    /// Aggregates (day × billing period × dimensions) written.
    #[getter]
    fn aggregates(&self) -> u64 {
        self.inner.aggregates
    }
    /// Null values per aggregated column, where any.
    #[getter]
    fn nulls(&self) -> BTreeMap<String, u64> {
        self.inner.nulls.clone()
    }
    /// Enumerated values normalised across case: `{"column", "from", "to", "rows"}`.
    #[getter]
    fn normalised<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner.normalised)
    }
    /// Rows whose Tags were not a JSON object.
    #[getter]
    fn tags_not_json(&self) -> u64 {
        self.inner.tags_not_json
    }
    /// Columns not aggregated: `{"name", "spec", "non_null_rows", "values", "more_values"}`
    /// (each value `{"value", "rows", "billed_cost"}`, the cost a decimal string).
    #[getter]
    fn extra_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner.extra_columns)
    }
    /// `"imported"`, `"already_imported"` (the same bytes were imported before: nothing was
    /// written) or `"replaced"` (it replaced billing periods imported before).
    #[getter]
    fn outcome(&self) -> &'static str {
        match self.inner.outcome {
            ImportOutcome::AlreadyImported { .. } => "already_imported",
            ImportOutcome::Replaced { .. } => "replaced",
            _ => "imported",
        }
    }
    /// The file(s) imported before: the one of the same bytes (`already_imported`), the ones
    /// replaced (`replaced`); empty otherwise.
    #[getter]
    fn previous(&self) -> Vec<String> {
        match &self.inner.outcome {
            ImportOutcome::AlreadyImported { path, .. } => vec![path.clone()],
            ImportOutcome::Replaced { previous, .. } => previous.clone(),
            _ => Vec::new(),
        }
    }
    /// The BilledCost the replaced files had for those periods, per currency (`replaced`
    /// only; empty otherwise).
    #[getter]
    fn previous_billed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        match &self.inner.outcome {
            ImportOutcome::Replaced { previous_billed, .. } => money_sum(py, previous_billed),
            _ => Ok(PyDict::new(py)),
        }
    }
    /// A short human account of the import.
    fn describe(&self) -> String {
        self.inner.describe()
    }
    /// The summary as the core's JSON (money as decimal strings).
    fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.inner).unwrap_or_default()
    }
    fn __str__(&self) -> String {
        self.inner.describe()
    }
    /// `obj["name"]` is `obj.name`, for the names `keys()` lists.
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        field_item(slf.as_any(), SUMMARY_FIELDS, key)
    }
    fn __contains__(&self, key: &str) -> bool {
        SUMMARY_FIELDS.contains(&key)
    }
    /// The field names (so `dict(obj)` works).
    fn keys(&self) -> Vec<&'static str> {
        SUMMARY_FIELDS.to_vec()
    }
    /// Every field as a dict (money as `decimal.Decimal`).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        fields_dict(slf.as_any(), SUMMARY_FIELDS)
    }
    fn __repr__(&self) -> String {
        format!(
            "ImportSummary(path={:?}, outcome={:?}, rows_imported={}, rows_skipped={})",
            self.path(),
            self.outcome(),
            self.inner.rows_imported,
            self.inner.rows_skipped
        )
    }
}

/// One profiled function's cost: its self time priced at a vCPU-hour (and its memory at a
/// GiB-hour, an upper bound, where allocations were tracked).
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct FunctionCost {
    inner: cost::FunctionCost,
}

const FUNCTION_COST_FIELDS: &[&str] = &[
    "name",
    "calls",
    "self_ns",
    "cpu_cost",
    "memory_gib_hours",
    "memory_cost",
    "total_cost",
    "cost_per_call",
    "cost_per_million_calls",
    "calls_per_sec",
    "monthly_cost",
    "currency",
];

#[pymethods]
impl FunctionCost {
    /// The function.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// Calls in the snapshot.
    #[getter]
    fn calls(&self) -> u64 {
        self.inner.calls
    }
    /// Its self time, nanoseconds.
    #[getter]
    fn self_ns(&self) -> u64 {
        self.inner.self_ns
    }
    /// Its self time's price.
    #[getter]
    fn cpu_cost(&self) -> Decimal {
        self.inner.cpu_cost.amount
    }
    /// Its memory's GiB-hours (an upper bound), where allocations were tracked.
    #[getter]
    fn memory_gib_hours(&self) -> Option<f64> {
        self.inner.memory_gib_hours
    }
    /// Their price.
    #[getter]
    fn memory_cost(&self) -> Decimal {
        self.inner.memory_cost.amount
    }
    /// CPU and memory, in the snapshot.
    #[getter]
    fn total_cost(&self) -> Decimal {
        self.inner.total_cost.amount
    }
    /// Per call.
    #[getter]
    fn cost_per_call(&self) -> Decimal {
        self.inner.cost_per_call.amount
    }
    /// Per million calls.
    #[getter]
    fn cost_per_million_calls(&self) -> Decimal {
        self.inner.cost_per_million_calls.amount
    }
    /// Observed calls per second over the snapshot's window (None without a window).
    #[getter]
    fn calls_per_sec(&self) -> Option<f64> {
        self.inner.calls_per_sec
    }
    /// Per 730-hour month at the observed call rate (None without a window).
    #[getter]
    fn monthly_cost(&self) -> Option<Decimal> {
        self.inner.monthly_cost.map(|m| m.amount)
    }
    /// The currency of every amount.
    #[getter]
    fn currency(&self) -> &str {
        self.inner.total_cost.currency.as_str()
    }
    /// `obj["name"]` is `obj.name`, for the names `keys()` lists.
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        field_item(slf.as_any(), FUNCTION_COST_FIELDS, key)
    }
    fn __contains__(&self, key: &str) -> bool {
        FUNCTION_COST_FIELDS.contains(&key)
    }
    /// The field names (so `dict(obj)` works).
    fn keys(&self) -> Vec<&'static str> {
        FUNCTION_COST_FIELDS.to_vec()
    }
    /// Every field as a dict (money as `decimal.Decimal`).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        fields_dict(slf.as_any(), FUNCTION_COST_FIELDS)
    }
    fn __repr__(&self) -> String {
        format!(
            "FunctionCost({:?}, calls={}, total_cost={}, cost_per_million_calls={})",
            self.inner.name,
            self.inner.calls,
            self.inner.total_cost,
            self.inner.cost_per_million_calls
        )
    }
}

/// The price `vcpu_hour`, `gib_hour` and `currency` arguments give (for the reports' cost
/// sections), or `None` without a `vcpu_hour`.
pub(crate) fn price_arg(
    vcpu_hour: Option<&Bound<'_, PyAny>>,
    gib_hour: Option<&Bound<'_, PyAny>>,
    currency: &str,
) -> PyResult<Option<Price>> {
    let Some(v) = vcpu_hour else { return Ok(None) };
    let price = Price::per_vcpu_hour(decimal_arg(v, "vcpu_hour")?)
        .with_gib_hour(opt_decimal_arg(gib_hour, "gib_hour")?.unwrap_or_default())
        .with_currency(currency_arg(currency)?);
    for (what, p) in [("vcpu_hour", price.vcpu_hour), ("gib_hour", price.gib_hour)] {
        if p.is_sign_negative() && !p.is_zero() {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "{what}: {p} is negative"
            )));
        }
    }
    Ok(Some(price))
}

/// The cost of every function of `snapshot`, most costly first: self time as vCPU-hours at
/// `vcpu_hour` (plus memory at `gib_hour` per GiB-hour, where allocations were tracked).
#[pyfunction]
#[pyo3(signature = (snapshot, vcpu_hour, gib_hour = None, currency = "USD"))]
fn function_costs(
    py: Python<'_>,
    snapshot: PyRef<'_, Snapshot>,
    vcpu_hour: &Bound<'_, PyAny>,
    gib_hour: Option<&Bound<'_, PyAny>>,
    currency: &str,
) -> PyResult<Vec<FunctionCost>> {
    let price = Price::per_vcpu_hour(decimal_arg(vcpu_hour, "vcpu_hour")?)
        .with_gib_hour(opt_decimal_arg(gib_hour, "gib_hour")?.unwrap_or_default())
        .with_currency(currency_arg(currency)?);
    let snap = snapshot.inner();
    let costs = py.detach(|| cost::function_costs(snap, &price)).map_err(to_py_err)?;
    Ok(costs.into_iter().map(|inner| FunctionCost { inner }).collect())
}

// ---------------------------------------------------------------------------------------
// The monitor.

/// Tracks resources, imports FOCUS billing exports and answers what things cost (seed 003's
/// `CostMonitor`). `CostMonitor()` keeps everything in memory; `CostMonitor(dir)` keeps it in
/// `dir/cost.sqlite` (created if missing; usually the `.perfcore` directory), which several
/// processes share safely.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct CostMonitor {
    inner: Mutex<cost::CostMonitor>,
    /// The callables `on_budget_alert` registered, called by `check_budgets`.
    alert_callbacks: Mutex<Vec<Py<PyAny>>>,
}

impl CostMonitor {
    fn lock(&self) -> MutexGuard<'_, cost::CostMonitor> {
        // A panic in the core while locked leaves the store consistent (SQLite transactions).
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn period(&self, report: ReportPeriod) -> PyResult<Period> {
        self.lock().resolve_period(report).map_err(to_py_err)
    }
}

fn import_options(
    strict: bool,
    mode: &str,
    keep_columns: Option<Vec<String>>,
) -> PyResult<ImportOptions> {
    let mode = match mode.trim().to_ascii_lowercase().as_str() {
        "refuse" => ImportMode::Refuse,
        "replace" => ImportMode::Replace,
        "append" => ImportMode::Append,
        other => {
            return Err(PyValueError::new_err(format!(
                "mode: {other:?} (known: \"refuse\", \"replace\", \"append\")"
            )));
        }
    };
    let mut o = ImportOptions::default().strict(strict).mode(mode);
    for k in keep_columns.unwrap_or_default() {
        o = o.keep_column(k);
    }
    Ok(o)
}

#[pymethods]
impl CostMonitor {
    #[new]
    #[pyo3(signature = (dir = None, *, commitment_discount = None, always_on_share = None))]
    fn new(
        py: Python<'_>,
        dir: Option<PathBuf>,
        commitment_discount: Option<&Bound<'_, PyAny>>,
        always_on_share: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut options = OpportunityOptions::default();
        if let Some(rate) = opt_decimal_arg(commitment_discount, "commitment_discount")? {
            if rate < Decimal::ZERO || rate >= Decimal::ONE {
                return Err(PyValueError::new_err(format!(
                    "commitment_discount: {rate} is not a fraction in 0..1"
                )));
            }
            options = options.with_commitment_discount(rate);
        }
        if let Some(share) = opt_decimal_arg(always_on_share, "always_on_share")? {
            if share <= Decimal::ZERO || share > Decimal::ONE {
                return Err(PyValueError::new_err(format!(
                    "always_on_share: {share} is not a fraction in (0, 1]"
                )));
            }
            options.always_on_share = share;
        }
        let mut monitor = py
            .detach(|| match &dir {
                Some(d) => cost::CostMonitor::open(d),
                None => cost::CostMonitor::new(),
            })
            .map_err(to_py_err)?;
        monitor.set_opportunity_options(options);
        Ok(Self { inner: Mutex::new(monitor), alert_callbacks: Mutex::new(Vec::new()) })
    }

    /// The database file (`":memory:"` for an in-memory monitor).
    #[getter]
    fn store_path(&self) -> String {
        self.lock().store_path().to_string_lossy().into_owned()
    }

    /// Converts other currencies into `target` in totals and reports: `rates` maps a
    /// currency code to the units of `target` one unit of it buys. None: no conversion (a
    /// total over several currencies raises CostError).
    #[pyo3(signature = (rates, target = "USD"))]
    fn set_exchange_rates(&self, rates: Option<&Bound<'_, PyDict>>, target: &str) -> PyResult<()> {
        let converted = match rates {
            None => None,
            Some(d) => {
                let mut r = ExchangeRates::new(currency_arg(target)?);
                for (k, v) in d.iter() {
                    let code: String = k.extract()?;
                    r = r.with_rate(currency_arg(&code)?, decimal_arg(&v, "exchange rate")?);
                }
                Some(r)
            }
        };
        self.lock().set_exchange_rates(converted);
        Ok(())
    }

    /// Tracks (or updates, by id) a resource; its cost is `charges` if given, else
    /// `usage_hours × cost_per_hour`, and counts on today's UTC day in dated reports.
    ///
    /// Amounts may be `int`, `float` (read through its shortest repr: `0.096` is exactly
    /// 0.096), `decimal.Decimal` or `str`. `metadata` is kept as JSON; its `utilization` (or
    /// `cpu`), `memory` (fractions in 0..1) and `network_bytes_per_sec` make a utilisation
    /// reading taken now. `last_activity_unix` (seconds since the epoch) is when it last did
    /// anything, for the idle rule.
    #[pyo3(signature = (
        resource_id, resource_type, provider, usage_hours, cost_per_hour = None, metadata = None,
        *, region = None, service = None, tags = None, currency = "USD", charges = None,
        account = None, last_activity_unix = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn track_resource(
        &self,
        py: Python<'_>,
        resource_id: &str,
        resource_type: &Bound<'_, PyAny>,
        provider: &Bound<'_, PyAny>,
        usage_hours: &Bound<'_, PyAny>,
        cost_per_hour: Option<&Bound<'_, PyAny>>,
        metadata: Option<&Bound<'_, PyDict>>,
        region: Option<String>,
        service: Option<String>,
        tags: Option<BTreeMap<String, String>>,
        currency: &str,
        charges: Option<&Bound<'_, PyAny>>,
        account: Option<String>,
        last_activity_unix: Option<i64>,
    ) -> PyResult<()> {
        let mut r =
            Resource::new(resource_id, resource_type_arg(resource_type)?, provider_arg(provider)?)
                .usage_hours(decimal_arg(usage_hours, "usage_hours")?)
                .currency(currency_arg(currency)?);
        if let Some(rate) = opt_decimal_arg(cost_per_hour, "cost_per_hour")? {
            r = r.cost_per_hour(rate);
        }
        if let Some(c) = opt_decimal_arg(charges, "charges")? {
            r = r.charges(c);
        }
        if let Some(region) = region {
            r = r.region(region);
        }
        if let Some(service) = service {
            r = r.service(service);
        }
        r.account = account;
        r.last_activity_unix = last_activity_unix;
        for (k, v) in tags.unwrap_or_default() {
            r = r.tag(k, v);
        }
        if let Some(meta) = metadata {
            let fraction = |key: &str| -> PyResult<Option<f64>> {
                match meta.get_item(key)? {
                    Some(v) if !v.is_none() => v.extract::<f64>().map(Some).map_err(|_| {
                        PyTypeError::new_err(format!("metadata[{key:?}]: expected a number"))
                    }),
                    _ => Ok(None),
                }
            };
            let cpu = match fraction("utilization")? {
                Some(c) => Some(c),
                None => fraction("cpu")?,
            };
            let sample = UtilizationSample {
                at_unix: r.tracked_at_unix,
                cpu,
                memory: fraction("memory")?,
                network_bytes_per_sec: fraction("network_bytes_per_sec")?,
            };
            if sample.cpu.is_some()
                || sample.memory.is_some()
                || sample.network_bytes_per_sec.is_some()
            {
                r = r.utilization(sample);
            }
            for (k, v) in meta.iter() {
                let key: String =
                    k.extract().map_err(|_| PyTypeError::new_err("metadata: keys must be str"))?;
                r.metadata.insert(key, json_value(&v)?);
            }
        }
        py.detach(|| self.lock().track_resource(r)).map_err(to_py_err)
    }

    /// Stops tracking a resource; whether it was tracked.
    fn untrack_resource(&self, py: Python<'_>, resource_id: &str) -> PyResult<bool> {
        py.detach(|| self.lock().untrack_resource(resource_id)).map_err(to_py_err)
    }

    /// The tracked resources, by id.
    fn resources(&self, py: Python<'_>) -> PyResult<Vec<TrackedResource>> {
        let list = py.detach(|| self.lock().resources()).map_err(to_py_err)?;
        Ok(list.into_iter().map(|inner| TrackedResource { inner }).collect())
    }

    /// Imports a FOCUS billing export (CSV, gzip CSV or Parquet, told apart by their first
    /// bytes; FOCUS 1.0 and later) in one
    /// transaction. The same bytes imported again add nothing (`outcome` is
    /// `"already_imported"`). A file covering a (provider, billing account, billing period)
    /// imported before from another file raises CostError unless `mode` is `"replace"` (a new
    /// delivery of that period) or `"append"` (another part of it). Lenient by default: bad
    /// rows are skipped and listed in `skipped`; `strict=True` raises CostError (with `line`,
    /// `column` and `value`) at the first and imports nothing. `keep_columns` makes other
    /// columns breakdown dimensions (`"column:NAME"`).
    #[pyo3(signature = (path, *, strict = false, mode = "refuse", keep_columns = None))]
    fn import_focus(
        &self,
        py: Python<'_>,
        path: PathBuf,
        strict: bool,
        mode: &str,
        keep_columns: Option<Vec<String>>,
    ) -> PyResult<ImportSummary> {
        let options = import_options(strict, mode, keep_columns)?;
        let inner = py.detach(|| self.lock().import(&path, &options)).map_err(to_py_err)?;
        Ok(ImportSummary { inner })
    }

    /// Imports several files as one delivery (the parts of one month's export): later files
    /// may add to the billing periods earlier ones brought. One transaction per file; the
    /// first error stops the batch (the files before it stay imported).
    #[pyo3(signature = (paths, *, strict = false, mode = "refuse", keep_columns = None))]
    fn import_focus_files(
        &self,
        py: Python<'_>,
        paths: Vec<PathBuf>,
        strict: bool,
        mode: &str,
        keep_columns: Option<Vec<String>>,
    ) -> PyResult<Vec<ImportSummary>> {
        let options = import_options(strict, mode, keep_columns)?;
        let list = py.detach(|| self.lock().import_all(&paths, &options)).map_err(to_py_err)?;
        Ok(list.into_iter().map(|inner| ImportSummary { inner }).collect())
    }

    /// The imports so far, oldest first: dicts with `id`, `path`, `digest`, `format`,
    /// `focus_version`, `rows_read`, `rows_imported`, `rows_skipped`, `imported_at`.
    fn imports<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let list = py.detach(|| self.lock().imports()).map_err(to_py_err)?;
        to_data(py, &list)
    }

    /// The first and last day that has a cost (imported or tracked), or None.
    fn data_range(&self, py: Python<'_>) -> PyResult<Option<(String, String)>> {
        let range = py.detach(|| self.lock().data_range()).map_err(to_py_err)?;
        Ok(range.map(|p| (p.from.to_string(), p.to.to_string())))
    }

    /// The total cost of a period (`"daily"`, `"weekly"`, `"monthly"`: the latest day, ISO
    /// week or calendar month with data; `"all"`; or the days `from_..=to`), in its one
    /// currency (several currencies need `set_exchange_rates`). `metric`: `"billed"`,
    /// `"effective"`, `"list"` or `"contracted"`.
    #[pyo3(signature = (period = "monthly", metric = "billed", *, from_ = None, to = None))]
    fn total(
        &self,
        py: Python<'_>,
        period: &str,
        metric: &str,
        from_: Option<&Bound<'_, PyAny>>,
        to: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decimal> {
        let days = self.period(report_period(period, from_, to)?)?;
        let metric = metric_arg(metric)?;
        let total: Money = py.detach(|| self.lock().total(days, metric)).map_err(to_py_err)?;
        Ok(total.amount)
    }

    /// Costs of a period grouped by `by`: a dimension name or a list of them (`"day"`,
    /// `"week"`, `"month"`, `"billing_period"`, `"type"`, `"provider"`, `"region"`,
    /// `"service"`, `"service_category"`, `"account"`, `"sub_account"`, `"charge_category"`,
    /// `"charge_frequency"`, `"resource"`, `"currency"`, `"commitment"`, `"tag:KEY"`,
    /// `"column:NAME"`; `by=None` is `"service"`). One dict per group, most costly first (by
    /// time when the first dimension is a time): each dimension's canonical name (`"type"` for
    /// `"resource_type"`, `"tag:KEY"`) → the group's value, `"keys"` (the values
    /// in order), `"cost"` (Decimal), `"currency"` and `"rows"` (billing rows or tracked
    /// resources in it). The costs add up to `total(...)` exactly.
    #[pyo3(signature = (by = None, period = "monthly", metric = "billed", *, from_ = None, to = None))]
    fn get_cost_breakdown<'py>(
        &self,
        py: Python<'py>,
        by: Option<&Bound<'py, PyAny>>,
        period: &str,
        metric: &str,
        from_: Option<&Bound<'py, PyAny>>,
        to: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let dims = match by {
            Some(b) if !b.is_none() => dimensions_arg(b)?,
            _ => vec![Dimension::Service],
        };
        let days = self.period(report_period(period, from_, to)?)?;
        let metric = metric_arg(metric)?;
        let b = py.detach(|| self.lock().breakdown(days, &dims, metric)).map_err(to_py_err)?;
        b.rows.iter().map(|r| row_dict(py, &b.dimensions, r)).collect()
    }

    /// Seed 003's cost report of a period (`"daily"`, `"weekly"`, `"monthly"`, `"all"`, or
    /// the days `from_..=to`): totals, breakdowns, the daily series, the top resources and the
    /// optimisation opportunities.
    #[pyo3(signature = (period = "monthly", *, from_ = None, to = None))]
    fn generate_cost_report(
        &self,
        py: Python<'_>,
        period: &str,
        from_: Option<&Bound<'_, PyAny>>,
        to: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<CostReport> {
        let p = report_period(period, from_, to)?;
        let inner = py.detach(|| self.lock().report(p)).map_err(to_py_err)?;
        Ok(CostReport { inner })
    }

    /// The forecast of the next `days` days after the last day with data, with 80%
    /// intervals (`level`), of the total or, with `by`, of each group too. A dict:
    /// `forecast` (the expected cost of the `days` days, Decimal, or None when there is too
    /// little history), `lower`, `upper`, `currency`, `days`, `as_of`, `level`, `method`
    /// (`"damped_holt_winters"` or `"seasonal_naive"`), `reason`, `backtest` (`mase`,
    /// `coverage`, `origins`, `horizon`, `points`, and both methods' scores), `daily` (one
    /// dict a day: `day`, `expected`, `lower`, `upper`), `month_end` (`month`, `actual`,
    /// `expected`, `lower`, `upper`, `actual_days`, `remaining_days`: "the month will end at
    /// X ± Y"), `series` (with `by`: one such dict per group, with `keys` and each
    /// dimension's value) and `insufficient_history` (the groups not forecast: `keys`,
    /// `currency`, `days`, `needed`).
    #[pyo3(signature = (days = 30, by = None, metric = "billed", level = 0.8))]
    fn get_cost_forecast<'py>(
        &self,
        py: Python<'py>,
        days: u32,
        by: Option<&Bound<'py, PyAny>>,
        metric: &str,
        level: f64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let dims = match by {
            Some(b) if !b.is_none() => dimensions_arg(b)?,
            _ => Vec::new(),
        };
        let request = ForecastRequest::new(days)
            .metric(metric_arg(metric)?)
            .options(ForecastOptions::default().level(level));
        let grouped = ForecastRequest { by: dims.clone(), ..request.clone() };
        let (total, groups) = py
            .detach(|| {
                let m = self.lock();
                let total = m.forecast(&request)?;
                let groups = if dims.is_empty() { None } else { Some(m.forecast(&grouped)?) };
                Ok::<_, cost::CostError>((total, groups))
            })
            .map_err(to_py_err)?;
        let d = match total.series.first() {
            Some(s) => series_forecast_dict(py, &total.dimensions, s)?,
            None => {
                let d = PyDict::new(py);
                for key in [
                    "forecast",
                    "lower",
                    "upper",
                    "currency",
                    "method",
                    "reason",
                    "backtest",
                    "month_end",
                ] {
                    d.set_item(key, py.None())?;
                }
                d.set_item("daily", PyList::empty(py))?;
                d.set_item(
                    "note",
                    format!(
                        "insufficient history: a forecast needs at least {} days with data",
                        cost::MIN_HISTORY_DAYS
                    ),
                )?;
                d
            }
        };
        d.set_item("days", days)?;
        d.set_item("as_of", total.as_of.map(|a| a.to_string()))?;
        d.set_item("level", total.level)?;
        let mut insufficient = total.insufficient_history.clone();
        if let Some(g) = &groups {
            let list = PyList::empty(py);
            for s in &g.series {
                list.append(series_forecast_dict(py, &g.dimensions, s)?)?;
            }
            d.set_item("series", list)?;
            insufficient.extend(g.insufficient_history.iter().cloned());
        }
        d.set_item("insufficient_history", to_data(py, &insufficient)?)?;
        Ok(d)
    }

    /// Changes the thresholds and assumptions of the optimisation rules; the options not
    /// given keep their values. Fractions are in 0..=1; `prices` is a CSV file (header
    /// `provider,region,sku,unit,price[,currency,size]`) or a list of dicts with those keys;
    /// `now` (seconds since the epoch) fixes the end of the lookback windows.
    #[pyo3(signature = (
        *,
        commitment_discount = None,
        always_on_share = None,
        underutilized_cpu = None,
        downsize_saving = None,
        idle_hours = None,
        oversized_cpu = None,
        oversized_memory = None,
        sizing_percentile = None,
        target_utilization = None,
        lookback_days = None,
        steady_days = None,
        trusted_advisor = None,
        prices = None,
        now = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn set_opportunity_options(
        &self,
        commitment_discount: Option<&Bound<'_, PyAny>>,
        always_on_share: Option<&Bound<'_, PyAny>>,
        underutilized_cpu: Option<f64>,
        downsize_saving: Option<&Bound<'_, PyAny>>,
        idle_hours: Option<u32>,
        oversized_cpu: Option<f64>,
        oversized_memory: Option<f64>,
        sizing_percentile: Option<f64>,
        target_utilization: Option<f64>,
        lookback_days: Option<u32>,
        steady_days: Option<u32>,
        trusted_advisor: Option<bool>,
        prices: Option<&Bound<'_, PyAny>>,
        now: Option<i64>,
    ) -> PyResult<()> {
        let mut o = self.lock().opportunity_options().clone();
        if let Some(r) = opt_decimal_arg(commitment_discount, "commitment_discount")? {
            o = o.with_commitment_discount(r);
        }
        if let Some(v) = opt_decimal_arg(always_on_share, "always_on_share")? {
            o = o.with_always_on_share(v);
        }
        if let Some(v) = opt_decimal_arg(downsize_saving, "downsize_saving")? {
            o = o.with_downsize_saving(v);
        }
        if let Some(v) = underutilized_cpu {
            o = o.with_underutilized_cpu(v);
        }
        if let Some(v) = idle_hours {
            o = o.with_idle_hours(v);
        }
        if let Some(v) = oversized_cpu {
            o = o.with_oversized_cpu(v);
        }
        if let Some(v) = oversized_memory {
            o = o.with_oversized_memory(v);
        }
        if let Some(v) = sizing_percentile {
            o = o.with_sizing_percentile(v);
        }
        if let Some(v) = target_utilization {
            o = o.with_target_utilization(v);
        }
        if let Some(v) = lookback_days {
            o = o.with_lookback_days(v);
        }
        if let Some(v) = steady_days {
            o = o.with_steady_days(v);
        }
        if let Some(v) = trusted_advisor {
            o = o.with_trusted_advisor(v);
        }
        if let Some(p) = prices.filter(|p| !p.is_none()) {
            o = o.with_price_table(price_table(p)?);
        }
        if let Some(v) = now {
            o = o.with_now_unix(v);
        }
        o.validate().map_err(to_py_err)?;
        self.lock().set_opportunity_options(o);
        Ok(())
    }

    /// Each applied decision's projected monthly cost against the realised one, as dicts:
    /// `before_monthly_cost`, `projected_monthly_cost`, `realised_monthly_cost` (None until
    /// there is evidence), `projected_savings`, `realised_savings`, `evidence_days`, `basis`.
    fn savings<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let list = py.detach(|| self.lock().savings()).map_err(to_py_err)?;
        list.iter().map(|a| realised_dict(py, a)).collect()
    }

    /// The optimisation opportunities the rules find in the tracked resources and the
    /// imported billing data, largest saving first.
    fn identify_optimization_opportunities(&self, py: Python<'_>) -> PyResult<Vec<Opportunity>> {
        let list = py.detach(|| self.lock().opportunities()).map_err(to_py_err)?;
        Ok(list.into_iter().map(|inner| Opportunity { inner }).collect())
    }

    /// Records the decision to act on `opportunity` (an `Opportunity`, or its dict: the
    /// current opportunity of the same `type` and `resource_id` is used) in the store's audit
    /// trail. perfcore cannot buy a commitment or resize a cloud resource: the message says
    /// what to do; the projected cost is what later reports compare with.
    fn apply_cost_optimization(
        &self,
        py: Python<'_>,
        opportunity: &Bound<'_, PyAny>,
    ) -> PyResult<OptimizationResult> {
        let opp = if let Ok(o) = opportunity.cast::<Opportunity>() {
            o.get().inner.clone()
        } else if let Ok(d) = opportunity.cast::<PyDict>() {
            let get = |k: &str| -> PyResult<String> {
                d.get_item(k)?.ok_or_else(|| PyKeyError::new_err(k.to_owned()))?.extract::<String>()
            };
            let (kind, id) = (get("type")?, get("resource_id")?);
            let current = py.detach(|| self.lock().opportunities()).map_err(to_py_err)?;
            current.into_iter().find(|o| o.kind == kind && o.resource_id == id).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "no current {kind:?} opportunity for resource {id:?} (identify_optimization_opportunities lists them)"
                ))
            })?
        } else {
            return Err(PyTypeError::new_err("opportunity: expected an Opportunity or its dict"));
        };
        let inner = py.detach(|| self.lock().apply_optimization(&opp)).map_err(to_py_err)?;
        Ok(OptimizationResult { inner })
    }

    /// The decisions recorded so far, oldest first.
    fn applied_optimizations(&self, py: Python<'_>) -> PyResult<Vec<OptimizationResult>> {
        let list = py.detach(|| self.lock().applied_optimizations()).map_err(to_py_err)?;
        Ok(list.into_iter().map(|inner| OptimizationResult { inner }).collect())
    }

    /// Days whose spend left its expected band, grouped `by` a dimension (`"service"`,
    /// `"resource"`, `"account"`, `"tag:team"`…, or `"total"`), each with the resources that
    /// drove it. `days`: judge the last N days of data (default: all of them), or give
    /// `start` and `end`. Each anomaly is a dict: day, dimension, key, actual, expected, lower,
    /// upper, impact (Decimal), currency, spreads (impact as a multiple of the usual spread;
    /// None for a series with no noise), direction, drivers, description.
    #[pyo3(signature = (by = "service", *, days = None, start = None, end = None, threshold = 4.0, min_impact = None, min_relative_change = 0.1, increases_only = false, metric = "billed"))]
    #[allow(clippy::too_many_arguments)]
    fn detect_cost_anomalies<'py>(
        &self,
        py: Python<'py>,
        by: Option<&str>,
        days: Option<u32>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
        threshold: f64,
        min_impact: Option<&Bound<'_, PyAny>>,
        min_relative_change: f64,
        increases_only: bool,
        metric: &str,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let group = cost_watch::group_arg(by)?;
        let min_impact = opt_decimal_arg(min_impact, "min_impact")?;
        let options = cost_watch::anomaly_options(
            threshold,
            min_impact,
            min_relative_change,
            increases_only,
            metric,
        )?;
        let range = match (start.filter(|v| !v.is_none()), end.filter(|v| !v.is_none())) {
            (Some(s), Some(e)) => Some((day_arg(s, "start")?, day_arg(e, "end")?)),
            (None, None) => None,
            _ => return Err(PyValueError::new_err("give both start and end (or neither)")),
        };
        let found = py
            .detach(|| {
                let m = self.lock();
                match cost_watch::anomaly_period(&m, days, range)? {
                    Some(period) => m.anomalies(group.as_ref(), period, &options),
                    None => Ok(Vec::new()),
                }
            })
            .map_err(to_py_err)?;
        found
            .iter()
            .map(|a| {
                let d = cost_watch::to_py(py, a)?;
                d.set_item("description", a.describe())?;
                Ok(d)
            })
            .collect()
    }

    /// Saves a budget (replacing one of the same name): `amount` per `period` (`"weekly"`,
    /// `"monthly"`, `"quarterly"`, `"yearly"`) over `scope` (a dict `{dimension: value}`, all
    /// of which must hold, e.g. `{"service": "EC2", "tag:team": "web"}`; None: the whole
    /// bill), alerting at `thresholds` (`["80:actual", "100:forecast"]`, the default, or
    /// pairs `(80, "actual")`). Returns the budget as a dict.
    #[pyo3(signature = (name, amount, *, period = "monthly", currency = "USD", scope = None, thresholds = None, metric = "billed"))]
    #[allow(clippy::too_many_arguments)]
    fn add_budget<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        amount: &Bound<'_, PyAny>,
        period: &str,
        currency: &str,
        scope: Option<&Bound<'_, PyAny>>,
        thresholds: Option<&Bound<'_, PyAny>>,
        metric: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let amount = Money::new(decimal_arg(amount, "amount")?, currency_arg(currency)?);
        let budget = cost_watch::budget_arg(name, amount, period, scope, thresholds, metric)?;
        py.detach(|| self.lock().add_budget(budget.clone())).map_err(to_py_err)?;
        let d = cost_watch::to_py(py, &budget)?;
        d.set_item("description", budget.describe())?;
        Ok(d)
    }

    /// The budgets, by name, as dicts.
    fn budgets<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let list = py.detach(|| self.lock().budgets()).map_err(to_py_err)?;
        list.iter().map(|b| cost_watch::to_py(py, b)).collect()
    }

    /// Removes a budget and its alert history; whether it existed.
    fn remove_budget(&self, py: Python<'_>, name: &str) -> PyResult<bool> {
        py.detach(|| self.lock().remove_budget(name)).map_err(to_py_err)
    }

    /// Calls `callback(alert)` (alert: a dict with budget, period, as_of, threshold, amount,
    /// actual, forecast, percent, message) for each alert `check_budgets` fires.
    fn on_budget_alert(&self, callback: Py<PyAny>) -> PyResult<()> {
        Python::attach(|py| {
            if !callback.bind(py).is_callable() {
                return Err(PyTypeError::new_err("callback: expected a callable"));
            }
            Ok(())
        })?;
        self.alert_callbacks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(callback);
        Ok(())
    }

    /// Checks every budget against the data so far (to its last day): each threshold crossed
    /// for the first time in its period fires once (the callbacks are called with it, and the
    /// store remembers it, across processes). Returns each budget's status as a dict: budget,
    /// period, as_of, actual, percent, forecast (expected/lower/upper of the period's end, or
    /// None with forecast_note saying why), crossed, new_alerts, description. An exception a
    /// callback raises propagates after the alerts are recorded.
    fn check_budgets<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let statuses = py.detach(|| self.lock().check_budgets()).map_err(to_py_err)?;
        let callbacks: Vec<Py<PyAny>> = self
            .alert_callbacks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|c| c.clone_ref(py))
            .collect();
        let mut out = Vec::with_capacity(statuses.len());
        for s in &statuses {
            let d = cost_watch::to_py(py, s)?;
            d.set_item("description", s.describe())?;
            out.push(d);
        }
        for s in &statuses {
            for a in &s.new_alerts {
                for c in &callbacks {
                    c.call1(py, (cost_watch::to_py(py, a)?,))?;
                }
            }
        }
        Ok(out)
    }

    /// Every budget alert fired so far, oldest period first, as dicts.
    fn budget_alerts<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let list = py.detach(|| self.lock().budget_alerts()).map_err(to_py_err)?;
        list.iter().map(|a| cost_watch::to_py(py, a)).collect()
    }

    fn __repr__(&self) -> String {
        format!("CostMonitor({:?})", self.store_path())
    }
}

/// One realised saving as a dict (money as `decimal.Decimal`).
fn realised_dict<'py>(py: Python<'py>, a: &cost::RealisedSaving) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("applied_at", &a.applied_at)?;
    d.set_item("type", &a.kind)?;
    d.set_item("resource_id", &a.resource_id)?;
    d.set_item("currency", a.before_monthly_cost.currency.as_str())?;
    d.set_item("before_monthly_cost", a.before_monthly_cost.amount)?;
    d.set_item("projected_monthly_cost", a.projected_monthly_cost.amount)?;
    d.set_item("realised_monthly_cost", a.realised_monthly_cost.map(|m| m.amount))?;
    d.set_item("projected_savings", a.projected_savings.amount)?;
    d.set_item("realised_savings", a.realised_savings.map(|m| m.amount))?;
    d.set_item("evidence_days", a.evidence_days)?;
    d.set_item("basis", &a.basis)?;
    Ok(d)
}

/// A price table from a CSV file's path or a list of dicts.
fn price_table(value: &Bound<'_, PyAny>) -> PyResult<cost::PriceTable> {
    if let Ok(list) = value.cast::<pyo3::types::PyList>() {
        let mut table = cost::PriceTable::new();
        for item in list.iter() {
            let d = item
                .cast::<PyDict>()
                .map_err(|_| PyTypeError::new_err("prices: expected a list of dicts"))?;
            let text = |k: &str| -> PyResult<Option<String>> {
                d.get_item(k)?.filter(|v| !v.is_none()).map(|v| v.extract::<String>()).transpose()
            };
            let need = |k: &str| -> PyResult<String> {
                text(k)?
                    .ok_or_else(|| PyKeyError::new_err(format!("prices: an entry has no {k:?}")))
            };
            let price = decimal_arg(
                &d.get_item("price")?
                    .ok_or_else(|| PyKeyError::new_err("prices: an entry has no \"price\""))?,
                "price",
            )?;
            let mut e = cost::PriceEntry::new(
                cost::CloudProvider::parse(&need("provider")?),
                need("region")?,
                need("sku")?,
                price,
            );
            if let Some(u) = text("unit")? {
                e = e.unit(u);
            }
            if let Some(c) = text("currency")? {
                e = e.currency(currency_arg(&c)?);
            }
            if let Some(size) = opt_decimal_arg(d.get_item("size")?.as_ref(), "size")? {
                e = e.size(size);
            }
            table.add(e).map_err(to_py_err)?;
        }
        return Ok(table);
    }
    let path: PathBuf = value.extract().map_err(|_| {
        PyTypeError::new_err("prices: expected a CSV file's path or a list of dicts")
    })?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| PyValueError::new_err(format!("prices: {}: {e}", path.display())))?;
    cost::PriceTable::from_csv(&text).map_err(to_py_err)
}

/// Adds the classes and functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ResourceType>()?;
    m.add_class::<CloudProvider>()?;
    m.add_class::<CostMonitor>()?;
    m.add_class::<CostReport>()?;
    m.add_class::<Opportunity>()?;
    m.add_class::<OptimizationResult>()?;
    m.add_class::<ImportSummary>()?;
    m.add_class::<TrackedResource>()?;
    m.add_class::<FunctionCost>()?;
    m.add_function(wrap_pyfunction!(function_costs, m)?)?;
    Ok(())
}
