//! An application whose manifest gives too little memory (a CLI test of the error).
#![no_std]
#![no_main]

#[unik::main]
fn main() {
    unik::println!("ok");
}
