//! The cost monitor: what the services' resources cost, from the resources you track and from
//! the clouds' own billing exports (FOCUS), and what each profiled function costs.
//!
//! ```
//! use perfcore::cost::{CloudProvider, CostMonitor, ReportPeriod, Resource, ResourceType};
//!
//! let mut monitor = CostMonitor::new()?; // in memory; CostMonitor::open(".perfcore") persists
//! monitor.track_resource(
//!     Resource::new("app-server-01", ResourceType::Compute, CloudProvider::Aws)
//!         .usage_hours("720".parse()?)
//!         .cost_per_hour("0.096".parse()?),
//! )?;
//! let report = monitor.report(ReportPeriod::Monthly)?;
//! assert_eq!(report.total_cost.to_string(), "69.12 USD");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Real billing data comes in through [`CostMonitor::import`]: FOCUS 1.0 and later, CSV
//! (plain or gzip) and Parquet (feature `parquet`), as AWS Data Exports, Azure Cost
//! Management and the other FOCUS providers write it. Rows are folded into one aggregate per
//! day, billing period and set of dimensions (provider, account, resource, service, region,
//! charge category, tags…), so memory and the store grow with the resources, not the rows.
//! Money is exact ([`Money`], a decimal with its currency); currencies never mix silently.
//!
//! # What real exports hold, and what perfcore makes of it
//! - **Nulls**: an empty field or the word `NULL` (any case) is a null, in every column.
//! - **Mandatory columns**: the 21 FOCUS makes mandatory ([`focus::MANDATORY_COLUMNS`]) must
//!   be in the header, or the file is refused naming those missing (FOCUS 1.3's
//!   `ServiceProviderName` and `HostProviderName` stand for `ProviderName` and
//!   `PublisherName`). A column found only in another case is read, and the summary says so.
//! - **Required values**: a row needs a BilledCost, a BillingCurrency (three letters), and
//!   charge and billing periods whose end is after their start; anything else is a bad row,
//!   reported with its line, column and value. Other costs may be null even where FOCUS says
//!   they should not be (the sample's ContractedCost): they count as zero in sums, and each
//!   aggregate keeps how many of its rows were null.
//! - **Granularity**: a row lands on the UTC day its charge period starts, whole: hourly rows
//!   add up into their day, daily rows land on theirs, a monthly fee stays on its first day.
//! - **Case variants** of the enumerated columns (ChargeCategory, ChargeFrequency,
//!   CommitmentDiscountStatus) are normalised (`Usage-based` → `Usage-Based`) and counted.
//! - **Negative costs** (credits, refunds) are summed as they are.
//! - **No ResourceId**: the cost is kept, shown as `(no resource) <ServiceName>`.
//! - **Tags** are kept as written (JSON text; keys that differ by a space stay apart); a
//!   `Dimension::Tag` breakdown reads them. Tags that are not a JSON object are counted.
//! - **Other columns** (`x_…`, a provider's own, FOCUS columns perfcore does not aggregate) are
//!   listed in the import summary with their values and cost, up to
//!   [`focus::MAX_EXTRA_VALUES`] each; [`ImportOptions::keep_column`] makes one a dimension.
//! - **Line ends** LF or CRLF, a UTF-8 byte-order mark, quoted fields spanning lines, a
//!   truncated last line (a bad row naming the first missing column): all handled, and line
//!   numbers stay those of the file.
//! - **Duplicates**: the same bytes twice are found by SHA-256 and add nothing; another file for
//!   a (provider, billing account, billing period) already imported is refused
//!   ([`CostError::PeriodAlreadyImported`]) unless it replaces it ([`ImportMode::Replace`]) or
//!   is another part of it ([`ImportMode::Append`]).
//!
//! # Forecasts
//! [`CostMonitor::forecast`] forecasts the daily cost of the total, or of each service,
//! account or tag value, with 80% prediction intervals, the horizon's total and where the
//! month will end ("X ± Y"); [`forecast_series`] forecasts any daily series. The method is
//! damped Holt-Winters with a weekly season, robust to one-day spikes, used only when it
//! beats seasonal naive on the series' own rolling-origin backtest (whose MASE and interval
//! coverage come with every forecast); under [`MIN_HISTORY_DAYS`] days of data the answer is
//! "insufficient history". STATISTICS.md has the backtests.
//!
//! # The store
//! [`CostMonitor::open`] keeps everything in `DIR/cost.sqlite` (SQLite, WAL mode): the
//! imports, one row per aggregate (`daily`, money as exact decimal text), their dimensions
//! (`dims`), the tracked resources and the decisions taken on opportunities. An import is one
//! transaction; other processes read the state before it or after it. The schema version is
//! SQLite's `user_version` ([`STORE_SCHEMA_VERSION`]): older stores are migrated, newer ones
//! refused ([`CostError::NewerStore`]). The view `daily_costs` joins it all with REAL amounts
//! for `sqlite3` and DuckDB (`ATTACH '.perfcore/cost.sqlite' (TYPE sqlite)`).
#![doc = include_str!("opportunity/rules.md")]

mod aggregate;
mod anomaly;
mod breakdown;
mod budget;
mod cost_forecast;
mod error;
pub mod focus;
mod forecast;
mod function_cost;
mod model;
mod money;
mod opportunity;
mod report;
pub mod scenarios;
mod series;
mod store;
pub mod synthetic;
mod time;

use std::path::{Path, PathBuf};

pub use anomaly::{Anomaly, AnomalyDirection, AnomalyDriver, AnomalyOptions};
pub use breakdown::{Breakdown, BreakdownRow, CostMetric, Dimension, Period};
pub use budget::{
    Budget, BudgetAlert, BudgetAlertCallback, BudgetPeriod, BudgetScope, BudgetStatus,
    BudgetThreshold, PeriodForecast, ThresholdBasis,
};
pub use cost_forecast::{
    CostForecast, ForecastPoint, ForecastRequest, InsufficientSeries, MoneyInterval, MonthEnd,
    SeriesCostForecast,
};
pub use error::CostError;
pub use focus::{ImportMode, ImportOptions, ImportOutcome, ImportSummary};
pub use forecast::{
    Backtest, BacktestScore, ForecastMethod, ForecastOptions, ForecastSum, MIN_HISTORY_DAYS,
    SeriesForecast, SeriesValue, forecast_series,
};
pub use function_cost::{
    FunctionCost, Price, function_costs, function_costs_markdown, function_costs_text,
};
pub use model::{CloudProvider, Resource, ResourceType, UtilizationSample};
pub use money::{Currency, ExchangeRates, Money, MoneySum};
pub use opportunity::{
    AppliedOptimization, HOURS_PER_MONTH, Opportunity, OpportunityOptions, PriceEntry, PriceTable,
    RealisedSaving,
};
pub use report::{CostReport, ReportPeriod, TopResource};
pub use series::DailySeries;
pub use store::{ImportRecord, STORE_SCHEMA_VERSION};
pub use time::Day;

pub(crate) use function_cost::function_cost_money;
pub use money::decimal_from_f64;
pub(crate) use money::parse_decimal;

/// The file of the cost store inside a `.perfcore/` directory.
pub const STORE_FILE: &str = "cost.sqlite";

/// Tracks resources, imports billing data and answers what things cost.
///
/// [`CostMonitor::new`] keeps everything in memory; [`CostMonitor::open`] keeps it in
/// `DIR/cost.sqlite` (see [the store](self#the-store)), shared safely by several processes.
pub struct CostMonitor {
    store: store::Store,
    rates: Option<ExchangeRates>,
    opportunity_options: OpportunityOptions,
    alert_callbacks: Vec<BudgetAlertCallback>,
}

impl std::fmt::Debug for CostMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CostMonitor").field("store", &self.store.path()).finish_non_exhaustive()
    }
}

impl CostMonitor {
    /// A monitor whose state lives in memory only.
    pub fn new() -> Result<CostMonitor, CostError> {
        Ok(CostMonitor {
            store: store::Store::open(None)?,
            rates: None,
            opportunity_options: OpportunityOptions::default(),
            alert_callbacks: Vec::new(),
        })
    }

    /// A monitor whose state lives in `dir/cost.sqlite` (created if missing; usually the
    /// `.perfcore` directory of the baselines).
    pub fn open(dir: impl AsRef<Path>) -> Result<CostMonitor, CostError> {
        let path = dir.as_ref().join(STORE_FILE);
        Ok(CostMonitor {
            store: store::Store::open(Some(&path))?,
            rates: None,
            opportunity_options: OpportunityOptions::default(),
            alert_callbacks: Vec::new(),
        })
    }

    /// The database file (`:memory:` for [`CostMonitor::new`]).
    #[must_use]
    pub fn store_path(&self) -> &Path {
        self.store.path()
    }

    /// Converts other currencies with `rates` in totals and reports (without rates, a total
    /// over several currencies is [`CostError::MixedCurrency`]).
    pub fn set_exchange_rates(&mut self, rates: Option<ExchangeRates>) {
        self.rates = rates;
    }

    /// Sets the thresholds and assumptions of the optimisation rules.
    pub fn set_opportunity_options(&mut self, options: OpportunityOptions) {
        self.opportunity_options = options;
    }

    /// The thresholds and assumptions of the optimisation rules.
    #[must_use]
    pub fn opportunity_options(&self) -> &OpportunityOptions {
        &self.opportunity_options
    }

    /// Tracks (or updates, by id) a resource.
    pub fn track_resource(&mut self, resource: Resource) -> Result<(), CostError> {
        resource.validate()?;
        self.store.put_resource(&resource)
    }

    /// Stops tracking a resource; whether it was tracked.
    pub fn untrack_resource(&mut self, id: &str) -> Result<bool, CostError> {
        self.store.remove_resource(id)
    }

    /// The tracked resources, by id.
    pub fn resources(&self) -> Result<Vec<Resource>, CostError> {
        self.store.resources()
    }

    /// Imports a FOCUS file (CSV, gzip CSV, Parquet) in one transaction.
    ///
    /// The same bytes imported again add nothing ([`ImportOutcome::AlreadyImported`]). A file
    /// covering a (provider, billing account, billing period) already imported from another
    /// file is refused unless `options.mode` says it replaces that period or is another part
    /// of it. In lenient mode (the default) bad rows are skipped and listed with their line,
    /// column, value and cost; in strict mode the first one fails the import and nothing is
    /// written.
    pub fn import(
        &mut self,
        path: impl AsRef<Path>,
        options: &ImportOptions,
    ) -> Result<ImportSummary, CostError> {
        let parsed = focus::read_file(path.as_ref(), options)?;
        Ok(self.store.import(parsed, options.mode, &[])?.0)
    }

    /// Imports several files as one delivery (the parts of one month's export, say): later
    /// files may add to the billing periods earlier ones brought. One transaction per file;
    /// the first error stops the batch (the files before it stay imported, and the error
    /// names the file).
    pub fn import_all<P: AsRef<Path>>(
        &mut self,
        paths: &[P],
        options: &ImportOptions,
    ) -> Result<Vec<ImportSummary>, CostError> {
        let mut out = Vec::new();
        let mut batch = Vec::new();
        for p in paths {
            let parsed = focus::read_file(p.as_ref(), options)?;
            let (summary, id) = self.store.import(parsed, options.mode, &batch)?;
            batch.extend(id);
            out.push(summary);
        }
        Ok(out)
    }

    /// The imports so far, oldest first.
    pub fn imports(&self) -> Result<Vec<ImportRecord>, CostError> {
        self.store.imports()
    }

    /// The first and last day that has a cost (imported or tracked).
    pub fn data_range(&self) -> Result<Option<Period>, CostError> {
        let mut range = self.store.day_range()?;
        for r in self.store.resources()? {
            let d = Day::of_unix_seconds(r.tracked_at_unix);
            range = Some(range.map_or((d, d), |(a, b)| (a.min(d), b.max(d))));
        }
        Ok(range.map(|(from, to)| Period { from, to }))
    }

    /// The aggregates of `period` with the dimension columns `dimensions` read.
    pub(crate) fn data(
        &self,
        period: Period,
        metric: CostMetric,
        dimensions: &[Dimension],
    ) -> Result<breakdown::Data, CostError> {
        let rows = self.store.daily(period.from, period.to, metric)?;
        let needed: Vec<aggregate::Dim> =
            dimensions.iter().flat_map(|d| breakdown::columns_of(d).iter().copied()).collect();
        let dims = self.store.dims(&needed)?;
        breakdown::Data::new(rows, dims, &self.store.resources()?, period, metric)
    }

    /// The total cost of `period`, in one currency.
    pub fn total(&self, period: Period, metric: CostMetric) -> Result<Money, CostError> {
        self.breakdown(period, &[], metric)?.total(self.rates.as_ref())
    }

    /// Costs of `period` grouped by `dimensions` (none: one row, the total).
    pub fn breakdown(
        &self,
        period: Period,
        dimensions: &[Dimension],
        metric: CostMetric,
    ) -> Result<Breakdown, CostError> {
        breakdown::breakdown(&self.data(period, metric, dimensions)?, period, dimensions, metric)
    }

    /// The period a [`ReportPeriod`] stands for: the latest day, ISO week or calendar month
    /// that has data (today's, when there is none).
    pub fn resolve_period(&self, period: ReportPeriod) -> Result<Period, CostError> {
        let last = self.data_range()?.map_or_else(Day::today, |p| p.to);
        Ok(match period {
            ReportPeriod::Daily => Period::day(last),
            ReportPeriod::Weekly => Period::week_of(last),
            ReportPeriod::Monthly => Period::month_of(last),
            ReportPeriod::Range(p) => p,
            ReportPeriod::All => self.data_range()?.unwrap_or_else(|| Period::day(last)),
        })
    }

    /// The cost report of a period: totals, breakdowns, the daily series, the top resources
    /// and the optimisation opportunities.
    pub fn report(&self, period: ReportPeriod) -> Result<CostReport, CostError> {
        report::build(self, period)
    }

    /// The optimisation opportunities the rules find in the tracked resources and the
    /// imported billing data (see [the rules](self#optimisation-opportunities)
    /// and [`OpportunityOptions`]), largest saving first; one resource's savings never add up to
    /// more than its cost.
    ///
    /// # Examples
    /// ```
    /// use perfcore::cost::{CloudProvider, CostMonitor, Resource, ResourceType};
    /// let mut monitor = CostMonitor::new()?;
    /// let mut vm = Resource::new("vm", ResourceType::Compute, CloudProvider::Aws)
    ///     .usage_hours("100".parse()?)
    ///     .cost_per_hour("0.1".parse()?);
    /// vm.last_activity_unix = Some(0); // nothing since 1970
    /// monitor.track_resource(vm)?;
    /// let opp = &monitor.opportunities()?[0];
    /// assert_eq!((opp.kind.as_str(), opp.potential_savings.to_string()), ("idle", "73 USD".into()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn opportunities(&self) -> Result<Vec<Opportunity>, CostError> {
        opportunity::find(&self.store.resources()?, &self.store, &self.opportunity_options)
    }

    /// Records the decision to act on `opportunity` in the store's audit trail. perfcore
    /// cannot buy a commitment or resize a cloud resource itself: the message says what to
    /// do, and the projected cost it records is what later reports compare with.
    pub fn apply_optimization(
        &mut self,
        opportunity: &Opportunity,
    ) -> Result<AppliedOptimization, CostError> {
        let now = self.opportunity_options.now();
        opportunity::apply(&mut self.store, opportunity, now)
    }

    /// Each applied decision's projected monthly cost against the realised one: for a tracked
    /// resource its rate now (update it once the change is made), for an imported one its
    /// daily cost on the days after the decision against the 14 days before, both scaled to
    /// 730 hours, with the days of evidence.
    ///
    /// # Errors
    /// [`CostError::Store`] when the store cannot be read.
    ///
    /// # Examples
    /// ```
    /// use perfcore::cost::{CloudProvider, CostMonitor, Resource, ResourceType};
    /// let mut monitor = CostMonitor::new()?;
    /// assert!(monitor.savings()?.is_empty()); // no decision yet
    /// monitor.track_resource(
    ///     Resource::new("vm", ResourceType::Compute, CloudProvider::Aws)
    ///         .usage_hours("730".parse()?)
    ///         .cost_per_hour("0.1".parse()?),
    /// )?;
    /// let opp = monitor.opportunities()?.remove(0);
    /// monitor.apply_optimization(&opp)?;
    /// let s = &monitor.savings()?[0];
    /// // Nothing changed yet: 14.6 projected, nothing realised.
    /// assert_eq!(s.projected_savings.to_string(), "14.6 USD");
    /// assert_eq!(s.realised_savings.unwrap().amount.is_zero(), true);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn savings(&self) -> Result<Vec<RealisedSaving>, CostError> {
        opportunity::savings(
            &self.store.decisions()?,
            &self.store.resources()?,
            &self.store,
            self.opportunity_options.now(),
        )
    }

    /// The decisions recorded so far, oldest first.
    pub fn applied_optimizations(&self) -> Result<Vec<AppliedOptimization>, CostError> {
        self.store.decisions()
    }

    pub(crate) fn rates(&self) -> Option<&ExchangeRates> {
        self.rates.as_ref()
    }
}

/// `dir/cost.sqlite`.
#[must_use]
pub fn store_file(dir: &Path) -> PathBuf {
    dir.join(STORE_FILE)
}

#[cfg(test)]
mod tests;
