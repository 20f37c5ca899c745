//! The console component: `print!`, `println!`, `eprint!` and `eprintln!`.
//!
//! Output goes to the platform console unbuffered. A format string without arguments is
//! written directly, so an application that only prints literals carries no `core::fmt`
//! formatting code.
#![no_std]
#![forbid(unsafe_code)]

use core::fmt;
use unik_platform::{Console, Current};

/// Writes `text` to the console.
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub fn write_str(text: &str) {
    Current::write(text.as_bytes());
}

/// Writes `bytes` (not necessarily UTF-8: std's standard output) to the console.
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub fn write_bytes(bytes: &[u8]) {
    Current::write(bytes);
}

/// A [`fmt::Write`] sink for the console.
pub struct ConsoleWriter;

impl fmt::Write for ConsoleWriter {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        write_str(text);
        Ok(())
    }
}

#[doc(hidden)]
#[inline(always)]
pub fn _print(args: fmt::Arguments<'_>) {
    match args.as_str() {
        Some(text) => write_str(text),
        None => {
            let _ = fmt::write(&mut ConsoleWriter, args);
        }
    }
}

#[doc(hidden)]
#[inline(always)]
pub fn _println(args: fmt::Arguments<'_>) {
    _print(args);
    write_str("\n");
}

/// Prints to the console, like std's `print!`.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::_print(::core::format_args!($($arg)*)) };
}

/// Prints to the console with a newline, like std's `println!`.
#[macro_export]
macro_rules! println {
    () => { $crate::write_str("\n") };
    ($($arg:tt)*) => { $crate::_println(::core::format_args!($($arg)*)) };
}

/// Prints to the console; unikernels have one output stream, shared with `print!`.
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::_print(::core::format_args!($($arg)*)) };
}

/// Prints to the console with a newline; the same stream as `println!`.
#[macro_export]
macro_rules! eprintln {
    () => { $crate::write_str("\n") };
    ($($arg:tt)*) => { $crate::_println(::core::format_args!($($arg)*)) };
}
