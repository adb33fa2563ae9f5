//! Folding billing rows into (day × billing period × dimensions) aggregates.
//!
//! Memory grows with the number of distinct aggregates and distinct strings, never with the
//! number of rows: a month of hourly rows for one resource is one aggregate per day.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rust_decimal::Decimal;

/// A small, fast, non-cryptographic hasher (the multiply-rotate scheme rustc uses) for the
/// interner and the aggregate table: billing files are not adversarial to our own process's
/// memory, and SipHash cost a third of the import time.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;
pub(crate) type FxMap<K, V> = HashMap<K, V, FxBuild>;

/// Each distinct string once; id 0 is the empty string (a null).
#[derive(Default)]
pub(crate) struct Interner {
    ids: FxMap<Box<[u8]>, u32>,
    strings: Vec<Box<str>>,
}

impl Interner {
    pub(crate) fn new() -> Interner {
        let mut i = Interner::default();
        i.strings.push("".into());
        i.ids.insert(Box::default(), 0);
        i
    }

    /// The id of `bytes`, or `None` if they are not UTF-8 (checked once per distinct value).
    #[inline]
    pub(crate) fn intern(&mut self, bytes: &[u8]) -> Option<u32> {
        if let Some(&id) = self.ids.get(bytes) {
            return Some(id);
        }
        let text = std::str::from_utf8(bytes).ok()?;
        let id = self.strings.len() as u32;
        self.strings.push(text.into());
        self.ids.insert(bytes.into(), id);
        Some(id)
    }

    pub(crate) fn get(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.strings.len()
    }
}

/// The dimensions of an aggregate, in the store's column order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Dim {
    Provider,
    BillingAccountId,
    SubAccountId,
    ResourceId,
    ResourceName,
    ResourceType,
    ServiceName,
    ServiceCategory,
    ServiceSubcategory,
    RegionId,
    ChargeCategory,
    ChargeFrequency,
    PricingUnit,
    ConsumedUnit,
    CommitmentDiscountId,
    CommitmentDiscountType,
    CommitmentDiscountStatus,
    Currency,
    Tags,
    Extra,
}

pub(crate) const N_DIMS: usize = 20;

/// The store's column name of each dimension.
pub(crate) const DIM_COLUMNS: [&str; N_DIMS] = [
    "provider",
    "billing_account_id",
    "sub_account_id",
    "resource_id",
    "resource_name",
    "resource_type",
    "service_name",
    "service_category",
    "service_subcategory",
    "region_id",
    "charge_category",
    "charge_frequency",
    "pricing_unit",
    "consumed_unit",
    "commitment_discount_id",
    "commitment_discount_type",
    "commitment_discount_status",
    "currency",
    "tags",
    "extra",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct AggKey {
    pub(crate) day: i32,
    pub(crate) billing_period_start: i32,
    pub(crate) billing_period_end: i32,
    pub(crate) dims: u32,
}

/// The sums of one aggregate. `*_nulls` count the rows whose value was null (so a partial sum
/// is never mistaken for a whole one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Agg {
    pub(crate) billed: Decimal,
    pub(crate) effective: Decimal,
    pub(crate) list: Decimal,
    pub(crate) contracted: Decimal,
    pub(crate) pricing_quantity: Decimal,
    pub(crate) consumed_quantity: Decimal,
    pub(crate) rows: u64,
    pub(crate) effective_nulls: u64,
    pub(crate) list_nulls: u64,
    pub(crate) contracted_nulls: u64,
}

/// One row's values, already parsed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RowValues {
    pub(crate) billed: Decimal,
    pub(crate) effective: Option<Decimal>,
    pub(crate) list: Option<Decimal>,
    pub(crate) contracted: Option<Decimal>,
    pub(crate) pricing_quantity: Option<Decimal>,
    pub(crate) consumed_quantity: Option<Decimal>,
}

impl Agg {
    /// Adds a row, or `None` if a sum would overflow 28 digits (the aggregate is unchanged).
    pub(crate) fn add(&mut self, v: &RowValues) -> Option<()> {
        let add = |sum: Decimal, v: Option<Decimal>| sum.checked_add(v.unwrap_or_default());
        let next = Agg {
            billed: self.billed.checked_add(v.billed)?,
            effective: add(self.effective, v.effective)?,
            list: add(self.list, v.list)?,
            contracted: add(self.contracted, v.contracted)?,
            pricing_quantity: add(self.pricing_quantity, v.pricing_quantity)?,
            consumed_quantity: add(self.consumed_quantity, v.consumed_quantity)?,
            rows: self.rows + 1,
            effective_nulls: self.effective_nulls + u64::from(v.effective.is_none()),
            list_nulls: self.list_nulls + u64::from(v.list.is_none()),
            contracted_nulls: self.contracted_nulls + u64::from(v.contracted.is_none()),
        };
        *self = next;
        Some(())
    }
}

impl Agg {
    /// Adds another aggregate (merging the work of two threads), or `None` on overflow.
    pub(crate) fn merge(&mut self, o: &Agg) -> Option<()> {
        *self = Agg {
            billed: self.billed.checked_add(o.billed)?,
            effective: self.effective.checked_add(o.effective)?,
            list: self.list.checked_add(o.list)?,
            contracted: self.contracted.checked_add(o.contracted)?,
            pricing_quantity: self.pricing_quantity.checked_add(o.pricing_quantity)?,
            consumed_quantity: self.consumed_quantity.checked_add(o.consumed_quantity)?,
            rows: self.rows + o.rows,
            effective_nulls: self.effective_nulls + o.effective_nulls,
            list_nulls: self.list_nulls + o.list_nulls,
            contracted_nulls: self.contracted_nulls + o.contracted_nulls,
        };
        Some(())
    }
}

/// Interned dimension tuples and the aggregates keyed by them.
pub(crate) struct Aggregator {
    pub(crate) strings: Interner,
    dim_ids: FxMap<[u32; N_DIMS], u32>,
    pub(crate) dims: Vec<[u32; N_DIMS]>,
    pub(crate) aggs: FxMap<AggKey, Agg>,
}

impl Aggregator {
    pub(crate) fn new() -> Aggregator {
        Aggregator {
            strings: Interner::new(),
            dim_ids: FxMap::default(),
            dims: Vec::new(),
            aggs: FxMap::default(),
        }
    }

    #[inline]
    pub(crate) fn dims_id(&mut self, dims: &[u32; N_DIMS]) -> u32 {
        if let Some(&id) = self.dim_ids.get(dims) {
            return id;
        }
        let id = self.dims.len() as u32;
        self.dims.push(*dims);
        self.dim_ids.insert(*dims, id);
        id
    }

    /// Adds a row; `None` on overflow (nothing changed).
    #[inline]
    pub(crate) fn add(&mut self, key: AggKey, values: &RowValues) -> Option<()> {
        self.aggs.entry(key).or_default().add(values)
    }

    /// The strings of a dims tuple.
    pub(crate) fn dim_strings(&self, id: u32) -> [&str; N_DIMS] {
        let ids = &self.dims[id as usize];
        std::array::from_fn(|i| self.strings.get(ids[i]))
    }
}
