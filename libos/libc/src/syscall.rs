//! `syscall(2)`: the system calls std and crates make by number. The ones unik provides
//! are dispatched to their functions; every other number fails with `ENOSYS`, as a kernel
//! without that call would answer (callers such as std fall back to the C function).
//!
//! `syscall` is variadic in C. On the System V x86_64 and the Linux AArch64 calling
//! conventions a variadic call passes integer arguments exactly as a call with six fixed
//! integer arguments does, so it is defined with six.

use core::ffi::c_long;

use crate::errno::{ENOSYS, fail_long};

/// `syscall(2)`.
///
/// # Safety
/// The arguments must be what system call `number` takes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn syscall(
    number: c_long,
    a1: c_long,
    a2: c_long,
    a3: c_long,
    a4: c_long,
    _a5: c_long,
    _a6: c_long,
) -> c_long {
    match number {
        // SAFETY: the caller's guarantee.
        libc::SYS_futex => unsafe { crate::futex::futex(a1 as *mut u32, a2 as i32, a3 as u32, a4 as *const _) },
        // SAFETY: the caller's guarantee.
        libc::SYS_getrandom => unsafe { crate::random::getrandom(a1 as *mut _, a2 as usize, a3 as u32) as c_long },
        libc::SYS_gettid => crate::thread::gettid().into(),
        libc::SYS_getpid => 1,
        _ => fail_long(ENOSYS),
    }
}
