//! The cost monitor's errors: each names what was wrong and where.

use std::path::PathBuf;

/// Why a cost operation failed.
///
/// # Examples
/// ```
/// use perfcore::cost::CostError;
/// let e = CostError::Row {
///     path: "bill.csv".into(),
///     line: 7,
///     column: "BilledCost".into(),
///     value: "12,5".into(),
///     reason: "is not a decimal number".into(),
/// };
/// assert_eq!(e.to_string(), "bill.csv:7: column BilledCost: \"12,5\" is not a decimal number");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CostError {
    /// A file could not be read.
    #[error("could not read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not CSV, gzip CSV or Parquet as far as its first bytes tell.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The header lacks columns the FOCUS specification makes mandatory.
    #[error("{path}: not a FOCUS file: missing the mandatory column{} {}", if names.len() == 1 { "" } else { "s" }, names.join(", "))]
    MissingColumns {
        /// The file.
        path: PathBuf,
        /// The columns it lacks.
        names: Vec<String>,
    },
    /// A row (strict mode) or too many rows (lenient mode) could not be read.
    #[error("{path}:{line}: column {column}: {value:?} {reason}")]
    Row {
        /// The file.
        path: PathBuf,
        /// The 1-based line the row starts on (the header is line 1).
        line: u64,
        /// The column.
        column: String,
        /// The value as written.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// Amounts of two currencies were added without exchange rates.
    #[error(
        "cannot add {first} and {second} amounts without exchange rates (give rates to convert them, or filter by currency)"
    )]
    MixedCurrency {
        /// One currency.
        first: String,
        /// The other.
        second: String,
    },
    /// A conversion had no rate.
    #[error("no exchange rate from {from} to {to}")]
    NoExchangeRate {
        /// The currency converted.
        from: String,
        /// The target.
        to: String,
    },
    /// A sum exceeded 28 significant digits.
    #[error("an amount overflowed 28 significant digits")]
    Overflow,
    /// The billing period of an account was imported before from another file.
    #[error(
        "{path}: {provider} account {account}, billing period {period}, was already imported from {previous} (a new delivery of that period? import it with --replace; another part of the same delivery? import the parts together, or with --append)"
    )]
    PeriodAlreadyImported {
        /// The file.
        path: PathBuf,
        /// The provider.
        provider: String,
        /// The billing account.
        account: String,
        /// The billing period's first day.
        period: String,
        /// The file imported before.
        previous: String,
    },
    /// A series has too few days with data to forecast (or to judge) without guessing: give it
    /// more history, or wait for more days of billing data.
    #[error("insufficient history: {days} days with data, a forecast needs at least {needed}")]
    InsufficientHistory {
        /// Days with data.
        days: usize,
        /// Days needed.
        needed: usize,
    },
    /// A value given to the API was out of range.
    #[error("invalid {what}: {message}")]
    Invalid {
        /// The argument.
        what: &'static str,
        /// What was wrong.
        message: String,
    },
    /// Something stored cannot be read back (written by hand, or damaged).
    #[error("cost store {path}: {message}")]
    CorruptStore {
        /// The database file.
        path: PathBuf,
        /// What cannot be read.
        message: String,
    },
    /// The store refused an operation.
    #[error("cost store {path}: {action}")]
    Store {
        /// The database file (`:memory:` for an in-memory monitor).
        path: PathBuf,
        /// What was being done.
        action: String,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The store was written by a newer perfcore.
    #[error(
        "cost store {path} has schema version {found}; this perfcore reads up to {supported} (upgrade perfcore)"
    )]
    NewerStore {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// A Parquet file could not be read.
    #[cfg(feature = "parquet")]
    #[error("{path}: {message}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The cost report could not be written.
    #[error("could not write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
