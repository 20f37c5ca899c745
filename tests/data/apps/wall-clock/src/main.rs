//! A std program that prints the wall clock (`SystemTime::now()`) as Unix seconds: the
//! boot test compares it with the host's.

use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970");
    println!("unix time: {}", now.as_secs());
}
