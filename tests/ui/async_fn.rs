#[perfcore::profile]
async fn f() {}

fn main() {
    let _ = f();
}
