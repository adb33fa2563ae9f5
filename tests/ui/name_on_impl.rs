struct S;

#[perfcore::profile(name = "S")]
impl S {
    fn a(&self) {}
}

fn main() {}
