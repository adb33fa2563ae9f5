//! `Baseline::from_json` on arbitrary bytes: an error or a baseline, never a panic; a baseline
//! it accepts writes out and reads back the same, and its summary and merge work.

#![no_main]

use libfuzzer_sys::fuzz_target;
use perfcore::baseline::{Baseline, EnvPolicy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(b) = Baseline::from_json(text) else { return };
    let back = Baseline::from_json(&b.to_json()).expect("a baseline reads back what it writes");
    assert_eq!(back, b);
    let _ = b.summary();
    let mut merged = b.clone();
    let _ = merged.merge(&b, EnvPolicy::Warn);
});
