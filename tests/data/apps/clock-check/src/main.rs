//! Sleeps one second between two console lines, so that the host can time the same
//! interval the guest measures.
#![no_std]
#![no_main]

use unik::println;
use unik::time::{Duration, Instant, sleep};

#[unik::main]
fn main() {
    let start = Instant::now();
    println!("start");
    sleep(Duration::from_secs(1));
    println!("slept {} us", start.elapsed().as_micros());
}
