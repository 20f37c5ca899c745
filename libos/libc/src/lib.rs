//! The C library that Rust's std (and crates' C code) calls on the Linux musl targets
//! (`x86_64-unknown-linux-musl`, `aarch64-unknown-linux-musl`), written in Rust on unik's
//! components.
//!
//! An ordinary `fn main()` program that depends on `unik` is built for the musl target of
//! its architecture, std included, in one LTO build with the library OS; no C library is
//! linked from the host. The image starts as every unik image does; the platform then
//! runs [`start`]'s `__unik_app_main`, which gives the first thread its thread-local
//! storage, runs the `.init_array` constructors and calls the C `main` rustc generates.
//!
//! Each C function belongs to one component (the catalog names them exactly), so an image
//! holds only what the program reaches: [`memory`] on the heap, [`io`] on the console (and
//! sockets), [`time`] on the clock, [`random`] on the processor's generator, [`futex`] and
//! [`thread`] on the thread component, [`net`] on the network component, [`signal`] and
//! [`process`] on the platform, [`file`] and [`lock`] on the files component. What unik
//! does not provide (processes) fails with `ENOSYS` ([`unsupported`]), and so does every
//! system call `syscall` does not know; dynamic loading fails with its reason
//! ([`dynamic`]).
//!
//! Symbols are exported (`no_mangle`) only in images (`--cfg unik_platform`): the host's
//! unit tests keep the host's C library. Calling convention: a failing call returns -1
//! (or null) and sets `errno` ([`errno`]).
#![no_std]
#![allow(unsafe_code)] // The C ABI: raw pointers from C callers, checked before use.
#![allow(non_snake_case, non_upper_case_globals)] // C's names (`_Exit`, `__dso_handle`).

extern crate alloc;

pub mod descriptor;
pub mod dynamic;
pub mod errno;
pub mod events;
pub mod file;
pub mod futex;
pub mod io;
pub mod lock;
pub mod math;
pub mod memory;
pub mod net;
pub mod pipe;
pub mod process;
pub mod random;
pub mod shared_file;
pub mod signal;
pub mod start;
pub mod string;
pub mod syscall;
pub mod text;
pub mod thread;
pub mod time;
pub mod unsupported;
pub mod wait;
