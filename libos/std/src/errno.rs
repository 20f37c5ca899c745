//! The last error (`sys_get_errno`) and the negative-errno return convention.
//!
//! One value for the whole program: threads switch only when they block, never between
//! a failing call and std's reading of its error.

use core::sync::atomic::{AtomicI32, Ordering};

pub use hermit_abi::errno::*;

static LAST_ERROR: AtomicI32 = AtomicI32::new(0);

/// Records `code` as the last error and returns `-code`, the failing return value.
pub fn fail(code: i32) -> i32 {
    LAST_ERROR.store(code, Ordering::Relaxed);
    -code
}

/// [`fail`] for functions returning `isize`.
pub fn fail_size(code: i32) -> isize {
    fail(code) as isize
}

/// The last error a call reported.
#[unsafe(no_mangle)]
pub extern "C" fn sys_get_errno() -> i32 {
    LAST_ERROR.load(Ordering::Relaxed)
}

/// The last error a call reported (the older name).
#[unsafe(no_mangle)]
pub extern "C" fn sys_errno() -> i32 {
    sys_get_errno()
}
