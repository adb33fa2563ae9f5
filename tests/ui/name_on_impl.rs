struct S;

#[perfcore::profile(name = "S")]
impl S {
    fn a(&self) {}
}

#[perfcore::profile(name = "T")]
trait T {
    fn b(&self) {}
}

fn main() {}
