//! The cost store: imported aggregates and tracked resources in an embedded SQLite database
//! (`.perfcore/cost.sqlite`).
//!
//! An import is one transaction: a crash before it commits leaves the store as it was, and
//! another process reads either the old state or the new one (WAL mode). The schema version
//! is SQLite's `user_version`; a newer one is refused with a message, older ones are migrated
//! in one transaction. Money is stored as exact decimal text; the view `daily_costs` joins
//! everything with the amounts as REAL, for browsing with `sqlite3` or DuckDB:
//!
//! ```text
//! sqlite3 .perfcore/cost.sqlite "SELECT service_name, sum(billed_cost) FROM daily_costs GROUP BY 1 ORDER BY 2 DESC"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};
use rust_decimal::Decimal;

use super::aggregate::{DIM_COLUMNS, Dim, FxMap, N_DIMS};
use super::focus::{ImportMode, ImportOutcome, ImportSummary, ParsedFile};
use super::time::{Day, format_datetime, unix_now};
use super::{CostError, Currency, Money, MoneySum, Resource};

/// The newest schema this build reads and writes.
pub const STORE_SCHEMA_VERSION: i64 = 2;

/// The migrations: entry `v` takes a store from version `v` to `v + 1`.
const MIGRATIONS: [&str; 2] = [
    r"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    focus_version TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    rows_read INTEGER NOT NULL,
    rows_imported INTEGER NOT NULL,
    rows_skipped INTEGER NOT NULL,
    imported_at TEXT NOT NULL,
    summary_json TEXT NOT NULL
);
CREATE TABLE dims (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL, billing_account_id TEXT NOT NULL, sub_account_id TEXT NOT NULL,
    resource_id TEXT NOT NULL, resource_name TEXT NOT NULL, resource_type TEXT NOT NULL,
    service_name TEXT NOT NULL, service_category TEXT NOT NULL, service_subcategory TEXT NOT NULL,
    region_id TEXT NOT NULL, charge_category TEXT NOT NULL, charge_frequency TEXT NOT NULL,
    pricing_unit TEXT NOT NULL, consumed_unit TEXT NOT NULL, commitment_discount_id TEXT NOT NULL,
    commitment_discount_type TEXT NOT NULL, commitment_discount_status TEXT NOT NULL,
    currency TEXT NOT NULL, tags TEXT NOT NULL, extra TEXT NOT NULL
);
CREATE TABLE daily (
    day INTEGER NOT NULL,
    dims_id INTEGER NOT NULL REFERENCES dims(id),
    billing_period_start INTEGER NOT NULL,
    import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    billing_period_end INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    billed_cost TEXT NOT NULL,
    effective_cost TEXT NOT NULL,
    list_cost TEXT NOT NULL,
    contracted_cost TEXT NOT NULL,
    pricing_quantity TEXT NOT NULL,
    consumed_quantity TEXT NOT NULL,
    effective_nulls INTEGER NOT NULL,
    list_nulls INTEGER NOT NULL,
    contracted_nulls INTEGER NOT NULL,
    PRIMARY KEY (day, dims_id, billing_period_start, import_id)
) WITHOUT ROWID;
CREATE TABLE periods (
    provider TEXT NOT NULL, billing_account_id TEXT NOT NULL, billing_period_start INTEGER NOT NULL,
    import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    PRIMARY KEY (provider, billing_account_id, billing_period_start, import_id)
) WITHOUT ROWID;
CREATE TABLE resources (id TEXT PRIMARY KEY, json TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE decisions (id INTEGER PRIMARY KEY, applied_at TEXT NOT NULL, json TEXT NOT NULL);
CREATE VIEW daily_costs AS
SELECT date(d.day * 86400, 'unixepoch') AS day, date(d.billing_period_start * 86400, 'unixepoch') AS billing_period_start,
       date(d.billing_period_end * 86400, 'unixepoch') AS billing_period_end, m.provider, m.billing_account_id,
       m.sub_account_id, m.resource_id, m.resource_name, m.resource_type, m.service_name,
       m.service_category, m.service_subcategory, m.region_id, m.charge_category,
       m.charge_frequency, m.pricing_unit, m.consumed_unit, m.commitment_discount_id,
       m.commitment_discount_type, m.commitment_discount_status, m.currency, m.tags, m.extra,
       d.rows, CAST(d.billed_cost AS REAL) AS billed_cost,
       CAST(d.effective_cost AS REAL) AS effective_cost, CAST(d.list_cost AS REAL) AS list_cost,
       CAST(d.contracted_cost AS REAL) AS contracted_cost,
       CAST(d.pricing_quantity AS REAL) AS pricing_quantity,
       CAST(d.consumed_quantity AS REAL) AS consumed_quantity,
       d.billed_cost AS billed_cost_exact, i.path AS import_path
FROM daily d JOIN dims m ON m.id = d.dims_id JOIN imports i ON i.id = d.import_id;
",
    r"
CREATE TABLE budgets (name TEXT PRIMARY KEY, json TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE budget_alerts (
    budget TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    threshold TEXT NOT NULL,
    fired_at TEXT NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (budget, period_start, threshold)
) WITHOUT ROWID;
",
];

/// One aggregate read back: a day, a billing period, its dimensions and one cost figure.
#[derive(Clone, Debug, Default)]
pub(crate) struct DailyRow {
    pub(crate) day: Day,
    pub(crate) billing_period_start: Day,
    pub(crate) dims: u32,
    pub(crate) amount: Decimal,
    pub(crate) rows: u64,
}

/// One aggregate's cost and quantities, for the rates and usage the opportunity rules read.
#[derive(Clone, Debug, Default)]
pub(crate) struct UsageRow {
    pub(crate) day: Day,
    pub(crate) dims: u32,
    pub(crate) cost: Decimal,
    pub(crate) pricing_quantity: Decimal,
    pub(crate) consumed_quantity: Decimal,
}

/// The dimensions of the aggregates, by id.
pub(crate) type DimsTable = FxMap<u32, [String; N_DIMS]>;

/// One import, as the store recorded it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportRecord {
    /// Its id in the store.
    pub id: i64,
    /// The file.
    pub path: String,
    /// SHA-256 of its bytes.
    pub digest: String,
    /// `csv`, `csv.gz`, `parquet`.
    pub format: String,
    /// The FOCUS version detected.
    pub focus_version: String,
    /// Rows read, imported and skipped.
    pub rows_read: u64,
    /// Rows imported.
    pub rows_imported: u64,
    /// Rows skipped.
    pub rows_skipped: u64,
    /// When, UTC.
    pub imported_at: String,
}

/// Rows per INSERT statement: one statement for many rows halves the cost of a row.
const ROWS_PER_INSERT: usize = 64;

/// Inserts `rows` rows of `width` values into `table`, `ROWS_PER_INSERT` per statement;
/// `bind(row, out)` pushes a row's values.
fn insert_chunked<'a>(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    columns: &str,
    width: usize,
    rows: usize,
    mut bind: impl FnMut(usize, &mut Vec<ToSqlOutput<'a>>),
) -> Result<(), rusqlite::Error> {
    let sql = |n: usize| {
        let row = format!("({})", vec!["?"; width].join(","));
        format!("INSERT INTO {table} ({columns}) VALUES {}", vec![row; n].join(","))
    };
    let full = sql(ROWS_PER_INSERT);
    let mut values = Vec::with_capacity(ROWS_PER_INSERT * width);
    let mut start = 0;
    while start < rows {
        let n = ROWS_PER_INSERT.min(rows - start);
        values.clear();
        for row in start..start + n {
            bind(row, &mut values);
        }
        let mut stmt = if n == ROWS_PER_INSERT {
            tx.prepare_cached(&full)?
        } else {
            tx.prepare_cached(&sql(n))?
        };
        stmt.execute(rusqlite::params_from_iter(values.iter()))?;
        start += n;
    }
    Ok(())
}

pub(crate) struct Store {
    conn: Connection,
    path: PathBuf,
}

fn decimal(text: &str) -> Decimal {
    text.parse().unwrap_or_default()
}

impl Store {
    /// Opens (creating and migrating) the store at `path`, or an in-memory one.
    pub(crate) fn open(path: Option<&Path>) -> Result<Store, CostError> {
        let shown = path.map_or_else(|| PathBuf::from(":memory:"), Path::to_path_buf);
        let err = |action: &str| {
            let shown = shown.clone();
            let action = action.to_owned();
            move |source| CostError::Store { path: shown, action, source }
        };
        if let Some(dir) = path.and_then(Path::parent).filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| CostError::Write { path: dir.into(), source })?;
        }
        let conn = match path {
            Some(p) => Connection::open(p),
            None => Connection::open_in_memory(),
        }
        .map_err(err("open"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err("set the busy timeout"))?;
        if path.is_some() {
            conn.pragma_update(None, "journal_mode", "WAL").map_err(err("switch to WAL"))?;
        }
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(err("set synchronous"))?;
        // Foreign keys stay declared (for readers and tools) but unenforced: every aggregate
        // is written with ids this transaction just made, and the checks cost a third of an
        // import.
        // 64 MiB of page cache: a large import's B-tree stays in memory until it commits.
        conn.pragma_update(None, "cache_size", -65_536).map_err(err("set the cache size"))?;
        let mut store = Store { conn, path: shown };
        store.migrate()?;
        Ok(store)
    }

    fn err(&self, action: &str) -> impl FnOnce(rusqlite::Error) -> CostError + use<> {
        let path = self.path.clone();
        let action = action.to_owned();
        move |source| CostError::Store { path, action, source }
    }

    fn migrate(&mut self) -> Result<(), CostError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(self.err("read the schema version"))?;
        if version > STORE_SCHEMA_VERSION {
            return Err(CostError::NewerStore {
                path: self.path.clone(),
                found: version,
                supported: STORE_SCHEMA_VERSION,
            });
        }
        if version == STORE_SCHEMA_VERSION {
            return Ok(());
        }
        let path = self.path.clone();
        let e = move |action: &str| {
            let path = path.clone();
            let action = action.to_owned();
            move |source| CostError::Store { path, action, source }
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(e("begin the migration"))?;
        // Another process may have migrated while we waited for the lock.
        let now: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(e("read the schema version"))?;
        for sql in MIGRATIONS.iter().skip(now as usize) {
            tx.execute_batch(sql).map_err(e("migrate the schema"))?;
        }
        tx.pragma_update(None, "user_version", STORE_SCHEMA_VERSION)
            .map_err(e("set the schema version"))?;
        tx.commit().map_err(e("commit the migration"))
    }

    /// Writes a parsed file in one transaction, or finds it imported already.
    /// Overlaps with the imports in `batch` (earlier parts of the same delivery) are allowed.
    pub(crate) fn import(
        &mut self,
        parsed: ParsedFile,
        mode: ImportMode,
        batch: &[i64],
    ) -> Result<(ImportSummary, Option<i64>), CostError> {
        let ParsedFile { folder, mut summary } = parsed;
        let agg = &folder.agg;
        let path_text = summary.path.display().to_string();
        let store_path = self.path.clone();
        let e = move |action: &'static str| {
            let path = store_path.clone();
            move |source| CostError::Store { path, action: action.into(), source }
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(e("begin the import"))?;
        let before: Option<(String, String)> = tx
            .query_row(
                "SELECT imported_at, path FROM imports WHERE digest = ?1",
                [&summary.digest],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(e("look the file up"))?;
        if let Some((at, path)) = before {
            summary.outcome = ImportOutcome::AlreadyImported { at, path };
            return Ok((summary, None));
        }
        // The (provider, billing account, billing period) triples this file covers.
        let mut periods: BTreeMap<(String, String, i32), ()> = BTreeMap::new();
        for key in agg.aggs.keys() {
            let d = &agg.dims[key.dims as usize];
            periods.insert(
                (
                    agg.strings.get(d[Dim::Provider as usize]).to_owned(),
                    agg.strings.get(d[Dim::BillingAccountId as usize]).to_owned(),
                    key.billing_period_start,
                ),
                (),
            );
        }
        let mut previous = Vec::new();
        let mut previous_billed = MoneySum::default();
        {
            let mut find = tx
                .prepare(
                    "SELECT i.id, i.path FROM periods p JOIN imports i ON i.id = p.import_id \
                     WHERE p.provider = ?1 AND p.billing_account_id = ?2 AND p.billing_period_start = ?3",
                )
                .map_err(e("look for overlapping billing periods"))?;
            for (provider, account, start) in periods.keys() {
                let period = Day(*start).to_string();
                let rows: Vec<(i64, String)> = find
                    .query_map(params![provider, account, start], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(e("look for overlapping billing periods"))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(e("look for overlapping billing periods"))?
                    .into_iter()
                    .filter(|(id, _)| !batch.contains(id))
                    .collect();
                if let Some((_, prev)) = rows.first()
                    && mode == ImportMode::Refuse
                {
                    return Err(CostError::PeriodAlreadyImported {
                        path: summary.path.clone(),
                        provider: provider.clone(),
                        account: account.clone(),
                        period,
                        previous: prev.clone(),
                    });
                }
                if mode == ImportMode::Replace && !rows.is_empty() {
                    let mut sum = tx
                        .prepare_cached(
                            "SELECT d.billed_cost, m.currency FROM daily d JOIN dims m ON m.id = d.dims_id \
                             WHERE m.provider = ?1 AND m.billing_account_id = ?2 AND d.billing_period_start = ?3 \
                             AND d.import_id NOT IN (SELECT value FROM json_each(?4))",
                        )
                        .map_err(e("sum the replaced periods"))?;
                    let amounts = sum
                        .query_map(
                            params![
                                provider,
                                account,
                                start,
                                serde_json::to_string(batch).unwrap_or_default()
                            ],
                            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                        )
                        .map_err(e("sum the replaced periods"))?;
                    for a in amounts {
                        let (amount, currency) = a.map_err(e("sum the replaced periods"))?;
                        if let Some(c) = Currency::parse(&currency) {
                            previous_billed.add(Money::new(decimal(&amount), c));
                        }
                    }
                    tx.execute(
                        "DELETE FROM daily WHERE billing_period_start = ?3 AND dims_id IN \
                         (SELECT id FROM dims WHERE provider = ?1 AND billing_account_id = ?2) \
                         AND import_id NOT IN (SELECT value FROM json_each(?4))",
                        params![
                            provider,
                            account,
                            start,
                            serde_json::to_string(batch).unwrap_or_default()
                        ],
                    )
                    .map_err(e("delete the replaced periods"))?;
                    tx.execute(
                        "DELETE FROM periods WHERE provider = ?1 AND billing_account_id = ?2 AND billing_period_start = ?3 \
                         AND import_id NOT IN (SELECT value FROM json_each(?4))",
                        params![provider, account, start, serde_json::to_string(batch).unwrap_or_default()],
                    )
                    .map_err(e("delete the replaced periods"))?;
                    for (_, p) in rows {
                        if !previous.contains(&p) {
                            previous.push(p);
                        }
                    }
                }
            }
        }
        if mode == ImportMode::Replace && !previous.is_empty() {
            summary.outcome = ImportOutcome::Replaced { previous, previous_billed };
        }
        let now = format_datetime(unix_now());
        let summary_json = serde_json::to_string(&summary).unwrap_or_default();
        tx.execute(
            "INSERT INTO imports (digest, path, format, focus_version, bytes, rows_read, rows_imported, rows_skipped, imported_at, summary_json) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                summary.digest,
                path_text,
                summary.format,
                summary.focus_version,
                summary.bytes as i64,
                summary.rows_read as i64,
                summary.rows_imported as i64,
                summary.rows_skipped as i64,
                now,
                summary_json
            ],
        )
        .map_err(e("record the import"))?;
        let import_id = tx.last_insert_rowid();
        {
            let mut add = tx
                .prepare("INSERT OR IGNORE INTO periods (provider, billing_account_id, billing_period_start, import_id) VALUES (?1, ?2, ?3, ?4)")
                .map_err(e("record the billing periods"))?;
            for (provider, account, start) in periods.keys() {
                add.execute(params![provider, account, start, import_id])
                    .map_err(e("record the billing periods"))?;
            }
        }
        // Dimension tuples: reuse the ids of those stored, add the new ones.
        let mut known: FxMap<Vec<String>, i64> = FxMap::default();
        {
            let mut q = tx
                .prepare(&format!("SELECT id, {} FROM dims", DIM_COLUMNS.join(", ")))
                .map_err(e("read the dimensions"))?;
            let mut rows = q.query([]).map_err(e("read the dimensions"))?;
            while let Some(r) = rows.next().map_err(e("read the dimensions"))? {
                let id: i64 = r.get(0).map_err(e("read the dimensions"))?;
                let mut v = Vec::with_capacity(N_DIMS);
                for i in 0..N_DIMS {
                    v.push(r.get::<_, String>(i + 1).map_err(e("read the dimensions"))?);
                }
                known.insert(v, id);
            }
        }
        // Dimension tuples: reuse the ids of those stored; new ones get the next ids.
        let mut next_id: i64 = tx
            .query_row("SELECT coalesce(max(id), 0) + 1 FROM dims", [], |r| r.get(0))
            .map_err(e("read the dimensions"))?;
        let mut dim_ids = vec![0i64; agg.dims.len()];
        let mut new_dims: Vec<u32> = Vec::new();
        for (i, slot) in dim_ids.iter_mut().enumerate() {
            // The tuples of one import are distinct already: only stored ones need a lookup.
            let found = if known.is_empty() {
                None
            } else {
                let strings = agg.dim_strings(i as u32);
                known.get(&strings.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).copied()
            };
            *slot = found.unwrap_or_else(|| {
                new_dims.push(i as u32);
                next_id += 1;
                next_id - 1
            });
        }
        let dims_columns = format!("id, {}", DIM_COLUMNS.join(", "));
        insert_chunked(&tx, "dims", &dims_columns, N_DIMS + 1, new_dims.len(), |row, out| {
            let i = new_dims[row];
            out.push(ToSqlOutput::Owned(SqlValue::Integer(dim_ids[i as usize])));
            for s in agg.dim_strings(i) {
                out.push(ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())));
            }
        })
        .map_err(e("add dimensions"))?;
        let mut keys: Vec<_> = agg.aggs.iter().collect();
        keys.sort_unstable_by_key(|(k, _)| {
            (k.day, dim_ids[k.dims as usize], k.billing_period_start)
        });
        insert_chunked(
            &tx,
            "daily",
            "day, dims_id, billing_period_start, import_id, billing_period_end, rows, billed_cost, effective_cost, \
             list_cost, contracted_cost, pricing_quantity, consumed_quantity, effective_nulls, list_nulls, contracted_nulls",
            15,
            keys.len(),
            |row, out| {
                let (k, a) = keys[row];
                let int = |v: i64| ToSqlOutput::Owned(SqlValue::Integer(v));
                out.extend([
                    int(i64::from(k.day)),
                    int(dim_ids[k.dims as usize]),
                    int(i64::from(k.billing_period_start)),
                    int(import_id),
                    int(i64::from(k.billing_period_end)),
                    int(a.rows as i64),
                ]);
                for v in [a.billed, a.effective, a.list, a.contracted, a.pricing_quantity, a.consumed_quantity] {
                    out.push(ToSqlOutput::Owned(SqlValue::Text(v.to_string())));
                }
                out.extend([int(a.effective_nulls as i64), int(a.list_nulls as i64), int(a.contracted_nulls as i64)]);
            },
        )
        .map_err(e("write the aggregates"))?;
        tx.commit().map_err(e("commit the import"))?;
        Ok((summary, Some(import_id)))
    }

    /// The dimensions table.
    pub(crate) fn dims(&self, needed: &[Dim]) -> Result<DimsTable, CostError> {
        // Only the columns a breakdown reads (and the currency, which every one reads): the
        // others stay empty strings, which cost no allocation.
        let mut cols: Vec<usize> = needed.iter().map(|d| *d as usize).collect();
        cols.push(Dim::Currency as usize);
        cols.sort_unstable();
        cols.dedup();
        let names: Vec<&str> = cols.iter().map(|&c| DIM_COLUMNS[c]).collect();
        let mut out = DimsTable::default();
        let mut q = self
            .conn
            .prepare_cached(&format!("SELECT id, {} FROM dims", names.join(", ")))
            .map_err(self.err("read the dimensions"))?;
        let mut rows = q.query([]).map_err(self.err("read the dimensions"))?;
        while let Some(r) = rows.next().map_err(self.err("read the dimensions"))? {
            let id: i64 = r.get(0).map_err(self.err("read the dimensions"))?;
            let mut v: [String; N_DIMS] = Default::default();
            for (k, &c) in cols.iter().enumerate() {
                v[c] = r.get(k + 1).map_err(self.err("read the dimensions"))?;
            }
            out.insert(id as u32, v);
        }
        Ok(out)
    }

    /// The aggregates of the days `from..=to`, with one cost figure.
    pub(crate) fn daily(
        &self,
        from: Day,
        to: Day,
        metric: super::CostMetric,
    ) -> Result<Vec<DailyRow>, CostError> {
        let column = match metric {
            super::CostMetric::Billed => "billed_cost",
            super::CostMetric::Effective => "effective_cost",
            super::CostMetric::List => "list_cost",
            super::CostMetric::Contracted => "contracted_cost",
        };
        let mut q = self
            .conn
            .prepare_cached(&format!(
                "SELECT day, billing_period_start, dims_id, {column}, rows FROM daily WHERE day >= ?1 AND day <= ?2"
            ))
            .map_err(self.err("read the aggregates"))?;
        let mut rows = q.query(params![from.0, to.0]).map_err(self.err("read the aggregates"))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(self.err("read the aggregates"))? {
            let get = |i: usize| -> Result<i64, CostError> {
                r.get::<_, i64>(i).map_err(self.err("read the aggregates"))
            };
            let amount = match r.get_ref(3).map_err(self.err("read the aggregates"))? {
                rusqlite::types::ValueRef::Text(t) => super::parse_decimal(t).unwrap_or_default(),
                _ => Decimal::ZERO,
            };
            out.push(DailyRow {
                day: Day(get(0)? as i32),
                billing_period_start: Day(get(1)? as i32),
                dims: get(2)? as u32,
                amount,
                rows: get(4)? as u64,
            });
        }
        Ok(out)
    }

    /// The aggregates of the days `from..=to` with their usage: effective cost (billed where
    /// an effective cost was null), pricing and consumed quantities.
    pub(crate) fn usage(&self, from: Day, to: Day) -> Result<Vec<UsageRow>, CostError> {
        let mut q = self
            .conn
            .prepare_cached(
                "SELECT day, dims_id, billed_cost, effective_cost, effective_nulls, pricing_quantity, \
                 consumed_quantity FROM daily WHERE day >= ?1 AND day <= ?2",
            )
            .map_err(self.err("read the usage"))?;
        let mut rows = q.query(params![from.0, to.0]).map_err(self.err("read the usage"))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(self.err("read the usage"))? {
            let int = |i: usize| r.get::<_, i64>(i).map_err(self.err("read the usage"));
            let dec = |i: usize| -> Result<Decimal, CostError> {
                Ok(match r.get_ref(i).map_err(self.err("read the usage"))? {
                    rusqlite::types::ValueRef::Text(t) => {
                        super::parse_decimal(t).unwrap_or_default()
                    }
                    _ => Decimal::ZERO,
                })
            };
            let cost = if int(4)? > 0 { dec(2)? } else { dec(3)? };
            out.push(UsageRow {
                day: Day(int(0)? as i32),
                dims: int(1)? as u32,
                cost,
                pricing_quantity: dec(5)?,
                consumed_quantity: dec(6)?,
            });
        }
        Ok(out)
    }

    /// The first and last day with imported data.
    pub(crate) fn day_range(&self) -> Result<Option<(Day, Day)>, CostError> {
        let (a, b): (Option<i64>, Option<i64>) = self
            .conn
            .query_row("SELECT min(day), max(day) FROM daily", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err("read the day range"))?;
        Ok(a.zip(b).map(|(a, b)| (Day(a as i32), Day(b as i32))))
    }

    /// Every import, oldest first.
    pub(crate) fn imports(&self) -> Result<Vec<ImportRecord>, CostError> {
        let mut q = self
            .conn
            .prepare_cached(
                "SELECT id, path, digest, format, focus_version, rows_read, rows_imported, rows_skipped, imported_at FROM imports ORDER BY id",
            )
            .map_err(self.err("list the imports"))?;
        q.query_map([], |r| {
            Ok(ImportRecord {
                id: r.get(0)?,
                path: r.get(1)?,
                digest: r.get(2)?,
                format: r.get(3)?,
                focus_version: r.get(4)?,
                rows_read: r.get::<_, i64>(5)? as u64,
                rows_imported: r.get::<_, i64>(6)? as u64,
                rows_skipped: r.get::<_, i64>(7)? as u64,
                imported_at: r.get(8)?,
            })
        })
        .map_err(self.err("list the imports"))?
        .collect::<Result<_, _>>()
        .map_err(self.err("list the imports"))
    }

    /// Saves (or replaces) a tracked resource.
    pub(crate) fn put_resource(&mut self, resource: &Resource) -> Result<(), CostError> {
        let json = serde_json::to_string(resource).unwrap_or_default();
        self.conn
            .execute(
                "INSERT INTO resources (id, json, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at",
                params![resource.id, json, format_datetime(resource.tracked_at_unix)],
            )
            .map_err(self.err("save a resource"))?;
        Ok(())
    }

    /// The tracked resources, by id.
    pub(crate) fn resources(&self) -> Result<Vec<Resource>, CostError> {
        let mut q = self
            .conn
            .prepare_cached("SELECT id, json FROM resources ORDER BY id")
            .map_err(self.err("read the resources"))?;
        let rows: Vec<(String, String)> = q
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err("read the resources"))?
            .collect::<Result<_, _>>()
            .map_err(self.err("read the resources"))?;
        rows.into_iter()
            .map(|(id, json)| {
                serde_json::from_str(&json).map_err(|e| CostError::Invalid {
                    what: "stored resource",
                    message: format!(
                        "{}: resource {id:?} cannot be read: {e}",
                        self.path.display()
                    ),
                })
            })
            .collect()
    }

    /// Removes a tracked resource; whether it was there.
    pub(crate) fn remove_resource(&mut self, id: &str) -> Result<bool, CostError> {
        let n = self
            .conn
            .execute("DELETE FROM resources WHERE id = ?1", [id])
            .map_err(self.err("remove a resource"))?;
        Ok(n > 0)
    }

    /// Appends a decision to the audit trail.
    pub(crate) fn add_decision(
        &mut self,
        decision: &super::AppliedOptimization,
    ) -> Result<(), CostError> {
        let json = serde_json::to_string(decision).unwrap_or_default();
        self.conn
            .execute(
                "INSERT INTO decisions (applied_at, json) VALUES (?1, ?2)",
                params![decision.applied_at, json],
            )
            .map_err(self.err("record a decision"))?;
        Ok(())
    }

    /// The audit trail, oldest first.
    pub(crate) fn decisions(&self) -> Result<Vec<super::AppliedOptimization>, CostError> {
        self.read_json(
            "SELECT CAST(id AS TEXT), json FROM decisions ORDER BY id",
            "decisions",
            "decision",
        )
    }

    /// Saves (or replaces, by name) a budget.
    pub(crate) fn put_budget(&mut self, budget: &super::Budget) -> Result<(), CostError> {
        let json = serde_json::to_string(budget).unwrap_or_default();
        self.conn
            .execute(
                "INSERT INTO budgets (name, json, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(name) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at",
                params![budget.name, json, format_datetime(unix_now())],
            )
            .map_err(self.err("save a budget"))?;
        Ok(())
    }

    /// Removes a budget and the alerts it fired; whether it existed.
    pub(crate) fn remove_budget(&mut self, name: &str) -> Result<bool, CostError> {
        let (e1, e2, e3, e4) = (
            self.err("remove a budget"),
            self.err("remove a budget"),
            self.err("remove a budget's alerts"),
            self.err("commit the removal of a budget"),
        );
        let tx = self.conn.transaction().map_err(e1)?;
        let n = tx.execute("DELETE FROM budgets WHERE name = ?1", [name]).map_err(e2)?;
        tx.execute("DELETE FROM budget_alerts WHERE budget = ?1", [name]).map_err(e3)?;
        tx.commit().map_err(e4)?;
        Ok(n > 0)
    }

    /// The JSON column of `sql`'s rows (id as text, json), parsed; `what` names them in
    /// errors and `item` one of them.
    fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        what: &str,
        item: &str,
    ) -> Result<Vec<T>, CostError> {
        let action = format!("read the {what}");
        let mut q = self.conn.prepare_cached(sql).map_err(self.err(&action))?;
        let rows: Vec<(String, String)> = q
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err(&action))?
            .collect::<Result<_, _>>()
            .map_err(self.err(&action))?;
        rows.into_iter()
            .map(|(id, json)| {
                serde_json::from_str(&json).map_err(|e| CostError::CorruptStore {
                    path: self.path.clone(),
                    message: format!("{item} {id} cannot be read: {e}"),
                })
            })
            .collect()
    }

    /// The budgets, by name.
    pub(crate) fn budgets(&self) -> Result<Vec<super::Budget>, CostError> {
        self.read_json("SELECT name, json FROM budgets ORDER BY name", "budgets", "budget")
    }

    /// Records that `alert` fired, unless it fired already in its period: whether it is new.
    /// The primary key makes this atomic across processes.
    pub(crate) fn record_alert(&mut self, alert: &super::BudgetAlert) -> Result<bool, CostError> {
        let json = serde_json::to_string(alert).unwrap_or_default();
        let n = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO budget_alerts (budget, period_start, threshold, fired_at, json) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    alert.budget,
                    alert.period.from.0,
                    alert.threshold.to_string(),
                    format_datetime(unix_now()),
                    json
                ],
            )
            .map_err(self.err("record a budget alert"))?;
        Ok(n == 1)
    }

    /// Every alert fired, oldest period first.
    pub(crate) fn budget_alerts(&self) -> Result<Vec<super::BudgetAlert>, CostError> {
        self.read_json(
            "SELECT budget || ' ' || period_start || ' ' || threshold, json FROM budget_alerts \
             ORDER BY period_start, fired_at, budget, threshold",
            "budget alerts",
            "budget alert",
        )
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}
