//! A regression gate as a CI job would run it, in Rust: profile a workload, keep the run as a
//! baseline in a store (with the environment it ran in), grow the run history that measures
//! the noise, then judge a changed build against it and print the Markdown a pull-request
//! comment would get.
//!
//! ```text
//! cargo run --release -p perfcore-examples --example regression_gate [-- REPORT.json]
//! ```
//!
//! The "changed build" is the same workload with `checksum` doing 50% more work; the gate
//! names it, and only it.

use perfcore::baseline::{Baseline, BaselineStore};
use perfcore::regress::{CompareOptions, compare};
use perfcore::{PerformanceProfiler, Snapshot, profile_scope};

/// One run of the workload: `rounds` requests, each parsing, checksumming and encoding a
/// record; `extra_work` makes `checksum` do that much more.
fn workload(p: &PerformanceProfiler, rounds: u32, extra_work: f64) -> Snapshot {
    p.reset();
    let mut sink = 0u64;
    for i in 0..rounds {
        let record: Vec<u8> = (0..2_000u32).map(|k| (k.wrapping_mul(31) ^ i) as u8).collect();
        {
            profile_scope!(p, "parse");
            sink ^= record.iter().filter(|&&b| b == b',').count() as u64;
        }
        {
            profile_scope!(p, "checksum");
            let passes = (1.0 + extra_work) * 4.0;
            let mut h = 0u64;
            for _ in 0..passes.round() as u32 {
                for &b in &record {
                    h = h.rotate_left(5) ^ u64::from(b);
                }
            }
            sink ^= std::hint::black_box(h);
        }
        {
            profile_scope!(p, "encode");
            sink ^= record.chunks(3).map(|c| u64::from(c[0])).sum::<u64>();
        }
    }
    std::hint::black_box(sink);
    p.snapshot()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1);
    let dir = std::env::temp_dir().join(format!("perfcore-gate-{}", std::process::id()));
    let store = BaselineStore::open(&dir);
    let p = PerformanceProfiler::new();

    // On the main branch: the baseline, then more runs for the history.
    let saved =
        store.save(&Baseline::new("main", workload(&p, 400, 0.0))?.with_label("job", "main"))?;
    println!("saved baseline main (run #{}) in {}", saved.id, store.dir().display());
    for _ in 0..5 {
        let run = workload(&p, 400, 0.0);
        store.record_run("main", store.environment(), Default::default(), run.summary())?;
    }

    // On a pull request: the changed build, judged against main and its history.
    let baseline = store.load("main")?;
    let history: Vec<_> = store.history("main")?.runs.into_iter().map(|r| r.summary).collect();
    let current = workload(&p, 400, 0.5);
    let report = compare(&baseline.snapshot, &current, &history, &CompareOptions::default());
    println!("\n{}", report.to_markdown());
    let regressed: Vec<&str> = report.regressions().map(|f| f.function.as_str()).collect();
    println!("regressed: {regressed:?} (a CI job would exit 1 here)");

    if let Some(path) = out {
        std::fs::write(&path, report.to_json())?;
        println!("report written to {path}");
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
