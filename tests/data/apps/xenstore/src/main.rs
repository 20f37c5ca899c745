//! Reads this domain's `name` and `domid` from xenstore (on the Xen targets) and prints them.
#![no_std]
#![no_main]

use unik::println;
use unik_xen::connect::xenstore_read;

#[unik::main]
fn main() -> i32 {
    let mut buffer = [0u8; 128];
    for key in ["name", "domid", "no-such-node"] {
        match xenstore_read::<unik_platform::Current>(key, &mut buffer) {
            Ok(length) => println!("{key} = {}", core::str::from_utf8(&buffer[..length]).unwrap_or("?")),
            Err(error) => println!("{key}: {error:?}"),
        }
    }
    0
}
