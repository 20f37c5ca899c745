//! Picks an action from a table of trait objects at run time.
#![no_std]
#![no_main]

use core::hint::black_box;
use unik::time::{Duration, sleep};

trait Action {
    fn run(&self);
}

struct Greet;
struct Nap;

impl Action for Greet {
    fn run(&self) {
        unik::println!("hello");
    }
}

impl Action for Nap {
    fn run(&self) {
        sleep(Duration::from_millis(1));
    }
}

static ACTIONS: [&(dyn Action + Sync); 2] = [&Greet, &Nap];

#[unik::main]
fn main() -> i32 {
    let which = black_box(unik::args().count()) % 2;
    ACTIONS[which].run();
    0
}
