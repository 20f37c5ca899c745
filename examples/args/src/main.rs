//! Prints the boot command line, one word per line.
#![no_std]
#![no_main]

use unik::println;

#[unik::main]
fn main() -> i32 {
    let mut count = 0;
    for (index, word) in unik::args().enumerate() {
        println!("arg {index}: {word}");
        count += 1;
    }
    println!("{count} arguments");
    0
}
