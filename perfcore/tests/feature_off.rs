//! With the default `enabled` feature off, the macros compile to nothing.
//! Run by `cargo test -p perfcore --no-default-features`.
#![cfg(not(feature = "enabled"))]

#[test]
fn profile_scope_expands_to_nothing() {
    let p = perfcore::PerformanceProfiler::new();
    {
        perfcore::profile_scope!(&p, "gone");
        perfcore::profile_scope!("gone_global");
    }
    assert!(p.snapshot().functions().is_empty());
    assert!(perfcore::global().snapshot().function("gone_global").is_none());
}
