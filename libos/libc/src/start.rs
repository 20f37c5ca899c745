//! The program's start, as a C runtime starts a Linux program: thread-local storage for
//! the first thread, the `.init_array` constructors, `environ`, then the C `main` rustc
//! generates (`main(argc, argv, envp)`, which stores the arguments and runs `fn main`),
//! and `exit` with its status.
//!
//! `argv` is the program's name followed by the command line's words; the environment is
//! the `unik.env.NAME=VALUE` words.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ffi::c_char;

#[cfg(unik_platform)]
unsafe extern "C" {
    /// The C `main` rustc generates for the program.
    fn main(argc: core::ffi::c_int, argv: *const *const c_char, envp: *const *const c_char) -> core::ffi::c_int;
}

/// `argv[0]`: the binary's name, which `unik build` passes at compile time.
#[cfg(unik_platform)]
const PROGRAM_NAME: &str = match option_env!("UNIK_PROGRAM_NAME") {
    Some(name) => name,
    None => "unik",
};

/// The environment, as C reads it (`getenv`, and std's `env::vars`).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
#[allow(non_upper_case_globals)]
pub static mut environ: *const *const c_char = core::ptr::null();

/// What the platform runs once the machine is set up (the symbol `#[unik::main]`
/// defines in `no_std` applications).
#[cfg(unik_platform)]
#[unsafe(no_mangle)]
fn __unik_app_main() -> i32 {
    unik_thread::tls::init_main_thread();
    run_constructors();
    let (argc, argv) = c_strings(core::iter::once(PROGRAM_NAME).chain(unik_args::args()));
    let (_, envp) = c_strings(unik_args::environment());
    // SAFETY: set once, before anything reads it.
    unsafe { environ = envp };
    let argc = core::ffi::c_int::try_from(argc).unwrap_or(core::ffi::c_int::MAX);
    // SAFETY: both arrays are NUL-terminated arrays of NUL-terminated strings that live
    // for the rest of the program.
    let status = unsafe { main(argc, argv, envp) };
    crate::process::exit(status)
}

/// Runs the functions of `.init_array` in order (constructors of crates that have them).
#[cfg(unik_platform)]
fn run_constructors() {
    unsafe extern "C" {
        static __init_array_start: [extern "C" fn(); 0];
        static __init_array_end: [extern "C" fn(); 0];
    }
    // SAFETY: the linker script places every `.init_array` entry between the two symbols.
    unsafe {
        let mut entry = (&raw const __init_array_start).cast::<extern "C" fn()>();
        let end = (&raw const __init_array_end).cast::<extern "C" fn()>();
        while entry < end {
            (entry.read())();
            entry = entry.add(1);
        }
    }
}

/// `words` as a leaked, null-terminated array of leaked C strings; how many.
pub fn c_strings<'a>(words: impl Iterator<Item = &'a str>) -> (usize, *const *const c_char) {
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

/// `getenv(3)`.
///
/// # Safety
/// `name` must be a NUL-terminated string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn getenv(name: *const c_char) -> *mut c_char {
    if name.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: the caller's guarantee.
    let name = unsafe { core::ffi::CStr::from_ptr(name) }.to_bytes();
    // SAFETY: `environ` is set once at start, to a null-terminated array of C strings.
    let mut entry = unsafe { environ };
    if entry.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: as above: every entry up to the null one is a C string.
    unsafe {
        while !(*entry).is_null() {
            let text = core::ffi::CStr::from_ptr(*entry).to_bytes();
            if text.len() > name.len() && text.starts_with(name) && text[name.len()] == b'=' {
                return (*entry).add(name.len() + 1).cast_mut();
            }
            entry = entry.add(1);
        }
    }
    core::ptr::null_mut()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_a_null_terminated_array_of_c_strings() {
        let (count, array) = c_strings(["prog", "a b"].into_iter());
        assert_eq!(count, 2);
        // SAFETY: `c_strings` made a null-terminated array of C strings.
        unsafe {
            assert_eq!(core::ffi::CStr::from_ptr(*array).to_bytes(), b"prog");
            assert_eq!(core::ffi::CStr::from_ptr(*array.add(1)).to_bytes(), b"a b");
            assert!((*array.add(2)).is_null());
        }
    }
}
