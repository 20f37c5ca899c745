//! Formats errors whose `Debug` output equals that of errors in the library OS's network
//! stack; the image must still hold no network code (no component by a look-alike name).

use std::fmt::Write;

fn main() {
    let mut text = String::new();
    let failed = write!(text, "{:?}", std::fmt::Error).is_err();
    let slice: &mut [u8] = &mut [1, 2, 3, 4];
    let tail = &mut slice[std::hint::black_box(1)..];
    tail[0] = 9;
    println!("{text} {failed} {slice:?}");
}
