//! A FOCUS CSV import of arbitrary bytes: never a panic; an error, or a summary whose counts
//! add up and whose imported total is what the store then reports.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfcore::cost::{CostMetric, CostMonitor, ImportOptions, Period};

const HEADER: &str = "BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,\
ChargeCategory,ChargeClass,ChargeDescription,ChargePeriodEnd,ChargePeriodStart,ContractedCost,EffectiveCost,\
InvoiceIssuerName,ListCost,PricingQuantity,PricingUnit,ProviderName,PublisherName,ServiceCategory,ServiceName,Tags\n";

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("perfcore-fuzz-focus-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("f.csv");
    // Half the inputs get a valid header, so the row rules are reached.
    let mut bytes = Vec::new();
    if data.first().is_some_and(|b| b % 2 == 0) {
        bytes.extend_from_slice(HEADER.as_bytes());
    }
    bytes.extend_from_slice(data);
    if std::fs::write(&path, &bytes).is_err() {
        return;
    }
    for strict in [false, true] {
        let mut m = CostMonitor::new().expect("an in-memory store");
        if let Ok(s) = m.import(&path, &ImportOptions::default().strict(strict)) {
            assert_eq!(s.rows_read, s.rows_imported + s.rows_skipped);
            assert!(!strict || s.rows_skipped == 0);
            if s.billed.by_currency.len() == 1 {
                let total = m.total(Period::all(), CostMetric::Billed).expect("a total");
                assert_eq!(Some(&total.amount), s.billed.by_currency.values().next());
            }
        }
    }
});
