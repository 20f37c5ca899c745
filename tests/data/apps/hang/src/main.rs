//! Never ends: `unik run --timeout` must stop it. With the argument `silent` it never
//! prints either.
#![no_std]
#![no_main]

use unik::time::{Duration, sleep};

#[unik::main]
fn main() {
    let silent = unik::args().next() == Some("silent");
    let mut ticks = 0u64;
    loop {
        if !silent {
            unik::println!("tick {ticks}");
        }
        ticks += 1;
        sleep(Duration::from_millis(200));
    }
}
