//! Realised savings: each applied decision's projected monthly cost against the cost seen since.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::super::aggregate::Dim;
use super::super::store::Store;
use super::super::time::{Day, parse_datetime};
use super::super::{CostError, Money, Resource};
use super::{AppliedOptimization, HOURS_PER_MONTH, div, mul};

/// The days before a decision its imported "before" cost is measured on.
pub(crate) const BEFORE_DAYS: i32 = 14;

/// One applied decision: the monthly cost it projected against the one realised since.
///
/// # Examples
/// ```
/// use perfcore::cost::{CloudProvider, CostMonitor, OpportunityOptions, Resource, ResourceType};
/// let mut monitor = CostMonitor::new()?;
/// monitor.set_opportunity_options(OpportunityOptions::default().with_now_unix(1_790_000_000));
/// monitor.track_resource(
///     Resource::new("vm", ResourceType::Compute, CloudProvider::Aws)
///         .usage_hours("730".parse()?)
///         .cost_per_hour("0.1".parse()?),
/// )?;
/// let opp = monitor.opportunities()?.remove(0); // a commitment, 20% assumed
/// monitor.apply_optimization(&opp)?;
/// // Bought it: the rate the user now pays.
/// let mut vm = monitor.resources()?.remove(0);
/// vm.cost_per_hour = Some("0.08".parse()?);
/// monitor.track_resource(vm)?;
/// let s = &monitor.savings()?[0];
/// assert_eq!(s.projected_monthly_cost.to_string(), "58.4 USD");
/// assert_eq!(s.realised_monthly_cost.unwrap().to_string(), "58.4 USD");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealisedSaving {
    /// When the decision was recorded, UTC.
    pub applied_at: String,
    /// The opportunity's kind.
    pub kind: String,
    /// The resource.
    pub resource_id: String,
    /// The monthly cost before: the opportunity's, or (imported) the 14 days before the
    /// decision scaled to 730 h.
    pub before_monthly_cost: Money,
    /// The monthly cost the decision projected.
    pub projected_monthly_cost: Money,
    /// The monthly cost since, when there is evidence.
    pub realised_monthly_cost: Option<Money>,
    /// Before minus projected.
    pub projected_savings: Money,
    /// Before minus realised.
    pub realised_savings: Option<Money>,
    /// The days of evidence since the decision.
    pub evidence_days: u32,
    /// Where the realised figure comes from.
    pub basis: String,
}

fn monthly_of_days(total: Decimal, days: i32) -> Result<Decimal, CostError> {
    let per_day = div(total, Decimal::from(days))?.unwrap_or_default();
    mul(per_day, Decimal::from(HOURS_PER_MONTH) / Decimal::from(24))
}

pub(crate) fn savings(
    decisions: &[AppliedOptimization],
    resources: &[Resource],
    store: &Store,
    now: i64,
) -> Result<Vec<RealisedSaving>, CostError> {
    let mut out = Vec::new();
    let range = store.day_range()?;
    for d in decisions {
        let o = &d.opportunity;
        let at = parse_datetime(d.applied_at.as_bytes()).ok_or_else(|| CostError::Invalid {
            what: "decision",
            message: format!("its time {:?} cannot be read", d.applied_at),
        })?;
        let currency = o.current_monthly_cost.currency;
        let mut before = o.current_monthly_cost;
        let (realised, days, basis) = if o.source == "imported" {
            let day = Day::of_unix_seconds(at);
            let Some((_, last)) = range else {
                out.push(row(d, before, None, 0, "no billing data".into())?);
                continue;
            };
            let rows = store.usage(Day(day.0 - BEFORE_DAYS), last)?;
            let dims = store.dims(&[Dim::ResourceId])?;
            let (mut pre, mut post) = (Decimal::ZERO, Decimal::ZERO);
            for r in &rows {
                if dims.get(&r.dims).is_none_or(|x| x[Dim::ResourceId as usize] != o.resource_id)
                    || r.day == day
                {
                    continue;
                }
                let sum = if r.day < day { &mut pre } else { &mut post };
                *sum = sum.checked_add(r.cost).ok_or(CostError::Overflow)?;
            }
            before = Money::new(monthly_of_days(pre, BEFORE_DAYS)?, currency);
            let after = last.0 - day.0;
            if after <= 0 {
                (
                    None,
                    0,
                    format!(
                        "no billing data after the decision day {day} yet (the data ends {last})"
                    ),
                )
            } else {
                (
                    Some(Money::new(monthly_of_days(post, after)?, currency)),
                    after as u32,
                    format!(
                        "imported cost of {} on the {after} days after {day} against the {BEFORE_DAYS} days before, each scaled to {HOURS_PER_MONTH} h",
                        o.resource_id
                    ),
                )
            }
        } else {
            let days = ((now - at).max(0) / 86_400) as u32;
            match resources.iter().find(|r| r.id == o.resource_id) {
                Some(r) => {
                    let hourly = match (r.cost_per_hour, r.charges) {
                        (Some(rate), None) => rate,
                        _ => div(r.cost()?.amount, r.usage_hours)?.unwrap_or_default(),
                    };
                    let monthly = mul(hourly, Decimal::from(HOURS_PER_MONTH))?;
                    (
                        Some(Money::new(monthly, r.currency)),
                        days,
                        format!(
                            "the tracked resource's rate now, {} {}/h × {HOURS_PER_MONTH} h (update it once the change is made)",
                            hourly.normalize(),
                            r.currency
                        ),
                    )
                }
                None => (
                    Some(Money::zero(currency)),
                    days,
                    "no longer tracked: counted as removed".into(),
                ),
            }
        };
        out.push(row(d, before, realised, days, basis)?);
    }
    Ok(out)
}

fn row(
    d: &AppliedOptimization,
    before: Money,
    realised: Option<Money>,
    evidence_days: u32,
    basis: String,
) -> Result<RealisedSaving, CostError> {
    let minus = |a: Money, b: Money| -> Result<Money, CostError> {
        Ok(Money::new(a.amount.checked_sub(b.amount).ok_or(CostError::Overflow)?, a.currency))
    };
    let o = &d.opportunity;
    let projected_savings = if o.source == "imported" {
        o.potential_savings
    } else {
        minus(before, d.projected_monthly_cost)?
    };
    Ok(RealisedSaving {
        applied_at: d.applied_at.clone(),
        kind: o.kind.clone(),
        resource_id: o.resource_id.clone(),
        before_monthly_cost: before,
        projected_monthly_cost: d.projected_monthly_cost,
        realised_monthly_cost: realised,
        projected_savings,
        realised_savings: realised
            .filter(|r| r.currency == before.currency)
            .map(|r| minus(before, r))
            .transpose()?,
        evidence_days,
        basis,
    })
}
