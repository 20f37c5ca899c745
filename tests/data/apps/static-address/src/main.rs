//! Prints the interface's address and gateway, then exits.
#![no_std]
#![no_main]

use unik::{net, println, task};

#[unik::main]
fn main() -> net::Result<()> {
    let interface = task::block_on(net::address())?;
    println!("address {} gateway {:?}", interface.address, interface.gateway);
    for word in unik::args() {
        println!("argument {word}");
    }
    Ok(())
}
