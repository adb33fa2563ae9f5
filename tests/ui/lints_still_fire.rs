#![deny(dead_code, unused_variables)]

#[perfcore::profile]
fn never_called() {}

#[perfcore::profile]
pub fn unused(x: u8) -> Result<(), ()> {
    Ok(())
}

fn main() {}
