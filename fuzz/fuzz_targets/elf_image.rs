//! The image reader on arbitrary bytes: a PVH image or a linked ELF file, as `unik
//! size-report`, the builder's verification and the arm64 Image writer read them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unik_linker::size::{Attribution, Level};
use unik_linker::{Expectations, Image, arm64, image, verify};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(parsed) = Image::parse(bytes) {
        // (Segments may share file bytes in a malformed file: the file sizes may then add up
        // to more than the file, but never the unaccounted rest.)
        assert!(parsed.file_sizes().other <= bytes.len() as u64);
        let loaded = parsed.loaded_sizes();
        assert_eq!(
            loaded.text + loaded.rodata + loaded.data + loaded.bss,
            parsed.loaded_bytes()
        );
        let _ = parsed.load_containing(parsed.entry);
        assert!(parsed.loaded_start() <= parsed.loaded_end() || parsed.loads().next().is_none());
        for target in unik_targets::all() {
            let _ = verify::verify(&parsed, &Expectations::of(&target));
        }
    }
    // A compacted image is itself an image the reader accepts.
    if let Ok(compacted) = image::compact(bytes) {
        Image::parse(&compacted).expect("a compacted image parses");
    }
    if let Ok(attribution) = Attribution::of(bytes) {
        for level in [Level::Section, Level::Symbol, Level::Crate] {
            let _ = attribution.rows(level);
        }
        let _ = attribution.total();
    }
    if let Ok(written) = arm64::write(bytes) {
        let _ = arm64::check(bytes, &written);
        let _ = arm64::file_sizes(&written, bytes);
    }
});
