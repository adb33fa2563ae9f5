//! Prices you supply: what a type or SKU costs per hour (or per unit) in a provider's region.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::super::{CloudProvider, CostError, Currency, Money};

/// One price: a type or SKU in a provider's region, per unit.
///
/// # Examples
/// ```
/// use perfcore::cost::{CloudProvider, PriceEntry};
/// let p = PriceEntry::new(CloudProvider::Aws, "us-east-1", "m5.large", "0.096".parse()?)
///     .size("2".parse()?);
/// assert_eq!(p.family(), "m5");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PriceEntry {
    /// The provider.
    pub provider: CloudProvider,
    /// The region (`us-east-1`, `westeurope`…).
    pub region: String,
    /// The type or SKU it prices: an instance type (`m5.large`), or a class of your own
    /// naming (`4vcpu-16gb`) to compare like with like across providers.
    pub sku: String,
    /// The unit priced (default `Hours`).
    pub unit: String,
    /// The price of one unit.
    pub price: Decimal,
    /// Its currency (default USD).
    pub currency: Currency,
    /// Its capacity relative to the others of its family (vCPUs, say), for sizing down.
    pub size: Option<Decimal>,
}

impl PriceEntry {
    /// A price per hour in USD.
    #[must_use]
    pub fn new(
        provider: CloudProvider,
        region: impl Into<String>,
        sku: impl Into<String>,
        price_per_hour: Decimal,
    ) -> PriceEntry {
        PriceEntry {
            provider,
            region: region.into(),
            sku: sku.into(),
            unit: "Hours".into(),
            price: price_per_hour,
            currency: Currency::USD,
            size: None,
        }
    }

    /// The unit priced.
    #[must_use]
    pub fn unit(mut self, unit: impl Into<String>) -> PriceEntry {
        self.unit = unit.into();
        self
    }

    /// The currency of the price.
    #[must_use]
    pub fn currency(mut self, currency: Currency) -> PriceEntry {
        self.currency = currency;
        self
    }

    /// Its capacity within its family (vCPUs, memory, or any consistent measure).
    #[must_use]
    pub fn size(mut self, size: Decimal) -> PriceEntry {
        self.size = Some(size);
        self
    }

    /// The family: the SKU up to its first `.` (`m5` of `m5.large`), or the SKU itself.
    #[must_use]
    pub fn family(&self) -> &str {
        self.sku.split('.').next().unwrap_or(&self.sku)
    }

    /// The price as money.
    #[must_use]
    pub fn money(&self) -> Money {
        Money::new(self.price, self.currency)
    }
}

/// The prices you compare with: for the provider-disparity rule, and for sizing down.
///
/// # Examples
/// ```
/// use perfcore::cost::{CloudProvider, PriceEntry, PriceTable};
/// let table = PriceTable::from_csv(
///     "provider,region,sku,unit,price,currency,size\n\
///      aws,us-east-1,m5.large,Hours,0.096,USD,2\n\
///      gcp,us-central1,m5.large,Hours,0.081,USD,\n",
/// )?;
/// assert_eq!(table.entries().len(), 2);
/// assert_eq!(table.entries()[1].provider, CloudProvider::Gcp);
/// # Ok::<(), perfcore::cost::CostError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceTable {
    entries: Vec<PriceEntry>,
}

impl PriceTable {
    /// An empty table.
    #[must_use]
    pub fn new() -> PriceTable {
        PriceTable::default()
    }

    /// Adds a price.
    ///
    /// # Errors
    /// [`CostError::Invalid`] for a negative price or size, or an empty SKU.
    pub fn add(&mut self, entry: PriceEntry) -> Result<(), CostError> {
        if entry.sku.trim().is_empty() {
            return Err(CostError::Invalid {
                what: "price entry",
                message: "its sku is empty".into(),
            });
        }
        if entry.price < Decimal::ZERO || entry.size.is_some_and(|s| s <= Decimal::ZERO) {
            return Err(CostError::Invalid {
                what: "price entry",
                message: format!(
                    "{}: price {} and size {:?} must be positive",
                    entry.sku, entry.price, entry.size
                ),
            });
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Adds a price, for chaining.
    ///
    /// # Errors
    /// As [`PriceTable::add`].
    pub fn with(mut self, entry: PriceEntry) -> Result<PriceTable, CostError> {
        self.add(entry)?;
        Ok(self)
    }

    /// The prices, in the order added.
    #[must_use]
    pub fn entries(&self) -> &[PriceEntry] {
        &self.entries
    }

    /// Reads CSV text with the header `provider,region,sku,unit,price` and optionally
    /// `currency` and `size` (in any order; empty unit is `Hours`, empty currency USD).
    ///
    /// # Errors
    /// [`CostError::Invalid`] naming the line and column that cannot be read.
    pub fn from_csv(text: &str) -> Result<PriceTable, CostError> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Ok(PriceTable::new());
        };
        let cols: Vec<String> = header.split(',').map(|c| c.trim().to_ascii_lowercase()).collect();
        let at = |name: &str| cols.iter().position(|c| c == name);
        let bad = |line: usize, message: String| CostError::Invalid {
            what: "price table",
            message: format!("line {}: {message}", line + 1),
        };
        let (Some(p), Some(r), Some(s), Some(pr)) =
            (at("provider"), at("region"), at("sku"), at("price"))
        else {
            return Err(bad(0, "the header needs provider, region, sku and price".into()));
        };
        let mut table = PriceTable::new();
        for (n, line) in lines {
            let v: Vec<&str> = line.split(',').map(str::trim).collect();
            let get = |i: Option<usize>| i.and_then(|i| v.get(i).copied()).unwrap_or("");
            let price: Decimal = get(Some(pr))
                .parse()
                .map_err(|_| bad(n, format!("price {:?} is not a number", get(Some(pr)))))?;
            let mut e = PriceEntry::new(
                CloudProvider::parse(get(Some(p))),
                get(Some(r)),
                get(Some(s)),
                price,
            );
            let unit = get(at("unit"));
            if !unit.is_empty() {
                e.unit = unit.to_owned();
            }
            let currency = get(at("currency"));
            if !currency.is_empty() {
                e.currency = Currency::parse(currency)
                    .ok_or_else(|| bad(n, format!("currency {currency:?} is not a code")))?;
            }
            let size = get(at("size"));
            if !size.is_empty() {
                e.size = Some(
                    size.parse().map_err(|_| bad(n, format!("size {size:?} is not a number")))?,
                );
            }
            table.add(e).map_err(|e| bad(n, e.to_string()))?;
        }
        Ok(table)
    }

    /// The entry of `sku` in `provider`'s `region`.
    pub(crate) fn find(
        &self,
        provider: &CloudProvider,
        region: &str,
        sku: &str,
    ) -> Option<&PriceEntry> {
        self.entries.iter().find(|e| {
            &e.provider == provider && e.region.eq_ignore_ascii_case(region) && e.sku == sku
        })
    }
}
