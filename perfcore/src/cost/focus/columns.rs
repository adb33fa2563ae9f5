//! The FOCUS columns perfcore knows: which are mandatory, which it aggregates, which versions
//! added them.

use crate::cost::aggregate::{Dim, N_DIMS};

/// The 21 columns FOCUS 1.0, 1.1 and 1.2 make mandatory (the same in all three). A file
/// lacking any is refused, naming them.
pub const MANDATORY_COLUMNS: [&str; 21] = [
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
];

/// Later names that stand for an earlier mandatory column (FOCUS 1.3 deprecates
/// `ProviderName` and `PublisherName` for `ServiceProviderName` and `HostProviderName`).
pub(crate) const ALIASES: [(&str, &str); 2] =
    [("ProviderName", "ServiceProviderName"), ("PublisherName", "HostProviderName")];

/// The conditional and recommended columns of FOCUS 1.0.
const OTHER_SPEC_COLUMNS: [&str; 22] = [
    "AvailabilityZone",
    "ChargeFrequency",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedUnitPrice",
    "ListUnitPrice",
    "PricingCategory",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
];

const ADDED_IN_1_1: [&str; 7] = [
    "CapacityReservationId",
    "CapacityReservationStatus",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountUnit",
    "ServiceSubcategory",
    "SkuMeter",
    "SkuPriceDetails",
];
const ADDED_IN_1_2: [&str; 7] = [
    "BillingAccountType",
    "InvoiceId",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "SubAccountType",
];

/// Whether `name` is a column of the FOCUS specification (1.0 to 1.2, and the 1.3 names
/// perfcore maps).
pub(crate) fn is_spec_column(name: &str) -> bool {
    MANDATORY_COLUMNS.contains(&name)
        || OTHER_SPEC_COLUMNS.contains(&name)
        || ADDED_IN_1_1.contains(&name)
        || ADDED_IN_1_2.contains(&name)
        || ALIASES.iter().any(|(_, a)| *a == name)
}

/// The FOCUS version the columns present suggest (FOCUS files do not name their version).
pub(crate) fn detect_version(names: &[String]) -> &'static str {
    let has = |set: &[&str]| set.iter().any(|c| names.iter().any(|n| n == c));
    if has(&["ServiceProviderName", "HostProviderName"]) {
        "1.3 or later"
    } else if has(&ADDED_IN_1_2) {
        "1.2"
    } else if has(&ADDED_IN_1_1) {
        "1.1"
    } else {
        "1.0"
    }
}

/// The value columns read into every aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Value {
    BilledCost,
    EffectiveCost,
    ListCost,
    ContractedCost,
    PricingQuantity,
    ConsumedQuantity,
    ChargePeriodStart,
    ChargePeriodEnd,
    BillingPeriodStart,
    BillingPeriodEnd,
}

pub(crate) const N_VALUES: usize = 10;

pub(crate) const VALUE_COLUMNS: [&str; N_VALUES] = [
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "PricingQuantity",
    "ConsumedQuantity",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "BillingPeriodStart",
    "BillingPeriodEnd",
];

/// The FOCUS column each dimension comes from (`Extra` is made of the kept columns).
pub(crate) const DIM_SOURCES: [&str; N_DIMS - 1] = [
    "ProviderName",
    "BillingAccountId",
    "SubAccountId",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceName",
    "ServiceCategory",
    "ServiceSubcategory",
    "RegionId",
    "ChargeCategory",
    "ChargeFrequency",
    "PricingUnit",
    "ConsumedUnit",
    "CommitmentDiscountId",
    "CommitmentDiscountType",
    "CommitmentDiscountStatus",
    "BillingCurrency",
    "Tags",
];

/// The spellings FOCUS allows for the enumerated columns; any case of them is normalised to
/// these (`Usage-based` → `Usage-Based`), other values are kept as written.
pub(crate) fn canonical_values(dim: Dim) -> &'static [&'static str] {
    match dim {
        Dim::ChargeCategory => &["Usage", "Purchase", "Tax", "Credit", "Adjustment"],
        Dim::ChargeFrequency => &["One-Time", "Recurring", "Usage-Based"],
        Dim::CommitmentDiscountStatus => &["Used", "Unused"],
        _ => &[],
    }
}
