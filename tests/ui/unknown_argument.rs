#[perfcore::profile(nmae = "x")]
fn f() {}

fn main() {}
