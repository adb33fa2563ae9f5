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

struct Counter(u32);

#[perfcore::profile(errors = false)]
impl Counter {
    fn bump(&mut self) -> Result<u32, ()> {
        self.0 += 1;
        Ok(self.0)
    }

    // Not in scope: taken off by the block's attribute, with the feature on or off.
    #[profile(skip)]
    fn get(&self) -> u32 {
        self.0
    }
}

#[perfcore::profile]
async fn later(x: u32) -> u32 {
    x
}

#[test]
fn impl_blocks_and_async_fns_are_left_as_written() {
    let mut c = Counter(0);
    assert_eq!(c.bump(), Ok(1));
    assert_eq!(c.get(), 1);
    // Still an `async fn`: the future is the plain one, with no profiler in it.
    let fut = later(2);
    assert!(size_of_val(&fut) <= 8);
    drop(fut);
    assert!(perfcore::global().snapshot().functions().is_empty());
}
