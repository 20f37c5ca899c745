//! Dynamic loading (`dlopen` and its family): an image is one statically linked program,
//! with no shared objects to load and no symbol table kept for looking names up, so every
//! call fails and `dlerror` says why. C code that can load optional libraries (SQLite's
//! extensions) links, and sees the failure it already handles.

use core::ffi::{CStr, c_char, c_int, c_void};
use core::sync::atomic::{AtomicU8, Ordering};

/// The error `dlerror` reports next: none, or which call failed.
static PENDING: AtomicU8 = AtomicU8::new(NONE);
const NONE: u8 = 0;
const OPEN: u8 = 1;
const SYMBOL: u8 = 2;
const CLOSE: u8 = 3;

/// The text `dlerror` gives for each error.
fn message(error: u8) -> Option<&'static CStr> {
    Some(match error {
        OPEN => c"dlopen: a unik image is one statically linked program: there are no shared objects to load",
        SYMBOL => c"dlsym: a unik image keeps no symbol table to look names up in",
        CLOSE => c"dlclose: not a handle dlopen returned (it returns none)",
        _ => return None,
    })
}

/// `dlopen(3)`: null; see [`dlerror`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn dlopen(_file: *const c_char, _flags: c_int) -> *mut c_void {
    PENDING.store(OPEN, Ordering::Relaxed);
    core::ptr::null_mut()
}

/// `dlsym(3)`: null; see [`dlerror`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn dlsym(_handle: *mut c_void, _name: *const c_char) -> *mut c_void {
    PENDING.store(SYMBOL, Ordering::Relaxed);
    core::ptr::null_mut()
}

/// `dlclose(3)`: no handle is valid, as `dlopen` returns none.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn dlclose(_handle: *mut c_void) -> c_int {
    PENDING.store(CLOSE, Ordering::Relaxed);
    -1
}

/// `dlerror(3)`: what the last failed call says, once; null when there is nothing new.
/// One text for the program rather than one per thread: threads switch only when they
/// block, so a `dl*` call and the `dlerror` after it are not split.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn dlerror() -> *mut c_char {
    message(PENDING.swap(NONE, Ordering::Relaxed)).map_or(core::ptr::null_mut(), |text| text.as_ptr().cast_mut())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_fails_and_dlerror_says_so_once() {
        assert!(dlerror().is_null());
        assert!(dlopen(c"libm.so.6".as_ptr(), 0).is_null());
        // SAFETY: `dlerror` returns a static NUL-terminated text.
        let text = unsafe { CStr::from_ptr(dlerror()) };
        assert!(text.to_str().unwrap().starts_with("dlopen: "));
        assert!(dlerror().is_null(), "read once");
        assert!(dlsym(core::ptr::null_mut(), c"sqrt".as_ptr()).is_null());
        assert_eq!(dlclose(core::ptr::null_mut()), -1);
        // SAFETY: as above.
        assert!(
            unsafe { CStr::from_ptr(dlerror()) }
                .to_str()
                .unwrap()
                .starts_with("dlclose: ")
        );
    }
}
