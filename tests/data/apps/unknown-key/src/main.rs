//! An application whose manifest has a misspelt key (a CLI test of the warning).
#![no_std]
#![no_main]

#[unik::main]
fn main() {
    unik::println!("ok");
}
