//! What each profiled function costs: self time (and allocation) priced at what the process
//! runs on.
//!
//! A function's compute cost is its self time as vCPU-hours times the price of a vCPU-hour:
//! while a call runs its own code it keeps one vCPU busy. Wall self time is what the profiler
//! measures; a call blocked on I/O is charged as if it held its vCPU, which is what a
//! provisioned instance bills. Memory, where the tracking allocator ran, is charged as an
//! upper bound: each byte a call allocates itself, held for the whole of the call
//! (`self bytes per call × mean call time`, in GiB-hours).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::opportunity::HOURS_PER_MONTH;
use super::{CostError, Currency, Money, Resource};
use crate::Snapshot;

const NS_PER_HOUR: u64 = 3_600_000_000_000;

/// What the process's CPU and memory cost.
///
/// # Examples
/// ```
/// use perfcore::cost::{Currency, Price};
/// let price = Price::per_vcpu_hour("0.048".parse().unwrap());
/// assert_eq!(price.currency, Currency::USD);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    /// The price of one vCPU for one hour.
    pub vcpu_hour: Decimal,
    /// The price of one GiB of memory for one hour (zero: memory is not charged apart).
    pub gib_hour: Decimal,
    /// Their currency.
    pub currency: Currency,
}

impl Price {
    /// A vCPU-hour price in USD, memory not charged apart.
    #[must_use]
    pub fn per_vcpu_hour(vcpu_hour: Decimal) -> Price {
        Price { vcpu_hour, gib_hour: Decimal::ZERO, currency: Currency::USD }
    }

    /// Adds a GiB-hour price.
    #[must_use]
    pub fn with_gib_hour(mut self, gib_hour: Decimal) -> Price {
        self.gib_hour = gib_hour;
        self
    }

    /// Sets the currency.
    #[must_use]
    pub fn with_currency(mut self, currency: Currency) -> Price {
        self.currency = currency;
        self
    }

    /// The price of a tracked resource with `vcpus` vCPUs: its hourly cost spread over them
    /// (memory included in the vCPU price).
    pub fn from_resource(resource: &Resource, vcpus: u32) -> Result<Price, CostError> {
        if vcpus == 0 {
            return Err(CostError::Invalid { what: "vCPU count", message: "it is zero".into() });
        }
        let hourly = match (resource.cost_per_hour, resource.charges) {
            (Some(rate), _) => rate,
            (None, Some(c)) if !resource.usage_hours.is_zero() => {
                c.checked_div(resource.usage_hours).ok_or(CostError::Overflow)?
            }
            _ => {
                return Err(CostError::Invalid {
                    what: "resource",
                    message: format!("{} has no hourly rate to price a vCPU with", resource.id),
                });
            }
        };
        Ok(Price {
            vcpu_hour: hourly.checked_div(Decimal::from(vcpus)).ok_or(CostError::Overflow)?,
            gib_hour: Decimal::ZERO,
            currency: resource.currency,
        })
    }

    /// "At 0.048 USD per vCPU-hour of self time (and 0.006 per GiB-hour allocated)".
    pub(crate) fn describe(&self) -> String {
        let memory = if self.gib_hour.is_zero() {
            String::new()
        } else {
            format!(" and {} per GiB-hour allocated", self.gib_hour.normalize())
        };
        format!(
            "At {} {} per vCPU-hour of self time{memory}",
            self.vcpu_hour.normalize(),
            self.currency
        )
    }

    fn validate(&self) -> Result<(), CostError> {
        for (what, v) in [("vCPU-hour price", self.vcpu_hour), ("GiB-hour price", self.gib_hour)] {
            if v.is_sign_negative() && !v.is_zero() {
                return Err(CostError::Invalid { what, message: format!("{v} is negative") });
            }
        }
        Ok(())
    }
}

/// One function's cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunctionCost {
    /// The function.
    pub name: String,
    /// Calls in the snapshot.
    pub calls: u64,
    /// Its self time, nanoseconds.
    pub self_ns: u64,
    /// Its self time's price.
    pub cpu_cost: Money,
    /// Its memory's GiB-hours (an upper bound), where allocations were tracked.
    pub memory_gib_hours: Option<f64>,
    /// Their price.
    pub memory_cost: Money,
    /// CPU and memory.
    pub total_cost: Money,
    /// Per call.
    pub cost_per_call: Money,
    /// Per million calls.
    pub cost_per_million_calls: Money,
    /// Observed calls per second over the snapshot's window.
    pub calls_per_sec: Option<f64>,
    /// Per 730-hour month at the observed call rate.
    pub monthly_cost: Option<Money>,
}

fn dec(v: f64) -> Decimal {
    super::decimal_from_f64(v).unwrap_or_default()
}

/// The cost of every function of `snapshot` at `price`, most costly first.
///
/// # Examples
/// ```
/// use perfcore::cost::{Price, function_costs};
/// use perfcore::{FunctionStats, Snapshot};
/// // 1,000 calls of 3.6 s each: one hour of self time, in a one-hour window.
/// let f = FunctionStats::from_durations("checkout::total", vec![3_600_000_000u64; 1_000]);
/// let snap = Snapshot::from_functions(vec![f], 0, 3_600_000_000_000);
/// let costs = function_costs(&snap, &Price::per_vcpu_hour("0.048".parse().unwrap())).unwrap();
/// assert_eq!(costs[0].cpu_cost.to_string(), "0.048 USD");
/// assert_eq!(costs[0].cost_per_million_calls.to_string(), "48 USD");
/// ```
pub fn function_costs(snapshot: &Snapshot, price: &Price) -> Result<Vec<FunctionCost>, CostError> {
    price.validate()?;
    let window_ns = snapshot.ended_unix_ns.saturating_sub(snapshot.started_unix_ns);
    let hour = Decimal::from(NS_PER_HOUR);
    let gib = Decimal::from(1u64 << 30);
    let money = |a: Decimal| Money::new(a.normalize(), price.currency);
    let mut out = Vec::with_capacity(snapshot.functions.len());
    for f in &snapshot.functions {
        let ovf = || CostError::Overflow;
        let cpu = Decimal::from(f.self_ns).checked_mul(price.vcpu_hour).ok_or_else(ovf)? / hour;
        let gib_hours = f.allocations.as_ref().filter(|_| f.count > 0).map(|a| {
            let mean_ns = f.total_ns as f64 / f.count as f64;
            a.self_allocated_bytes as f64 / (1u64 << 30) as f64 * mean_ns / NS_PER_HOUR as f64
        });
        let memory = match (&f.allocations, f.count) {
            (Some(a), n) if n > 0 && !price.gib_hour.is_zero() => {
                // bytes × mean ns, in GiB-hours, exactly: bytes × total_ns / count / 2^30 / NS_PER_HOUR.
                let byte_ns = Decimal::from(a.self_allocated_bytes)
                    .checked_mul(Decimal::from(f.total_ns))
                    .ok_or_else(ovf)?
                    / Decimal::from(n);
                (byte_ns / gib / hour).checked_mul(price.gib_hour).ok_or_else(ovf)?
            }
            _ => Decimal::ZERO,
        };
        let total = cpu.checked_add(memory).ok_or_else(ovf)?;
        let per_call = if f.count == 0 { Decimal::ZERO } else { total / Decimal::from(f.count) };
        let rate = (window_ns > 0).then(|| f.count as f64 / (window_ns as f64 / 1e9));
        let monthly = rate
            .map(|r| {
                let month = Decimal::from(u64::from(HOURS_PER_MONTH) * 3600);
                per_call
                    .checked_mul(dec(r))
                    .and_then(|v| v.checked_mul(month))
                    .map(money)
                    .ok_or_else(ovf)
            })
            .transpose()?;
        out.push(FunctionCost {
            name: f.name.clone(),
            calls: f.count,
            self_ns: f.self_ns,
            cpu_cost: money(cpu),
            memory_gib_hours: gib_hours,
            memory_cost: money(memory),
            total_cost: money(total),
            cost_per_call: money(per_call),
            cost_per_million_calls: money(
                per_call.checked_mul(Decimal::from(1_000_000u32)).ok_or_else(ovf)?,
            ),
            calls_per_sec: rate,
            monthly_cost: monthly,
        });
    }
    out.sort_by(|a, b| {
        b.total_cost.amount.cmp(&a.total_cost.amount).then_with(|| a.name.cmp(&b.name))
    });
    Ok(out)
}

/// The function costs as a text table (the `top` most costly).
///
/// # Examples
/// ```
/// use perfcore::cost::{Price, function_costs, function_costs_text};
/// use perfcore::{FunctionStats, Snapshot};
/// let snap = Snapshot::from_functions(vec![FunctionStats::from_durations("f", vec![1_000_000u64; 10])], 0, 1_000_000_000);
/// let price = Price::per_vcpu_hour("0.048".parse().unwrap());
/// let text = function_costs_text(&function_costs(&snap, &price).unwrap(), &price, 10);
/// assert!(text.contains("per 1M calls") && text.contains(" f\n"), "{text}");
/// ```
pub fn function_costs_text(costs: &[FunctionCost], price: &Price, top: usize) -> String {
    use std::fmt::Write;
    let mut s = format!(
        "Cost of each function at {} {c} per vCPU-hour{} (self time):\n{:>14}  {:>16}  {:>14}  {:>10}  function\n",
        price.vcpu_hour.normalize(),
        if price.gib_hour.is_zero() {
            String::new()
        } else {
            format!(" and {} {} per GiB-hour", price.gib_hour.normalize(), price.currency)
        },
        "per 1M calls",
        "per month",
        "in snapshot",
        "calls",
        c = price.currency,
    );
    for c in costs.iter().take(top) {
        let _ = writeln!(
            s,
            "{:>14}  {:>16}  {:>14}  {:>10}  {}",
            fmt_money(&c.cost_per_million_calls),
            c.monthly_cost.as_ref().map_or_else(|| "-".to_owned(), fmt_money),
            fmt_money(&c.total_cost),
            c.calls,
            c.name
        );
    }
    if costs.len() > top {
        let _ = writeln!(s, "… {} more functions", costs.len() - top);
    }
    s
}

/// The function costs as a Markdown table (the `top` most costly).
///
/// # Examples
/// ```
/// use perfcore::cost::{Price, function_costs, function_costs_markdown};
/// use perfcore::{FunctionStats, Snapshot};
/// let snap = Snapshot::from_functions(vec![FunctionStats::from_durations("f", vec![1_000_000u64; 10])], 0, 1_000_000_000);
/// let price = Price::per_vcpu_hour("0.048".parse().unwrap());
/// let md = function_costs_markdown(&function_costs(&snap, &price).unwrap(), &price, 10);
/// assert!(md.contains("| `f` | 10 |"), "{md}");
/// ```
pub fn function_costs_markdown(costs: &[FunctionCost], price: &Price, top: usize) -> String {
    use std::fmt::Write;
    let mut s = format!(
        "### Cost of each function\n\n{}.\n\n| function | calls | per call | per 1M calls | per month | in this profile |\n|---|---:|---:|---:|---:|---:|\n",
        price.describe()
    );
    for c in costs.iter().take(top) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            crate::report::markdown::md_code(&c.name),
            c.calls,
            fmt_money(&c.cost_per_call),
            fmt_money(&c.cost_per_million_calls),
            c.monthly_cost.as_ref().map_or_else(|| "-".to_owned(), fmt_money),
            fmt_money(&c.total_cost)
        );
    }
    if costs.len() > top {
        let _ = writeln!(s, "\n{} more functions.", costs.len() - top);
    }
    s
}

/// Money with 6 significant decimals at most: function costs are small.
pub(crate) fn function_cost_money(m: &Money) -> String {
    fmt_money(m)
}

fn fmt_money(m: &Money) -> String {
    let a = m.amount;
    let shown = if a.abs() >= Decimal::ONE { a.round_dp(2) } else { a.round_sf(3).unwrap_or(a) };
    format!("{} {}", shown.normalize(), m.currency)
}
