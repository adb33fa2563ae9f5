//! Tests of the rules: each fires, and just across its threshold does not; savings never
//! exceed the cost they come from; a decision's realised savings.

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::super::focus::MANDATORY_COLUMNS;
use super::super::tests::temp_dir;
use super::super::{
    CloudProvider, CostMonitor, Day, ImportOptions, Resource, ResourceType, UtilizationSample,
};
use super::*;

const NOW: i64 = 1_790_000_000;
const HOUR: i64 = 3600;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn options() -> OpportunityOptions {
    OpportunityOptions::default().with_now_unix(NOW)
}

/// A VM at 0.1 an hour (73 a month), not running long enough for a commitment.
fn vm(id: &str) -> Resource {
    Resource::new(id, ResourceType::Compute, CloudProvider::Aws)
        .usage_hours(dec("100"))
        .cost_per_hour(dec("0.1"))
        .region("us-east-1")
}

fn sample(at: i64, cpu: f64, memory: Option<f64>, network: Option<f64>) -> UtilizationSample {
    UtilizationSample { at_unix: at, cpu: Some(cpu), memory, network_bytes_per_sec: network }
}

/// `n` hourly readings ending at NOW.
fn readings(mut r: Resource, n: i64, cpu: f64, memory: f64) -> Resource {
    for i in 0..n {
        r = r.utilization(sample(NOW - i * HOUR, cpu, Some(memory), None));
    }
    r
}

fn found(resources: Vec<Resource>, options: OpportunityOptions) -> Vec<Opportunity> {
    let mut m = CostMonitor::new().unwrap();
    m.set_opportunity_options(options);
    for r in resources {
        m.track_resource(r).unwrap();
    }
    m.opportunities().unwrap()
}

fn kinds(list: &[Opportunity]) -> Vec<&str> {
    list.iter().map(|o| o.kind.as_str()).collect()
}

#[test]
fn underutilised_below_30_percent_mean_cpu() {
    let list = found(vec![readings(vm("a"), 48, 0.29, 0.9)], options());
    assert_eq!(kinds(&list), ["underutilized"]);
    // 0.1 × 730 × the assumed 50% of one size step.
    assert_eq!(list[0].potential_savings.amount, dec("36.5"));
    assert_eq!(list[0].current_monthly_cost.amount, dec("73"));
    assert!(
        list[0].recommendation.contains("assuming each size step"),
        "{}",
        list[0].recommendation
    );
    assert!(found(vec![readings(vm("a"), 48, 0.30, 0.9)], options()).is_empty());
    // Readings older than the lookback do not count.
    let mut old = vm("a");
    old = old.utilization(sample(NOW - 15 * 86_400, 0.01, None, None));
    old = old.utilization(sample(NOW, 0.9, None, None));
    assert!(found(vec![old], options()).is_empty());
}

#[test]
fn underutilised_sized_from_a_price_table() {
    let table = PriceTable::new()
        .with(
            PriceEntry::new(CloudProvider::Aws, "us-east-1", "m5.xlarge", dec("0.2"))
                .size(dec("4")),
        )
        .unwrap()
        .with(
            PriceEntry::new(CloudProvider::Aws, "us-east-1", "m5.large", dec("0.12"))
                .size(dec("2")),
        )
        .unwrap()
        .with(
            PriceEntry::new(CloudProvider::Aws, "us-east-1", "m5.small", dec("0.05"))
                .size(dec("1")),
        )
        .unwrap();
    let mut r = readings(vm("a"), 48, 0.2, 0.9).cost_per_hour(dec("0.2"));
    r.metadata.insert("instance_type".into(), "m5.xlarge".into());
    let list = found(vec![r], options().with_price_table(table));
    assert_eq!(kinds(&list), ["underutilized"]);
    // One step: m5.large, 0.12 / 0.2 of the cost: saves 40% of 146.
    assert_eq!(list[0].potential_savings.amount, dec("58.4"));
    assert!(list[0].recommendation.contains("m5.large"), "{}", list[0].recommendation);
}

#[test]
fn idle_after_24_hours_without_activity() {
    let mut r = vm("a");
    r.last_activity_unix = Some(NOW - 24 * HOUR - 1);
    let list = found(vec![r.clone()], options());
    assert_eq!(kinds(&list), ["idle"]);
    assert_eq!(list[0].potential_savings.amount, dec("73"));
    assert_eq!(list[0].confidence, "high");
    r.last_activity_unix = Some(NOW - 24 * HOUR);
    assert!(found(vec![r], options()).is_empty());
}

#[test]
fn idle_from_readings_near_zero_and_it_supersedes_the_rest() {
    // 26 readings an hour apart: 25 hours of zero.
    let list = found(vec![readings(vm("a"), 26, 0.0, 0.9)], options());
    assert_eq!(kinds(&list), ["idle"]);
    assert!(list[0].evidence.contains("supersedes the underutilized"), "{}", list[0].evidence);
    // 25 readings: exactly 24 hours, not more: only underutilised.
    assert_eq!(kinds(&found(vec![readings(vm("a"), 25, 0.0, 0.9)], options())), ["underutilized"]);
    // One busy reading at the end breaks the run.
    let r = readings(vm("a"), 26, 0.0, 0.9).utilization(sample(NOW - 1, 0.5, None, None));
    assert!(!kinds(&found(vec![r], options())).contains(&"idle"));
}

#[test]
fn oversized_when_both_percentiles_are_low() {
    // p95 35% CPU, 30% memory: half the size runs them at 70% and 60%, under 80%.
    let list = found(vec![readings(vm("a"), 100, 0.35, 0.30)], options());
    assert_eq!(kinds(&list), ["oversized"]);
    assert_eq!(list[0].potential_savings.amount, dec("36.5"));
    // Two halvings for 20% / 10%: 75% saved (and the larger of the two resizing rules stays).
    let list = found(vec![readings(vm("a"), 100, 0.20, 0.10)], options());
    assert_eq!(kinds(&list), ["oversized"]);
    assert_eq!(list[0].potential_savings.amount, dec("54.75"));
    // The thresholds themselves, with no headroom so that a half size fits.
    let o = options().with_target_utilization(1.0);
    assert_eq!(kinds(&found(vec![readings(vm("a"), 100, 0.39, 0.49)], o.clone())), ["oversized"]);
    assert!(found(vec![readings(vm("a"), 100, 0.39, 0.50)], o.clone()).is_empty());
    assert!(found(vec![readings(vm("a"), 100, 0.40, 0.10)], o).is_empty());
    // Below both thresholds but no smaller size keeps memory under 80%: nothing.
    assert!(found(vec![readings(vm("a"), 100, 0.35, 0.45)], options()).is_empty());
}

#[test]
fn oversized_sizes_on_the_percentile_asked_for() {
    // 95 readings at 10%, 5 spikes at 90%: p95 says small, p99.5 (AWS) says keep.
    let mut r = readings(vm("a"), 95, 0.35, 0.2);
    for i in 0..5 {
        r = r.utilization(sample(NOW - (100 + i) * HOUR, 0.9, Some(0.2), None));
    }
    assert_eq!(kinds(&found(vec![r.clone()], options())), ["oversized"]);
    assert!(found(vec![r], options().with_sizing_percentile(0.995)).is_empty());
}

#[test]
fn trusted_advisor_low_utilisation_on_4_of_14_days() {
    let day = 86_400;
    let quiet = |days: i64| {
        let mut r = vm("a");
        for d in 0..days {
            // 57 B/s is 4.9 MB a day.
            r = r.utilization(sample(NOW - d * day - 10, 0.10, None, Some(57.0)));
        }
        for d in days..10 {
            r = r.utilization(sample(NOW - d * day - 10, 0.9, None, Some(57.0)));
        }
        r
    };
    let o = options().with_trusted_advisor(true);
    assert_eq!(kinds(&found(vec![quiet(4)], o.clone())), ["low_utilization"]);
    assert!(found(vec![quiet(3)], o).is_empty());
    assert!(found(vec![quiet(4)], options()).is_empty(), "off by default");
}

fn priced(other: &str) -> OpportunityOptions {
    let table = PriceTable::new()
        .with(PriceEntry::new(CloudProvider::Aws, "us-east-1", "m5.large", dec("0.1")))
        .unwrap()
        .with(PriceEntry::new(CloudProvider::Gcp, "us-central1", "m5.large", dec(other)))
        .unwrap();
    options().with_price_table(table)
}

#[test]
fn provider_disparity_from_a_price_table() {
    let mut r = vm("a");
    r.metadata.insert("sku".into(), "m5.large".into());
    let list = found(vec![r.clone()], priced("0.08"));
    assert_eq!(kinds(&list), ["provider_disparity"]);
    assert_eq!(list[0].potential_savings.amount, dec("14.6"));
    assert!(list[0].recommendation.contains("GCP us-central1"), "{}", list[0].recommendation);
    assert!(found(vec![r.clone()], priced("0.1")).is_empty());
    // No SKU, nothing to compare.
    r.metadata.clear();
    assert!(found(vec![r], priced("0.08")).is_empty());
}

#[test]
fn commitment_for_always_on_compute() {
    let list = found(vec![vm("a").usage_hours(dec("693.5"))], options());
    assert_eq!(kinds(&list), ["commitment"]);
    assert_eq!(list[0].potential_savings.amount, dec("14.6"));
    assert_eq!(list[0].confidence, "low");
    assert!(found(vec![vm("a").usage_hours(dec("693.4"))], options()).is_empty());
    let mine = options().with_commitment_discount(dec("0.3"));
    assert_eq!(
        found(vec![vm("a").usage_hours(dec("730"))], mine)[0].potential_savings.amount,
        dec("21.9")
    );
}

#[test]
fn combined_rules_share_the_cost_instead_of_counting_it_twice() {
    let mut r = readings(vm("a"), 48, 0.2, 0.9).usage_hours(dec("730"));
    r.metadata.insert("sku".into(), "m5.large".into());
    let list = found(vec![r], priced("0.02"));
    assert_eq!(kinds(&list), ["provider_disparity", "underutilized", "commitment"]);
    // 58.4 (0.08 × 730), then half of the 14.6 left, then 20% of the 7.3 left.
    let s: Vec<Decimal> = list.iter().map(|o| o.potential_savings.amount).collect();
    assert_eq!(s, [dec("58.4"), dec("7.3"), dec("1.46")]);
    assert!(s.iter().sum::<Decimal>() <= dec("73"));
    assert!(
        list[2].evidence.contains("left after the provider_disparity, underutilized"),
        "{}",
        list[2].evidence
    );
}

#[test]
fn options_out_of_range_are_refused() {
    let mut m = CostMonitor::new().unwrap();
    m.set_opportunity_options(options().with_underutilized_cpu(1.2));
    let e = m.opportunities().unwrap_err().to_string();
    assert!(e.contains("underutilised CPU threshold"), "{e}");
    assert!(OpportunityOptions::default().with_lookback_days(0).validate().is_err());
    let e = PriceTable::from_csv("provider,region,sku,price\naws,x,m5,cheap\n").unwrap_err();
    assert!(e.to_string().contains("line 2"), "{e}");
}

// ---- imported FOCUS data ----

/// One daily FOCUS row of a compute resource.
struct Row<'a> {
    day: Day,
    resource: &'a str,
    region: &'a str,
    cost: &'a str,
    hours: &'a str,
    commitment: &'a str,
}

fn focus_csv(rows: &[Row<'_>]) -> String {
    let mut cols: Vec<&str> = MANDATORY_COLUMNS.to_vec();
    for extra in [
        "ConsumedQuantity",
        "ConsumedUnit",
        "CommitmentDiscountType",
        "ResourceId",
        "RegionId",
        "ServiceCategory",
        "PricingQuantity",
        "PricingUnit",
    ] {
        if !cols.contains(&extra) {
            cols.push(extra);
        }
    }
    let mut out = cols.join(",") + "\n";
    for r in rows {
        let (y, m, d) = r.day.ymd();
        let (ny, nm, nd) = r.day.next().ymd();
        let bp = Day::from_ymd(y, m, 1).unwrap().next_month_start().ymd();
        let value = |c: &str| -> String {
            match c {
                "BilledCost" | "EffectiveCost" | "ListCost" | "ContractedCost" => r.cost.into(),
                "BillingCurrency" => "USD".into(),
                "BillingAccountId" => "acct".into(),
                "BillingPeriodStart" => format!("{y}-{m:02}-01T00:00:00Z"),
                "BillingPeriodEnd" => format!("{}-{:02}-01T00:00:00Z", bp.0, bp.1),
                "ChargePeriodStart" => format!("{y}-{m:02}-{d:02}T00:00:00Z"),
                "ChargePeriodEnd" => format!("{ny}-{nm:02}-{nd:02}T00:00:00Z"),
                "ChargeCategory" => "Usage".into(),
                "ProviderName" | "PublisherName" | "InvoiceIssuerName" => "AWS".into(),
                "ResourceId" => r.resource.into(),
                "RegionId" => r.region.into(),
                "ServiceCategory" => "Compute".into(),
                "ServiceName" => "EC2".into(),
                "PricingQuantity" | "ConsumedQuantity" => r.hours.into(),
                "PricingUnit" | "ConsumedUnit" => "Hours".into(),
                "CommitmentDiscountType" => r.commitment.into(),
                "ChargeFrequency" => "Usage-Based".into(),
                _ => String::new(),
            }
        };
        out += &(cols.iter().map(|c| value(c)).collect::<Vec<_>>().join(",") + "\n");
    }
    out
}

fn imported(rows: &[Row<'_>], options: OpportunityOptions) -> CostMonitor {
    let dir = temp_dir("import");
    let path = dir.join("focus.csv");
    std::fs::write(&path, focus_csv(rows)).unwrap();
    let mut m = CostMonitor::new().unwrap();
    m.import(&path, &ImportOptions::default().strict(true)).unwrap();
    m.set_opportunity_options(options);
    let _ = std::fs::remove_dir_all(&dir);
    m
}

fn day0() -> Day {
    Day::from_ymd(2026, 9, 1).unwrap()
}

fn steady<'a>(days: i32, resource: &'a str, region: &'a str, cost: &'a str) -> Vec<Row<'a>> {
    (0..days)
        .map(|i| Row {
            day: Day(day0().0 + i),
            resource,
            region,
            cost,
            hours: "24",
            commitment: "",
        })
        .collect()
}

#[test]
fn imported_compute_on_demand_every_hour_of_14_days_suits_a_commitment() {
    let m = imported(&steady(14, "i-1", "us-east-1", "2.4"), options());
    let list = m.opportunities().unwrap();
    assert_eq!(kinds(&list), ["commitment"]);
    // 2.4 a day × 730 / 24 = 73 a month, 20% of it.
    assert_eq!(list[0].current_monthly_cost.amount, dec("73"));
    assert_eq!(list[0].potential_savings.amount, dec("14.6"));
    assert_eq!(list[0].source, "imported");
    // One day short of every hour (22 of 24 < 95%).
    let mut rows = steady(14, "i-1", "us-east-1", "2.4");
    rows[5].hours = "22";
    assert!(imported(&rows, options()).opportunities().unwrap().is_empty());
    // Already under a commitment.
    let mut rows = steady(14, "i-1", "us-east-1", "2.4");
    rows[0].commitment = "Savings Plan";
    assert!(imported(&rows, options()).opportunities().unwrap().is_empty());
    // 13 days of history are not 14.
    assert!(
        imported(&steady(13, "i-1", "us-east-1", "2.4"), options())
            .opportunities()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn imported_rates_cheaper_in_another_region() {
    let mut rows = steady(7, "i-east", "us-east-1", "2.4");
    rows.extend(steady(7, "i-west", "eu-west-1", "1.92"));
    let list = imported(&rows, options()).opportunities().unwrap();
    assert_eq!(kinds(&list), ["provider_disparity"]);
    assert_eq!(list[0].resource_id, "i-east");
    // (0.1 − 0.08) × 730 hours a month.
    assert_eq!(list[0].potential_savings.amount, dec("14.6"));
    assert_eq!(list[0].confidence, "low");
    // 5% cheaper is under the 10% gap.
    let mut rows = steady(7, "i-east", "us-east-1", "2.4");
    rows.extend(steady(7, "i-west", "eu-west-1", "2.28"));
    assert!(imported(&rows, options()).opportunities().unwrap().is_empty());
}

#[test]
fn the_sample_gives_opportunities_within_their_costs() {
    let mut m = CostMonitor::new().unwrap();
    m.import(super::super::tests::SAMPLE, &ImportOptions::default()).unwrap();
    for o in m.opportunities().unwrap() {
        assert!(o.potential_savings.amount <= o.current_monthly_cost.amount, "{o:?}");
        assert!(!o.evidence.is_empty() && !o.confidence_reason.is_empty());
    }
}

#[test]
fn applied_decisions_show_projected_against_realised() {
    // 14 days at 2.4 a day, a commitment decision on day 14, then 5 days at 1.92.
    let decided = Day(day0().0 + 14);
    let mut rows = steady(14, "i-1", "us-east-1", "2.4");
    for i in 15..20 {
        rows.push(Row {
            day: Day(day0().0 + i),
            resource: "i-1",
            region: "us-east-1",
            cost: "1.92",
            hours: "24",
            commitment: "Savings Plan",
        });
    }
    let before = imported(&steady(14, "i-1", "us-east-1", "2.4"), options());
    let opp = before.opportunities().unwrap().remove(0);
    let at = i64::from(decided.0) * 86_400 + 12 * HOUR;
    let mut m = imported(&rows, options().with_now_unix(at));
    let applied = m.apply_optimization(&opp).unwrap();
    assert!(applied.message.contains("cannot change cloud resources"), "{}", applied.message);
    assert_eq!(applied.projected_monthly_cost.amount, dec("58.4"));
    let s = m.savings().unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].before_monthly_cost.amount, dec("73"));
    assert_eq!(s[0].realised_monthly_cost.unwrap().amount, dec("58.4"));
    assert_eq!(s[0].realised_savings.unwrap().amount, dec("14.6"));
    assert_eq!(s[0].projected_savings.amount, dec("14.6"));
    assert_eq!(s[0].evidence_days, 5);
    // The report shows it.
    let report = m.report(super::super::ReportPeriod::All).unwrap();
    for text in [report.to_text(), report.to_markdown(), report.to_html(), report.to_json()] {
        assert!(text.contains("58.4"), "{text}");
        assert!(
            text.to_lowercase().contains("applied optimisations")
                || text.contains("applied_optimizations"),
            "{text}"
        );
    }
}

#[test]
fn a_tracked_decision_reads_the_rate_the_user_updates() {
    let mut m = CostMonitor::new().unwrap();
    m.set_opportunity_options(options());
    m.track_resource(readings(vm("a"), 48, 0.2, 0.9)).unwrap();
    let opp = m.opportunities().unwrap().remove(0);
    m.apply_optimization(&opp).unwrap();
    // Nothing changed yet: nothing realised.
    let s = m.savings().unwrap().remove(0);
    assert_eq!(s.projected_savings.amount, dec("36.5"));
    assert_eq!(s.realised_savings.unwrap().amount, dec("0"));
    m.track_resource(readings(vm("a"), 48, 0.4, 0.9).cost_per_hour(dec("0.06"))).unwrap();
    m.set_opportunity_options(options().with_now_unix(NOW + 3 * 86_400));
    let s = m.savings().unwrap().remove(0);
    assert_eq!(s.realised_monthly_cost.unwrap().amount, dec("43.8"));
    assert_eq!(s.realised_savings.unwrap().amount, dec("29.2"));
    assert_eq!(s.evidence_days, 3);
}

fn arb_resource() -> impl Strategy<Value = Resource> {
    (
        0u32..1000,
        1u32..100_000,
        proptest::collection::vec(
            (0.0f64..=1.0, 0.0f64..=1.0, 0.0f64..5000.0, 0i64..30 * 24),
            0..30,
        ),
        proptest::option::of(0i64..100),
        any::<bool>(),
    )
        .prop_map(|(hours, rate, samples, last, sku)| {
            let mut r = vm("r")
                .usage_hours(Decimal::from(hours))
                .cost_per_hour(Decimal::new(i64::from(rate), 4));
            for (cpu, mem, net, h) in samples {
                r = r.utilization(sample(NOW - h * HOUR, cpu, Some(mem), Some(net)));
            }
            r.last_activity_unix = last.map(|h| NOW - h * HOUR);
            if sku {
                r.metadata.insert("sku".into(), "m5.large".into());
            }
            r
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn savings_never_exceed_the_cost_they_come_from(
        resources in proptest::collection::vec(arb_resource(), 1..4),
        other in 1u32..2000,
        ta: bool,
    ) {
        let resources: Vec<Resource> = resources
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| { r.id = format!("r{i}"); r })
            .collect();
        let opts = priced(&Decimal::new(i64::from(other), 4).to_string()).with_trusted_advisor(ta);
        let list = found(resources.clone(), opts);
        for r in &resources {
            let monthly = r.cost_per_hour.unwrap() * Decimal::from(HOURS_PER_MONTH);
            let mine: Vec<&Opportunity> = list.iter().filter(|o| o.resource_id == r.id).collect();
            let sum: Decimal = mine.iter().map(|o| o.potential_savings.amount).sum();
            prop_assert!(sum <= monthly, "{} saves {sum} of {monthly}: {mine:?}", r.id);
            for o in mine {
                prop_assert!(o.potential_savings.amount > Decimal::ZERO);
                prop_assert!(o.potential_savings.amount <= o.current_monthly_cost.amount, "{o:?}");
                prop_assert!(o.current_monthly_cost.amount <= monthly);
            }
        }
    }
}
