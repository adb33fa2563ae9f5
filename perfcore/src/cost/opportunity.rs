//! Cost optimisation opportunities, each with its evidence and the rule that found it.
//!
//! One rule ships so far, the one whose evidence a tracked resource carries by itself: a
//! compute resource that runs around the clock is what a commitment discount (a savings plan,
//! a reservation, a committed-use discount) exists for. The savings use a discount rate that
//! is an **assumption** unless you give yours ([`OpportunityOptions::commitment_discount`]):
//! the recommendation says which. The rules on utilisation, idleness, size and provider
//! prices come with the forecasting work.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::store::Store;
use super::time::format_datetime;
use super::{CostError, Money, Resource, ResourceType};

/// Hours in a month, as the clouds' price lists and Infracost count them.
pub const HOURS_PER_MONTH: u32 = 730;

/// The thresholds and assumptions of the rules.
///
/// # Examples
/// ```
/// use perfcore::cost::OpportunityOptions;
/// let mine = OpportunityOptions::default().with_commitment_discount("0.31".parse().unwrap());
/// assert!(!mine.commitment_discount_assumed);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OpportunityOptions {
    /// A compute resource is "always on" when it ran at least this share of a 730-hour month
    /// (default 0.95: 693.5 hours).
    pub always_on_share: Decimal,
    /// The discount a one-year commitment gives on the on-demand rate.
    pub commitment_discount: Decimal,
    /// Whether `commitment_discount` is perfcore's default (an assumption) or yours.
    pub commitment_discount_assumed: bool,
}

impl Default for OpportunityOptions {
    fn default() -> OpportunityOptions {
        OpportunityOptions {
            always_on_share: Decimal::new(95, 2),
            // An assumption, stated in every recommendation it produces: providers publish
            // one-year rates per instance family and region, and they change.
            commitment_discount: Decimal::new(20, 2),
            commitment_discount_assumed: true,
        }
    }
}

impl OpportunityOptions {
    /// The share of a 730-hour month a compute resource must run to count as always on.
    #[must_use]
    pub fn with_always_on_share(mut self, share: Decimal) -> OpportunityOptions {
        self.always_on_share = share;
        self
    }

    /// Uses your commitment discount rate (a fraction in 0..1) instead of the assumption.
    #[must_use]
    pub fn with_commitment_discount(mut self, rate: Decimal) -> OpportunityOptions {
        self.commitment_discount = rate;
        self.commitment_discount_assumed = false;
        self
    }
}

/// A way to spend less, found by a rule, with its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opportunity {
    /// The kind: `commitment` so far.
    #[serde(rename = "type")]
    pub kind: String,
    /// The resource it is about.
    pub resource_id: String,
    /// What to do.
    pub recommendation: String,
    /// The figures the rule read.
    pub evidence: String,
    /// Savings per 730-hour month.
    pub potential_savings: Money,
    /// The monthly cost now.
    pub current_monthly_cost: Money,
    /// `high`, `medium` or `low` (low when the saving rests on an assumed rate).
    pub confidence: String,
    /// The rule's name.
    pub rule: String,
}

/// A decision recorded in the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedOptimization {
    /// When, UTC.
    pub applied_at: String,
    /// The opportunity acted on.
    pub opportunity: Opportunity,
    /// The projected monthly cost after it.
    pub projected_monthly_cost: Money,
    /// What perfcore did and what is left to do.
    pub message: String,
}

pub(crate) fn find(
    resources: &[Resource],
    options: &OpportunityOptions,
) -> Result<Vec<Opportunity>, CostError> {
    let month = Decimal::from(HOURS_PER_MONTH);
    let ovf = || CostError::Overflow;
    let threshold = month.checked_mul(options.always_on_share).ok_or_else(ovf)?;
    let mut out = Vec::new();
    for r in resources {
        if r.resource_type != ResourceType::Compute
            || r.usage_hours < threshold
            || r.usage_hours.is_zero()
        {
            continue;
        }
        let cost = r.cost()?;
        let hourly = cost.amount.checked_div(r.usage_hours).ok_or(CostError::Overflow)?;
        if hourly <= Decimal::ZERO {
            continue;
        }
        let monthly = hourly.checked_mul(month).ok_or_else(ovf)?.round_dp(6).normalize();
        let savings = monthly
            .checked_mul(options.commitment_discount)
            .ok_or_else(ovf)?
            .round_dp(6)
            .normalize();
        let rate = options
            .commitment_discount
            .checked_mul(Decimal::ONE_HUNDRED)
            .ok_or_else(ovf)?
            .normalize();
        let (basis, confidence) = if options.commitment_discount_assumed {
            (
                format!(
                    "at an assumed {rate}% discount (perfcore's default, not a price quote: set your provider's one-year rate)"
                ),
                "low",
            )
        } else {
            (format!("at your {rate}% commitment discount"), "medium")
        };
        out.push(Opportunity {
            kind: "commitment".into(),
            resource_id: r.id.clone(),
            recommendation: format!(
                "{} runs {} of {} hours a month on demand: cover it with a one-year commitment (savings plan, reservation or committed-use discount); {} {basis}",
                r.id,
                r.usage_hours.normalize(),
                HOURS_PER_MONTH,
                format_args!("saves {} {} a month", savings.round_dp(2), cost.currency)
            ),
            evidence: format!(
                "usage {} h ≥ {}% of {} h; on-demand rate {} {}/h; monthly cost {} {}{}",
                r.usage_hours.normalize(),
                options.always_on_share.saturating_mul(Decimal::ONE_HUNDRED).normalize(),
                HOURS_PER_MONTH,
                hourly.normalize(),
                cost.currency,
                monthly,
                cost.currency,
                r.mean_cpu().map_or(String::new(), |c| format!("; mean CPU utilisation {:.0}%", c * 100.0)),
            ),
            potential_savings: Money::new(savings, cost.currency),
            current_monthly_cost: Money::new(monthly, cost.currency),
            confidence: confidence.into(),
            rule: "always-on compute → commitment discount".into(),
        });
    }
    out.sort_by(|a, b| {
        b.potential_savings
            .amount
            .cmp(&a.potential_savings.amount)
            .then(a.resource_id.cmp(&b.resource_id))
    });
    Ok(out)
}

pub(crate) fn apply(
    store: &mut Store,
    opportunity: &Opportunity,
) -> Result<AppliedOptimization, CostError> {
    let current = opportunity.current_monthly_cost;
    let projected = Money::new(
        (current.amount - opportunity.potential_savings.amount).max(Decimal::ZERO),
        current.currency,
    );
    let now = format_datetime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    );
    let decision = AppliedOptimization {
        applied_at: now,
        opportunity: opportunity.clone(),
        projected_monthly_cost: projected,
        message: format!(
            "recorded the decision on {} ({}): projected monthly cost {} → {}. perfcore cannot change cloud resources or buy commitments: make the change with your provider; later billing imports show the realised cost",
            opportunity.resource_id,
            opportunity.kind,
            current.round_cents(),
            projected.round_cents(),
        ),
    };
    store.add_decision(&decision)?;
    Ok(decision)
}
