//! `errno`: the last error of a failing call, and the failing-return helpers.
//!
//! One value for the whole program: threads switch only when they block, never between a
//! failing call and its caller's reading of `errno`.

use core::ffi::c_int;
use core::sync::atomic::{AtomicI32, Ordering};

pub use libc::{
    EADDRINUSE, EAFNOSUPPORT, EAGAIN, EBADF, ECONNREFUSED, ECONNRESET, EFAULT, EINVAL, EIO, ENETUNREACH, ENODEV,
    ENOENT, ENOMEM, ENOSYS, ENOTCONN, ENOTSOCK, ENOTTY, EOPNOTSUPP, EPERM, ERANGE, ESPIPE, ETIMEDOUT,
};

static ERRNO: AtomicI32 = AtomicI32::new(0);

/// Where `errno` lives (the C library's `errno` macro reads through this).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn __errno_location() -> *mut c_int {
    ERRNO.as_ptr()
}

/// Sets `errno` to `code`.
pub fn set(code: c_int) {
    ERRNO.store(code, Ordering::Relaxed);
}

/// The current `errno`.
pub fn get() -> c_int {
    ERRNO.load(Ordering::Relaxed)
}

/// Sets `errno` to `code` and returns -1, a failing call's result.
pub fn fail(code: c_int) -> c_int {
    set(code);
    -1
}

/// [`fail`] for calls returning a size.
pub fn fail_size(code: c_int) -> isize {
    set(code);
    -1
}

/// [`fail`] for calls returning a `long`.
pub fn fail_long(code: c_int) -> libc::c_long {
    set(code);
    -1
}
