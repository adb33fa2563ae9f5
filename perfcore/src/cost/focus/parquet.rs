//! FOCUS as Parquet (AWS Data Exports and Azure Cost Management write it), read batch by
//! batch with arrow-rs, each value turned into the text the CSV path reads, so both formats
//! share one set of rules.

use std::io::Write as _;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{ColumnMap, Folder, Hashing, ImportOptions, ParsedFile};
use crate::cost::CostError;
use crate::cost::time::format_datetime;

/// Rows per batch: memory stays bounded whatever the file's size.
const BATCH_ROWS: usize = 8192;

/// One column of a batch as text: the bytes of every value, and where each row's is.
#[derive(Default)]
struct TextColumn {
    bytes: Vec<u8>,
    spans: Vec<(u32, u32)>,
}

impl TextColumn {
    fn get(&self, row: usize) -> &[u8] {
        let (a, b) = self.spans[row];
        &self.bytes[a as usize..b as usize]
    }

    fn push(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.bytes.len() as u32;
        write(&mut self.bytes);
        self.spans.push((start, self.bytes.len() as u32));
    }
}

fn unsupported(path: &Path, name: &str, t: &DataType) -> CostError {
    CostError::Parquet {
        path: path.into(),
        message: format!("column {name}: values of type {t} are not supported"),
    }
}

/// Seconds since the epoch from a timestamp in `unit`, rounded down.
fn seconds(v: i64, unit: &TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => v,
        TimeUnit::Millisecond => v.div_euclid(1_000),
        TimeUnit::Microsecond => v.div_euclid(1_000_000),
        TimeUnit::Nanosecond => v.div_euclid(1_000_000_000),
    }
}

fn to_text(path: &Path, name: &str, array: &ArrayRef) -> Result<TextColumn, CostError> {
    let n = array.len();
    let mut col = TextColumn { bytes: Vec::with_capacity(n * 8), spans: Vec::with_capacity(n) };
    macro_rules! each {
        ($arr:expr, |$buf:ident, $v:ident| $body:expr) => {{
            let a = $arr;
            for i in 0..n {
                if a.is_null(i) {
                    col.push(|_| {});
                } else {
                    let $v = a.value(i);
                    col.push(|$buf| $body);
                }
            }
        }};
    }
    match array.data_type() {
        DataType::Null => (0..n).for_each(|_| col.push(|_| {})),
        DataType::Utf8 => each!(array.as_string::<i32>(), |b, v| b.extend_from_slice(v.as_bytes())),
        DataType::LargeUtf8 => {
            each!(array.as_string::<i64>(), |b, v| b.extend_from_slice(v.as_bytes()))
        }
        DataType::Utf8View => {
            each!(array.as_string_view(), |b, v| b.extend_from_slice(v.as_bytes()))
        }
        DataType::Boolean => each!(array.as_boolean(), |b, v| b.extend_from_slice(if v {
            b"true"
        } else {
            b"false"
        })),
        DataType::Int8 => each!(array.as_primitive::<Int8Type>(), |b, v| {
            let _ = write!(b, "{v}");
        }),
        DataType::Int16 => each!(array.as_primitive::<Int16Type>(), |b, v| {
            let _ = write!(b, "{v}");
        }),
        DataType::Int32 => each!(array.as_primitive::<Int32Type>(), |b, v| {
            let _ = write!(b, "{v}");
        }),
        DataType::Int64 => each!(array.as_primitive::<Int64Type>(), |b, v| {
            let _ = write!(b, "{v}");
        }),
        DataType::UInt8 => each!(array.as_primitive::<UInt8Type>(), |b, v| {
            let _ = write!(b, "{v}");
        }),
        DataType::UInt16 => each!(array.as_primitive::<UInt16Type>(), |b, v| {
            let _ = write!(b, "{v}");
        }),
        DataType::UInt32 => each!(array.as_primitive::<UInt32Type>(), |b, v| {
            let _ = write!(b, "{v}");
        }),
        DataType::UInt64 => each!(array.as_primitive::<UInt64Type>(), |b, v| {
            let _ = write!(b, "{v}");
        }),
        // Shortest round-trip text: what the exporter's decimal most likely was.
        DataType::Float32 => each!(array.as_primitive::<Float32Type>(), |b, v| {
            let _ = write!(b, "{v}");
        }),
        DataType::Float64 => each!(array.as_primitive::<Float64Type>(), |b, v| {
            let _ = write!(b, "{v}");
        }),
        DataType::Decimal128(_, scale) => {
            let scale = *scale;
            each!(array.as_primitive::<Decimal128Type>(), |b, v| write_decimal(b, v, scale))
        }
        DataType::Date32 => each!(array.as_primitive::<Date32Type>(), |b, v| {
            let _ = write!(b, "{}", crate::cost::Day(v));
        }),
        DataType::Date64 => each!(array.as_primitive::<Date64Type>(), |b, v| {
            b.extend_from_slice(format_datetime(v.div_euclid(1_000)).as_bytes());
        }),
        // A timestamp with a zone is an instant; without one, FOCUS says it is UTC.
        DataType::Timestamp(unit, _) => {
            let unit = *unit;
            match unit {
                TimeUnit::Second => each!(array.as_primitive::<TimestampSecondType>(), |b, v| {
                    b.extend_from_slice(format_datetime(seconds(v, &unit)).as_bytes());
                }),
                TimeUnit::Millisecond => {
                    each!(array.as_primitive::<TimestampMillisecondType>(), |b, v| {
                        b.extend_from_slice(format_datetime(seconds(v, &unit)).as_bytes());
                    })
                }
                TimeUnit::Microsecond => {
                    each!(array.as_primitive::<TimestampMicrosecondType>(), |b, v| {
                        b.extend_from_slice(format_datetime(seconds(v, &unit)).as_bytes());
                    })
                }
                TimeUnit::Nanosecond => {
                    each!(array.as_primitive::<TimestampNanosecondType>(), |b, v| {
                        b.extend_from_slice(format_datetime(seconds(v, &unit)).as_bytes());
                    })
                }
            }
        }
        DataType::Dictionary(_, _) => {
            let dict = array
                .as_any_dictionary_opt()
                .ok_or_else(|| unsupported(path, name, array.data_type()))?;
            let values = to_text(path, name, dict.values())?;
            let keys = dict.normalized_keys();
            for (i, k) in keys.iter().enumerate() {
                if array.is_null(i) || *k >= values.spans.len() {
                    col.push(|_| {});
                } else {
                    col.push(|b| b.extend_from_slice(values.get(*k)));
                }
            }
        }
        // Tags as a map (AWS writes them so in Parquet) or a struct: a JSON object of strings.
        DataType::Map(_, _) => {
            let map = array.as_map();
            let keys = to_text(path, name, map.keys())?;
            let values = to_text(path, name, map.values())?;
            let offsets = map.value_offsets();
            for i in 0..n {
                if array.is_null(i) {
                    col.push(|_| {});
                    continue;
                }
                let mut obj = serde_json::Map::new();
                for e in offsets[i] as usize..offsets[i + 1] as usize {
                    let k = String::from_utf8_lossy(keys.get(e)).into_owned();
                    let v = values.get(e);
                    let v = if v.is_empty() {
                        serde_json::Value::Null
                    } else {
                        serde_json::Value::String(String::from_utf8_lossy(v).into_owned())
                    };
                    obj.insert(k, v);
                }
                let text = serde_json::Value::Object(obj).to_string();
                col.push(|b| b.extend_from_slice(text.as_bytes()));
            }
        }
        DataType::Struct(fields) => {
            let st = array.as_struct();
            let parts: Vec<TextColumn> =
                st.columns().iter().map(|c| to_text(path, name, c)).collect::<Result<_, _>>()?;
            for i in 0..n {
                if array.is_null(i) {
                    col.push(|_| {});
                    continue;
                }
                let mut obj = serde_json::Map::new();
                for (f, part) in fields.iter().zip(&parts) {
                    let v = part.get(i);
                    if !v.is_empty() {
                        obj.insert(
                            f.name().clone(),
                            serde_json::Value::String(String::from_utf8_lossy(v).into_owned()),
                        );
                    }
                }
                let text = serde_json::Value::Object(obj).to_string();
                col.push(|b| b.extend_from_slice(text.as_bytes()));
            }
        }
        other => return Err(unsupported(path, name, other)),
    }
    Ok(col)
}

fn write_decimal(b: &mut Vec<u8>, v: i128, scale: i8) {
    if scale < 0 {
        let _ = write!(b, "{v}");
        b.extend(std::iter::repeat_n(b'0', usize::from(scale.unsigned_abs())));
        return;
    }
    let scale = scale as usize;
    let digits = v.unsigned_abs().to_string();
    if v < 0 {
        b.push(b'-');
    }
    if digits.len() <= scale {
        b.extend_from_slice(b"0.");
        b.extend(std::iter::repeat_n(b'0', scale - digits.len()));
        b.extend_from_slice(digits.as_bytes());
    } else if scale == 0 {
        b.extend_from_slice(digits.as_bytes());
    } else {
        let (int, frac) = digits.split_at(digits.len() - scale);
        b.extend_from_slice(int.as_bytes());
        b.push(b'.');
        b.extend_from_slice(frac.as_bytes());
    }
}

pub(super) fn read(path: &Path, options: &ImportOptions) -> Result<ParsedFile, CostError> {
    let read_err = |source| CostError::Read { path: path.into(), source };
    // The digest of the bytes as stored.
    let mut hashing = Hashing::new(std::fs::File::open(path).map_err(read_err)?);
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(read_err)?;
    let (digest, bytes) = hashing.finish();
    let pq = |e: parquet::errors::ParquetError| CostError::Parquet {
        path: path.into(),
        message: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
    let header: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    let reader = builder.with_batch_size(BATCH_ROWS).build().map_err(pq)?;
    let cols = ColumnMap::new(path, header.clone(), &options.keep_columns)?;
    let mut folder = Folder::new(path, cols, options.strict);
    let mut row_number = 0u64;
    for batch in reader {
        let batch =
            batch.map_err(|e| CostError::Parquet { path: path.into(), message: e.to_string() })?;
        let mut columns = Vec::with_capacity(header.len());
        for (i, (a, name)) in batch.columns().iter().zip(&header).enumerate() {
            match to_text(path, name, a) {
                Ok(c) => columns.push(c),
                // A column perfcore neither aggregates nor keeps may have any type: it is
                // listed as unread instead of failing the file.
                Err(e) if !folder.uses_column(i) => {
                    folder.unread_column(name, &a.data_type().to_string());
                    let _ = e;
                    columns.push(TextColumn { bytes: Vec::new(), spans: vec![(0, 0); a.len()] });
                }
                Err(e) => return Err(e),
            }
        }
        for row in 0..batch.num_rows() {
            row_number += 1;
            folder.row(row_number + 1, |i| columns.get(i).map(|c| c.get(row)))?;
        }
    }
    let summary = folder.summary(digest, bytes, "parquet");
    Ok(ParsedFile { folder, summary })
}

#[cfg(test)]
mod tests {
    use super::write_decimal;

    #[test]
    fn decimals_are_written_exactly() {
        for (v, scale, text) in [
            (123, 2, "1.23"),
            (-5, 3, "-0.005"),
            (0, 11, "0.00000000000"),
            (7, 0, "7"),
            (7, -2, "700"),
        ] {
            let mut b = Vec::new();
            write_decimal(&mut b, v, scale);
            assert_eq!(String::from_utf8(b).unwrap(), text);
        }
    }
}
