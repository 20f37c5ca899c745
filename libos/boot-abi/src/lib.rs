//! Boot ABI shared by the host tools and the library OS.
//!
//! Everything here is plain data with the names the specifications use, so that the
//! image builder (`linker/`, on the host) and the boot code (`arch/*`, in the guest)
//! agree on one definition. No code here runs anything; it only describes layouts.
#![no_std]
#![forbid(unsafe_code)]

pub mod arm64_image;
pub mod pvh;

/// How a guest whose exit status cannot leave the VM any other way reports it: its last
/// console line is this prefix and the status in decimal (`unik: exit status 101`). The
/// platforms print it, and the runner reads it.
pub const EXIT_STATUS_PREFIX: &str = "unik: exit status ";
