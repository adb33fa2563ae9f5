#[perfcore::profile]
struct S;

fn main() {
    let _ = S;
}
