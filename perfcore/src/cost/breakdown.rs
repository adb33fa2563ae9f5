//! Totals and breakdowns over any period, by any dimension, exact to the last digit.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::aggregate::{Dim, FxMap, N_DIMS};
use super::store::{DailyRow, DimsTable};
use super::time::Day;
use super::{
    CloudProvider, CostError, Currency, ExchangeRates, Money, MoneySum, Resource, ResourceType,
};

/// What a breakdown groups by.
///
/// Parsed from the command line's names: `day`, `week`, `month`, `billing_period`, `type`,
/// `provider`, `region`, `service`, `service_category`, `account`, `sub_account`,
/// `charge_category`, `charge_frequency`, `resource`, `currency`, `commitment`, `tag:KEY`,
/// `column:NAME` (a column kept at import).
///
/// # Examples
/// ```
/// use perfcore::cost::Dimension;
/// assert_eq!("service".parse::<Dimension>().unwrap(), Dimension::Service);
/// assert_eq!("tag:team".parse::<Dimension>().unwrap(), Dimension::Tag("team".into()));
/// assert!("colour".parse::<Dimension>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The UTC day.
    Day,
    /// The ISO week (its Monday).
    Week,
    /// The calendar month.
    Month,
    /// The billing period (its first day).
    BillingPeriod,
    /// [`ResourceType`], from FOCUS ServiceCategory.
    ResourceType,
    /// [`CloudProvider`].
    Provider,
    /// RegionId.
    Region,
    /// ServiceName.
    Service,
    /// ServiceCategory as written.
    ServiceCategory,
    /// BillingAccountId.
    Account,
    /// SubAccountId.
    SubAccount,
    /// ChargeCategory (Usage, Purchase, Tax, Credit, Adjustment).
    ChargeCategory,
    /// ChargeFrequency.
    ChargeFrequency,
    /// ResourceId (rows without one: `(no resource) <service>`).
    Resource,
    /// BillingCurrency.
    Currency,
    /// CommitmentDiscountType (`(none)` when on demand).
    Commitment,
    /// The value of one tag key (`(untagged)` when absent).
    Tag(String),
    /// A column kept at import (`ImportOptions::keep_column`).
    Column(String),
}

impl FromStr for Dimension {
    type Err = CostError;
    fn from_str(s: &str) -> Result<Dimension, CostError> {
        let t = s.trim();
        if let Some(key) = t.strip_prefix("tag:") {
            return Ok(Dimension::Tag(key.to_owned()));
        }
        if let Some(name) = t.strip_prefix("column:") {
            return Ok(Dimension::Column(name.to_owned()));
        }
        Ok(match t.to_ascii_lowercase().as_str() {
            "day" | "daily" => Dimension::Day,
            "week" | "weekly" => Dimension::Week,
            "month" | "monthly" => Dimension::Month,
            "billing_period" | "billing-period" => Dimension::BillingPeriod,
            "type" | "resource_type" => Dimension::ResourceType,
            "provider" => Dimension::Provider,
            "region" => Dimension::Region,
            "service" => Dimension::Service,
            "service_category" | "category" => Dimension::ServiceCategory,
            "account" | "billing_account" => Dimension::Account,
            "sub_account" | "subaccount" => Dimension::SubAccount,
            "charge_category" | "charge" => Dimension::ChargeCategory,
            "charge_frequency" | "frequency" => Dimension::ChargeFrequency,
            "resource" => Dimension::Resource,
            "currency" => Dimension::Currency,
            "commitment" => Dimension::Commitment,
            _ => {
                return Err(CostError::Invalid {
                    what: "dimension",
                    message: format!(
                        "{t:?} (known: day, week, month, billing_period, type, provider, region, service, service_category, \
                         account, sub_account, charge_category, charge_frequency, resource, currency, commitment, tag:KEY, column:NAME)"
                    ),
                });
            }
        })
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dimension::Tag(k) => write!(f, "tag:{k}"),
            Dimension::Column(c) => write!(f, "column:{c}"),
            other => f.write_str(match other {
                Dimension::Day => "day",
                Dimension::Week => "week",
                Dimension::Month => "month",
                Dimension::BillingPeriod => "billing_period",
                Dimension::ResourceType => "type",
                Dimension::Provider => "provider",
                Dimension::Region => "region",
                Dimension::Service => "service",
                Dimension::ServiceCategory => "service_category",
                Dimension::Account => "account",
                Dimension::SubAccount => "sub_account",
                Dimension::ChargeCategory => "charge_category",
                Dimension::ChargeFrequency => "charge_frequency",
                Dimension::Resource => "resource",
                Dimension::Currency => "currency",
                Dimension::Commitment => "commitment",
                Dimension::Tag(_) | Dimension::Column(_) => unreachable!(),
            }),
        }
    }
}

/// Which FOCUS cost a figure is made of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostMetric {
    /// BilledCost: what the invoice charges (the default).
    #[default]
    Billed,
    /// EffectiveCost: amortised, after commitment discounts.
    Effective,
    /// ListCost: at public list prices.
    List,
    /// ContractedCost: at negotiated prices.
    Contracted,
}

impl FromStr for CostMetric {
    type Err = CostError;
    fn from_str(s: &str) -> Result<CostMetric, CostError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "billed" => Ok(CostMetric::Billed),
            "effective" => Ok(CostMetric::Effective),
            "list" => Ok(CostMetric::List),
            "contracted" => Ok(CostMetric::Contracted),
            other => Err(CostError::Invalid {
                what: "cost metric",
                message: format!("{other:?} (known: billed, effective, list, contracted)"),
            }),
        }
    }
}

impl fmt::Display for CostMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CostMetric::Billed => "billed",
            CostMetric::Effective => "effective",
            CostMetric::List => "list",
            CostMetric::Contracted => "contracted",
        })
    }
}

/// A span of UTC days, both ends included.
///
/// # Examples
/// ```
/// use perfcore::cost::{Day, Period};
/// let september = Period::month(2024, 9).unwrap();
/// assert_eq!(september.to_string(), "2024-09-01..2024-09-30");
/// assert_eq!(september.days(), 30);
/// let week = Period::week_of(Day::parse("2024-09-04").unwrap());
/// assert_eq!(week.to_string(), "2024-09-02..2024-09-08");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    /// The first day.
    pub from: Day,
    /// The last day (included).
    pub to: Day,
}

impl Period {
    /// `from..=to`, or an error if `to` is before `from`.
    pub fn new(from: Day, to: Day) -> Result<Period, CostError> {
        if to < from {
            return Err(CostError::Invalid {
                what: "period",
                message: format!("it ends ({to}) before it starts ({from})"),
            });
        }
        Ok(Period { from, to })
    }

    /// One day.
    #[must_use]
    pub fn day(day: Day) -> Period {
        Period { from: day, to: day }
    }

    /// The ISO week (Monday to Sunday) of `day`.
    #[must_use]
    pub fn week_of(day: Day) -> Period {
        let from = day.week_start();
        Period { from, to: Day(from.0 + 6) }
    }

    /// A calendar month.
    #[must_use]
    pub fn month(year: i32, month: u32) -> Option<Period> {
        let from = Day::from_ymd(year, month, 1)?;
        Some(Period { from, to: Day(from.next_month_start().0 - 1) })
    }

    /// The calendar month of `day`.
    #[must_use]
    pub fn month_of(day: Day) -> Period {
        let from = day.month_start();
        Period { from, to: Day(from.next_month_start().0 - 1) }
    }

    /// Every day there is.
    #[must_use]
    pub fn all() -> Period {
        Period { from: Day(i32::MIN / 2), to: Day(i32::MAX / 2) }
    }

    /// How many days it spans.
    #[must_use]
    pub fn days(&self) -> i64 {
        i64::from(self.to.0) - i64::from(self.from.0) + 1
    }

    /// Whether `day` is in it.
    #[must_use]
    pub fn contains(&self, day: Day) -> bool {
        self.from <= day && day <= self.to
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Period::all() {
            f.write_str("all days")
        } else {
            write!(f, "{}..{}", self.from, self.to)
        }
    }
}

/// One group of a breakdown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakdownRow {
    /// The group's value of each dimension, in order.
    pub keys: Vec<String>,
    /// Its cost.
    pub cost: Money,
    /// Billing rows (or tracked resources) in it.
    pub rows: u64,
}

/// Costs grouped by dimensions. The rows add up to `total` exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    /// The dimensions, in order.
    pub dimensions: Vec<String>,
    /// The period.
    pub period: Period,
    /// The cost used.
    pub metric: CostMetric,
    /// The groups: by time when the first dimension is a time, else most costly first.
    pub rows: Vec<BreakdownRow>,
    /// The total per currency.
    pub total: MoneySum,
}

impl Breakdown {
    /// The single total, converted with `rates` if there are several currencies.
    pub fn total(&self, rates: Option<&ExchangeRates>) -> Result<Money, CostError> {
        self.total.total(rates)
    }
}

/// The stored aggregates and tracked resources of a period, with their dimensions, for one
/// cost figure.
pub(crate) struct Data {
    pub(crate) rows: Vec<DailyRow>,
    pub(crate) dims: DimsTable,
    pub(crate) metric: CostMetric,
}

impl Data {
    /// Tracked resources join as aggregates of their own: one row on the day they were
    /// tracked, their cost in every figure.
    pub(crate) fn new(
        mut rows: Vec<DailyRow>,
        mut dims: DimsTable,
        resources: &[Resource],
        period: Period,
        metric: CostMetric,
    ) -> Result<Data, CostError> {
        let mut next = dims.keys().max().map_or(0, |m| m + 1);
        for r in resources {
            let day = Day::of_unix_seconds(r.tracked_at_unix);
            if !period.contains(day) {
                continue;
            }
            let mut d: [String; N_DIMS] = Default::default();
            d[Dim::Provider as usize] = r.provider.to_string();
            d[Dim::BillingAccountId as usize] = r.account.clone().unwrap_or_default();
            d[Dim::ResourceId as usize] = r.id.clone();
            d[Dim::ServiceName as usize] = r.service.clone().unwrap_or_default();
            d[Dim::ServiceCategory as usize] = r.resource_type.to_string();
            d[Dim::RegionId as usize] = r.region.clone().unwrap_or_default();
            d[Dim::ChargeCategory as usize] = "Usage".into();
            d[Dim::Currency as usize] = r.currency.to_string();
            if !r.tags.is_empty() {
                d[Dim::Tags as usize] = serde_json::to_string(&r.tags).unwrap_or_default();
            }
            dims.insert(next, d);
            rows.push(DailyRow {
                day,
                billing_period_start: day.month_start(),
                dims: next,
                amount: r.cost()?.amount,
                rows: 1,
            });
            next += 1;
        }
        Ok(Data { rows, dims, metric })
    }
}

fn dim_value(
    d: &Dimension,
    dims: &[String; N_DIMS],
    tags: Option<&serde_json::Map<String, serde_json::Value>>,
) -> String {
    let s = |dim: Dim| -> &str { &dims[dim as usize] };
    let or_none = |v: &str| if v.is_empty() { "(none)".to_owned() } else { v.to_owned() };
    match d {
        Dimension::Day | Dimension::Week | Dimension::Month | Dimension::BillingPeriod => {
            String::new()
        }
        Dimension::ResourceType => {
            let sub = s(Dim::ServiceSubcategory);
            ResourceType::from_service_category(
                s(Dim::ServiceCategory),
                (!sub.is_empty()).then_some(sub),
            )
            .to_string()
        }
        Dimension::Provider => or_none(&CloudProvider::parse(s(Dim::Provider)).to_string()),
        Dimension::Region => or_none(s(Dim::RegionId)),
        Dimension::Service => or_none(s(Dim::ServiceName)),
        Dimension::ServiceCategory => or_none(s(Dim::ServiceCategory)),
        Dimension::Account => or_none(s(Dim::BillingAccountId)),
        Dimension::SubAccount => or_none(s(Dim::SubAccountId)),
        Dimension::ChargeCategory => or_none(s(Dim::ChargeCategory)),
        Dimension::ChargeFrequency => or_none(s(Dim::ChargeFrequency)),
        Dimension::Resource => {
            let id = s(Dim::ResourceId);
            if id.is_empty() {
                format!("(no resource) {}", s(Dim::ServiceName))
            } else {
                id.to_owned()
            }
        }
        Dimension::Currency => s(Dim::Currency).to_owned(),
        Dimension::Commitment => or_none(s(Dim::CommitmentDiscountType)),
        Dimension::Tag(key) => match tags.and_then(|t| t.get(key)) {
            Some(serde_json::Value::String(v)) => v.clone(),
            Some(other) => other.to_string(),
            None => "(untagged)".to_owned(),
        },
        Dimension::Column(name) => {
            let extra = s(Dim::Extra);
            let v = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(extra)
                .ok()
                .and_then(|m| m.get(name).and_then(|v| v.as_str().map(str::to_owned)));
            v.unwrap_or_else(|| "(none)".to_owned())
        }
    }
}

/// The stored columns a dimension reads.
pub(crate) fn columns_of(d: &Dimension) -> &'static [Dim] {
    match d {
        Dimension::Day | Dimension::Week | Dimension::Month | Dimension::BillingPeriod => &[],
        Dimension::ResourceType => &[Dim::ServiceCategory, Dim::ServiceSubcategory],
        Dimension::Provider => &[Dim::Provider],
        Dimension::Region => &[Dim::RegionId],
        Dimension::Service => &[Dim::ServiceName],
        Dimension::ServiceCategory => &[Dim::ServiceCategory],
        Dimension::Account => &[Dim::BillingAccountId],
        Dimension::SubAccount => &[Dim::SubAccountId],
        Dimension::ChargeCategory => &[Dim::ChargeCategory],
        Dimension::ChargeFrequency => &[Dim::ChargeFrequency],
        Dimension::Resource => &[Dim::ResourceId, Dim::ServiceName],
        Dimension::Currency => &[Dim::Currency],
        Dimension::Commitment => &[Dim::CommitmentDiscountType],
        Dimension::Tag(_) => &[Dim::Tags],
        Dimension::Column(_) => &[Dim::Extra],
    }
}

fn time_key(d: &Dimension, r: &DailyRow) -> Option<i32> {
    match d {
        Dimension::Day => Some(r.day.0),
        Dimension::Week => Some(r.day.week_start().0),
        Dimension::Month => Some(r.day.month_start().0),
        Dimension::BillingPeriod => Some(r.billing_period_start.0),
        _ => None,
    }
}

/// The keys of `dims` for each dims id of the stored aggregates, computed once per id and
/// interned: ids whose keys are equal share a group number.
pub(crate) struct GroupKeys<'a> {
    dims: &'a [Dimension],
    needs_tags: bool,
    of: FxMap<u32, Option<(u32, Currency)>>,
    ids: FxMap<Vec<String>, u32>,
    /// The keys of each group number.
    pub(crate) keys: Vec<Vec<String>>,
}

impl<'a> GroupKeys<'a> {
    pub(crate) fn new(dims: &'a [Dimension]) -> GroupKeys<'a> {
        GroupKeys {
            dims,
            needs_tags: dims.iter().any(|d| matches!(d, Dimension::Tag(_))),
            of: FxMap::default(),
            ids: FxMap::default(),
            keys: Vec::new(),
        }
    }

    /// The group number and currency of the aggregates of `dims_id` (`None` when its
    /// currency is not a code).
    pub(crate) fn of(&mut self, data: &Data, dims_id: u32) -> Option<(u32, Currency)> {
        if let Some(&known) = self.of.get(&dims_id) {
            return known;
        }
        let empty: [String; N_DIMS] = Default::default();
        let d = data.dims.get(&dims_id).unwrap_or(&empty);
        let found = Currency::parse(&d[Dim::Currency as usize]).map(|currency| {
            let tags = if self.needs_tags {
                serde_json::from_str(&d[Dim::Tags as usize]).ok()
            } else {
                None
            };
            let keys: Vec<String> =
                self.dims.iter().map(|x| dim_value(x, d, tags.as_ref())).collect();
            let next = self.keys.len() as u32;
            let id = *self.ids.entry(keys.clone()).or_insert(next);
            if id == next {
                self.keys.push(keys);
            }
            (id, currency)
        });
        self.of.insert(dims_id, found);
        found
    }
}

/// Up to this many time dimensions in one breakdown.
const MAX_TIME_DIMS: usize = 4;

/// Groups `data` by `dims`.
pub(crate) fn breakdown(
    data: &Data,
    period: Period,
    dims: &[Dimension],
    metric: CostMetric,
) -> Result<Breakdown, CostError> {
    if metric != data.metric {
        return Err(CostError::Invalid {
            what: "cost metric",
            message: format!("the data read holds {} cost, not {metric}", data.metric),
        });
    }
    let time_dims: Vec<usize> =
        (0..dims.len()).filter(|&i| time_key(&dims[i], &DailyRow::default()).is_some()).collect();
    if time_dims.len() > MAX_TIME_DIMS {
        return Err(CostError::Invalid {
            what: "dimensions",
            message: format!("at most {MAX_TIME_DIMS} time dimensions"),
        });
    }
    // The non-time part of each dims id's keys.
    let mut interned = GroupKeys::new(dims);
    let mut groups: FxMap<([i32; MAX_TIME_DIMS], u32, Currency), (Decimal, u64)> = FxMap::default();
    let mut total = MoneySum::default();
    for r in data.rows.iter().filter(|r| period.contains(r.day)) {
        let Some((sid, currency)) = interned.of(data, r.dims) else { continue };
        let mut t = [0i32; MAX_TIME_DIMS];
        for (slot, &i) in t.iter_mut().zip(&time_dims) {
            *slot = time_key(&dims[i], r).unwrap_or(0);
        }
        let slot = groups.entry((t, sid, currency)).or_default();
        slot.0 = slot.0.checked_add(r.amount).ok_or(CostError::Overflow)?;
        slot.1 += r.rows;
        total.add(Money::new(r.amount, currency));
    }
    let mut rows: Vec<BreakdownRow> = groups
        .into_iter()
        .map(|((t, sid, currency), (amount, n))| {
            let mut keys = interned.keys[sid as usize].clone();
            for (k, &i) in time_dims.iter().enumerate() {
                let day = Day(t[k]);
                keys[i] = if dims[i] == Dimension::Month {
                    day.to_string()[..7].to_owned()
                } else {
                    day.to_string()
                };
            }
            BreakdownRow { keys, cost: Money::new(amount, currency), rows: n }
        })
        .collect();
    let by_time = matches!(
        dims.first(),
        Some(Dimension::Day | Dimension::Week | Dimension::Month | Dimension::BillingPeriod)
    );
    if by_time {
        rows.sort_by(|a, b| {
            a.keys[0]
                .cmp(&b.keys[0])
                .then(b.cost.amount.cmp(&a.cost.amount))
                .then(a.keys.cmp(&b.keys))
        });
    } else {
        rows.sort_by(|a, b| b.cost.amount.cmp(&a.cost.amount).then(a.keys.cmp(&b.keys)));
    }
    Ok(Breakdown {
        dimensions: dims.iter().map(ToString::to_string).collect(),
        period,
        metric,
        rows,
        total,
    })
}
