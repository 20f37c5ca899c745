//! Declares every optional component, and `alloc`, but only prints.
#![no_std]
#![no_main]

extern crate alloc;

#[allow(unused_imports)]
use {unik_alloc as _, unik_args as _, unik_time as _};

#[unik::main]
fn main() -> i32 {
    unik::println!("Hello, world!");
    0
}
