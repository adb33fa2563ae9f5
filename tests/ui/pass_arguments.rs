use perfcore::PerformanceProfiler;

mod again {
    pub use perfcore as pc;
}

#[perfcore::profile]
fn plain() {}

#[perfcore::profile(name = "named")]
fn named() {}

#[perfcore::profile(errors = false)]
fn no_errors() -> Result<(), ()> {
    Ok(())
}

#[perfcore::profile(crate = again::pc)]
fn other_path() {}

static P: std::sync::LazyLock<PerformanceProfiler> = std::sync::LazyLock::new(PerformanceProfiler::new);

#[perfcore::profile(profiler = P, name = "inner", errors = true,)]
fn inner_ok() {}

fn main() {
    plain();
    named();
    let _ = no_errors();
    other_path();
    inner_ok();
    assert_eq!(P.snapshot().function("inner").map(|f| f.count), Some(1));
}
