trait T {
    #[perfcore::profile]
    fn f(&self);
}

fn main() {}
