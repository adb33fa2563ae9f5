//! `perfcore._cli_main`: the `perfcore` command (`perfcore::cli::run`) writing to Python's
//! `sys.stdout` and `sys.stderr`, so that redirections made in Python (pytest's capture,
//! `contextlib.redirect_stdout`) see its output.

use pyo3::prelude::*;
use pyo3::types::PyString;

/// An `io::Write` into a Python text stream (`sys.stdout`), looked up at each write. Bytes are
/// UTF-8 text from the command; a character split across two writes is held until complete.
struct PyStream {
    name: &'static str,
    pending: Vec<u8>,
}

impl PyStream {
    fn new(name: &'static str) -> Self {
        Self { name, pending: Vec::new() }
    }

    fn stream<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("sys")?.getattr(self.name)
    }
}

fn io_error(e: PyErr) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl std::io::Write for PyStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        // Up to the last complete character; invalid bytes are written replaced.
        let complete = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let text = String::from_utf8_lossy(&self.pending[..complete]).into_owned();
        self.pending.drain(..complete);
        if !text.is_empty() {
            Python::attach(|py| {
                self.stream(py)?.call_method1("write", (PyString::new(py, &text),)).map(drop)
            })
            .map_err(io_error)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Python::attach(|py| self.stream(py)?.call_method0("flush").map(drop)).map_err(io_error)
    }
}

/// Runs the `perfcore` command with `argv` (the program name first) and returns its exit
/// code: 0 nothing to report, 1 a regression or an exceeded budget, 2 bad usage or input.
#[pyfunction]
pub fn _cli_main(argv: Vec<String>) -> i32 {
    let (mut out, mut err) = (PyStream::new("stdout"), PyStream::new("stderr"));
    let code = perfcore::cli::run(argv, &mut out, &mut err);
    // Anything still held is an incomplete character: write it replaced.
    for stream in [&mut out, &mut err] {
        if !stream.pending.is_empty() {
            let rest = std::mem::take(&mut stream.pending);
            let _ = std::io::Write::write(
                stream,
                &String::from_utf8_lossy(&rest).into_owned().into_bytes(),
            );
        }
        let _ = std::io::Write::flush(stream);
    }
    code
}
