//! Procedural macros for [perfcore](https://docs.rs/perfcore).
//!
//! The `#[profile]` attribute lives here. Until it lands, instrument code with
//! `perfcore::profile_scope!`, which records exactly what the attribute will.
