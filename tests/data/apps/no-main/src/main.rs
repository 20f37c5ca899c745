//! Forgets `#[unik::main]`: the build must say so clearly.
#![no_std]
#![no_main]

#[allow(dead_code)]
fn main() {
    unik::println!("never runs");
}
