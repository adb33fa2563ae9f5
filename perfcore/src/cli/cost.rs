//! `perfcore cost`: import FOCUS billing exports, report what things cost, and price the
//! functions of a profile.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use rust_decimal::Decimal;

use super::input::{Input, InputError};
use super::store_of;
use crate::cost::{
    AnomalyOptions, Budget, BudgetStatus, CostError, CostMetric, CostMonitor, Currency, Day,
    Dimension, ForecastOptions, ForecastRequest, ImportMode, ImportOptions, ImportOutcome, Money,
    Period, Price, ReportPeriod, function_costs,
};

#[derive(Subcommand, Debug)]
pub(super) enum CostCommand {
    /// Import FOCUS billing exports (CSV, gzip CSV, Parquet) into the cost store. Several
    /// files in one call are the parts of one delivery.
    Import(ImportArgs),
    /// A cost report (or, with --by, a breakdown) of a period.
    Report(CostReportArgs),
    /// Forecast the daily cost after the last day with data, with 80% intervals and the
    /// month-end projection (damped Holt-Winters, or seasonal naive when it backtests better).
    Forecast(ForecastArgs),
    /// What each function of a profile costs at a vCPU-hour (and GiB-hour) price.
    Functions(FunctionsArgs),
    /// The optimisation opportunities in the tracked resources and imported data, with their
    /// monthly savings, evidence and confidence.
    Opportunities(OpportunitiesArgs),
    /// The applied decisions: projected against realised monthly cost.
    Savings {
        #[arg(long, value_enum, default_value_t = CostFormat::Text)]
        format: CostFormat,
    },
    /// The imports in the store.
    Imports {
        #[arg(long, value_enum, default_value_t = CostFormat::Text)]
        format: CostFormat,
    },
    /// Days whose spend left its expected band, per service (or resource, or the total),
    /// with the resources that drove each.
    Anomalies(AnomaliesArgs),
    /// Budgets: an amount per period over a scope, with alerts on actual and forecast spend.
    #[command(subcommand)]
    Budget(BudgetCommand),
}

#[derive(Args, Debug)]
pub(super) struct AnomaliesArgs {
    /// Group by: service, resource, account, region, provider, tag:KEY… or `total`.
    #[arg(long, default_value = "service")]
    by: String,
    /// The last N days of data are judged (each against the weeks before it).
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Spreads from the expected value that make an anomaly.
    #[arg(long, default_value_t = 4.0)]
    threshold: f64,
    /// The smallest difference worth reporting, in the bill's currency.
    #[arg(long, default_value = "1")]
    min_impact: String,
    /// Report increases only (default: drops too).
    #[arg(long)]
    increases_only: bool,
    /// The cost figure: billed, effective, list or contracted.
    #[arg(long = "cost", default_value = "billed")]
    metric: String,
    #[arg(long, value_enum, default_value_t = CostFormat::Text)]
    format: CostFormat,
}

#[derive(Subcommand, Debug)]
pub(super) enum BudgetCommand {
    /// Add (or replace, by name) a budget.
    Add(BudgetAddArgs),
    /// The budgets.
    List {
        #[arg(long, value_enum, default_value_t = CostFormat::Text)]
        format: CostFormat,
    },
    /// Check every budget against the data; thresholds crossed for the first time in their
    /// period fire (printed, and remembered so that they fire once).
    Check {
        /// Exit 1 when any budget has a threshold crossed (fired now or before).
        #[arg(long)]
        fail_on_alert: bool,
        #[arg(long, value_enum, default_value_t = CostFormat::Text)]
        format: CostFormat,
    },
    /// Remove a budget and its alert history.
    Remove {
        /// The budget's name.
        name: String,
    },
}

#[derive(Args, Debug)]
pub(super) struct BudgetAddArgs {
    /// Its name.
    name: String,
    /// The amount per period.
    #[arg(long)]
    amount: String,
    /// The amount's currency.
    #[arg(long, default_value = "USD")]
    currency: String,
    /// weekly, monthly, quarterly or yearly.
    #[arg(long, default_value = "monthly")]
    period: String,
    /// DIMENSION=VALUE the rows must have (service=EC2, provider=AWS, account=…, tag:team=web),
    /// repeatable: all must hold. None: the whole bill.
    #[arg(long = "scope", value_name = "DIM=VALUE")]
    scope: Vec<String>,
    /// PERCENT[:actual|:forecast], repeatable (default 80:actual and 100:forecast).
    #[arg(long = "threshold", value_name = "PCT[:BASIS]")]
    thresholds: Vec<String>,
    /// The cost figure: billed, effective, list or contracted.
    #[arg(long = "cost", default_value = "billed")]
    metric: String,
}

#[derive(Args, Debug)]
pub(super) struct ImportArgs {
    /// The files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Stop at the first bad row and import nothing (default: skip bad rows and list them).
    #[arg(long)]
    strict: bool,
    /// The files are a new delivery of billing periods imported before: replace them.
    #[arg(long, conflicts_with = "append")]
    replace: bool,
    /// The files add to billing periods imported before (more parts of the same delivery).
    #[arg(long)]
    append: bool,
    /// Keep an extra column as a breakdown dimension (`--by column:NAME`), repeatable.
    #[arg(long = "keep-column", value_name = "NAME")]
    keep_columns: Vec<String>,
    /// Output: a summary for people, or the import summaries as JSON.
    #[arg(long, value_enum, default_value_t = CostFormat::Text)]
    format: CostFormat,
}

#[derive(Args, Debug)]
pub(super) struct CostReportArgs {
    /// The period: the latest day, ISO week or month with data, or all of it.
    #[arg(long, value_enum, default_value_t = PeriodArg::Monthly)]
    period: PeriodArg,
    /// The first day (YYYY-MM-DD), with --to: a range instead of --period.
    #[arg(long, value_name = "DAY", requires = "to")]
    from: Option<String>,
    /// The last day, included.
    #[arg(long, value_name = "DAY", requires = "from")]
    to: Option<String>,
    /// A calendar month (YYYY-MM) instead of --period.
    #[arg(long, value_name = "YYYY-MM", conflicts_with_all = ["from", "to"])]
    month: Option<String>,
    /// Group by these dimensions instead of the whole report: day, week, month, service,
    /// provider, type, region, account, sub_account, charge_category, resource, currency,
    /// tag:KEY, column:NAME (comma-separated).
    #[arg(long, value_name = "DIMS")]
    by: Option<String>,
    /// The cost figure: billed (the invoice), effective (amortised), list or contracted.
    #[arg(long = "cost", default_value = "billed")]
    metric: String,
    /// Convert currencies: `--rate EUR=1.08` (units of --currency per unit), repeatable.
    #[arg(long = "rate", value_name = "CUR=RATE")]
    rates: Vec<String>,
    /// The currency totals are converted into, with --rate.
    #[arg(long, default_value = "USD")]
    currency: String,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Write to this file (atomically) instead of standard output.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub(super) struct ForecastArgs {
    /// Days to forecast.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Forecast each group of these dimensions (service, account, provider, tag:KEY…;
    /// comma-separated) instead of the total.
    #[arg(long, value_name = "DIMS")]
    by: Option<String>,
    /// The cost figure: billed, effective, list or contracted.
    #[arg(long = "cost", default_value = "billed")]
    metric: String,
    /// The prediction interval's level.
    #[arg(long, default_value_t = 0.8)]
    level: f64,
    #[arg(long, value_enum, default_value_t = CostFormat::Text)]
    format: CostFormat,
    /// Write to this file (atomically) instead of standard output.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub(super) struct FunctionsArgs {
    /// The profile: a snapshot or baseline file, or a stored baseline's name.
    input: String,
    /// The price of one vCPU for an hour.
    #[arg(long, value_name = "PRICE")]
    vcpu_hour: String,
    /// The price of one GiB of memory for an hour (charged on tracked allocations).
    #[arg(long, value_name = "PRICE", default_value = "0")]
    gib_hour: String,
    /// The prices' currency.
    #[arg(long, default_value = "USD")]
    currency: String,
    /// Functions listed (text and Markdown).
    #[arg(long, default_value_t = 30)]
    top: usize,
    #[arg(long, value_enum, default_value_t = CostFormat::Text)]
    format: CostFormat,
}

#[derive(Args, Debug)]
pub(super) struct OpportunitiesArgs {
    /// Your one-year commitment discount (a fraction, 0.28); default an assumed 0.20, said so.
    #[arg(long, value_name = "R")]
    commitment_discount: Option<String>,
    /// Underutilised below this mean CPU utilisation (default 0.30).
    #[arg(long, value_name = "F")]
    underutilized_cpu: Option<f64>,
    /// Idle after this many hours without activity (default 24).
    #[arg(long, value_name = "H")]
    idle_hours: Option<u32>,
    /// Oversized when the CPU percentile is below this (default 0.40)…
    #[arg(long, value_name = "F")]
    oversized_cpu: Option<f64>,
    /// …and the memory percentile below this (default 0.50).
    #[arg(long, value_name = "F")]
    oversized_memory: Option<f64>,
    /// The percentile sizing reads (default 0.95; 0.995 sizes as AWS Compute Optimizer).
    #[arg(long, value_name = "P")]
    percentile: Option<f64>,
    /// The days of readings the utilisation rules read (default 14).
    #[arg(long, value_name = "DAYS")]
    lookback_days: Option<u32>,
    /// Also run Trusted Advisor's rule (CPU ≤ 10% and network ≤ 5 MB on 4 of 14 days).
    #[arg(long)]
    trusted_advisor: bool,
    /// A price table, CSV with the header provider,region,sku,unit,price[,currency,size].
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = CostFormat::Text)]
    format: CostFormat,
}

impl OpportunitiesArgs {
    fn options(&self) -> Result<crate::cost::OpportunityOptions, InputError> {
        let mut o = crate::cost::OpportunityOptions::default();
        if let Some(r) = &self.commitment_discount {
            o = o.with_commitment_discount(decimal_arg("commitment-discount", r)?);
        }
        if let Some(v) = self.underutilized_cpu {
            o = o.with_underutilized_cpu(v);
        }
        if let Some(v) = self.idle_hours {
            o = o.with_idle_hours(v);
        }
        if let Some(v) = self.oversized_cpu {
            o = o.with_oversized_cpu(v);
        }
        if let Some(v) = self.oversized_memory {
            o = o.with_oversized_memory(v);
        }
        if let Some(v) = self.percentile {
            o = o.with_sizing_percentile(v);
        }
        if let Some(v) = self.lookback_days {
            o = o.with_lookback_days(v);
        }
        if let Some(path) = &self.prices {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("--prices {}: {e}", path.display())))?;
            let table = crate::cost::PriceTable::from_csv(&text)
                .map_err(|e| usage(format!("--prices {}: {e}", path.display())))?;
            o = o.with_price_table(table);
        }
        o = o.with_trusted_advisor(self.trusted_advisor);
        o.validate().map_err(|e| usage(e.to_string()))?;
        Ok(o)
    }
}

fn opportunities_text(list: &[crate::cost::Opportunity], markdown: bool) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    if list.is_empty() {
        s.push_str("no rule found an opportunity in this data\n");
        return s;
    }
    let mut total = crate::cost::MoneySum::default();
    if markdown {
        s.push_str("| type | resource | savings / month | of | confidence | recommendation |\n|---|---|---:|---:|---|---|\n");
    }
    for o in list {
        total.add(o.potential_savings);
        let (saves, of) = (o.potential_savings.round_cents(), o.current_monthly_cost.round_cents());
        let cur = o.potential_savings.currency;
        if markdown {
            let _ = writeln!(
                s,
                "| {} | {} | {saves} {cur} | {of} {cur} | {} | {} |",
                o.kind,
                o.resource_id.replace('|', "\\|"),
                o.confidence,
                o.recommendation.replace('|', "\\|")
            );
        } else {
            let _ = writeln!(
                s,
                "{saves:>12} {cur} a month (of {of})  {} on {}  [{} confidence: {}]\n    {}\n    evidence: {}\n    rule: {}",
                o.kind,
                o.resource_id,
                o.confidence,
                o.confidence_reason,
                o.recommendation,
                o.evidence,
                o.rule
            );
        }
    }
    for (c, m) in &total.by_currency {
        let _ = writeln!(
            s,
            "{}total: {} {c} a month, no dollar counted twice",
            if markdown { "\n" } else { "" },
            m.normalize().round_dp(2)
        );
    }
    s
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum CostFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum ReportFormat {
    Text,
    Markdown,
    Json,
    Html,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum PeriodArg {
    Daily,
    Weekly,
    Monthly,
    All,
}

fn usage(message: String) -> InputError {
    InputError::Usage(message)
}

fn decimal_arg(what: &str, text: &str) -> Result<Decimal, InputError> {
    let v = crate::cost::parse_decimal(text.as_bytes())
        .ok_or_else(|| usage(format!("--{what} `{text}` is not a decimal number")))?;
    if v.is_sign_negative() && !v.is_zero() {
        return Err(usage(format!("--{what} `{text}` is negative")));
    }
    Ok(v)
}

fn currency_arg(text: &str) -> Result<Currency, InputError> {
    Currency::parse(text)
        .ok_or_else(|| usage(format!("`{text}` is not a three-letter currency code")))
}

fn day_arg(what: &str, text: &str) -> Result<Day, InputError> {
    Day::parse(text)
        .ok_or_else(|| usage(format!("--{what} `{text}` is not a date like 2024-09-30")))
}

/// The price the `--vcpu-hour`, `--gib-hour` and `--currency` options give.
pub(super) fn price_args(
    vcpu_hour: &str,
    gib_hour: &str,
    currency: &str,
) -> Result<Price, InputError> {
    Ok(Price::per_vcpu_hour(decimal_arg("vcpu-hour", vcpu_hour)?)
        .with_gib_hour(decimal_arg("gib-hour", gib_hour)?)
        .with_currency(currency_arg(currency)?))
}

fn open_monitor(dir: Option<PathBuf>, must_exist: bool) -> Result<CostMonitor, InputError> {
    let dir = store_of(dir, None)?.dir().to_path_buf();
    let file = crate::cost::store_file(&dir);
    if must_exist && !file.exists() {
        return Err(usage(format!(
            "no cost store at {}: import billing data first with `perfcore cost import FILE`",
            file.display()
        )));
    }
    Ok(CostMonitor::open(&dir)?)
}

fn emit(out: &mut dyn Write, output: Option<&PathBuf>, text: &str) -> Result<(), InputError> {
    match output {
        Some(path) => {
            crate::fsutil::write_atomic(path, text.as_bytes())?;
            Ok(())
        }
        None => Ok(out.write_all(text.as_bytes())?),
    }
}

pub(super) fn cost_command(
    cmd: CostCommand,
    dir: Option<PathBuf>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, InputError> {
    match cmd {
        CostCommand::Import(args) => {
            let mut monitor = open_monitor(dir, false)?;
            let mode = if args.replace {
                ImportMode::Replace
            } else if args.append {
                ImportMode::Append
            } else {
                ImportMode::Refuse
            };
            let mut options = ImportOptions::default().strict(args.strict).mode(mode);
            options.keep_columns = args.keep_columns;
            let summaries = monitor.import_all(&args.files, &options)?;
            match args.format {
                CostFormat::Json => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&summaries).unwrap_or_default()
                )?,
                CostFormat::Text | CostFormat::Markdown => {
                    for s in &summaries {
                        write!(out, "{}", s.describe())?;
                    }
                    writeln!(out, "store: {}", monitor.store_path().display())?;
                }
            }
            if !monitor.budgets()?.is_empty() {
                for status in monitor.check_budgets()? {
                    for alert in &status.new_alerts {
                        writeln!(err, "alert: {}", alert.message)?;
                    }
                }
            }
            for s in &summaries {
                if s.rows_skipped > 0 {
                    writeln!(
                        err,
                        "warning: {}: {} rows skipped (listed above; --strict refuses the file instead)",
                        s.path.display(),
                        s.rows_skipped
                    )?;
                }
                if matches!(s.outcome, ImportOutcome::AlreadyImported { .. }) {
                    writeln!(err, "note: {} was imported before: nothing added", s.path.display())?;
                }
            }
            Ok(0)
        }
        CostCommand::Report(args) => {
            let mut monitor = open_monitor(dir, true)?;
            let metric: CostMetric = args.metric.parse()?;
            if !args.rates.is_empty() {
                let mut rates = crate::cost::ExchangeRates::new(currency_arg(&args.currency)?);
                for r in &args.rates {
                    let (c, v) = r.split_once('=').ok_or_else(|| {
                        usage(format!("--rate `{r}` should be CUR=RATE, e.g. EUR=1.08"))
                    })?;
                    rates = rates.with_rate(currency_arg(c)?, decimal_arg("rate", v)?);
                }
                monitor.set_exchange_rates(Some(rates));
            }
            let period = if let (Some(f), Some(t)) = (&args.from, &args.to) {
                ReportPeriod::Range(Period::new(day_arg("from", f)?, day_arg("to", t)?)?)
            } else if let Some(m) = &args.month {
                let (y, mo) = m
                    .split_once('-')
                    .and_then(|(y, mo)| Some((y.parse::<i32>().ok()?, mo.parse::<u32>().ok()?)))
                    .ok_or_else(|| usage(format!("--month `{m}` is not YYYY-MM")))?;
                ReportPeriod::Range(
                    Period::month(y, mo)
                        .ok_or_else(|| usage(format!("--month `{m}` is not a month")))?,
                )
            } else {
                match args.period {
                    PeriodArg::Daily => ReportPeriod::Daily,
                    PeriodArg::Weekly => ReportPeriod::Weekly,
                    PeriodArg::Monthly => ReportPeriod::Monthly,
                    PeriodArg::All => ReportPeriod::All,
                }
            };
            if let Some(by) = &args.by {
                let dims: Vec<Dimension> =
                    by.split(',').map(str::parse).collect::<Result<_, CostError>>()?;
                let days = monitor.resolve_period(period)?;
                let b = monitor.breakdown(days, &dims, metric)?;
                let text = match args.format {
                    ReportFormat::Json => breakdown_json(&b),
                    ReportFormat::Markdown => breakdown_markdown(&b),
                    ReportFormat::Text => breakdown_text(&b),
                    ReportFormat::Html => {
                        return Err(usage(
                            "--format html is the whole report: leave out --by".into(),
                        ));
                    }
                };
                emit(out, args.output.as_ref(), &text)?;
                return Ok(0);
            }
            if metric != CostMetric::Billed {
                return Err(usage("the whole report uses billed cost; give --by with --cost to break another figure down".into()));
            }
            let report = monitor.report(period)?;
            let text = match args.format {
                ReportFormat::Text => report.to_text(),
                ReportFormat::Markdown => report.to_markdown(),
                ReportFormat::Json => report.to_json() + "\n",
                ReportFormat::Html => report.to_html(),
            };
            emit(out, args.output.as_ref(), &text)?;
            if let Some(p) = &args.output {
                writeln!(err, "wrote {}", p.display())?;
            }
            Ok(0)
        }
        CostCommand::Forecast(args) => {
            let monitor = open_monitor(dir, true)?;
            let mut request = ForecastRequest::new(args.days)
                .metric(args.metric.parse()?)
                .options(ForecastOptions::default().level(args.level));
            if let Some(by) = &args.by {
                for d in by.split(',') {
                    request = request.by(d.parse()?);
                }
            }
            let forecast = monitor.forecast(&request)?;
            let text = match args.format {
                CostFormat::Text => forecast.to_text(),
                CostFormat::Markdown => forecast.to_markdown(),
                CostFormat::Json => forecast.to_json() + "\n",
            };
            emit(out, args.output.as_ref(), &text)?;
            if let Some(p) = &args.output {
                writeln!(err, "wrote {}", p.display())?;
            }
            Ok(0)
        }
        CostCommand::Functions(args) => {
            let store = store_of(dir, None)?;
            let run = Input::load(&args.input, &store)?;
            run.warn(err);
            let price = price_args(&args.vcpu_hour, &args.gib_hour, &args.currency)?;
            let costs = function_costs(&run.snapshot, &price)?;
            match args.format {
                CostFormat::Json => {
                    writeln!(out, "{}", serde_json::to_string_pretty(&costs).unwrap_or_default())?
                }
                CostFormat::Markdown => write!(
                    out,
                    "{}",
                    crate::cost::function_costs_markdown(&costs, &price, args.top)
                )?,
                CostFormat::Text => {
                    write!(out, "{}", crate::cost::function_costs_text(&costs, &price, args.top))?
                }
            }
            Ok(0)
        }
        CostCommand::Opportunities(args) => {
            let mut monitor = open_monitor(dir, false)?;
            monitor.set_opportunity_options(args.options()?);
            let list = monitor.opportunities()?;
            match args.format {
                CostFormat::Json => {
                    writeln!(out, "{}", serde_json::to_string_pretty(&list).unwrap_or_default())?
                }
                f => write!(out, "{}", opportunities_text(&list, f == CostFormat::Markdown))?,
            }
            Ok(0)
        }
        CostCommand::Savings { format } => {
            let monitor = open_monitor(dir, false)?;
            let list = monitor.savings()?;
            match format {
                CostFormat::Json => {
                    writeln!(out, "{}", serde_json::to_string_pretty(&list).unwrap_or_default())?
                }
                CostFormat::Text | CostFormat::Markdown => {
                    if list.is_empty() {
                        writeln!(out, "no decisions applied yet")?;
                    }
                    let opt = |m: Option<crate::cost::Money>| {
                        m.map_or_else(
                            || "not yet known".to_owned(),
                            |m| format!("{} {}", m.round_cents(), m.currency),
                        )
                    };
                    for a in &list {
                        writeln!(
                            out,
                            "{}  {} ({}): {} a month before, projected {}, realised {} ({} days of evidence: {})",
                            a.applied_at,
                            a.resource_id,
                            a.kind,
                            opt(Some(a.before_monthly_cost)),
                            opt(Some(a.projected_monthly_cost)),
                            opt(a.realised_monthly_cost),
                            a.evidence_days,
                            a.basis
                        )?;
                    }
                }
            }
            Ok(0)
        }
        CostCommand::Imports { format } => {
            let monitor = open_monitor(dir, true)?;
            let imports = monitor.imports()?;
            match format {
                CostFormat::Json => {
                    writeln!(out, "{}", serde_json::to_string_pretty(&imports).unwrap_or_default())?
                }
                CostFormat::Text | CostFormat::Markdown => {
                    for i in &imports {
                        writeln!(
                            out,
                            "{:>4}  {}  {}  FOCUS {} {}  {} rows ({} skipped)  sha256 {}",
                            i.id,
                            i.imported_at,
                            i.path,
                            i.focus_version,
                            i.format,
                            i.rows_imported,
                            i.rows_skipped,
                            &i.digest[..12.min(i.digest.len())]
                        )?;
                    }
                    if imports.is_empty() {
                        writeln!(out, "no imports yet")?;
                    }
                }
            }
            Ok(0)
        }
        CostCommand::Anomalies(args) => anomalies_command(&args, dir, out),
        CostCommand::Budget(cmd) => budget_command(cmd, dir, out),
    }
}

fn anomalies_command(
    args: &AnomaliesArgs,
    dir: Option<PathBuf>,
    out: &mut dyn Write,
) -> Result<i32, InputError> {
    let monitor = open_monitor(dir, true)?;
    let by: Option<Dimension> = if args.by == "total" { None } else { Some(args.by.parse()?) };
    let options = AnomalyOptions::default()
        .with_threshold(args.threshold)
        .with_min_impact(decimal_arg("min-impact", &args.min_impact)?)
        .increases_only(args.increases_only)
        .with_metric(args.metric.parse()?);
    let Some(period) = monitor.last_days(args.days)? else {
        writeln!(out, "no billing data")?;
        return Ok(0);
    };
    let found = monitor.anomalies(by.as_ref(), period, &options)?;
    match args.format {
        CostFormat::Json => {
            writeln!(out, "{}", serde_json::to_string_pretty(&found).unwrap_or_default())?;
        }
        CostFormat::Text | CostFormat::Markdown => {
            let md = args.format == CostFormat::Markdown;
            writeln!(
                out,
                "{} anomal{} in {period} by {} ({} spreads, at least {} and {:.0}% of the expected value)",
                found.len(),
                if found.len() == 1 { "y" } else { "ies" },
                args.by,
                options.threshold,
                options.min_impact,
                options.min_relative_change * 100.0
            )?;
            for a in &found {
                writeln!(out, "{}{}", if md { "- " } else { "" }, a.describe())?;
                for d in &a.drivers {
                    writeln!(
                        out,
                        "    {}{}: {} against {} expected",
                        if md { "- " } else { "" },
                        d.resource,
                        d.actual.display(),
                        d.expected.display()
                    )?;
                }
            }
        }
    }
    Ok(0)
}

fn budget_command(
    cmd: BudgetCommand,
    dir: Option<PathBuf>,
    out: &mut dyn Write,
) -> Result<i32, InputError> {
    match cmd {
        BudgetCommand::Add(args) => {
            let mut monitor = open_monitor(dir, false)?;
            let amount =
                Money::new(decimal_arg("amount", &args.amount)?, currency_arg(&args.currency)?);
            let mut budget =
                Budget::new(&args.name, amount, args.period.parse()?).metric(args.metric.parse()?);
            for s in &args.scope {
                budget.scope.push(s.parse()?);
            }
            for t in &args.thresholds {
                budget = budget.threshold(t.parse()?);
            }
            monitor.add_budget(budget.clone())?;
            writeln!(out, "budget {}", budget.describe())?;
            Ok(0)
        }
        BudgetCommand::List { format } => {
            let monitor = open_monitor(dir, false)?;
            let budgets = monitor.budgets()?;
            match format {
                CostFormat::Json => {
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&budgets).unwrap_or_default()
                    )?;
                }
                CostFormat::Text | CostFormat::Markdown => {
                    for b in &budgets {
                        writeln!(out, "{}", b.describe())?;
                    }
                    if budgets.is_empty() {
                        writeln!(
                            out,
                            "no budgets: add one with `perfcore cost budget add NAME --amount A`"
                        )?;
                    }
                }
            }
            Ok(0)
        }
        BudgetCommand::Check { fail_on_alert, format } => {
            let mut monitor = open_monitor(dir, true)?;
            let statuses: Vec<BudgetStatus> = monitor.check_budgets()?;
            match format {
                CostFormat::Json => {
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&statuses).unwrap_or_default()
                    )?;
                }
                CostFormat::Text | CostFormat::Markdown => {
                    for s in &statuses {
                        writeln!(out, "{}", s.describe())?;
                        for a in &s.new_alerts {
                            writeln!(out, "  ALERT {}", a.message)?;
                        }
                    }
                    if statuses.is_empty() {
                        writeln!(out, "no budgets")?;
                    }
                }
            }
            let crossed = statuses.iter().any(|s| !s.crossed.is_empty());
            Ok(i32::from(fail_on_alert && crossed))
        }
        BudgetCommand::Remove { name } => {
            let mut monitor = open_monitor(dir, true)?;
            if monitor.remove_budget(&name)? {
                writeln!(out, "removed budget {name}")?;
                Ok(0)
            } else {
                Err(usage(format!("no budget named {name:?}")))
            }
        }
    }
}

fn cost_key(b: &crate::cost::Breakdown) -> String {
    format!("{}_cost", b.metric)
}

/// `{"dimensions": [...], "period": {...}, "metric": "billed", "rows": [{"service": "…",
/// "billed_cost": "1.23", "currency": "USD", "rows": 7}], "total": {"USD": "…"}}`.
fn breakdown_json(b: &crate::cost::Breakdown) -> String {
    let rows: Vec<serde_json::Value> = b
        .rows
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            for (d, k) in b.dimensions.iter().zip(&r.keys) {
                o.insert(d.clone(), serde_json::Value::String(k.clone()));
            }
            o.insert(cost_key(b), serde_json::Value::String(r.cost.amount.to_string()));
            o.insert("currency".into(), serde_json::Value::String(r.cost.currency.to_string()));
            o.insert("rows".into(), serde_json::Value::from(r.rows));
            serde_json::Value::Object(o)
        })
        .collect();
    let total: serde_json::Map<String, serde_json::Value> = b
        .total
        .by_currency
        .iter()
        .map(|(c, a)| (c.to_string(), serde_json::Value::String(a.to_string())))
        .collect();
    let doc = serde_json::json!({
        "dimensions": b.dimensions,
        "period": b.period,
        "metric": b.metric,
        "rows": rows,
        "total": total,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

fn breakdown_text(b: &crate::cost::Breakdown) -> String {
    use std::fmt::Write as _;
    let mut s = format!("{} cost by {}, {}\n", b.metric, b.dimensions.join(", "), b.period);
    for r in &b.rows {
        let _ = writeln!(
            s,
            "{:>18}  {}",
            format!("{} {}", r.cost.round_cents(), r.cost.currency),
            r.keys.join("  ")
        );
    }
    for (c, a) in &b.total.by_currency {
        let _ = writeln!(s, "{:>18}  total", format!("{} {c}", a.round_dp(2)));
    }
    s
}

fn breakdown_markdown(b: &crate::cost::Breakdown) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "| {} | {} cost | rows |\n|{}---:|---:|\n",
        b.dimensions.join(" | "),
        b.metric,
        "---|".repeat(b.dimensions.len())
    );
    for r in &b.rows {
        let keys: Vec<String> =
            r.keys.iter().map(|k| crate::report::markdown::md_text(k)).collect();
        let _ = writeln!(
            s,
            "| {} | {} {} | {} |",
            keys.join(" | "),
            r.cost.round_cents(),
            r.cost.currency,
            r.rows
        );
    }
    s
}
