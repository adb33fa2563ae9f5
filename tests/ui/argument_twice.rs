#[perfcore::profile(name = "a", name = "b")]
fn f() {}

fn main() {}
