//! `import::pytest_benchmark` on arbitrary bytes (written to a file, as the importer reads
//! files): an error or a run whose snapshot passes the snapshot reader's validation.

#![no_main]

use libfuzzer_sys::fuzz_target;
use perfcore::Snapshot;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("perfcore-fuzz-pytest-{}.json", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(run) = perfcore::import::pytest_benchmark(&path) {
        Snapshot::from_json(&run.snapshot.to_json()).expect("an imported snapshot is valid");
    }
});
