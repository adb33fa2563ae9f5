#[perfcore::profile(name = "")]
fn f() {}

fn main() {}
