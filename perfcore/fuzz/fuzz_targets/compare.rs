//! Two snapshots read from the input (split at the first NUL byte), compared: every verdict is
//! well formed (probabilities in [0, 1], finite changes), whatever the histograms hold.

#![no_main]

use libfuzzer_sys::fuzz_target;
use perfcore::Snapshot;
use perfcore::regress::{CompareOptions, compare};

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|&b| b == 0) else { return };
    let (Ok(a), Ok(b)) = (std::str::from_utf8(&data[..split]), std::str::from_utf8(&data[split + 1..])) else {
        return;
    };
    let (Ok(a), Ok(b)) = (Snapshot::from_json(a), Snapshot::from_json(b)) else { return };
    let opts = CompareOptions::default().min_calls(2).expect("2 is a valid minimum");
    let report = compare(&a, &b, &[], &opts);
    for f in &report.functions {
        assert!((0.0..=1.0).contains(&f.p_value) && (0.0..=1.0).contains(&f.q_value));
        assert!(f.degradation_percent.is_finite());
        for m in &f.metrics {
            assert!((0.0..=1.0).contains(&m.p_value), "{m:?}");
            assert!(m.change_percent.is_finite(), "{m:?}");
        }
    }
    let _ = report.to_string();
    let _ = report.to_markdown();
});
