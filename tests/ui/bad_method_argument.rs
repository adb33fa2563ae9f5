struct S;

#[perfcore::profile]
impl S {
    #[perfcore::profile(nmae = "x")]
    fn a(&self) {}

    #[perfcore::profile]
    const fn b() {}

    #[perfcore::profile]
    #[perfcore::profile(errors = false)]
    fn c(&self) {}
}

fn main() {}
