//! Synthetic FOCUS files for tests and benchmarks: a row per (day, resource) with the
//! columns FOCUS makes mandatory, written as the clouds write them.

use std::fmt::Write as _;

use rust_decimal::Decimal;

use super::time::Day;
use super::{CloudProvider, focus::MANDATORY_COLUMNS};

/// One day of one resource's charges.
///
/// # Examples
/// ```
/// use perfcore::cost::{Day, synthetic::{SyntheticRow, focus_csv}};
/// let rows = [SyntheticRow::new(Day::parse("2024-09-01").unwrap(), "checkout", "i-1", "2.40".parse().unwrap())];
/// let csv = focus_csv(&rows);
/// assert!(csv.lines().nth(1).unwrap().contains("checkout"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticRow {
    /// The UTC day charged.
    pub day: Day,
    /// ServiceName.
    pub service: String,
    /// ResourceId (empty: none).
    pub resource: String,
    /// BilledCost (EffectiveCost and ListCost are the same; ContractedCost too).
    pub cost: Decimal,
    /// ServiceCategory (default `Compute`).
    pub category: String,
    /// ProviderName (default AWS).
    pub provider: CloudProvider,
    /// RegionId (default `us-east-1`).
    pub region: String,
    /// BillingAccountId (default `111111111111`).
    pub account: String,
    /// PricingQuantity and ConsumedQuantity, in `unit` (default 24 hours).
    pub quantity: Decimal,
    /// PricingUnit and ConsumedUnit (default `Hours`).
    pub unit: String,
    /// Tags as a JSON object's text (default none).
    pub tags: String,
    /// CommitmentDiscountType (default none: on demand).
    pub commitment: String,
}

impl SyntheticRow {
    /// A compute row of 24 hours on AWS in us-east-1.
    #[must_use]
    pub fn new(day: Day, service: &str, resource: &str, cost: Decimal) -> SyntheticRow {
        SyntheticRow {
            day,
            service: service.to_owned(),
            resource: resource.to_owned(),
            cost,
            category: "Compute".into(),
            provider: CloudProvider::Aws,
            region: "us-east-1".into(),
            account: "111111111111".into(),
            quantity: Decimal::from(24),
            unit: "Hours".into(),
            tags: String::new(),
            commitment: String::new(),
        }
    }
}

const EXTRA_COLUMNS: [&str; 6] = [
    "ResourceId",
    "RegionId",
    "ConsumedQuantity",
    "ConsumedUnit",
    "Tags",
    "CommitmentDiscountType",
];

fn quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// A FOCUS 1.0 CSV file (header and rows) holding `rows`, each a daily charge.
///
/// # Examples
/// ```
/// use perfcore::cost::{CostMonitor, Day, synthetic::{SyntheticRow, focus_csv}};
/// let day = Day::parse("2024-09-01").unwrap();
/// let rows: Vec<SyntheticRow> = (0..3)
///     .map(|i| SyntheticRow::new(Day(day.0 + i), "checkout", "i-1", "2.40".parse().unwrap()))
///     .collect();
/// let path = std::env::temp_dir().join(format!("synthetic-doc-{}.csv", std::process::id()));
/// std::fs::write(&path, focus_csv(&rows))?;
/// let mut monitor = CostMonitor::new()?;
/// monitor.import(&path, &Default::default())?;
/// # std::fs::remove_file(&path)?;
/// let total = monitor.total(perfcore::cost::Period::all(), perfcore::cost::CostMetric::Billed)?;
/// assert_eq!(total.round_cents().to_string(), "7.20");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn focus_csv(rows: &[SyntheticRow]) -> String {
    let mut out = String::with_capacity(rows.len() * 400 + 600);
    let columns: Vec<&str> = MANDATORY_COLUMNS.iter().chain(&EXTRA_COLUMNS).copied().collect();
    out.push_str(&columns.join(","));
    out.push('\n');
    for r in rows {
        let bp_start = r.day.month_start();
        let bp_end = r.day.next_month_start();
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match *c {
                "BilledCost" | "EffectiveCost" | "ListCost" | "ContractedCost" => {
                    let _ = write!(out, "{}", r.cost);
                }
                "BillingAccountId" => out.push_str(&r.account),
                "BillingAccountName" => out.push_str("synthetic"),
                "BillingCurrency" => out.push_str("USD"),
                "BillingPeriodStart" => {
                    let _ = write!(out, "{bp_start}T00:00:00Z");
                }
                "BillingPeriodEnd" => {
                    let _ = write!(out, "{bp_end}T00:00:00Z");
                }
                "ChargeCategory" => out.push_str("Usage"),
                "ChargeDescription" => quoted(&mut out, &format!("{} usage", r.service)),
                "ChargePeriodStart" => {
                    let _ = write!(out, "{}T00:00:00Z", r.day);
                }
                "ChargePeriodEnd" => {
                    let _ = write!(out, "{}T00:00:00Z", r.day.next());
                }
                "InvoiceIssuerName" | "ProviderName" | "PublisherName" => {
                    quoted(&mut out, &r.provider.to_string());
                }
                "PricingQuantity" | "ConsumedQuantity" => {
                    let _ = write!(out, "{}", r.quantity);
                }
                "PricingUnit" | "ConsumedUnit" => out.push_str(&r.unit),
                "ServiceCategory" => quoted(&mut out, &r.category),
                "ServiceName" => quoted(&mut out, &r.service),
                "ResourceId" => quoted(&mut out, &r.resource),
                "RegionId" => out.push_str(&r.region),
                "Tags" if !r.tags.is_empty() => quoted(&mut out, &r.tags),
                "CommitmentDiscountType" => out.push_str(&r.commitment),
                _ => {}
            }
        }
        out.push('\n');
    }
    out
}
