//! examples/hello: the smallest unik application, printing one line.
#![no_std]
#![no_main]

use unik::println;

#[unik::main]
fn main() -> i32 {
    println!("Hello, world!");
    0
}
