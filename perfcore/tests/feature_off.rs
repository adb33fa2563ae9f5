//! With the default `enabled` feature off, the macros compile to nothing: `profile_scope!`
//! vanishes and `#[profile]` returns the function exactly as written.
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

#[perfcore::profile(name = "untouched")]
fn untouched(x: u32) -> Result<u32, ()> {
    if x == 0 { Err(()) } else { Ok(x) }
}

#[test]
fn profile_attribute_leaves_the_function_as_written() {
    assert_eq!(untouched(2), Ok(2));
    assert_eq!(untouched(0), Err(()));
    assert!(perfcore::global().snapshot().function("untouched").is_none());
}
