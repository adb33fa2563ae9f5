//! The rules on tracked resources: their rate, usage and utilisation readings.

use rust_decimal::Decimal;

use super::super::{CostError, Currency, Money, Resource, ResourceType, UtilizationSample};
use super::{
    HOURS_PER_MONTH, Opportunity, OpportunityOptions, PriceEntry, div, dpct, frac, mul, pct,
};

const DAY: i64 = 86_400;
/// Trusted Advisor's figures: daily CPU ≤ 10% and network ≤ 5 MB on 4 of the last 14 days.
const TA_CPU: f64 = 0.10;
const TA_NETWORK_BYTES: f64 = 5_000_000.0;
const TA_DAYS: usize = 4;
/// The oversized rule goes at most this many halvings down.
const MAX_STEPS: u32 = 3;

/// What every rule reads of one resource.
struct Subject<'a> {
    r: &'a Resource,
    hourly: Decimal,
    monthly: Money,
    currency: Currency,
    here: Option<&'a PriceEntry>,
    window: Vec<&'a UtilizationSample>,
    options: &'a OpportunityOptions,
}

impl Subject<'_> {
    fn opportunity(
        &self,
        kind: &str,
        rule: &str,
        savings: Decimal,
        recommendation: String,
        evidence: String,
        (confidence, reason): (&str, String),
    ) -> Opportunity {
        Opportunity {
            kind: kind.into(),
            resource_id: self.r.id.clone(),
            recommendation,
            evidence,
            potential_savings: Money::new(savings.min(self.monthly.amount), self.currency),
            current_monthly_cost: self.monthly,
            confidence: confidence.into(),
            confidence_reason: reason,
            rule: rule.into(),
            source: "tracked".into(),
        }
    }

    fn span_days(&self) -> f64 {
        match (self.window.first(), self.window.last()) {
            (Some(a), Some(b)) => (b.at_unix - a.at_unix) as f64 / DAY as f64,
            _ => 0.0,
        }
    }

    /// The confidence of a utilisation rule: how much of the lookback the readings cover and
    /// whether the price comes from the table.
    fn confidence(&self, priced: bool) -> (&'static str, String) {
        let span = self.span_days();
        let lookback = f64::from(self.options.lookback_days);
        let n = self.window.len();
        let covered = format!("{n} readings over {span:.1} of the {lookback} lookback days");
        if span >= 0.9 * lookback && n >= 14 && priced {
            ("high", format!("{covered}, and the smaller size's price from your table"))
        } else if span >= 0.5 * lookback && n >= 7 {
            let price =
                if priced { "priced from your table" } else { "the saving per size step assumed" };
            ("medium", format!("{covered}; {price}"))
        } else {
            ("low", format!("only {covered}: too little history to be sure"))
        }
    }

    /// The saving of `steps` sizes down: from the price table when it prices a smaller size of
    /// the family (the nearest to `min_size`, or the next smaller), else the assumed share per
    /// step. Returns the saving, how it was priced, and whether the table priced it.
    fn downsize(
        &self,
        steps: u32,
        min_share: Option<f64>,
    ) -> Result<(Decimal, String, bool), CostError> {
        if let (Some(here), Some(table)) = (self.here, &self.options.price_table)
            && let Some(size) = here.size
        {
            let smaller = table.entries().iter().filter(|e| {
                e.provider == here.provider
                    && e.region.eq_ignore_ascii_case(&here.region)
                    && e.family() == here.family()
                    && e.unit.eq_ignore_ascii_case(&here.unit)
                    && e.currency == here.currency
                    && e.size.is_some_and(|s| s < size)
            });
            let pick = match min_share {
                // The cheapest size that still holds the load.
                Some(share) => {
                    let need = mul(size, frac(share))?;
                    smaller.filter(|e| e.size.is_some_and(|s| s >= need)).min_by_key(|e| e.price)
                }
                // One step: the largest smaller size.
                None => smaller.max_by_key(|e| e.size),
            };
            if let Some(to) = pick
                && let Some(ratio) = div(to.price, here.price)?
                && ratio < Decimal::ONE
            {
                let saving = mul(self.monthly.amount, Decimal::ONE - ratio)?;
                return Ok((
                    saving,
                    format!(
                        "{} at {} {}/h instead of {} at {} (your price table)",
                        to.sku,
                        to.price.normalize(),
                        to.currency,
                        here.sku,
                        here.price.normalize()
                    ),
                    true,
                ));
            }
        }
        let keep = Decimal::ONE - self.options.downsize_saving;
        let mut share = Decimal::ONE;
        for _ in 0..steps {
            share = mul(share, keep)?;
        }
        let saving = mul(self.monthly.amount, Decimal::ONE - share)?;
        Ok((
            saving,
            format!(
                "assuming each size step down saves {} of the cost (perfcore's default, not a price quote: give a price table)",
                dpct(self.options.downsize_saving)
            ),
            false,
        ))
    }
}

fn sku(r: &Resource) -> Option<&str> {
    ["sku", "instance_type"].iter().find_map(|k| r.metadata.get(*k).and_then(|v| v.as_str()))
}

/// The `p` percentile of `values` (nearest rank).
pub(crate) fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = (p * values.len() as f64).ceil() as usize;
    Some(values[rank.clamp(1, values.len()) - 1])
}

pub(super) fn find(
    resources: &[Resource],
    options: &OpportunityOptions,
) -> Result<Vec<Opportunity>, CostError> {
    let now = options.now();
    let since = now - i64::from(options.lookback_days) * DAY;
    let month = Decimal::from(HOURS_PER_MONTH);
    let mut out = Vec::new();
    for r in resources {
        let hourly = match (r.cost_per_hour, r.charges) {
            (Some(rate), None) => rate,
            _ => match div(r.cost()?.amount, r.usage_hours)? {
                Some(rate) => rate,
                None => r.cost_per_hour.unwrap_or_default(),
            },
        };
        if hourly <= Decimal::ZERO {
            continue;
        }
        let mut window: Vec<&UtilizationSample> =
            r.utilization.iter().filter(|s| s.at_unix > since && s.at_unix <= now).collect();
        window.sort_by_key(|s| s.at_unix);
        let here = match (&options.price_table, sku(r)) {
            (Some(t), Some(sku)) => t.find(&r.provider, r.region.as_deref().unwrap_or(""), sku),
            _ => None,
        };
        let s = Subject {
            r,
            hourly,
            monthly: Money::new(mul(hourly, month)?, r.currency),
            currency: r.currency,
            here,
            window,
            options,
        };
        out.extend(commitment(&s)?);
        out.extend(underutilized(&s)?);
        out.extend(idle(&s, now));
        out.extend(oversized(&s)?);
        if options.trusted_advisor {
            out.extend(low_utilization(&s)?);
        }
        out.extend(provider_disparity(&s)?);
    }
    Ok(out)
}

fn commitment(s: &Subject<'_>) -> Result<Option<Opportunity>, CostError> {
    let (r, o) = (s.r, s.options);
    let threshold = mul(Decimal::from(HOURS_PER_MONTH), o.always_on_share)?;
    if r.resource_type != ResourceType::Compute
        || r.usage_hours < threshold
        || r.usage_hours.is_zero()
    {
        return Ok(None);
    }
    let savings = mul(s.monthly.amount, o.commitment_discount)?;
    let (basis, confidence) = commitment_basis(o);
    Ok(Some(s.opportunity(
        "commitment",
        "always-on compute → commitment discount",
        savings,
        format!(
            "{} runs {} of {} hours a month on demand: cover it with a one-year commitment (savings plan, reservation or committed-use discount); saves {} {} a month {basis}",
            r.id,
            r.usage_hours.normalize(),
            HOURS_PER_MONTH,
            savings.round_dp(2),
            s.currency
        ),
        format!(
            "usage {} h ≥ {} of {} h; on-demand rate {} {}/h; monthly cost {}{}",
            r.usage_hours.normalize(),
            dpct(o.always_on_share),
            HOURS_PER_MONTH,
            s.hourly.normalize(),
            s.currency,
            s.monthly,
            r.mean_cpu().map_or(String::new(), |c| format!("; mean CPU utilisation {:.0}%", c * 100.0)),
        ),
        confidence,
    )))
}

/// How a commitment saving is priced, and the confidence that gives.
pub(super) fn commitment_basis(o: &OpportunityOptions) -> (String, (&'static str, String)) {
    let rate = dpct(o.commitment_discount);
    if o.commitment_discount_assumed {
        (
            format!(
                "at an assumed {rate} discount (perfcore's default, not a price quote: set your provider's one-year rate)"
            ),
            ("low", format!("the {rate} discount is an assumption")),
        )
    } else {
        (
            format!("at your {rate} commitment discount"),
            (
                "medium",
                "your discount rate; the usage seen is taken to continue for the term".into(),
            ),
        )
    }
}

fn cpu_of(window: &[&UtilizationSample]) -> Vec<f64> {
    window.iter().filter_map(|s| s.cpu).collect()
}

fn underutilized(s: &Subject<'_>) -> Result<Option<Opportunity>, CostError> {
    let cpu = cpu_of(&s.window);
    if cpu.is_empty() {
        return Ok(None);
    }
    let mean = cpu.iter().sum::<f64>() / cpu.len() as f64;
    if mean >= s.options.underutilized_cpu {
        return Ok(None);
    }
    let (savings, basis, priced) = s.downsize(1, None)?;
    Ok(Some(s.opportunity(
        "underutilized",
        "mean CPU below the threshold → one size smaller",
        savings,
        format!(
            "{} averages {} CPU: move it one size down; saves {} {} a month, {basis}",
            s.r.id,
            pct(mean),
            savings.round_dp(2),
            s.currency
        ),
        format!(
            "mean CPU {} < {} over {} readings in the last {} days; monthly cost {} ({} {}/h × {} h)",
            pct(mean),
            pct(s.options.underutilized_cpu),
            cpu.len(),
            s.options.lookback_days,
            s.monthly,
            s.hourly.normalize(),
            s.currency,
            HOURS_PER_MONTH
        ),
        s.confidence(priced),
    )))
}

fn is_quiet(sample: &UtilizationSample, o: &OpportunityOptions) -> Option<bool> {
    if sample.cpu.is_none() && sample.network_bytes_per_sec.is_none() {
        return None;
    }
    Some(
        sample.cpu.is_none_or(|c| c <= o.idle_cpu)
            && sample.network_bytes_per_sec.is_none_or(|n| n <= o.idle_network_bytes_per_sec),
    )
}

fn idle(s: &Subject<'_>, now: i64) -> Option<Opportunity> {
    let (r, o) = (s.r, s.options);
    let limit = i64::from(o.idle_hours) * 3600;
    let (quiet_for, evidence, confidence) = if let Some(last) = r.last_activity_unix {
        (
            now - last,
            format!(
                "last activity {} ({:.1} h before now)",
                super::format_datetime(last),
                (now - last) as f64 / 3600.0
            ),
            ("high", "the resource's own last-activity time".to_owned()),
        )
    } else {
        let mut all: Vec<&UtilizationSample> =
            r.utilization.iter().filter(|x| x.at_unix <= now).collect();
        all.sort_by_key(|x| x.at_unix);
        let readings: Vec<(i64, bool)> =
            all.iter().filter_map(|x| is_quiet(x, o).map(|q| (x.at_unix, q))).collect();
        let last = readings.last()?;
        if !last.1 {
            return None;
        }
        let start = readings.iter().rposition(|(_, q)| !q).map_or(0, |i| i + 1);
        let run = &readings[start..];
        let span = last.0 - run[0].0;
        (
            span,
            format!(
                "{} readings from {} to {} all at or below {} CPU and {} B/s network ({:.1} h)",
                run.len(),
                super::format_datetime(run[0].0),
                super::format_datetime(last.0),
                pct(o.idle_cpu),
                o.idle_network_bytes_per_sec,
                span as f64 / 3600.0
            ),
            ("medium", "readings near zero; a job that runs rarely would look the same".to_owned()),
        )
    };
    if quiet_for <= limit {
        return None;
    }
    Some(s.opportunity(
        "idle",
        "no activity for longer than the idle threshold → stop or delete",
        s.monthly.amount,
        format!(
            "{} has had no activity for {:.0} hours: stop or delete it; saves its whole {} a month",
            r.id,
            quiet_for as f64 / 3600.0,
            s.monthly.round_cents()
        ),
        format!("{evidence} > {} h; monthly cost {}", o.idle_hours, s.monthly),
        confidence,
    ))
}

fn oversized(s: &Subject<'_>) -> Result<Option<Opportunity>, CostError> {
    let o = s.options;
    let mut cpu = cpu_of(&s.window);
    let mut mem: Vec<f64> = s.window.iter().filter_map(|x| x.memory).collect();
    let (Some(cp), Some(mp)) =
        (percentile(&mut cpu, o.sizing_percentile), percentile(&mut mem, o.sizing_percentile))
    else {
        return Ok(None);
    };
    if cp >= o.oversized_cpu || mp >= o.oversized_memory {
        return Ok(None);
    }
    // The share of the current size the load needs to stay under the target.
    let need = cp.max(mp) / o.target_utilization;
    let steps =
        if need <= 0.0 { MAX_STEPS } else { ((1.0 / need).log2().floor() as u32).min(MAX_STEPS) };
    let (savings, basis, priced) = if s.here.is_some_and(|h| h.size.is_some()) {
        s.downsize(steps.max(1), Some(need))?
    } else if steps == 0 {
        return Ok(None);
    } else {
        s.downsize(steps, None)?
    };
    if savings <= Decimal::ZERO {
        return Ok(None);
    }
    let q = format!("p{}", (o.sizing_percentile * 1000.0).round() / 10.0);
    Ok(Some(s.opportunity(
        "oversized",
        "CPU and memory percentiles low → a size that keeps them under the target",
        savings,
        format!(
            "{} peaks at {} CPU and {} memory ({q}): a size {} of this one keeps both under {}; saves {} {} a month, {basis}",
            s.r.id,
            pct(cp),
            pct(mp),
            if priced { "from your table".to_owned() } else { format!("1/{}", 1u32 << steps) },
            pct(o.target_utilization),
            savings.round_dp(2),
            s.currency
        ),
        format!(
            "CPU {q} {} < {} and memory {q} {} < {} over {} readings in the last {} days; the load needs {} of this size at {} utilisation; monthly cost {}",
            pct(cp),
            pct(o.oversized_cpu),
            pct(mp),
            pct(o.oversized_memory),
            s.window.len(),
            o.lookback_days,
            pct(need),
            pct(o.target_utilization),
            s.monthly
        ),
        s.confidence(priced),
    )))
}

fn low_utilization(s: &Subject<'_>) -> Result<Option<Opportunity>, CostError> {
    let mut days: std::collections::BTreeMap<i64, (f64, usize, f64, usize)> = Default::default();
    for x in &s.window {
        let d = days.entry(x.at_unix.div_euclid(DAY)).or_default();
        if let Some(c) = x.cpu {
            d.0 += c;
            d.1 += 1;
        }
        if let Some(n) = x.network_bytes_per_sec {
            d.2 += n;
            d.3 += 1;
        }
    }
    let low = days
        .values()
        .filter(|(c, nc, n, nn)| {
            *nc > 0
                && *nn > 0
                && c / *nc as f64 <= TA_CPU
                && n / *nn as f64 * DAY as f64 <= TA_NETWORK_BYTES
        })
        .count();
    if low < TA_DAYS {
        return Ok(None);
    }
    let (savings, basis, priced) = s.downsize(1, None)?;
    Ok(Some(s.opportunity(
        "low_utilization",
        "Trusted Advisor: daily CPU ≤ 10% and network ≤ 5 MB on 4 of 14 days",
        savings,
        format!(
            "{} was barely used on {low} days: stop it or move it one size down; saves {} {} a month, {basis}",
            s.r.id,
            savings.round_dp(2),
            s.currency
        ),
        format!(
            "{low} of {} days with readings in the last {} had mean CPU ≤ 10% and network ≤ 5 MB (≥ {TA_DAYS} needed); monthly cost {}",
            days.len(),
            s.options.lookback_days,
            s.monthly
        ),
        s.confidence(priced),
    )))
}

fn provider_disparity(s: &Subject<'_>) -> Result<Option<Opportunity>, CostError> {
    let (Some(table), Some(sku)) = (&s.options.price_table, sku(s.r)) else {
        return Ok(None);
    };
    let region = s.r.region.as_deref().unwrap_or("");
    let cheapest = table
        .entries()
        .iter()
        .filter(|e| {
            e.sku == sku
                && e.unit.eq_ignore_ascii_case("hours")
                && e.currency == s.currency
                && !(e.provider == s.r.provider && e.region.eq_ignore_ascii_case(region))
                && e.price < s.hourly
        })
        .min_by_key(|e| e.price);
    let Some(there) = cheapest else {
        return Ok(None);
    };
    let diff = s.hourly.checked_sub(there.price).ok_or(CostError::Overflow)?;
    let savings = mul(diff, Decimal::from(HOURS_PER_MONTH))?;
    Ok(Some(s.opportunity(
        "provider_disparity",
        "the same type priced lower elsewhere (price table)",
        savings,
        format!(
            "{sku} costs {} {}/h in {} {} against {} here: moving {} saves {} {} a month before the cost of moving",
            there.price.normalize(),
            s.currency,
            there.provider,
            there.region,
            s.hourly.normalize(),
            s.r.id,
            savings.round_dp(2),
            s.currency
        ),
        format!(
            "{} {sku} at {} {}/h here ({} {}); {} {} lists it at {}/h; ({} − {}) × {} h",
            s.r.id,
            s.hourly.normalize(),
            s.currency,
            s.r.provider,
            if region.is_empty() { "(no region)" } else { region },
            there.provider,
            there.region,
            there.price.normalize(),
            s.hourly.normalize(),
            there.price.normalize(),
            HOURS_PER_MONTH
        ),
        ("medium", "prices from your table; data transfer and migration costs are not counted".into()),
    )))
}
