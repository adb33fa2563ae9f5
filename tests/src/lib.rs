//! Integration tests live in `tests/`; `lints` is here because some lints only look at the
//! public items of a library.

pub mod lints;
