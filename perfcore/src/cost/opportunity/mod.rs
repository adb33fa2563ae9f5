//! Cost optimisation opportunities, each with its evidence, its monthly savings computed from
//! the data, a confidence with its reason, and the rule that found it. The rules, their
//! anchors and where perfcore differs are in `rules.md`, part of the `cost` module's docs.

mod imported;
mod price;
mod realised;
mod tracked;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use price::{PriceEntry, PriceTable};
pub use realised::RealisedSaving;
pub(crate) use realised::savings;

use super::store::Store;
use super::time::format_datetime;
use super::{CostError, Money, Resource};

/// Hours in a month, as the clouds' price lists and Infracost count them.
pub const HOURS_PER_MONTH: u32 = 730;

/// The thresholds and assumptions of the rules; the defaults are seed 003's figures.
///
/// # Examples
/// ```
/// use perfcore::cost::OpportunityOptions;
/// let mine = OpportunityOptions::default()
///     .with_commitment_discount("0.31".parse().unwrap())
///     .with_underutilized_cpu(0.25)
///     .with_now_unix(1_790_000_000);
/// assert!(!mine.commitment_discount_assumed);
/// assert!(mine.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OpportunityOptions {
    /// A compute resource is "always on" when it ran at least this share of a 730-hour month
    /// (default 0.95: 693.5 hours); for imported data, of every day of `steady_days`.
    pub always_on_share: Decimal,
    /// The discount a one-year commitment gives on the on-demand rate.
    pub commitment_discount: Decimal,
    /// Whether `commitment_discount` is perfcore's default (an assumption) or yours.
    pub commitment_discount_assumed: bool,
    /// Underutilised below this mean CPU utilisation (default 0.30).
    pub underutilized_cpu: f64,
    /// The share of the cost a one-step-smaller size saves, when no price table says
    /// (default 0.5, an assumption: instance families double per size step).
    pub downsize_saving: Decimal,
    /// Idle after this many hours without activity (default 24).
    pub idle_hours: u32,
    /// A reading is "no activity" at or below this CPU utilisation (default 0.02)…
    pub idle_cpu: f64,
    /// …and at or below this network throughput, bytes per second (default 1,000).
    pub idle_network_bytes_per_sec: f64,
    /// Oversized when the CPU percentile is below this (default 0.40)…
    pub oversized_cpu: f64,
    /// …and the memory percentile below this (default 0.50).
    pub oversized_memory: f64,
    /// The percentile the oversized rule sizes on (default 0.95; AWS uses 0.995).
    pub sizing_percentile: f64,
    /// The utilisation the smaller size may reach at that percentile (default 0.80).
    pub target_utilization: f64,
    /// The days of readings the utilisation rules read (default 14).
    pub lookback_days: u32,
    /// The days an imported compute resource must have run every hour (default 14).
    pub steady_days: u32,
    /// The provider-disparity rule on imported data fires when another location's rate is at
    /// least this share lower (default 0.10).
    pub disparity_min_gap: Decimal,
    /// Whether Trusted Advisor's low-utilisation rule runs (default false).
    pub trusted_advisor: bool,
    /// Prices to compare with and size from, when you have them.
    pub price_table: Option<PriceTable>,
    /// "Now", seconds since the epoch (default: the system clock); tests set it.
    pub now_unix: Option<i64>,
}

impl Default for OpportunityOptions {
    fn default() -> OpportunityOptions {
        OpportunityOptions {
            always_on_share: Decimal::new(95, 2),
            // An assumption, stated in every recommendation it produces: providers publish
            // one-year rates per instance family and region, and they change.
            commitment_discount: Decimal::new(20, 2),
            commitment_discount_assumed: true,
            underutilized_cpu: 0.30,
            downsize_saving: Decimal::new(5, 1),
            idle_hours: 24,
            idle_cpu: 0.02,
            idle_network_bytes_per_sec: 1000.0,
            oversized_cpu: 0.40,
            oversized_memory: 0.50,
            sizing_percentile: 0.95,
            target_utilization: 0.80,
            lookback_days: 14,
            steady_days: 14,
            disparity_min_gap: Decimal::new(10, 2),
            trusted_advisor: false,
            price_table: None,
            now_unix: None,
        }
    }
}

macro_rules! with {
    ($(#[$doc:meta] $name:ident($field:ident: $ty:ty);)*) => {$(
        #[$doc]
        #[must_use]
        pub fn $name(mut self, $field: $ty) -> OpportunityOptions {
            self.$field = $field;
            self
        }
    )*};
}

impl OpportunityOptions {
    with! {
        /// The share of a 730-hour month a compute resource must run to count as always on.
        with_always_on_share(always_on_share: Decimal);
        /// The mean CPU utilisation under which a resource is underutilised.
        with_underutilized_cpu(underutilized_cpu: f64);
        /// The share of the cost one size step down saves, when no price table says.
        with_downsize_saving(downsize_saving: Decimal);
        /// The hours without activity after which a resource is idle.
        with_idle_hours(idle_hours: u32);
        /// The CPU utilisation at or below which a reading counts as no activity.
        with_idle_cpu(idle_cpu: f64);
        /// The network throughput at or below which a reading counts as no activity.
        with_idle_network_bytes_per_sec(idle_network_bytes_per_sec: f64);
        /// The CPU percentile under which a resource may be oversized.
        with_oversized_cpu(oversized_cpu: f64);
        /// The memory percentile under which a resource may be oversized.
        with_oversized_memory(oversized_memory: f64);
        /// The percentile the oversized rule sizes on (0.995 sizes as AWS Compute Optimizer).
        with_sizing_percentile(sizing_percentile: f64);
        /// The utilisation a smaller size may reach at the sizing percentile.
        with_target_utilization(target_utilization: f64);
        /// The days of readings the utilisation rules read.
        with_lookback_days(lookback_days: u32);
        /// The days an imported compute resource must run every hour to suit a commitment.
        with_steady_days(steady_days: u32);
        /// How much lower another location's rate must be for the disparity rule on imports.
        with_disparity_min_gap(disparity_min_gap: Decimal);
        /// Runs Trusted Advisor's low-utilisation rule too.
        with_trusted_advisor(trusted_advisor: bool);
    }

    /// Uses your commitment discount rate (a fraction in 0..1) instead of the assumption.
    #[must_use]
    pub fn with_commitment_discount(mut self, rate: Decimal) -> OpportunityOptions {
        self.commitment_discount = rate;
        self.commitment_discount_assumed = false;
        self
    }

    /// Compares and sizes with `table`.
    #[must_use]
    pub fn with_price_table(mut self, table: PriceTable) -> OpportunityOptions {
        self.price_table = Some(table);
        self
    }

    /// Takes `seconds` since the epoch as now (the lookback windows end there).
    #[must_use]
    pub fn with_now_unix(mut self, seconds: i64) -> OpportunityOptions {
        self.now_unix = Some(seconds);
        self
    }

    /// Checks that every share is a fraction and every window at least a day.
    ///
    /// # Errors
    /// [`CostError::Invalid`] naming the option out of range.
    ///
    /// # Examples
    /// ```
    /// use perfcore::cost::OpportunityOptions;
    /// assert!(OpportunityOptions::default().with_underutilized_cpu(1.5).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), CostError> {
        let bad = |what: &'static str, v: String| {
            Err(CostError::Invalid { what, message: format!("{v} is not in 0..=1") })
        };
        for (what, v) in [
            ("always-on share", self.always_on_share),
            ("commitment discount", self.commitment_discount),
            ("downsize saving", self.downsize_saving),
            ("disparity gap", self.disparity_min_gap),
        ] {
            if v < Decimal::ZERO || v > Decimal::ONE {
                return bad(what, v.to_string());
            }
        }
        for (what, v) in [
            ("underutilised CPU threshold", self.underutilized_cpu),
            ("idle CPU threshold", self.idle_cpu),
            ("oversized CPU threshold", self.oversized_cpu),
            ("oversized memory threshold", self.oversized_memory),
            ("sizing percentile", self.sizing_percentile),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(what, v.to_string());
            }
        }
        if !(self.target_utilization > 0.0 && self.target_utilization <= 1.0) {
            return bad("target utilisation", self.target_utilization.to_string());
        }
        if !(self.idle_network_bytes_per_sec.is_finite() && self.idle_network_bytes_per_sec >= 0.0)
        {
            return Err(CostError::Invalid {
                what: "idle network threshold",
                message: format!("{} bytes per second", self.idle_network_bytes_per_sec),
            });
        }
        for (what, v) in [
            ("lookback days", self.lookback_days),
            ("steady days", self.steady_days),
            ("idle hours", self.idle_hours),
        ] {
            if v == 0 {
                return Err(CostError::Invalid { what, message: "it must be at least 1".into() });
            }
        }
        Ok(())
    }

    /// Now, in seconds since the epoch: `now_unix`, or the system clock.
    pub(crate) fn now(&self) -> i64 {
        self.now_unix.unwrap_or_else(super::time::unix_now)
    }
}

/// A way to spend less, found by a rule, with its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opportunity {
    /// The kind: `underutilized`, `idle`, `oversized`, `low_utilization`,
    /// `provider_disparity` or `commitment`.
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
    /// The monthly cost it saves on (after the resource's larger opportunities, if any).
    pub current_monthly_cost: Money,
    /// `high`, `medium` or `low`.
    pub confidence: String,
    /// Why that confidence.
    #[serde(default)]
    pub confidence_reason: String,
    /// The rule's name.
    pub rule: String,
    /// Where the evidence came from: `tracked` (a tracked resource) or `imported` (billing
    /// data).
    #[serde(default = "tracked")]
    pub source: String,
}

fn tracked() -> String {
    "tracked".into()
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

/// Checked multiplication, rounded to 6 decimals.
pub(crate) fn mul(a: Decimal, b: Decimal) -> Result<Decimal, CostError> {
    Ok(a.checked_mul(b).ok_or(CostError::Overflow)?.round_dp(6).normalize())
}

/// Checked division (`None` for a zero divisor).
pub(crate) fn div(a: Decimal, b: Decimal) -> Result<Option<Decimal>, CostError> {
    if b.is_zero() {
        return Ok(None);
    }
    a.checked_div(b).map(|v| Some(v.round_dp(12))).ok_or(CostError::Overflow)
}

/// A fraction as a decimal (0 for what is not finite).
pub(crate) fn frac(v: f64) -> Decimal {
    super::decimal_from_f64(v).unwrap_or_default().round_dp(6)
}

/// A fraction as a percentage, for messages.
pub(crate) fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// A decimal fraction as a percentage, for messages.
pub(crate) fn dpct(v: Decimal) -> String {
    format!("{}%", v.saturating_mul(Decimal::ONE_HUNDRED).normalize())
}

/// Which opportunities exclude one another on one resource.
fn group(kind: &str) -> u8 {
    match kind {
        "idle" => 0,
        "underutilized" | "oversized" | "low_utilization" => 1,
        "provider_disparity" => 2,
        _ => 3,
    }
}

pub(crate) fn find(
    resources: &[Resource],
    store: &Store,
    options: &OpportunityOptions,
) -> Result<Vec<Opportunity>, CostError> {
    options.validate()?;
    let mut found = tracked::find(resources, options)?;
    found.extend(imported::find(store, options)?);
    combine(found)
}

/// Keeps one resource's opportunities from counting a dollar twice (see `rules.md`).
pub(crate) fn combine(found: Vec<Opportunity>) -> Result<Vec<Opportunity>, CostError> {
    let mut by_resource: BTreeMap<(String, String), Vec<Opportunity>> = BTreeMap::new();
    for o in found {
        if o.potential_savings.amount > Decimal::ZERO {
            by_resource.entry((o.resource_id.clone(), o.source.clone())).or_default().push(o);
        }
    }
    let mut out = Vec::new();
    for (_, mut list) in by_resource {
        list.sort_by(|a, b| {
            b.potential_savings.amount.cmp(&a.potential_savings.amount).then(a.kind.cmp(&b.kind))
        });
        if let Some(idle) = list.iter().position(|o| o.kind == "idle") {
            let mut o = list.swap_remove(idle);
            if !list.is_empty() {
                let others: Vec<&str> = list.iter().map(|o| o.kind.as_str()).collect();
                o.evidence.push_str(&format!(
                    "; stopping it supersedes the {} opportunities on it",
                    others.join(", ")
                ));
            }
            out.push(o);
            continue;
        }
        let mut seen = [false; 4];
        let mut before: Vec<String> = Vec::new();
        let mut remaining: Option<Money> = None;
        for mut o in list {
            let g = usize::from(group(&o.kind));
            if seen[g] {
                continue;
            }
            seen[g] = true;
            let full = o.current_monthly_cost;
            if let Some(rest) = remaining
                && rest.currency == full.currency
                && !full.amount.is_zero()
            {
                let share = div(rest.amount, full.amount)?.unwrap_or_default();
                o.potential_savings.amount = mul(o.potential_savings.amount, share)?;
                o.current_monthly_cost = rest;
                o.evidence.push_str(&format!(
                    "; counted on the {} a month left after the {} opportunit{} before it (of {} without {})",
                    rest.round_cents(),
                    before.join(", "),
                    if before.len() == 1 { "y" } else { "ies" },
                    full.round_cents(),
                    if before.len() == 1 { "it" } else { "them" },
                ));
            }
            // Never more than the cost it comes from.
            o.potential_savings.amount =
                o.potential_savings.amount.min(o.current_monthly_cost.amount);
            let left = o
                .current_monthly_cost
                .amount
                .checked_sub(o.potential_savings.amount)
                .ok_or(CostError::Overflow)?;
            remaining = Some(Money::new(left, o.current_monthly_cost.currency));
            before.push(o.kind.clone());
            if o.potential_savings.amount > Decimal::ZERO {
                out.push(o);
            }
        }
    }
    out.sort_by(|a, b| {
        b.potential_savings
            .amount
            .cmp(&a.potential_savings.amount)
            .then(a.resource_id.cmp(&b.resource_id))
            .then(a.kind.cmp(&b.kind))
    });
    Ok(out)
}

pub(crate) fn apply(
    store: &mut Store,
    opportunity: &Opportunity,
    now_unix: i64,
) -> Result<AppliedOptimization, CostError> {
    let current = opportunity.current_monthly_cost;
    let projected = Money::new(
        (current.amount - opportunity.potential_savings.amount).max(Decimal::ZERO),
        current.currency,
    );
    let decision = AppliedOptimization {
        applied_at: format_datetime(now_unix),
        opportunity: opportunity.clone(),
        projected_monthly_cost: projected,
        message: format!(
            "recorded the decision on {} ({}): projected monthly cost {} → {}. perfcore cannot change cloud resources (resize, stop or move one) or buy commitments: make the change with your provider; `savings` then compares the projection with the realised cost ({})",
            opportunity.resource_id,
            opportunity.kind,
            current.round_cents(),
            projected.round_cents(),
            if opportunity.source == "imported" {
                "from the billing data imported after today"
            } else {
                "update the tracked resource's rate once the change is made"
            },
        ),
    };
    store.add_decision(&decision)?;
    Ok(decision)
}

#[cfg(test)]
mod tests;
