//! Runnable examples live in `examples/`.
pub mod service;
