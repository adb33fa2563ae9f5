struct S;

#[perfcore::profile]
impl S {
    fn a(&self) -> u8 {
        1
    }

    #[perfcore::profile(skip)]
    fn b(&self) {}

    #[perfcore::profile(name = "S::c", errors = false)]
    fn c(&self) -> Result<(), ()> {
        Ok(())
    }

    const fn d() -> u8 {
        0
    }

    async fn e(&self) {}
}

#[perfcore::profile(errors = false)]
trait T {
    fn f(&self) -> u8 {
        1
    }

    fn g(&self);
}

impl T for S {
    fn g(&self) {}
}

#[perfcore::profile(skip)]
fn skipped() {}

fn main() {
    let s = S;
    let _ = (s.a(), s.b(), s.c(), S::d(), s.e(), s.f(), s.g());
    skipped();
}
