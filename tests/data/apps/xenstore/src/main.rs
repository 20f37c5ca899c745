//! Reads this domain's `name` and `domid` from xenstore (xen-x86_64 only) and prints them.
#![no_std]
#![no_main]

use unik::println;
use unik_platform_xen_x86_64::xenstore_read;

#[unik::main]
fn main() -> i32 {
    let mut buffer = [0u8; 128];
    for key in ["name", "domid", "no-such-node"] {
        match xenstore_read(key, &mut buffer) {
            Ok(length) => println!("{key} = {}", core::str::from_utf8(&buffer[..length]).unwrap_or("?")),
            Err(error) => println!("{key}: {error:?}"),
        }
    }
    0
}
