#[perfcore::profile(name "x")]
fn f() {}

fn main() {}
