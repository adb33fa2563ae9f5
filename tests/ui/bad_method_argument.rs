struct S;

#[perfcore::profile]
impl S {
    #[perfcore::profile(nmae = "x")]
    fn a(&self) {}

    #[perfcore::profile]
    const fn b() {}
}

fn main() {}
