#![deny(warnings)]

#[perfcore::profile]
fn one_line(x: u8) -> Result<u8, ()> {
    #![allow(clippy::unnecessary_wraps)]
    Ok(x)
}

#[perfcore::profile]
fn plain(x: u8) -> u8 {
    x
}

#[perfcore::profile]
async fn asynchronous(x: u8) -> u8 {
    #![allow(unused_mut)]
    let mut y = x;
    y
}

fn main() {
    let _ = (one_line(1), plain(2), asynchronous(3));
}
