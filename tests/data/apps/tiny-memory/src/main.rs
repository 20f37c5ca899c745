#![no_std]
#![no_main]

#[unik::main]
fn main() {
    unik::println!("ok");
}
