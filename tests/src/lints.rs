//! `#[profile]` is invisible to lints: the expansion causes none (this module is linted with
//! clippy's pedantic group, and the test command denies warnings), and suppresses none the
//! function would get without it (each `#[expect]` fails the build if its lint does not fire).
//! The `clippy::` expectations are checked by `cargo clippy`, the others by every build.
#![warn(clippy::pedantic)]
#![allow(clippy::unnecessary_wraps)] // `Result`s that never fail are the subject here

use perfcore::profile;

#[expect(dead_code)]
#[profile]
fn never_called() {}

/// A parameter left unused.
#[expect(unused_variables)]
#[profile]
pub fn unused_parameter(x: u8) {}

/// An unused parameter of an `async fn`.
#[expect(unused_variables)]
#[profile]
pub async fn unused_async_parameter(x: u8) {}

/// A `return` clippy wants gone.
#[expect(clippy::needless_return)]
#[profile]
#[must_use]
pub fn needless_return() -> u8 {
    return 1;
}

/// # Errors
/// Never.
// Not yet kept: in a function returning `Result`, each `return` becomes `return { observe }`,
// which clippy does not take for the user's.
#[allow(clippy::needless_return)]
#[profile]
pub fn needless_return_result() -> Result<u8, String> {
    return Ok(1);
}

/// Documentation without its `# Safety` section.
#[expect(clippy::missing_safety_doc)]
#[profile]
pub unsafe fn no_safety_section() {}

/// A unit error.
///
/// # Errors
/// Never.
#[expect(clippy::result_unit_err)]
#[profile]
pub fn unit_error() -> Result<u8, ()> {
    Ok(1)
}

/// One-line bodies, methods, `?`, early returns and `impl Trait`, none of which may warn.
///
/// # Errors
/// When `s` is not a number.
#[profile]
pub fn one_line(s: &str) -> Result<u8, std::num::ParseIntError> {
    s.parse()
}

/// # Errors
/// When `s` is empty or not a number.
#[profile]
pub fn early(s: &str) -> Result<u8, String> {
    if s.is_empty() {
        return Err("empty".to_owned());
    }
    let n = s.parse::<u8>().map_err(|e| e.to_string())?;
    Ok(n)
}

/// # Errors
/// When `fail`.
#[profile]
pub fn iter(fail: bool) -> Result<impl Iterator<Item = u8>, String> {
    if fail { Err("no".to_owned()) } else { Ok([1].into_iter()) }
}

/// A value.
#[derive(Debug, Default)]
pub struct Value(u8);

#[profile]
impl Value {
    /// The value.
    #[must_use]
    pub fn get(&self) -> u8 {
        self.0
    }

    /// # Errors
    /// When it is zero.
    pub fn nonzero(&self) -> Result<u8, String> {
        if self.0 == 0 { Err("zero".to_owned()) } else { Ok(self.0) }
    }

    /// Waits, then gives the value.
    pub async fn later(&self) -> u8 {
        self.0
    }

    /// Not profiled: a `const fn`.
    #[must_use]
    pub const fn zero() -> Self {
        Value(0)
    }
}
