//! FOCUS as CSV, plain or gzip-compressed, streamed in blocks that worker threads parse.
//!
//! The reading thread cuts the stream into blocks of about [`BLOCK`] bytes, each ending at a
//! line end outside quotes (a quoted field may hold newlines), counts the lines before each
//! block so errors keep their true line numbers, and hashes the bytes. Each worker folds its
//! blocks into its own aggregates; the aggregates are merged at the end (the sums are exact, so
//! the order does not matter). Memory holds a few blocks, never the file.

use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

use super::{ColumnMap, Folder, Hashing, ImportOptions, ParsedFile};
use crate::cost::CostError;

/// The size of a block handed to a worker (small in tests, so files of a few kilobytes cross
/// many blocks and workers).
const BLOCK: usize = if cfg!(test) { 4096 } else { 4 << 20 };
/// Blocks waiting for a worker: memory in flight is bounded by `(QUEUE + workers) × BLOCK`.
const QUEUE: usize = 4;

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
    // Whatever the reader left unread (nothing, normally) still belongs to the digest.
    std::io::copy(&mut hashing, &mut std::io::sink())
        .map_err(|source| CostError::Read { path: path.into(), source })?;
    let (digest, bytes) = hashing.finish();
    let summary = folder.summary(digest, bytes, format);
    Ok(ParsedFile { folder, summary })
}

/// Reads until `buf` holds at least `want` bytes or the input ends; whether it ended.
fn fill(
    input: &mut impl Read,
    buf: &mut Vec<u8>,
    want: usize,
    path: &Path,
) -> Result<bool, CostError> {
    let mut chunk = [0u8; 64 * 1024];
    while buf.len() < want {
        match input.read(&mut chunk) {
            Ok(0) => return Ok(true),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => return Err(CostError::Read { path: path.into(), source }),
        }
    }
    Ok(false)
}

/// Where the block should end: after the last line end outside quotes (`None`: no such line
/// end yet), and the number of line ends before that point.
fn cut(block: &[u8]) -> (Option<usize>, u64) {
    let mut quoted = false;
    let mut last = None;
    let mut lines = 0u64;
    let mut lines_at_last = 0u64;
    for i in memchr::memchr2_iter(b'"', b'\n', block) {
        if block[i] == b'"' {
            quoted = !quoted;
        } else {
            lines += 1;
            if !quoted {
                last = Some(i + 1);
                lines_at_last = lines;
            }
        }
    }
    (last, lines_at_last)
}

fn csv_error(path: &Path, e: ::csv::Error, first_line: u64) -> CostError {
    let line = e.position().map_or(0, |p| first_line + p.line() - 1);
    match e.into_kind() {
        ::csv::ErrorKind::Io(source) => CostError::Read { path: path.into(), source },
        other => {
            CostError::Format { path: path.into(), message: format!("line {line}: {other:?}") }
        }
    }
}

/// Folds the records of one block, whose first line is `first_line` of the file.
fn fold_block(
    folder: &mut Folder,
    path: &Path,
    block: &[u8],
    first_line: u64,
) -> Result<(), CostError> {
    let mut reader = csv_reader(block);
    let mut record = ::csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => return Err(csv_error(path, e, first_line)),
        }
        let line = first_line + record.position().map_or(1, ::csv::Position::line) - 1;
        // A blank line is not a row.
        if record.len() == 1 && record[0].trim_ascii().is_empty() {
            continue;
        }
        let rec = &record;
        let last = rec.len().saturating_sub(1);
        folder.row(line, |i| {
            rec.get(i).map(|f| if i == last { f.strip_suffix(b"\r").unwrap_or(f) } else { f })
        })?;
    }
}

/// A CSV reader whose records end at `\n` only: with the csv crate's default (CR, LF or
/// CRLF) its byte offsets and line numbers drift after CRLF line ends. The `\r` a CRLF leaves
/// at the end of the last field is removed by the caller.
fn csv_reader(bytes: &[u8]) -> ::csv::Reader<&[u8]> {
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_reader(bytes)
}

fn fold(path: &Path, options: &ImportOptions, mut input: impl Read) -> Result<Folder, CostError> {
    // The header: the first record, from the first block.
    let mut buf = Vec::with_capacity(BLOCK + BLOCK / 4);
    let mut ended = fill(&mut input, &mut buf, 64 * 1024, path)?;
    while cut(&buf).0.is_none() && !ended {
        let want = buf.len() * 2;
        ended = fill(&mut input, &mut buf, want, path)?;
    }
    let (header, data_start, data_line) = {
        let mut reader = csv_reader(&buf[..]);
        let mut record = ::csv::ByteRecord::new();
        if !reader.read_byte_record(&mut record).map_err(|e| csv_error(path, e, 1))? {
            return Err(CostError::Format {
                path: path.into(),
                message: "is empty: no header row".into(),
            });
        }
        let mut header = Vec::with_capacity(record.len());
        for (i, name) in record.iter().enumerate() {
            let name =
                if i == 0 { name.strip_prefix(b"\xef\xbb\xbf").unwrap_or(name) } else { name };
            let name = std::str::from_utf8(name).map_err(|_| CostError::Format {
                path: path.into(),
                message: format!("line 1: header column {} is not valid UTF-8", i + 1),
            })?;
            header.push(name.trim().to_owned());
        }
        let next = reader.position();
        (header, next.byte() as usize, next.line())
    };
    let cols = ColumnMap::new(path, header, &options.keep_columns)?;
    buf.drain(..data_start.min(buf.len()));
    let workers =
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get).clamp(1, 4);
    let (send, receive) = mpsc::sync_channel::<(Vec<u8>, u64)>(QUEUE);
    let receive = Arc::new(Mutex::new(receive));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let receive = Arc::clone(&receive);
                let cols = cols.clone();
                scope.spawn(move || -> Result<Folder, CostError> {
                    let mut folder = Folder::new(path, cols, options.strict);
                    loop {
                        let next = receive.lock().map_err(|_| CostError::Overflow)?.recv();
                        let Ok((block, first_line)) = next else { return Ok(folder) };
                        fold_block(&mut folder, path, &block, first_line)?;
                    }
                })
            })
            .collect();
        drop(receive);
        // The reading side: cut blocks at line ends outside quotes and hand them out.
        let mut line = data_line;
        let read_result = (|| -> Result<(), CostError> {
            loop {
                if !ended {
                    ended = fill(&mut input, &mut buf, BLOCK, path)?;
                }
                if buf.is_empty() {
                    return Ok(());
                }
                let (end, lines) = cut(&buf);
                let (block, lines) = match end {
                    Some(end) => {
                        let rest = buf.split_off(end);
                        (std::mem::replace(&mut buf, rest), lines)
                    }
                    None if ended => (std::mem::take(&mut buf), 0),
                    // One record longer than a block: read more before cutting.
                    None => {
                        let want = buf.len() * 2;
                        ended = fill(&mut input, &mut buf, want, path)?;
                        continue;
                    }
                };
                let first = line;
                line += lines;
                buf.reserve(BLOCK + BLOCK / 4);
                if send.send((block, first)).is_err() {
                    // Every worker stopped (strict mode met a bad row): their errors tell why.
                    return Ok(());
                }
            }
        })();
        drop(send);
        let mut folders = Vec::new();
        let mut first_error: Option<(u64, CostError)> = None;
        for h in handles {
            match h.join() {
                Ok(Ok(f)) => folders.push(f),
                Ok(Err(e)) => {
                    let at = if let CostError::Row { line, .. } = &e { *line } else { 0 };
                    if first_error.as_ref().is_none_or(|(l, _)| at < *l) {
                        first_error = Some((at, e));
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        read_result?;
        if let Some((_, e)) = first_error {
            return Err(e);
        }
        let mut folders = folders.into_iter();
        let mut all =
            folders.next().unwrap_or_else(|| Folder::new(path, cols.clone(), options.strict));
        for f in folders {
            all.merge(f)?;
        }
        Ok(all)
    })
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn blocks_end_at_line_ends_outside_quotes() {
        assert_eq!(cut(b"a,b\nc,d\ne"), (Some(8), 2));
        assert_eq!(cut(b"a,\"b\nc\",d\ne"), (Some(10), 2));
        assert_eq!(cut(b"a,\"b\nc"), (None, 0));
        assert_eq!(cut(b"a,\"\"\"x\"\"\"\n"), (Some(10), 1));
    }
}
