#[perfcore::profile(errors = "no")]
fn f() {}

fn main() {}
