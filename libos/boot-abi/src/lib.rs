//! Boot ABI shared by the host tools and the library OS.
//!
//! Everything here is plain data with the names the specifications use, so that the
//! image builder (`linker/`, on the host) and the boot code (`arch/*`, in the guest)
//! agree on one definition. No code here runs anything; it only describes layouts.
#![no_std]
#![forbid(unsafe_code)]

pub mod arm64_image;
pub mod pvh;
