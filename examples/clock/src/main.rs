//! Measures a 50 ms sleep with the guest's own monotonic clock.
#![no_std]
#![no_main]

use unik::println;
use unik::time::{Duration, Instant, sleep};

#[unik::main]
fn main() -> i32 {
    let start = Instant::now();
    sleep(Duration::from_millis(50));
    let slept = start.elapsed();
    println!("slept for {} us", slept.as_micros());

    let later = Instant::now();
    if later < start + slept {
        println!("error: the clock went backwards");
        return 1;
    }
    0
}
