//! Rust's std on the library OS: the `sys_*` functions that std calls on the Hermit
//! targets (`x86_64-unknown-hermit`, `aarch64-unknown-hermit`; declared by the
//! `hermit-abi` crate), implemented on unik's components.
//!
//! An ordinary `fn main()` program that depends on `unik` is built for the Hermit target
//! of its architecture, std included, in one LTO build with the library OS. The image
//! starts as every unik image does; the platform then runs [`entry`]'s
//! `__unik_app_main`, which gives the first thread its thread-local storage and hands
//! the command line and environment to std's `runtime_entry`, which runs `main`.
//!
//! Each group of functions sits on one component, so an image holds only what std
//! reaches: [`memory`] on the heap, [`io`] on the console (and sockets), [`time`] on the
//! clock, [`random`] on the processor's generator, [`futex`] and [`thread`] on the thread
//! component, [`net`] on the network component. What unik does not provide (files,
//! memory mapping, semaphores, ...) returns `-ENOSYS` ([`unsupported`]): std turns it
//! into an `Err`.
//!
//! Calling convention: a failing call returns the negated `errno` value (std's `cvt`
//! turns it into an `io::Error`) and records it for `sys_get_errno`.
#![no_std]
#![allow(unsafe_code)] // The C ABI: raw pointers from std, checked before use.

extern crate alloc;

pub mod entry;
pub mod errno;
pub mod futex;
pub mod io;
pub mod memory;
pub mod net;
pub mod process;
pub mod random;
pub mod thread;
pub mod time;
pub mod unsupported;
