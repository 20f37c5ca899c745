//! The arm64 Image reader on arbitrary bytes: the header, and the checks of an Image
//! against the ELF file it was written from (the input split in two).
#![no_main]

use libfuzzer_sys::fuzz_target;
use unik_linker::arm64;

fuzz_target!(|bytes: &[u8]| {
    let _ = arm64::ImageHeader::parse(bytes);
    let _ = arm64::is_image(bytes);
    let split = bytes.first().map_or(0, |&b| usize::from(b) * bytes.len() / 256);
    let (image, elf) = bytes.split_at(split);
    let _ = arm64::check(elf, image);
    let _ = arm64::file_sizes(image, elf);
});
