//! `Budgets::from_toml_str` on arbitrary text: an error (naming a line and column) or budgets,
//! never a panic; budgets it accepts check an empty snapshot.

#![no_main]

use libfuzzer_sys::fuzz_target;
use perfcore::Snapshot;
use perfcore::budget::Budgets;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Budgets::from_toml_str(text) {
        Ok(b) => {
            let report = b.check(&Snapshot::default());
            let _ = report.to_string();
            let _ = report.to_markdown();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
