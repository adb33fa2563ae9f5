//! The rules on imported FOCUS data: steady on-demand compute, and rates seen elsewhere.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::super::aggregate::Dim;
use super::super::store::Store;
use super::super::time::Day;
use super::super::{CostError, Currency, Money};
use super::tracked::commitment_basis;
use super::{HOURS_PER_MONTH, Opportunity, OpportunityOptions, div, dpct, mul};

/// Whether a FOCUS unit counts hours.
fn is_hours(unit: &str) -> bool {
    let u = unit.trim().to_ascii_lowercase();
    u.contains("hour") || u == "hrs" || u == "hr" || u == "h"
}

/// Where a charge was: provider and region.
type Location = (String, String);

#[derive(Default)]
struct Line {
    cost: Decimal,
    quantity: Decimal,
}

#[derive(Default)]
struct Seen {
    currency: Option<Currency>,
    mixed: bool,
    compute: bool,
    committed: bool,
    location: Location,
    /// Cost and hours per day, in the steady window.
    days: BTreeMap<Day, (Decimal, Decimal)>,
    /// Cost and pricing quantity per (service category, pricing unit), in the lookback.
    lines: BTreeMap<(String, String), Line>,
}

fn add(a: &mut Decimal, b: Decimal) -> Result<(), CostError> {
    *a = a.checked_add(b).ok_or(CostError::Overflow)?;
    Ok(())
}

/// A day's cost or quantity scaled to a 730-hour month.
fn monthly(total: Decimal, days: i32) -> Result<Decimal, CostError> {
    let per_day = div(total, Decimal::from(days))?.unwrap_or_default();
    mul(per_day, Decimal::from(HOURS_PER_MONTH) / Decimal::from(24))
}

pub(super) fn find(store: &Store, o: &OpportunityOptions) -> Result<Vec<Opportunity>, CostError> {
    let Some((first, last)) = store.day_range()? else {
        return Ok(Vec::new());
    };
    let steady_from = Day(last.0 - o.steady_days as i32 + 1);
    let lookback_from = Day(last.0 - o.lookback_days as i32 + 1).max(first);
    let rows = store.usage(steady_from.min(lookback_from), last)?;
    let dims = store.dims(&[
        Dim::ResourceId,
        Dim::ServiceCategory,
        Dim::Provider,
        Dim::RegionId,
        Dim::PricingUnit,
        Dim::ConsumedUnit,
        Dim::CommitmentDiscountType,
        Dim::ChargeCategory,
    ])?;
    let mut seen: BTreeMap<&str, Seen> = BTreeMap::new();
    let mut rates: BTreeMap<(String, String, Currency), BTreeMap<Location, Line>> = BTreeMap::new();
    for row in &rows {
        let Some(d) = dims.get(&row.dims) else { continue };
        let dim = |x: Dim| d[x as usize].as_str();
        if !dim(Dim::ChargeCategory).eq_ignore_ascii_case("usage")
            || dim(Dim::ResourceId).is_empty()
        {
            continue;
        }
        let Some(currency) = Currency::parse(dim(Dim::Currency)) else { continue };
        let s = seen.entry(dim(Dim::ResourceId)).or_default();
        if s.currency.is_some_and(|c| c != currency) {
            s.mixed = true;
        }
        s.currency = Some(currency);
        let compute = dim(Dim::ServiceCategory).eq_ignore_ascii_case("compute");
        s.compute |= compute;
        s.committed |= !dim(Dim::CommitmentDiscountType).is_empty();
        let location: Location = (dim(Dim::Provider).to_owned(), dim(Dim::RegionId).to_owned());
        s.location.clone_from(&location);
        if row.day >= steady_from {
            let day = s.days.entry(row.day).or_default();
            add(&mut day.0, row.cost)?;
            let hours = if is_hours(dim(Dim::ConsumedUnit)) {
                row.consumed_quantity
            } else if is_hours(dim(Dim::PricingUnit)) {
                row.pricing_quantity
            } else {
                Decimal::ZERO
            };
            if compute {
                add(&mut day.1, hours)?;
            }
        }
        let unit = dim(Dim::PricingUnit);
        if row.day >= lookback_from && !unit.is_empty() {
            let key = (dim(Dim::ServiceCategory).to_owned(), unit.to_owned());
            let line = s.lines.entry(key.clone()).or_default();
            add(&mut line.cost, row.cost)?;
            add(&mut line.quantity, row.pricing_quantity)?;
            let at =
                rates.entry((key.0, key.1, currency)).or_default().entry(location).or_default();
            add(&mut at.cost, row.cost)?;
            add(&mut at.quantity, row.pricing_quantity)?;
        }
    }
    let mut out = Vec::new();
    let covers_steady = first <= steady_from;
    let lookback_days = last.0 - lookback_from.0 + 1;
    for (id, s) in &seen {
        let Some(currency) = s.currency.filter(|_| !s.mixed) else { continue };
        if covers_steady && s.compute && !s.committed {
            out.extend(commitment(id, s, currency, o)?);
        }
        out.extend(disparity(id, s, currency, &rates, lookback_days, o)?);
    }
    Ok(out)
}

fn commitment(
    id: &str,
    s: &Seen,
    currency: Currency,
    o: &OpportunityOptions,
) -> Result<Option<Opportunity>, CostError> {
    let need = mul(Decimal::from(24), o.always_on_share)?;
    if s.days.len() < o.steady_days as usize || s.days.values().any(|(_, h)| *h < need) {
        return Ok(None);
    }
    let mut total = Decimal::ZERO;
    for (c, _) in s.days.values() {
        add(&mut total, *c)?;
    }
    let min_hours = s.days.values().map(|(_, h)| *h).min().unwrap_or_default();
    let cost = monthly(total, o.steady_days as i32)?;
    if cost <= Decimal::ZERO {
        return Ok(None);
    }
    let savings = mul(cost, o.commitment_discount)?;
    let (basis, confidence) = commitment_basis(o);
    Ok(Some(Opportunity {
        kind: "commitment".into(),
        resource_id: id.to_owned(),
        recommendation: format!(
            "{id} ran on demand every hour of the last {} days: cover it with a one-year commitment (savings plan, reservation or committed-use discount); saves {} {currency} a month {basis}",
            o.steady_days,
            savings.round_dp(2)
        ),
        evidence: format!(
            "imported compute usage: at least {} consumed hours on each of the last {} days (≥ {} of 24 h), no CommitmentDiscountType; mean daily cost {} {currency} → {} {currency} per {HOURS_PER_MONTH} h",
            min_hours.normalize(),
            o.steady_days,
            dpct(o.always_on_share),
            div(total, Decimal::from(o.steady_days))?.unwrap_or_default().round_dp(4),
            cost.round_dp(2)
        ),
        potential_savings: Money::new(savings, currency),
        current_monthly_cost: Money::new(cost, currency),
        confidence: confidence.0.into(),
        confidence_reason: confidence.1,
        rule: "steady on-demand compute in the billing data → commitment discount".into(),
        source: "imported".into(),
    }))
}

fn disparity(
    id: &str,
    s: &Seen,
    currency: Currency,
    rates: &BTreeMap<(String, String, Currency), BTreeMap<Location, Line>>,
    days: i32,
    o: &OpportunityOptions,
) -> Result<Option<Opportunity>, CostError> {
    let mut best: Option<Opportunity> = None;
    for ((category, unit), line) in &s.lines {
        let (Some(own), true) = (div(line.cost, line.quantity)?, line.quantity > Decimal::ZERO)
        else {
            continue;
        };
        if own <= Decimal::ZERO {
            continue;
        }
        let bar = mul(own, Decimal::ONE - o.disparity_min_gap)?;
        let Some(places) = rates.get(&(category.clone(), unit.clone(), currency)) else { continue };
        let mut cheapest: Option<(&Location, Decimal, &Line)> = None;
        for (at, l) in places {
            if *at == s.location || l.quantity <= Decimal::ZERO {
                continue;
            }
            let Some(rate) = div(l.cost, l.quantity)? else { continue };
            if rate > Decimal::ZERO && rate < bar && cheapest.as_ref().is_none_or(|c| rate < c.1) {
                cheapest = Some((at, rate, l));
            }
        }
        let Some((at, rate, l)) = cheapest else { continue };
        let quantity = monthly(line.quantity, days)?;
        let cost = monthly(line.cost, days)?;
        let savings = mul(own - rate, quantity)?.min(cost);
        if best.as_ref().is_some_and(|b| b.potential_savings.amount >= savings) {
            continue;
        }
        let here = format!(
            "{} {}",
            s.location.0,
            if s.location.1.is_empty() { "(no region)" } else { &s.location.1 }
        );
        best = Some(Opportunity {
            kind: "provider_disparity".into(),
            resource_id: id.to_owned(),
            recommendation: format!(
                "{category} priced per {unit} costs {} {currency} in {} {} against {} in {here}: moving {id} there would save about {} {currency} a month, before the cost of moving",
                rate.round_dp(6),
                at.0,
                at.1,
                own.round_dp(6),
                savings.round_dp(2)
            ),
            evidence: format!(
                "last {days} days of imported data: {id} {} {unit} for {} {currency} ({} per {unit}); {} {} {} {unit} for {} {currency} ({} per {unit}); ({} − {}) × {} {unit} a month",
                line.quantity.normalize(),
                line.cost.round_dp(4),
                own.round_dp(6),
                at.0,
                at.1,
                l.quantity.normalize(),
                l.cost.round_dp(4),
                rate.round_dp(6),
                own.round_dp(6),
                rate.round_dp(6),
                quantity.round_dp(2)
            ),
            potential_savings: Money::new(savings, currency),
            current_monthly_cost: Money::new(cost, currency),
            confidence: "low".into(),
            confidence_reason: format!(
                "rates averaged over every SKU of {category} in each location, as the data shows them: sizes, tiers and discounts may differ"
            ),
            rule:
                "the same service category and unit at a lower rate elsewhere in the billing data"
                    .into(),
            source: "imported".into(),
        });
    }
    Ok(best)
}
