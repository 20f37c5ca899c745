//! Never ends: `unik run --timeout` must stop it.
#![no_std]
#![no_main]

use unik::time::{Duration, sleep};

#[unik::main]
fn main() {
    let mut ticks = 0u64;
    loop {
        unik::println!("tick {ticks}");
        ticks += 1;
        sleep(Duration::from_millis(200));
    }
}
