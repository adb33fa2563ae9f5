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

#[perfcore::profile(name = "asynchronous")]
async fn asynchronous(x: u8) -> Result<u8, String> {
    let y = x.checked_add(1).ok_or("overflow")?;
    Ok(y)
}

fn main() {
    let never_polled = asynchronous(1);
    drop(never_polled);
    plain();
    named();
    let _ = no_errors();
    other_path();
    inner_ok();
    assert_eq!(P.snapshot().function("inner").map(|f| f.count), Some(1));
}
