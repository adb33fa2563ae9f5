fn main() {
    let add = #[perfcore::profile]
    |a: u32, b: u32| a + b;
    let _ = add(1, 2);
}
