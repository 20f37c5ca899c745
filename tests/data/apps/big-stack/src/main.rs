//! An application with a 4 MiB stack (a CLI test of --memory against what an image needs).
#![no_std]
#![no_main]

#[unik::main]
fn main() {
    unik::println!("ok");
}
