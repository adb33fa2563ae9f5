#[perfcore::profile(skip, errors = false)]
fn f() {}

fn main() {}
