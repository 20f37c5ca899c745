//! Panics on purpose: the VM must print the message and location, and exit with 101.
#![no_std]
#![no_main]

use unik::println;

#[unik::main]
fn main() {
    println!("about to panic");
    let limit = unik::args().count();
    panic!("deliberate panic after {limit} arguments");
}
