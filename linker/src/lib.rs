//! Image assembly and inspection, with no processes spawned: everything here works on
//! bytes and text so that it can be tested on its own.
//!
//! The pipeline for one image:
//! 1. [`script::render`] fills the target's linker-script template;
//! 2. [`link::rustc_args`] are the flags the final `rustc` link needs (the builder passes
//!    them to cargo);
//! 3. [`image::compact`] turns the linked ELF into the image file: headers and loadable
//!    bytes only;
//! 4. [`verify::verify`] reads the image back and checks what the loader relies on;
//! 5. for arm64, [`arm64::write`] lays the loadable bytes out as a Linux `Image` and
//!    [`arm64::check`] checks its header and relocations.

pub mod arm64;
pub mod graph;
pub mod image;
pub mod link;
pub mod record;
pub mod script;
pub mod size;
pub mod syscalls;
pub mod verify;

pub use image::{FileSizes, Image, ImageError, LoadedSizes, Segment};
pub use record::BuildRecord;
pub use verify::{Expectations, ImageFormat, VerifyError, elf_machine};
