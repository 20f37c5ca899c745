//! {{name}}: a unik application.
#![no_std]
#![no_main]

use unik::println;

/// Runs after the unikernel boots; the returned value is the VM's exit status.
#[unik::main]
fn main() -> i32 {
    println!("Hello from {{name}}!");
    for (index, word) in unik::args().enumerate() {
        println!("argument {index}: {word}");
    }
    0
}
