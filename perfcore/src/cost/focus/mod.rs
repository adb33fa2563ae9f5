//! FOCUS billing import: CSV (plain or gzip) and Parquet, streamed into aggregates.
//!
//! A row lands on the UTC day of its `ChargePeriodStart` (hourly rows add up into their day,
//! daily rows land on theirs; a row spanning several days, a monthly fee say, stays whole on
//! its first day). Nulls are empty fields or the word `NULL` in any case. Enumerated columns
//! are normalised across case (`Usage-based` → `Usage-Based`), and the summary counts each
//! variant it normalised. Columns perfcore does not aggregate are listed in the summary with
//! their values (up to [`MAX_EXTRA_VALUES`] each); `keep_columns` makes any of them a
//! breakdown dimension.

mod columns;
mod csv;
#[cfg(feature = "parquet")]
mod parquet;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use columns::MANDATORY_COLUMNS;
use columns::{ALIASES, DIM_SOURCES, N_VALUES, VALUE_COLUMNS, Value, canonical_values};

use super::aggregate::{AggKey, Aggregator, Dim, FxMap, N_DIMS, RowValues};
use super::money::parse_decimal;
use super::time::{Day, parse_datetime};
use super::{CostError, Currency, Money, MoneySum};

/// How many distinct values of each column perfcore does not aggregate are listed.
pub const MAX_EXTRA_VALUES: usize = 1000;
/// How many skipped rows are listed one by one (all are counted, with their cost).
pub const MAX_LISTED_SKIPS: usize = 10_000;

/// What to do when a file covers a billing period already imported from another file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Refuse it ([`CostError::PeriodAlreadyImported`]): a re-delivered month would count twice.
    #[default]
    Refuse,
    /// It is a new delivery of those periods: it replaces them (in the same transaction).
    Replace,
    /// It is another part of the same delivery: add it.
    Append,
}

/// Options of an import.
///
/// # Examples
/// ```
/// use perfcore::cost::{ImportMode, ImportOptions};
/// let strict = ImportOptions::default().strict(true).mode(ImportMode::Replace).keep_column("x_Team");
/// assert!(strict.strict);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImportOptions {
    /// Stop at the first bad row and import nothing (default: skip bad rows and report each).
    pub strict: bool,
    /// What to do with a billing period imported before.
    pub mode: ImportMode,
    /// Extra columns to keep as a breakdown dimension (`Dimension::Column`).
    pub keep_columns: Vec<String>,
}

impl ImportOptions {
    /// Sets strict mode.
    #[must_use]
    pub fn strict(mut self, strict: bool) -> ImportOptions {
        self.strict = strict;
        self
    }

    /// Sets the mode.
    #[must_use]
    pub fn mode(mut self, mode: ImportMode) -> ImportOptions {
        self.mode = mode;
        self
    }

    /// Keeps a column as a dimension.
    #[must_use]
    pub fn keep_column(mut self, name: impl Into<String>) -> ImportOptions {
        self.keep_columns.push(name.into());
        self
    }
}

/// A row lenient mode skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRow {
    /// The line it starts on (the header is line 1; for Parquet, the row number + 1).
    pub line: u64,
    /// The column at fault.
    pub column: String,
    /// Its value as written.
    pub value: String,
    /// Why.
    pub reason: String,
    /// The row's BilledCost, if that could be read.
    pub billed_cost: Option<Money>,
}

/// A value of a column perfcore does not aggregate, with the rows and cost that carried it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraValue {
    /// The value.
    pub value: String,
    /// Rows with it.
    pub rows: u64,
    /// Their BilledCost (all currencies added: see the file's currencies).
    pub billed_cost: Decimal,
}

/// A column perfcore does not aggregate: a FOCUS column it does not need, or a
/// provider's own (`x_…`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraColumn {
    /// Its name.
    pub name: String,
    /// Whether FOCUS defines it.
    pub spec: bool,
    /// Rows where it is not null.
    pub non_null_rows: u64,
    /// Its values (not for FOCUS columns), up to [`MAX_EXTRA_VALUES`].
    pub values: Vec<ExtraValue>,
    /// Whether it had more distinct values than listed.
    pub more_values: bool,
}

/// Values of an enumerated column written in another case and normalised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Normalised {
    /// The column.
    pub column: String,
    /// As written.
    pub from: String,
    /// As stored.
    pub to: String,
    /// How many rows.
    pub rows: u64,
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportOutcome {
    /// The file's aggregates are in the store.
    Imported,
    /// The same bytes were imported before: nothing was written.
    AlreadyImported {
        /// When.
        at: String,
        /// From where.
        path: String,
    },
    /// It replaced billing periods imported before.
    Replaced {
        /// The files it replaced.
        previous: Vec<String>,
        /// Their BilledCost for those periods.
        previous_billed: MoneySum,
    },
}

/// The report of one import: what was read, imported, normalised, skipped and kept aside.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// The file.
    pub path: PathBuf,
    /// SHA-256 of its bytes as stored (compressed bytes for gzip), hex.
    pub digest: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// `csv`, `csv.gz` or `parquet`.
    pub format: String,
    /// The FOCUS version its columns suggest.
    pub focus_version: String,
    /// Its columns, as named in the file.
    pub columns: Vec<String>,
    /// Columns found only by a case-insensitive match: (FOCUS name, name in the file).
    pub case_insensitive_columns: Vec<(String, String)>,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows imported.
    pub rows_imported: u64,
    /// Rows skipped (lenient mode).
    pub rows_skipped: u64,
    /// The skipped rows, one by one, up to [`MAX_LISTED_SKIPS`].
    pub skipped: Vec<SkippedRow>,
    /// The BilledCost the skipped rows carried, where it could be read.
    pub skipped_billed: MoneySum,
    /// Skipped rows whose BilledCost could not be read.
    pub skipped_unreadable_cost: u64,
    /// The BilledCost imported.
    pub billed: MoneySum,
    /// The first and last charge day.
    pub first_day: Option<String>,
    /// The last charge day.
    pub last_day: Option<String>,
    /// Aggregates (day × billing period × dimensions) written.
    pub aggregates: u64,
    /// Null values per aggregated column (`NULL` or empty), where any.
    pub nulls: BTreeMap<String, u64>,
    /// Enumerated values normalised across case.
    pub normalised: Vec<Normalised>,
    /// Rows whose Tags were not a JSON object (kept as written; no tag breakdown sees them).
    pub tags_not_json: u64,
    /// Columns not aggregated.
    pub extra_columns: Vec<ExtraColumn>,
    /// Columns of a type perfcore cannot read as text (a Parquet list, say) that it does not
    /// need: (name, type). Their values are not listed.
    #[serde(default)]
    pub unread_columns: Vec<(String, String)>,
    /// What happened in the store.
    pub outcome: ImportOutcome,
}

impl ImportSummary {
    /// A short human account of the import.
    #[must_use]
    pub fn describe(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let total = |m: &MoneySum| {
            m.by_currency
                .iter()
                .map(|(c, a)| format!("{} {c}", a.normalize()))
                .collect::<Vec<_>>()
                .join(" + ")
        };
        match &self.outcome {
            ImportOutcome::AlreadyImported { at, path } => {
                let _ = writeln!(
                    s,
                    "{}: already imported on {at} from {path} (same SHA-256 {}): nothing added",
                    self.path.display(),
                    &self.digest[..16.min(self.digest.len())]
                );
                return s;
            }
            ImportOutcome::Imported | ImportOutcome::Replaced { .. } => {}
        }
        let _ = writeln!(
            s,
            "{}: FOCUS {} {}, {} rows read, {} imported into {} aggregates ({} to {}), billed {}",
            self.path.display(),
            self.focus_version,
            self.format,
            self.rows_read,
            self.rows_imported,
            self.aggregates,
            self.first_day.as_deref().unwrap_or("-"),
            self.last_day.as_deref().unwrap_or("-"),
            if self.billed.is_empty() { "0".into() } else { total(&self.billed) },
        );
        if let ImportOutcome::Replaced { previous, previous_billed } = &self.outcome {
            let _ = writeln!(
                s,
                "  replaced the same billing periods from {} (billed {} before)",
                previous.join(", "),
                total(previous_billed)
            );
        }
        if self.rows_skipped > 0 {
            let _ = writeln!(
                s,
                "  skipped {} rows carrying billed {}{}:",
                self.rows_skipped,
                if self.skipped_billed.is_empty() {
                    "0".into()
                } else {
                    total(&self.skipped_billed)
                },
                if self.skipped_unreadable_cost > 0 {
                    format!(
                        " (and {} rows whose cost could not be read)",
                        self.skipped_unreadable_cost
                    )
                } else {
                    String::new()
                }
            );
            for r in self.skipped.iter().take(20) {
                let _ = writeln!(
                    s,
                    "    line {}: column {}: {:?} {}",
                    r.line, r.column, r.value, r.reason
                );
            }
            if self.skipped.len() > 20 {
                let _ = writeln!(
                    s,
                    "    … {} more listed in the JSON summary",
                    self.skipped.len() - 20
                );
            }
        }
        for n in &self.normalised {
            let _ =
                writeln!(s, "  {}: {:?} read as {:?} on {} rows", n.column, n.from, n.to, n.rows);
        }
        if !self.nulls.is_empty() {
            let list: Vec<String> = self.nulls.iter().map(|(c, n)| format!("{c} {n}")).collect();
            let _ = writeln!(s, "  null values: {}", list.join(", "));
        }
        for (want, found) in &self.case_insensitive_columns {
            let _ = writeln!(s, "  column {found:?} read as {want} (case differs)");
        }
        if self.tags_not_json > 0 {
            let _ = writeln!(
                s,
                "  {} rows have Tags that are not a JSON object (kept as written)",
                self.tags_not_json
            );
        }
        let extras: Vec<&str> =
            self.extra_columns.iter().filter(|c| !c.spec).map(|c| c.name.as_str()).collect();
        if !extras.is_empty() {
            let _ = writeln!(
                s,
                "  columns outside FOCUS, kept in the import record: {}",
                extras.join(", ")
            );
        }
        s
    }
}

fn is_null(bytes: &[u8]) -> bool {
    let b = bytes.trim_ascii();
    b.is_empty() || b.eq_ignore_ascii_case(b"NULL")
}

/// Where each column is, found once from the header.
#[derive(Clone)]
pub(crate) struct ColumnMap {
    values: [Option<usize>; N_VALUES],
    dims: [Option<usize>; N_DIMS - 1],
    kept: Vec<(usize, String)>,
    extras: Vec<(usize, String, bool)>,
    pub(crate) names: Vec<String>,
    case_insensitive: Vec<(String, String)>,
}

impl ColumnMap {
    /// Reads a header; refuses it if a mandatory column is missing.
    pub(crate) fn new(
        path: &Path,
        header: Vec<String>,
        keep: &[String],
    ) -> Result<ColumnMap, CostError> {
        let mut case_insensitive = Vec::new();
        let mut find = |name: &str| -> Option<usize> {
            let alias = ALIASES.iter().find(|(n, _)| *n == name).map(|(_, a)| *a);
            let exact = header.iter().position(|h| h == name);
            let exact = exact.or_else(|| alias.and_then(|a| header.iter().position(|h| h == a)));
            exact.or_else(|| {
                let i = header.iter().position(|h| h.eq_ignore_ascii_case(name))?;
                case_insensitive.push((name.to_owned(), header[i].clone()));
                Some(i)
            })
        };
        let missing: Vec<String> = MANDATORY_COLUMNS
            .iter()
            .filter(|c| find(c).is_none())
            .map(|c| (*c).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(CostError::MissingColumns { path: path.into(), names: missing });
        }
        let values = std::array::from_fn(|i| find(VALUE_COLUMNS[i]));
        let dims = std::array::from_fn(|i| find(DIM_SOURCES[i]));
        let mut kept = Vec::new();
        for k in keep {
            match header.iter().position(|h| h == k) {
                Some(i) => kept.push((i, k.clone())),
                None => {
                    return Err(CostError::Invalid {
                        what: "kept column",
                        message: format!("{}: no column {k:?} to keep", path.display()),
                    });
                }
            }
        }
        case_insensitive.sort();
        case_insensitive.dedup();
        let used: Vec<usize> = values.iter().chain(dims.iter()).flatten().copied().collect();
        let extras = header
            .iter()
            .enumerate()
            .filter(|(i, _)| !used.contains(i) && !kept.iter().any(|(k, _)| k == i))
            .map(|(i, n)| (i, n.clone(), columns::is_spec_column(n)))
            .collect();
        Ok(ColumnMap { values, dims, kept, extras, names: header, case_insensitive })
    }
}

struct RowError {
    column: String,
    value: String,
    reason: &'static str,
}

#[derive(Default)]
struct ExtraTally {
    non_null: u64,
    values: FxMap<Box<[u8]>, (u64, Decimal)>,
    more: bool,
}

/// Folds rows (a field getter each) into an [`Aggregator`], keeping the summary's counters.
pub(crate) struct Folder {
    pub(crate) agg: Aggregator,
    cols: ColumnMap,
    path: PathBuf,
    strict: bool,
    /// The last value of each dimension column and its id: consecutive rows share most.
    last: Vec<(Vec<u8>, u32)>,
    canon: FxMap<(usize, u32), u32>,
    normalised: FxMap<(usize, u32), u64>,
    nulls: [u64; N_VALUES],
    null_resource_ids: u64,
    tags_checked: FxMap<u32, bool>,
    tags_not_json: u64,
    extras: Vec<ExtraTally>,
    kept_buf: String,
    unread: Vec<(String, String)>,
    rows_read: u64,
    rows_imported: u64,
    skipped: Vec<SkippedRow>,
    rows_skipped: u64,
    skipped_billed: MoneySum,
    skipped_unreadable: u64,
    billed: MoneySum,
    first_day: Option<Day>,
    last_day: Option<Day>,
}

impl Folder {
    pub(crate) fn new(path: &Path, cols: ColumnMap, strict: bool) -> Folder {
        let extras = cols.extras.iter().map(|_| ExtraTally::default()).collect();
        Folder {
            agg: Aggregator::new(),
            path: path.into(),
            strict,
            last: vec![(Vec::new(), 0); N_DIMS - 1],
            canon: FxMap::default(),
            normalised: FxMap::default(),
            nulls: [0; N_VALUES],
            null_resource_ids: 0,
            tags_checked: FxMap::default(),
            tags_not_json: 0,
            extras,
            kept_buf: String::new(),
            unread: Vec::new(),
            cols,
            rows_read: 0,
            rows_imported: 0,
            skipped: Vec::new(),
            rows_skipped: 0,
            skipped_billed: MoneySum::default(),
            skipped_unreadable: 0,
            billed: MoneySum::default(),
            first_day: None,
            last_day: None,
        }
    }

    /// Whether column `i` is aggregated or kept (so it must be read).
    #[cfg(feature = "parquet")]
    pub(crate) fn uses_column(&self, i: usize) -> bool {
        self.cols.values.contains(&Some(i))
            || self.cols.dims.contains(&Some(i))
            || self.cols.kept.iter().any(|(k, _)| *k == i)
    }

    /// Notes a column whose values cannot be read (and are not needed).
    #[cfg(feature = "parquet")]
    pub(crate) fn unread_column(&mut self, name: &str, kind: &str) {
        if !self.unread.iter().any(|(n, _)| n == name) {
            self.unread.push((name.to_owned(), kind.to_owned()));
        }
    }

    /// Adds the rows another folder (another thread's share of the file) folded.
    pub(crate) fn merge(&mut self, other: Folder) -> Result<(), CostError> {
        let overflow = || CostError::Overflow;
        let mut map = Vec::with_capacity(other.agg.strings.len());
        for id in 0..other.agg.strings.len() as u32 {
            map.push(
                self.agg
                    .strings
                    .intern(other.agg.strings.get(id).as_bytes())
                    .ok_or_else(overflow)?,
            );
        }
        let dims_map: Vec<u32> =
            other.agg.dims.iter().map(|d| self.agg.dims_id(&d.map(|x| map[x as usize]))).collect();
        for (k, a) in &other.agg.aggs {
            let key = AggKey { dims: dims_map[k.dims as usize], ..*k };
            self.agg.aggs.entry(key).or_default().merge(a).ok_or_else(overflow)?;
        }
        for (&(dim, raw), &canon) in &other.canon {
            self.canon.insert((dim, map[raw as usize]), map[canon as usize]);
        }
        for (&(dim, raw), &n) in &other.normalised {
            *self.normalised.entry((dim, map[raw as usize])).or_default() += n;
        }
        for (a, b) in self.nulls.iter_mut().zip(other.nulls) {
            *a += b;
        }
        self.null_resource_ids += other.null_resource_ids;
        self.tags_not_json += other.tags_not_json;
        for (mine, theirs) in self.extras.iter_mut().zip(other.extras) {
            mine.non_null += theirs.non_null;
            mine.more |= theirs.more;
            for (v, (rows, billed)) in theirs.values {
                if let Some(slot) = mine.values.get_mut(&v) {
                    slot.0 += rows;
                    slot.1 = slot.1.saturating_add(billed);
                } else if mine.values.len() < MAX_EXTRA_VALUES {
                    mine.values.insert(v, (rows, billed));
                } else {
                    mine.more = true;
                }
            }
        }
        self.rows_read += other.rows_read;
        self.rows_imported += other.rows_imported;
        self.skipped.extend(other.skipped);
        self.skipped.sort_by_key(|r| r.line);
        self.skipped.truncate(MAX_LISTED_SKIPS);
        self.rows_skipped += other.rows_skipped;
        self.skipped_billed.merge(&other.skipped_billed);
        self.skipped_unreadable += other.skipped_unreadable;
        self.billed.merge(&other.billed);
        self.first_day = match (self.first_day, other.first_day) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_day = match (self.last_day, other.last_day) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        Ok(())
    }

    /// Folds one row. `field(i)` is column `i`'s bytes (`None` past the row's end).
    pub(crate) fn row<'a>(
        &mut self,
        line: u64,
        field: impl Fn(usize) -> Option<&'a [u8]>,
    ) -> Result<(), CostError> {
        self.rows_read += 1;
        match self.parse(&field) {
            Ok(()) => {
                self.rows_imported += 1;
                Ok(())
            }
            Err(e) => {
                let billed = self.cols.values[Value::BilledCost as usize]
                    .and_then(&field)
                    .and_then(parse_decimal);
                let currency = self.cols.dims[Dim::Currency as usize]
                    .and_then(&field)
                    .and_then(|b| Currency::from_bytes(b.trim_ascii()));
                if self.strict {
                    return Err(CostError::Row {
                        path: self.path.clone(),
                        line,
                        column: e.column,
                        value: e.value,
                        reason: e.reason.into(),
                    });
                }
                self.rows_skipped += 1;
                let money = billed.zip(currency).map(|(a, c)| Money::new(a, c));
                match money {
                    Some(m) => self.skipped_billed.add(m),
                    None => self.skipped_unreadable += 1,
                }
                if self.skipped.len() < MAX_LISTED_SKIPS {
                    self.skipped.push(SkippedRow {
                        line,
                        column: e.column,
                        value: e.value,
                        reason: e.reason.into(),
                        billed_cost: money,
                    });
                }
                Ok(())
            }
        }
    }

    fn parse<'a>(&mut self, field: &impl Fn(usize) -> Option<&'a [u8]>) -> Result<(), RowError> {
        let n_cols = self.cols.names.len();
        let get = |col: Option<usize>, name: &str| -> Result<&'a [u8], RowError> {
            match col {
                None => Ok(b""),
                Some(i) => field(i).ok_or_else(|| RowError {
                    column: name.to_owned(),
                    value: String::new(),
                    reason: if i < n_cols {
                        "is missing: the row ends early (a truncated line?)"
                    } else {
                        "is missing"
                    },
                }),
            }
        };
        let bad = |name: &str, bytes: &[u8], reason: &'static str| RowError {
            column: name.to_owned(),
            value: String::from_utf8_lossy(bytes).into_owned(),
            reason,
        };
        // Every column must be present: a short row is a truncated or broken line.
        if let Some(last) = n_cols.checked_sub(1)
            && field(last).is_none()
        {
            let mut present = 0;
            while field(present).is_some() {
                present += 1;
            }
            return Err(RowError {
                column: self.cols.names[present.min(last)].clone(),
                value: String::new(),
                reason: "is missing: the row ends early (a truncated line?)",
            });
        }
        let mut values = [b"" as &[u8]; N_VALUES];
        for (i, v) in values.iter_mut().enumerate() {
            *v = get(self.cols.values[i], VALUE_COLUMNS[i])?;
        }
        let required_decimal = |i: Value| -> Result<Decimal, RowError> {
            let b = values[i as usize];
            if is_null(b) {
                return Err(bad(VALUE_COLUMNS[i as usize], b, "is null (FOCUS requires a value)"));
            }
            parse_decimal(b)
                .ok_or_else(|| bad(VALUE_COLUMNS[i as usize], b, "is not a decimal number"))
        };
        let optional_decimal =
            |i: Value, nulls: &mut [u64; N_VALUES]| -> Result<Option<Decimal>, RowError> {
                let b = values[i as usize];
                if is_null(b) {
                    nulls[i as usize] += 1;
                    return Ok(None);
                }
                parse_decimal(b)
                    .map(Some)
                    .ok_or_else(|| bad(VALUE_COLUMNS[i as usize], b, "is not a decimal number"))
            };
        let time = |i: Value| -> Result<i64, RowError> {
            let b = values[i as usize];
            if is_null(b) {
                return Err(bad(
                    VALUE_COLUMNS[i as usize],
                    b,
                    "is null (FOCUS requires a date and time)",
                ));
            }
            parse_datetime(b).ok_or_else(|| {
                bad(VALUE_COLUMNS[i as usize], b, "is not an ISO 8601 date and time")
            })
        };
        let billed = required_decimal(Value::BilledCost)?;
        let mut nulls = self.nulls;
        let row = RowValues {
            billed,
            effective: optional_decimal(Value::EffectiveCost, &mut nulls)?,
            list: optional_decimal(Value::ListCost, &mut nulls)?,
            contracted: optional_decimal(Value::ContractedCost, &mut nulls)?,
            pricing_quantity: optional_decimal(Value::PricingQuantity, &mut nulls)?,
            consumed_quantity: optional_decimal(Value::ConsumedQuantity, &mut nulls)?,
        };
        let start = time(Value::ChargePeriodStart)?;
        let end = time(Value::ChargePeriodEnd)?;
        if end <= start {
            let b = values[Value::ChargePeriodEnd as usize];
            return Err(bad("ChargePeriodEnd", b, "is not after ChargePeriodStart"));
        }
        let bp_start = time(Value::BillingPeriodStart)?;
        let bp_end = time(Value::BillingPeriodEnd)?;
        if bp_end <= bp_start {
            let b = values[Value::BillingPeriodEnd as usize];
            return Err(bad("BillingPeriodEnd", b, "is not after BillingPeriodStart"));
        }
        let currency_col = self.cols.dims[Dim::Currency as usize];
        let currency_bytes = get(currency_col, "BillingCurrency")?;
        let Some(currency) = Currency::from_bytes(currency_bytes.trim_ascii()) else {
            return Err(bad(
                "BillingCurrency",
                currency_bytes,
                "is not a three-letter currency code",
            ));
        };
        let mut dims = [0u32; N_DIMS];
        for d in 0..N_DIMS - 1 {
            let bytes = get(self.cols.dims[d], DIM_SOURCES[d])?;
            let bytes = if is_null(bytes) { &[][..] } else { bytes };
            dims[d] = self
                .intern(d, bytes)
                .ok_or_else(|| bad(DIM_SOURCES[d], bytes, "is not valid UTF-8"))?;
        }
        if dims[Dim::Currency as usize] != 0 {
            // Stored upper-case, whatever the file wrote.
            let code = currency.as_str().as_bytes().to_vec();
            dims[Dim::Currency as usize] = self.agg.strings.intern(&code).unwrap_or(0);
        }
        if dims[Dim::ResourceId as usize] == 0 {
            self.null_resource_ids += 1;
        }
        let tags = dims[Dim::Tags as usize];
        if tags != 0 {
            let ok = match self.tags_checked.get(&tags) {
                Some(&ok) => ok,
                None => {
                    let ok = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(
                        self.agg.strings.get(tags),
                    )
                    .is_ok();
                    self.tags_checked.insert(tags, ok);
                    ok
                }
            };
            if !ok {
                self.tags_not_json += 1;
            }
        }
        if !self.cols.kept.is_empty() {
            let mut obj = serde_json::Map::new();
            for (i, name) in &self.cols.kept {
                let b = field(*i).unwrap_or(b"");
                if !is_null(b) {
                    let text =
                        std::str::from_utf8(b).map_err(|_| bad(name, b, "is not valid UTF-8"))?;
                    obj.insert(name.clone(), serde_json::Value::String(text.trim().to_owned()));
                }
            }
            self.kept_buf = if obj.is_empty() {
                String::new()
            } else {
                serde_json::Value::Object(obj).to_string()
            };
            dims[Dim::Extra as usize] =
                self.agg.strings.intern(self.kept_buf.as_bytes()).unwrap_or(0);
        }
        let day = Day::of_unix_seconds(start);
        let key = AggKey {
            day: day.0,
            billing_period_start: Day::of_unix_seconds(bp_start).0,
            billing_period_end: Day::of_unix_seconds(bp_end).0,
            dims: self.agg.dims_id(&dims),
        };
        self.agg
            .add(key, &row)
            .ok_or_else(|| bad("BilledCost", values[0], "makes a sum overflow 28 digits"))?;
        // Only now that the row is in: its nulls, extras and totals count.
        self.nulls = nulls;
        self.billed.add(Money::new(billed, currency));
        self.first_day = Some(self.first_day.map_or(day, |d| d.min(day)));
        self.last_day = Some(self.last_day.map_or(day, |d| d.max(day)));
        for (k, (i, _, spec)) in self.cols.extras.iter().enumerate() {
            let b = field(*i).unwrap_or(b"");
            if is_null(b) {
                continue;
            }
            let tally = &mut self.extras[k];
            tally.non_null += 1;
            if *spec {
                continue;
            }
            if let Some(slot) = tally.values.get_mut(b) {
                slot.0 += 1;
                slot.1 = slot.1.saturating_add(billed);
            } else if tally.values.len() < MAX_EXTRA_VALUES {
                tally.values.insert(b.into(), (1, billed));
            } else {
                tally.more = true;
            }
        }
        Ok(())
    }

    #[inline]
    fn intern(&mut self, dim: usize, bytes: &[u8]) -> Option<u32> {
        let (last, id) = &mut self.last[dim];
        let raw = if last.as_slice() == bytes {
            *id
        } else {
            let raw = self.agg.strings.intern(bytes)?;
            last.clear();
            last.extend_from_slice(bytes);
            *id = raw;
            raw
        };
        if raw == 0 {
            return Some(0);
        }
        let allowed = canonical_values(dim_of(dim));
        if allowed.is_empty() {
            return Some(raw);
        }
        let canon = match self.canon.get(&(dim, raw)) {
            Some(&c) => c,
            None => {
                let text = self.agg.strings.get(raw).trim().to_owned();
                let c = match allowed.iter().find(|a| a.eq_ignore_ascii_case(&text)) {
                    Some(a) => self.agg.strings.intern(a.as_bytes())?,
                    None => raw,
                };
                self.canon.insert((dim, raw), c);
                c
            }
        };
        if canon != raw {
            *self.normalised.entry((dim, raw)).or_default() += 1;
        }
        Some(canon)
    }

    /// The summary (outcome `Imported`; the store sets it).
    pub(crate) fn summary(&self, digest: String, bytes: u64, format: &str) -> ImportSummary {
        let mut nulls = BTreeMap::new();
        for (i, &n) in self.nulls.iter().enumerate() {
            if n > 0 {
                nulls.insert(VALUE_COLUMNS[i].to_owned(), n);
            }
        }
        if self.null_resource_ids > 0 {
            nulls.insert("ResourceId".to_owned(), self.null_resource_ids);
        }
        let mut normalised: Vec<Normalised> = self
            .normalised
            .iter()
            .map(|(&(dim, raw), &rows)| Normalised {
                column: DIM_SOURCES[dim].to_owned(),
                from: self.agg.strings.get(raw).to_owned(),
                to: self.agg.strings.get(self.canon[&(dim, raw)]).to_owned(),
                rows,
            })
            .collect();
        normalised.sort_by(|a, b| (&a.column, &a.from).cmp(&(&b.column, &b.from)));
        let extra_columns = self
            .cols
            .extras
            .iter()
            .zip(&self.extras)
            .map(|((_, name, spec), t)| {
                let mut values: Vec<ExtraValue> = t
                    .values
                    .iter()
                    .map(|(v, &(rows, billed_cost))| ExtraValue {
                        value: String::from_utf8_lossy(v).into_owned(),
                        rows,
                        billed_cost,
                    })
                    .collect();
                values.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.value.cmp(&b.value)));
                ExtraColumn {
                    name: name.clone(),
                    spec: *spec,
                    non_null_rows: t.non_null,
                    values,
                    more_values: t.more,
                }
            })
            .collect();
        ImportSummary {
            path: self.path.clone(),
            digest,
            bytes,
            format: format.to_owned(),
            focus_version: columns::detect_version(&self.cols.names).to_owned(),
            columns: self.cols.names.clone(),
            case_insensitive_columns: self.cols.case_insensitive.clone(),
            rows_read: self.rows_read,
            rows_imported: self.rows_imported,
            rows_skipped: self.rows_skipped,
            skipped: self.skipped.clone(),
            skipped_billed: self.skipped_billed.clone(),
            skipped_unreadable_cost: self.skipped_unreadable,
            billed: self.billed.clone(),
            first_day: self.first_day.map(|d| d.to_string()),
            last_day: self.last_day.map(|d| d.to_string()),
            aggregates: self.agg.aggs.len() as u64,
            nulls,
            normalised,
            tags_not_json: self.tags_not_json,
            extra_columns,
            unread_columns: self.unread.clone(),
            outcome: ImportOutcome::Imported,
        }
    }
}

fn dim_of(i: usize) -> Dim {
    const ALL: [Dim; N_DIMS] = [
        Dim::Provider,
        Dim::BillingAccountId,
        Dim::SubAccountId,
        Dim::ResourceId,
        Dim::ResourceName,
        Dim::ResourceType,
        Dim::ServiceName,
        Dim::ServiceCategory,
        Dim::ServiceSubcategory,
        Dim::RegionId,
        Dim::ChargeCategory,
        Dim::ChargeFrequency,
        Dim::PricingUnit,
        Dim::ConsumedUnit,
        Dim::CommitmentDiscountId,
        Dim::CommitmentDiscountType,
        Dim::CommitmentDiscountStatus,
        Dim::Currency,
        Dim::Tags,
        Dim::Extra,
    ];
    ALL[i]
}

/// A parsed file: its aggregates and summary, ready for the store.
pub(crate) struct ParsedFile {
    pub(crate) folder: Folder,
    pub(crate) summary: ImportSummary,
}

/// Reads a FOCUS file (CSV, gzip CSV, or Parquet with the `parquet` feature), detected by its
/// first bytes, not its name.
pub(crate) fn read_file(path: &Path, options: &ImportOptions) -> Result<ParsedFile, CostError> {
    let read_err = |source| CostError::Read { path: path.into(), source };
    let mut magic = [0u8; 4];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(read_err)?;
        let mut n = 0;
        while n < 4 {
            match f.read(&mut magic[n..]).map_err(read_err)? {
                0 => break,
                k => n += k,
            }
        }
        n
    };
    if n >= 4 && &magic == b"PAR1" {
        #[cfg(feature = "parquet")]
        return parquet::read(path, options);
        #[cfg(not(feature = "parquet"))]
        return Err(CostError::Format {
            path: path.into(),
            message: "is a Parquet file: this perfcore was built without the `parquet` feature"
                .into(),
        });
    }
    csv::read(path, options, n >= 2 && magic[..2] == [0x1f, 0x8b])
}

/// A reader that hashes every byte it passes on (SHA-256 of the file as stored).
pub(crate) struct Hashing<R> {
    pub(crate) inner: R,
    pub(crate) hasher: sha2::Sha256,
    pub(crate) bytes: u64,
}

impl<R: std::io::Read> std::io::Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

impl<R> Hashing<R> {
    pub(crate) fn new(inner: R) -> Hashing<R> {
        use sha2::Digest;
        Hashing { inner, hasher: sha2::Sha256::new(), bytes: 0 }
    }

    pub(crate) fn finish(self) -> (String, u64) {
        use sha2::Digest;
        let digest = self.hasher.finalize();
        let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
        (hex, self.bytes)
    }
}
