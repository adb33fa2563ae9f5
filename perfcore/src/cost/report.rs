//! The cost report: totals, breakdowns, the daily series, top resources, opportunities; as
//! text, Markdown, JSON and a self-contained HTML page.

use std::fmt::Write;
use std::path::Path;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::breakdown::breakdown;
use super::{
    Breakdown, BreakdownRow, CostError, CostMetric, CostMonitor, Dimension, Money, Opportunity,
    Period,
};
use crate::report::html::escaped;
use crate::report::markdown::md_text;

/// The period of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportPeriod {
    /// The latest day with data.
    Daily,
    /// The latest ISO week with data.
    Weekly,
    /// The latest calendar month with data.
    Monthly,
    /// Every day with data.
    All,
    /// Given days.
    Range(Period),
}

impl std::str::FromStr for ReportPeriod {
    type Err = CostError;
    fn from_str(s: &str) -> Result<ReportPeriod, CostError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "daily" | "day" => Ok(ReportPeriod::Daily),
            "weekly" | "week" => Ok(ReportPeriod::Weekly),
            "monthly" | "month" => Ok(ReportPeriod::Monthly),
            "all" => Ok(ReportPeriod::All),
            other => Err(CostError::Invalid {
                what: "report period",
                message: format!(
                    "{other:?} (known: daily, weekly, monthly, all; or give --from and --to)"
                ),
            }),
        }
    }
}

/// A resource among the most costly of the period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopResource {
    /// Its id (`(no resource) <service>` for charges without one).
    pub resource_id: String,
    /// Its service.
    pub service: String,
    /// Its provider.
    pub provider: String,
    /// Its region.
    pub region: String,
    /// Its cost in the period.
    pub cost: Money,
    /// Its share of the period's total (0..=1 of the same currency).
    pub share: f64,
}

/// Seed 003's `generate_cost_report`, with every figure computed from the data.
///
/// `forecast` is the total's expected billed cost over the 30 days after the last day with
/// data ([`CostMonitor::forecast`]), `None` with too little history (`forecast_note` says
/// why, or gives the interval and the method).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostReport {
    /// The period asked for (`monthly`, `2024-09-01..2024-09-30`…).
    pub period_name: String,
    /// The days covered.
    pub period: Period,
    /// The cost used.
    pub metric: CostMetric,
    /// The total (converted with the monitor's rates when there are several currencies).
    pub total_cost: Money,
    /// The total per currency, before conversion.
    pub totals_by_currency: super::MoneySum,
    /// The savings per month of the opportunities found.
    pub estimated_savings: Money,
    /// What the rules found.
    pub optimization_opportunities: Vec<Opportunity>,
    /// The decisions applied so far: projected against realised monthly cost.
    #[serde(default)]
    pub applied_optimizations: Vec<super::RealisedSaving>,
    /// The total's expected cost over the 30 days after the last day with data, when there
    /// is history enough to forecast it.
    pub forecast: Option<Money>,
    /// The forecast's interval and method, or why there is none.
    pub forecast_note: String,
    /// The total's forecast, day by day (empty without one).
    #[serde(default)]
    pub forecast_daily: Vec<super::ForecastPoint>,
    /// The days of the period whose spend left its expected band, per service
    /// ([`CostMonitor::anomalies`] with the default options).
    #[serde(default)]
    pub anomalies: Vec<super::Anomaly>,
    /// Breakdowns by type, provider, region, service, account and charge category.
    pub breakdowns: Vec<Breakdown>,
    /// The cost of each day.
    pub daily: Vec<BreakdownRow>,
    /// The most costly resources (up to 20).
    pub top_resources: Vec<TopResource>,
    /// Remarks on the data (effective cost far from billed, credits, several currencies).
    pub notes: Vec<String>,
}

/// How many resources a report lists.
const TOP_RESOURCES: usize = 20;

/// The days [`CostReport::forecast`] covers.
const FORECAST_DAYS: u32 = 30;

/// The total's billed-cost forecast for the 30 days after the last day with data, and what
/// it is (or why there is none).
type ForecastParts = (Option<Money>, String, Vec<super::ForecastPoint>);

fn forecast_of(monitor: &CostMonitor) -> Result<ForecastParts, CostError> {
    let f = monitor.forecast(&super::ForecastRequest::new(FORECAST_DAYS))?;
    let (Some(as_of), Some(s)) = (f.as_of, f.series.first()) else {
        let days = f.insufficient_history.first().map_or(0, |i| i.days);
        return Ok((
            None,
            format!(
                "insufficient history: {days} day{} with data, a forecast needs at least {}",
                if days == 1 { "" } else { "s" },
                super::MIN_HISTORY_DAYS
            ),
            Vec::new(),
        ));
    };
    let m = &s.month_end;
    let month_end = if m.remaining_days == 0 {
        String::new()
    } else {
        format!(
            "; the month {} will end at {} ± {}",
            &m.month.from.to_string()[..7],
            cents(&m.projected.expected),
            cents(&m.projected.half_width())
        )
    };
    let note = format!(
        "the {FORECAST_DAYS} days after {as_of}: {} to {} ({:.0}% interval), {}{month_end}",
        cents(&s.total.lower),
        cents(&s.total.upper),
        f.level * 100.0,
        s.method.to_string().split(" (").next().unwrap_or_default(),
    );
    Ok((Some(s.total.expected), note, s.points.clone()))
}

pub(crate) fn build(monitor: &CostMonitor, period: ReportPeriod) -> Result<CostReport, CostError> {
    let name = match period {
        ReportPeriod::Daily => "daily".to_owned(),
        ReportPeriod::Weekly => "weekly".to_owned(),
        ReportPeriod::Monthly => "monthly".to_owned(),
        ReportPeriod::All => "all".to_owned(),
        ReportPeriod::Range(p) => p.to_string(),
    };
    let days = monitor.resolve_period(period)?;
    let metric = CostMetric::Billed;
    let all_dims = [
        Dimension::ResourceType,
        Dimension::Provider,
        Dimension::Region,
        Dimension::Service,
        Dimension::Account,
        Dimension::ChargeCategory,
        Dimension::Resource,
    ];
    let data = monitor.data(days, metric, &all_dims)?;
    let rates = monitor.rates();
    let dims = [
        Dimension::ResourceType,
        Dimension::Provider,
        Dimension::Region,
        Dimension::Service,
        Dimension::Account,
        Dimension::ChargeCategory,
    ];
    let mut breakdowns = Vec::new();
    for d in dims {
        breakdowns.push(breakdown(&data, days, &[d], metric)?);
    }
    let whole = breakdown(&data, days, &[], metric)?;
    let total_cost = whole.total.total(rates)?;
    let daily = breakdown(&data, days, &[Dimension::Day], metric)?.rows;
    let by_resource = breakdown(
        &data,
        days,
        &[Dimension::Resource, Dimension::Service, Dimension::Provider, Dimension::Region],
        metric,
    )?;
    let share = |m: &Money| -> f64 {
        let t = whole.total.by_currency.get(&m.currency).copied().unwrap_or_default();
        m.amount.checked_div(t).and_then(|v| v.try_into().ok()).unwrap_or(0.0)
    };
    let top_resources = by_resource
        .rows
        .iter()
        .take(TOP_RESOURCES)
        .map(|r| TopResource {
            resource_id: r.keys[0].clone(),
            service: r.keys[1].clone(),
            provider: r.keys[2].clone(),
            region: r.keys[3].clone(),
            cost: r.cost,
            share: share(&r.cost),
        })
        .collect();
    let opportunities = monitor.opportunities()?;
    let mut savings = super::MoneySum::default();
    for o in &opportunities {
        savings.add(o.potential_savings);
    }
    let estimated_savings =
        if savings.is_empty() { Money::zero(total_cost.currency) } else { savings.total(rates)? };
    let mut notes = Vec::new();
    let effective = monitor.breakdown(days, &[], CostMetric::Effective)?.total;
    if let (Ok(b), Ok(e)) = (whole.total.total(rates), effective.total(rates))
        && !b.amount.is_zero()
    {
        let diff: f64 = e
            .amount
            .checked_sub(b.amount)
            .and_then(|d| d.checked_div(b.amount))
            .and_then(|v| v.abs().try_into().ok())
            .unwrap_or(0.0);
        if diff > 0.10 {
            notes.push(format!(
                "EffectiveCost ({}) differs from BilledCost ({}) by {:.0}%: commitments amortised, or a provider rounding one of them (`perfcore cost report --by service --cost effective` breaks the other down)",
                e.round_cents(),
                b.round_cents(),
                diff * 100.0
            ));
        }
    }
    if whole.total.by_currency.len() > 1 {
        let list: Vec<String> = whole.total.by_currency.keys().map(ToString::to_string).collect();
        notes.push(format!(
            "{} currencies: {}; totals are converted with the rates given",
            list.len(),
            list.join(", ")
        ));
    }
    let credits: Decimal = breakdowns[5]
        .rows
        .iter()
        .filter(|r| r.keys[0] == "Credit")
        .fold(Decimal::ZERO, |a, r| a.saturating_add(r.cost.amount));
    if !credits.is_zero() {
        notes.push(format!("credits of {} are included in the totals", credits.normalize()));
    }
    let (forecast, forecast_note, forecast_daily) = forecast_of(monitor)?;
    let anomalies =
        monitor.anomalies(Some(&Dimension::Service), days, &super::AnomalyOptions::default())?;
    Ok(CostReport {
        period_name: name,
        period: days,
        metric,
        total_cost,
        totals_by_currency: whole.total,
        estimated_savings,
        optimization_opportunities: opportunities,
        applied_optimizations: monitor.savings()?,
        forecast,
        forecast_note,
        forecast_daily,
        anomalies,
        breakdowns,
        daily,
        top_resources,
        notes,
    })
}

fn opt_cents(m: Option<&Money>) -> String {
    m.map_or_else(|| "not yet known".to_owned(), cents)
}

fn cents(m: &Money) -> String {
    format!("{} {}", group(m.round_cents()), m.currency)
}

/// `12345.6` → `12,345.60`.
fn group(amount: Decimal) -> String {
    let text = format!("{:.2}", amount);
    let (sign, rest) = text.strip_prefix('-').map_or(("", text.as_str()), |r| ("-", r));
    let (int, frac) = rest.split_once('.').unwrap_or((rest, "00"));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}.{frac}")
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

impl CostReport {
    /// A plain-text report for a terminal.
    ///
    /// # Examples
    /// ```
    /// use perfcore::cost::{CloudProvider, CostMonitor, ReportPeriod, Resource, ResourceType};
    /// let mut m = CostMonitor::new()?;
    /// m.track_resource(Resource::new("db-1", ResourceType::Database, CloudProvider::Gcp).usage_hours("10".parse()?).cost_per_hour("1.5".parse()?))?;
    /// let text = m.report(ReportPeriod::Monthly)?.to_text();
    /// assert!(text.contains("Total cost: 15.00 USD"), "{text}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Cost report ({}, {} cost): {}",
            self.period_name, self.metric, self.period
        );
        let _ = writeln!(s, "Total cost: {}", cents(&self.total_cost));
        let _ = writeln!(s, "Potential savings: {} a month", cents(&self.estimated_savings));
        for b in &self.breakdowns {
            if b.rows.is_empty() {
                continue;
            }
            let _ = writeln!(s, "\nBy {}:", b.dimensions.join(", "));
            for r in b.rows.iter().take(10) {
                let _ = writeln!(s, "  {:>16}  {}", cents(&r.cost), r.keys.join(" / "));
            }
            if b.rows.len() > 10 {
                let rest: Decimal =
                    b.rows[10..].iter().fold(Decimal::ZERO, |a, r| a.saturating_add(r.cost.amount));
                let _ = writeln!(
                    s,
                    "  {:>16}  ({} more)",
                    format!("{} {}", group(rest), b.rows[10].cost.currency),
                    b.rows.len() - 10
                );
            }
        }
        if !self.top_resources.is_empty() {
            let _ = writeln!(s, "\nTop resources:");
            for r in &self.top_resources {
                let _ = writeln!(
                    s,
                    "  {:>16}  {:>6}  {} ({}, {})",
                    cents(&r.cost),
                    pct(r.share),
                    r.resource_id,
                    r.service,
                    r.provider
                );
            }
        }
        if !self.anomalies.is_empty() {
            let _ = writeln!(s, "\nAnomalies:");
            for a in &self.anomalies {
                let drivers: Vec<&str> = a.drivers.iter().map(|d| d.resource.as_str()).collect();
                let _ = writeln!(s, "  {}; drivers: {}", a.describe(), drivers.join(", "));
            }
        }
        if !self.optimization_opportunities.is_empty() {
            let _ = writeln!(s, "\nOpportunities:");
            for o in &self.optimization_opportunities {
                let _ = writeln!(
                    s,
                    "  {} a month  [{}, {} confidence] {}",
                    cents(&o.potential_savings),
                    o.kind,
                    o.confidence,
                    o.recommendation
                );
            }
        }
        if !self.applied_optimizations.is_empty() {
            let _ = writeln!(s, "\nApplied optimisations: projected vs realised (per month):");
            for a in &self.applied_optimizations {
                let _ = writeln!(
                    s,
                    "  {} {} ({}): {} → projected {}, realised {}; saving {} projected, {} realised; {} days of evidence: {}",
                    a.applied_at,
                    a.resource_id,
                    a.kind,
                    cents(&a.before_monthly_cost),
                    cents(&a.projected_monthly_cost),
                    opt_cents(a.realised_monthly_cost.as_ref()),
                    cents(&a.projected_savings),
                    opt_cents(a.realised_savings.as_ref()),
                    a.evidence_days,
                    a.basis
                );
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "\nNote: {n}");
        }
        let _ = writeln!(
            s,
            "\nForecast: {}",
            self.forecast.map_or_else(
                || self.forecast_note.clone(),
                |f| format!("{} ({})", cents(&f), self.forecast_note)
            )
        );
        s
    }

    /// A Markdown report (for a pull request or a wiki).
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "## Cost report: {} ({})\n", self.period_name, self.period);
        let _ = writeln!(s, "**Total cost:** {} ({} cost)  ", cents(&self.total_cost), self.metric);
        let _ = writeln!(s, "**Potential savings:** {} a month\n", cents(&self.estimated_savings));
        for b in &self.breakdowns {
            if b.rows.is_empty() {
                continue;
            }
            let _ = writeln!(
                s,
                "### By {}\n\n| {} | cost | rows |\n|---|---:|---:|",
                b.dimensions.join(", "),
                b.dimensions.join(" | ")
            );
            for r in b.rows.iter().take(15) {
                let keys: Vec<String> = r.keys.iter().map(|k| md_text(k)).collect();
                let _ = writeln!(s, "| {} | {} | {} |", keys.join(" | "), cents(&r.cost), r.rows);
            }
            s.push('\n');
        }
        if !self.top_resources.is_empty() {
            let _ = writeln!(
                s,
                "### Top resources\n\n| resource | service | provider | cost | share |\n|---|---|---|---:|---:|"
            );
            for r in &self.top_resources {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} |",
                    md_text(&r.resource_id),
                    md_text(&r.service),
                    md_text(&r.provider),
                    cents(&r.cost),
                    pct(r.share)
                );
            }
            s.push('\n');
        }
        if !self.anomalies.is_empty() {
            let _ = writeln!(s, "### Anomalies\n");
            for a in &self.anomalies {
                let drivers: Vec<String> = a.drivers.iter().map(|d| md_text(&d.resource)).collect();
                let _ =
                    writeln!(s, "- {}; drivers: {}", md_text(&a.describe()), drivers.join(", "));
            }
            s.push('\n');
        }
        if !self.optimization_opportunities.is_empty() {
            let _ = writeln!(
                s,
                "### Opportunities\n\n| type | resource | savings / month | confidence | recommendation |\n|---|---|---:|---|---|"
            );
            for o in &self.optimization_opportunities {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} |",
                    o.kind,
                    md_text(&o.resource_id),
                    cents(&o.potential_savings),
                    o.confidence,
                    md_text(&o.recommendation)
                );
            }
            s.push('\n');
        }
        if !self.applied_optimizations.is_empty() {
            let _ = writeln!(
                s,
                "### Applied optimisations: projected vs realised\n\n| applied | resource | type | before / month | projected | realised | days of evidence | basis |\n|---|---|---|---:|---:|---:|---:|---|"
            );
            for a in &self.applied_optimizations {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | {} | {} |",
                    a.applied_at,
                    md_text(&a.resource_id),
                    a.kind,
                    cents(&a.before_monthly_cost),
                    cents(&a.projected_monthly_cost),
                    opt_cents(a.realised_monthly_cost.as_ref()),
                    a.evidence_days,
                    md_text(&a.basis)
                );
            }
            s.push('\n');
        }
        for n in &self.notes {
            let _ = writeln!(s, "> {}", md_text(n));
        }
        s
    }

    /// The report as JSON (money as exact decimal strings).
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A self-contained HTML page: the totals, the daily spend, the breakdowns as bars, the
    /// top resources and the opportunities. No script, no network.
    #[must_use]
    pub fn to_html(&self) -> String {
        let mut s = String::with_capacity(32 * 1024);
        let title = if self.period_name == self.period.to_string() {
            format!("perfcore cost report: {}", self.period)
        } else {
            format!("perfcore cost report: {} ({})", self.period_name, self.period)
        };
        let _ = write!(
            s,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{}</style></head><body><header><h1>{}</h1><p class=\"sub\">{} cost · generated by perfcore {}</p></header><main>",
            escaped(&title),
            COST_CSS,
            escaped(&title),
            self.metric,
            env!("CARGO_PKG_VERSION"),
        );
        let _ = write!(s, "<section class=\"cards\">");
        let card = |s: &mut String, id: &str, label: &str, value: &str| {
            let _ = write!(
                s,
                "<div class=\"card\" id=\"{id}\"><div class=\"label\">{}</div><div class=\"value\">{}</div></div>",
                escaped(label),
                escaped(value)
            );
        };
        card(&mut s, "total", "Total cost", &cents(&self.total_cost));
        card(&mut s, "savings", "Potential savings / month", &cents(&self.estimated_savings));
        card(&mut s, "days", "Days", &self.period.days().to_string());
        card(&mut s, "resources", "Resources listed", &self.top_resources.len().to_string());
        s.push_str("</section>");
        // Daily spend: one bar per day, negative days (credits) below the axis.
        s.push_str("<section id=\"daily\"><h2>Daily spend</h2>");
        if self.daily.is_empty() {
            s.push_str("<p class=\"empty\">No costs in this period.</p>");
        } else {
            let f64_of = |m: &Money| -> f64 { m.amount.try_into().unwrap_or(0.0) };
            let values: Vec<f64> = self.daily.iter().map(|r| f64_of(&r.cost)).collect();
            // The forecast continues the chart when it starts right after the period.
            let next =
                self.daily.last().and_then(|r| super::Day::parse(&r.keys[0])).map(super::Day::next);
            let band: &[super::ForecastPoint] = match (next, self.forecast_daily.first()) {
                (Some(n), Some(p)) if p.day == n => &self.forecast_daily,
                _ => &[],
            };
            let upper = band.iter().map(|p| f64_of(&p.upper)).fold(0.0f64, f64::max);
            let lower = band.iter().map(|p| f64_of(&p.lower)).fold(0.0f64, f64::min);
            let max = values.iter().copied().fold(upper, f64::max);
            let min = values.iter().copied().fold(lower, f64::min);
            let span = (max - min).max(f64::MIN_POSITIVE);
            let (w, h) = (900.0, 220.0);
            let slots = values.len() + band.len();
            let bw = w / slots as f64;
            let zero = h * max / span;
            let y_of = |v: f64| zero - v / span * h;
            let _ = write!(
                s,
                "<svg viewBox=\"0 0 {w} {}\" role=\"img\" aria-label=\"daily spend\">",
                h + 30.0
            );
            for (i, (r, v)) in self.daily.iter().zip(&values).enumerate() {
                let bh = (v.abs() / span * h).max(0.5);
                let y = if *v >= 0.0 { zero - bh } else { zero };
                let _ = write!(
                    s,
                    "<rect class=\"bar{}\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\"><title>{}: {}</title></rect>",
                    if *v < 0.0 { " neg" } else { "" },
                    i as f64 * bw + 1.0,
                    (bw - 2.0).max(1.0),
                    escaped(&r.keys[0]),
                    escaped(&cents(&r.cost))
                );
            }
            if !band.is_empty() {
                // The 80% band as a polygon, the expected values as a line.
                let x = |i: usize| (values.len() + i) as f64 * bw + bw / 2.0;
                let mut pts: Vec<String> = band
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("{:.1},{:.1}", x(i), y_of(f64_of(&p.upper))))
                    .collect();
                pts.extend(
                    band.iter()
                        .enumerate()
                        .rev()
                        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y_of(f64_of(&p.lower)))),
                );
                let line: Vec<String> = band
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("{:.1},{:.1}", x(i), y_of(f64_of(&p.expected))))
                    .collect();
                let _ = write!(
                    s,
                    "<polygon class=\"band\" points=\"{}\"><title>80% forecast interval, {} to {}</title></polygon><polyline class=\"expected\" points=\"{}\"/>",
                    pts.join(" "),
                    band[0].day,
                    band[band.len() - 1].day,
                    line.join(" ")
                );
            }
            // Anomalies: a marker above the day's bar.
            for a in &self.anomalies {
                let key = a.day.to_string();
                let Some(i) = self.daily.iter().position(|r| r.keys[0] == key) else { continue };
                let _ = write!(
                    s,
                    "<circle class=\"anomaly\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\"><title>{}</title></circle>",
                    i as f64 * bw + bw / 2.0,
                    (y_of(values[i].max(0.0)) - 8.0).max(6.0),
                    escaped(&a.describe())
                );
            }
            let _ = write!(
                s,
                "<line class=\"axis\" x1=\"0\" x2=\"{w}\" y1=\"{zero:.1}\" y2=\"{zero:.1}\"/>"
            );
            let first = &self.daily[0].keys[0];
            let last = band.last().map_or_else(
                || self.daily[self.daily.len() - 1].keys[0].clone(),
                |p| p.day.to_string(),
            );
            let last = &last;
            let _ = write!(
                s,
                "<text x=\"0\" y=\"{}\">{}</text><text x=\"{w}\" y=\"{}\" text-anchor=\"end\">{}</text><text x=\"{}\" y=\"14\" text-anchor=\"end\">max {}</text></svg>",
                h + 24.0,
                escaped(first),
                h + 24.0,
                escaped(last),
                w,
                escaped(&format!("{max:.2}"))
            );
        }
        if !self.forecast_daily.is_empty() || !self.anomalies.is_empty() {
            s.push_str("<p class=\"legend\">");
            if !self.forecast_daily.is_empty() {
                let _ = write!(s, "Shaded: forecast, {}. ", escaped(&self.forecast_note));
            }
            if !self.anomalies.is_empty() {
                s.push_str("Red dots: anomalies (listed below).");
            }
            s.push_str("</p>");
        }
        if !self.anomalies.is_empty() {
            s.push_str("<h3>Anomalies</h3><table><thead><tr><th>day</th><th>service</th><th class=\"num\">actual</th><th class=\"num\">expected</th><th class=\"num\">impact</th><th>drivers</th></tr></thead><tbody>");
            for a in &self.anomalies {
                let drivers: Vec<String> = a
                    .drivers
                    .iter()
                    .map(|d| format!("{} ({})", escaped(&d.resource), escaped(&cents(&d.impact))))
                    .collect();
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"id\">{}</td></tr>",
                    a.day,
                    escaped(&a.key),
                    escaped(&cents(&a.actual)),
                    escaped(&cents(&a.expected)),
                    escaped(&cents(&a.impact)),
                    drivers.join("<br>")
                );
            }
            s.push_str("</tbody></table>");
        }
        s.push_str("</section><section id=\"breakdowns\" class=\"grid\">");
        for b in &self.breakdowns {
            let _ = write!(
                s,
                "<div class=\"breakdown\" data-dimension=\"{}\"><h2>By {}</h2>",
                escaped(&b.dimensions.join(",")),
                escaped(&b.dimensions.join(", "))
            );
            let max = b.rows.iter().map(|r| r.cost.amount.abs()).max().unwrap_or_default();
            for r in b.rows.iter().take(12) {
                let frac: f64 = if max.is_zero() {
                    0.0
                } else {
                    r.cost
                        .amount
                        .abs()
                        .checked_div(max)
                        .and_then(|v| v.try_into().ok())
                        .unwrap_or(0.0)
                };
                let _ = write!(
                    s,
                    "<div class=\"row\"><span class=\"key\" title=\"{k}\">{k}</span><span class=\"track\"><span class=\"fill{}\" style=\"width:{:.1}%\"></span></span><span class=\"amount\">{}</span></div>",
                    if r.cost.amount.is_sign_negative() { " neg" } else { "" },
                    frac * 100.0,
                    escaped(&cents(&r.cost)),
                    k = escaped(&r.keys.join(" / ")),
                );
            }
            if b.rows.len() > 12 {
                let _ = write!(s, "<p class=\"more\">and {} more</p>", b.rows.len() - 12);
            }
            s.push_str("</div>");
        }
        s.push_str("</section><section id=\"top\"><h2>Top resources</h2><table><thead><tr><th>resource</th><th>service</th><th>provider</th><th>region</th><th class=\"num\">cost</th><th class=\"num\">share</th></tr></thead><tbody>");
        for r in &self.top_resources {
            let _ = write!(
                s,
                "<tr><td class=\"id\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escaped(&r.resource_id),
                escaped(&r.service),
                escaped(&r.provider),
                escaped(&r.region),
                escaped(&cents(&r.cost)),
                pct(r.share)
            );
        }
        s.push_str(
            "</tbody></table></section><section id=\"opportunities\"><h2>Opportunities</h2>",
        );
        if self.optimization_opportunities.is_empty() {
            s.push_str("<p class=\"empty\">No rule found an opportunity in this data.</p>");
        } else {
            s.push_str("<table><thead><tr><th>type</th><th>resource</th><th class=\"num\">savings / month</th><th>confidence</th><th>recommendation</th></tr></thead><tbody>");
            for o in &self.optimization_opportunities {
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td class=\"id\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}<div class=\"evidence\">{}</div></td></tr>",
                    escaped(&o.kind),
                    escaped(&o.resource_id),
                    escaped(&cents(&o.potential_savings)),
                    escaped(&o.confidence),
                    escaped(&o.recommendation),
                    escaped(&if o.confidence_reason.is_empty() {
                        o.evidence.clone()
                    } else {
                        format!("{} (confidence: {})", o.evidence, o.confidence_reason)
                    })
                );
            }
            s.push_str("</tbody></table>");
        }
        s.push_str("</section>");
        if !self.applied_optimizations.is_empty() {
            s.push_str("<section id=\"applied\"><h2>Applied optimisations: projected vs realised</h2><table><thead><tr><th>applied</th><th>resource</th><th>type</th><th class=\"num\">before / month</th><th class=\"num\">projected</th><th class=\"num\">realised</th><th class=\"num\">days of evidence</th></tr></thead><tbody>");
            for a in &self.applied_optimizations {
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td class=\"id\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}<div class=\"evidence\">{}</div></td><td class=\"num\">{}</td></tr>",
                    escaped(&a.applied_at),
                    escaped(&a.resource_id),
                    escaped(&a.kind),
                    escaped(&cents(&a.before_monthly_cost)),
                    escaped(&cents(&a.projected_monthly_cost)),
                    escaped(&opt_cents(a.realised_monthly_cost.as_ref())),
                    escaped(&a.basis),
                    a.evidence_days
                );
            }
            s.push_str("</tbody></table></section>");
        }
        if !self.notes.is_empty() {
            s.push_str("<section id=\"notes\"><h2>Notes</h2><ul>");
            for n in &self.notes {
                let _ = write!(s, "<li>{}</li>", escaped(n));
            }
            s.push_str("</ul></section>");
        }
        let _ = writeln!(
            s,
            "<p class=\"sub\">Forecast: {}</p></main></body></html>",
            escaped(&self.forecast.map_or_else(
                || self.forecast_note.clone(),
                |f| format!("{} ({})", cents(&f), self.forecast_note)
            ))
        );
        s
    }

    /// Writes the HTML page atomically.
    pub fn write_html(&self, path: &Path) -> Result<(), CostError> {
        crate::fsutil::write_atomic(path, self.to_html().as_bytes()).map_err(|e| CostError::Write {
            path: path.into(),
            source: std::io::Error::other(e.to_string()),
        })
    }
}

const COST_CSS: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2430;background:#f6f7f9}header{background:#14324a;color:#fff;padding:18px 28px}h1{font-size:20px;margin:0}h2{font-size:15px;margin:0 0 10px}.sub{opacity:.75;margin:4px 0 0}main{padding:18px 28px;max-width:1200px}section{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:14px 18px;margin:0 0 16px}.cards{display:flex;gap:14px;background:none;border:0;padding:0}.card{flex:1;background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:12px 16px}.card .label{font-size:12px;color:#5b6675;text-transform:uppercase;letter-spacing:.04em}.card .value{font-size:22px;font-weight:600;margin-top:4px}svg{width:100%;height:auto}svg text{font-size:12px;fill:#5b6675}.bar{fill:#2f7dd1}.bar.neg,.fill.neg{fill:#d9822b;background:#d9822b}.axis{stroke:#8896a6}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:16px;background:none;border:0;padding:0}.breakdown{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:14px 18px}.row{display:grid;grid-template-columns:150px 1fr 110px;gap:8px;align-items:center;margin:3px 0}.key{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.track{background:#edf1f5;border-radius:3px;height:12px;overflow:hidden}.fill{display:block;height:12px;background:#2f7dd1}.amount,.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #edf1f5;padding:5px 8px;text-align:left;vertical-align:top}th{font-size:12px;color:#5b6675}.id{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}.evidence{color:#5b6675;font-size:12px;margin-top:3px}.band{fill:#2f7dd1;opacity:.18}.expected{fill:none;stroke:#2f7dd1;stroke-width:1.5;stroke-dasharray:4 3}.anomaly{fill:#d23b3b}.legend{color:#5b6675;font-size:12px;margin:6px 0 0}h3{font-size:13px;margin:14px 0 6px}.more,.empty{color:#5b6675}";
