//! FOCUS as CSV, plain or gzip-compressed, streamed record by record.

use std::io::{BufReader, Read};
use std::path::Path;

use super::{ColumnMap, Folder, Hashing, ImportOptions, ParsedFile};
use crate::cost::CostError;

pub(super) fn read(
    path: &Path,
    options: &ImportOptions,
    gzip: bool,
) -> Result<ParsedFile, CostError> {
    let file = std::fs::File::open(path)
        .map_err(|source| CostError::Read { path: path.into(), source })?;
    let mut hashing = Hashing::new(BufReader::with_capacity(1 << 20, file));
    let (folder, format) = if gzip {
        let decoder = flate2::read::MultiGzDecoder::new(&mut hashing);
        (fold(path, options, decoder)?, "csv.gz")
    } else {
        (fold(path, options, &mut hashing)?, "csv")
    };
    // Whatever the CSV reader left unread (nothing, normally) still belongs to the digest.
    std::io::copy(&mut hashing, &mut std::io::sink())
        .map_err(|source| CostError::Read { path: path.into(), source })?;
    let (digest, bytes) = hashing.finish();
    let summary = folder.summary(digest, bytes, format);
    Ok(ParsedFile { folder, summary })
}

fn fold(path: &Path, options: &ImportOptions, input: impl Read) -> Result<Folder, CostError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(input);
    let mut record = ::csv::ByteRecord::new();
    let csv_err = |e: ::csv::Error| -> CostError {
        let line = e.position().map_or(0, ::csv::Position::line);
        match e.into_kind() {
            ::csv::ErrorKind::Io(source) => CostError::Read { path: path.into(), source },
            other => {
                CostError::Format { path: path.into(), message: format!("line {line}: {other:?}") }
            }
        }
    };
    if !reader.read_byte_record(&mut record).map_err(csv_err)? {
        return Err(CostError::Format {
            path: path.into(),
            message: "is empty: no header row".into(),
        });
    }
    let mut header = Vec::with_capacity(record.len());
    for (i, name) in record.iter().enumerate() {
        let name = if i == 0 { name.strip_prefix(b"\xef\xbb\xbf").unwrap_or(name) } else { name };
        let name = std::str::from_utf8(name).map_err(|_| CostError::Format {
            path: path.into(),
            message: format!("line 1: header column {} is not valid UTF-8", i + 1),
        })?;
        header.push(name.trim().to_owned());
    }
    let cols = ColumnMap::new(path, header, &options.keep_columns)?;
    let mut folder = Folder::new(path, cols, options.strict);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_err(e)),
        }
        let line = record.position().map_or(0, ::csv::Position::line);
        // A blank line at the end (or a stray one) is not a row.
        if record.len() == 1 && record[0].trim_ascii().is_empty() {
            continue;
        }
        let rec = &record;
        folder.row(line, |i| rec.get(i))?;
    }
    Ok(folder)
}
