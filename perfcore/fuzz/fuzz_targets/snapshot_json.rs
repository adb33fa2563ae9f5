//! `Snapshot::from_json` on arbitrary bytes: it returns an error or a snapshot, never
//! panics; and a snapshot it accepts is usable: merging (with itself), printing, the
//! percentiles and writing it out work, and what it writes reads back the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use perfcore::Snapshot;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(snap) = Snapshot::from_json(text) else { return };
    let mut merged = snap.clone();
    merged.merge(&snap);
    for s in [&snap, &merged] {
        let _ = s.to_string();
        let _ = s.total_calls();
        for f in s.functions() {
            for q in [0.0, 0.5, 0.99, 1.0] {
                let _ = f.quantile(q);
            }
        }
        let back = Snapshot::from_json(&s.to_json()).expect("a snapshot reads back what it writes");
        assert_eq!(&back, s);
    }
});
