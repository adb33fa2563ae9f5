//! Atomic file writes.

use std::io::Write;
use std::path::Path;

use crate::error::{IoAction, SnapshotError};

/// Writes `bytes` to `path` via a temporary file in the same directory and a rename, so a
/// crash leaves either the old file or the new one, never a torn one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SnapshotError> {
    let io = |action, source| SnapshotError::Io { action, path: path.into(), source };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(|e| io(IoAction::CreateTemporary, e))?;
        f.write_all(bytes).map_err(|e| io(IoAction::Write, e))?;
        f.sync_all().map_err(|e| io(IoAction::Flush, e))?;
        std::fs::rename(&tmp, path).map_err(|e| io(IoAction::Rename, e))?;
        // The rename itself is durable only once the directory is flushed.
        #[cfg(unix)]
        std::fs::File::open(&dir).and_then(|d| d.sync_all()).map_err(|e| io(IoAction::Flush, e))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
