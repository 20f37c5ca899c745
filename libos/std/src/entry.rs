//! The program's start: TLS for the first thread, then std's `runtime_entry` with the
//! command line as `argv` and the `unik.env.NAME=VALUE` words as the environment.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ffi::c_char;

unsafe extern "C" {
    /// std's entry on the Hermit targets: stores the environment, runs the C `main`
    /// rustc generates for the program (which stores `argv` and runs `fn main`), runs
    /// the thread-local destructors and calls `sys_exit` with main's status.
    fn runtime_entry(argc: i32, argv: *const *const c_char, env: *const *const c_char) -> !;
}

/// `argv[0]`: the binary's name, which `unik build` passes at compile time.
const PROGRAM_NAME: &str = match option_env!("UNIK_PROGRAM_NAME") {
    Some(name) => name,
    None => "unik",
};

/// What the platform runs once the machine is set up (the symbol `#[unik::main]`
/// defines in `no_std` applications).
#[unsafe(no_mangle)]
fn __unik_app_main() -> i32 {
    unik_thread::tls::init_main_thread();
    let (argc, argv) = c_strings(core::iter::once(PROGRAM_NAME).chain(unik_args::args()));
    let (_, env) = c_strings(unik_args::environment());
    let argc = i32::try_from(argc).unwrap_or(i32::MAX);
    // SAFETY: both arrays are NUL-terminated arrays of NUL-terminated strings that live
    // for the rest of the program.
    unsafe { runtime_entry(argc, argv, env) }
}

/// `words` as a leaked, null-terminated array of leaked C strings; how many.
fn c_strings<'a>(words: impl Iterator<Item = &'a str>) -> (usize, *const *const c_char) {
    let mut pointers: Vec<*const c_char> = Vec::new();
    for word in words {
        let mut bytes = Vec::with_capacity(word.len() + 1);
        bytes.extend_from_slice(word.as_bytes());
        bytes.push(0);
        pointers.push(Box::leak(bytes.into_boxed_slice()).as_ptr().cast());
    }
    let count = pointers.len();
    pointers.push(core::ptr::null());
    (count, Box::leak(pointers.into_boxed_slice()).as_ptr())
}
