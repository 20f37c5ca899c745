//! What unik does not provide: processes (a VM runs one program), and the kernel's
//! copying between descriptors (`sendfile`, `splice`). Each call fails with
//! `ENOSYS`, which std reports as an `Err` ("Function not implemented").
//!
//! The arguments are read as integers: a failing call looks at none of them, and on the
//! supported calling conventions integer and pointer arguments travel alike.

use core::ffi::c_int;

use crate::errno::{self, ENOSYS};

/// Defines each function to set `errno` to `ENOSYS` and return -1.
macro_rules! fail_with_enosys {
    ($($(#[$meta:meta])* fn $name:ident -> $ret:ty;)*) => {$(
        $(#[$meta])*
        #[cfg_attr(unik_platform, unsafe(no_mangle))]
        pub extern "C" fn $name(_: usize, _: usize, _: usize, _: usize) -> $ret {
            errno::set(ENOSYS);
            -1
        }
    )*};
}

fail_with_enosys! {
    /// `fork(2)`: one program per VM.
    fn fork -> c_int;
    /// `execvp(3)`: one program per VM.
    fn execvp -> c_int;
    /// `waitpid(2)`: no child processes.
    fn waitpid -> c_int;
    /// `kill(2)`: no other process.
    fn kill -> c_int;
    /// `sendfile(2)`: std's `io::copy` then copies with `read` and `write`.
    fn sendfile -> isize;
}

/// Defines each function to succeed (0) without doing anything: the set-up calls of
/// `posix_spawn`, whose spawning itself fails.
macro_rules! accepted {
    ($($(#[$meta:meta])* fn $name:ident;)*) => {$(
        $(#[$meta])*
        #[cfg_attr(unik_platform, unsafe(no_mangle))]
        pub extern "C" fn $name(_: usize, _: usize, _: usize) -> c_int {
            0
        }
    )*};
}

accepted! {
    /// `posix_spawnattr_init(3)`.
    fn posix_spawnattr_init;
    /// `posix_spawnattr_destroy(3)`.
    fn posix_spawnattr_destroy;
    /// `posix_spawnattr_setflags(3)`.
    fn posix_spawnattr_setflags;
    /// `posix_spawnattr_setsigdefault(3)`.
    fn posix_spawnattr_setsigdefault;
    /// `posix_spawnattr_setsigmask(3)`.
    fn posix_spawnattr_setsigmask;
    /// `posix_spawnattr_setpgroup(3)`.
    fn posix_spawnattr_setpgroup;
    /// `posix_spawn_file_actions_init(3)`.
    fn posix_spawn_file_actions_init;
    /// `posix_spawn_file_actions_destroy(3)`.
    fn posix_spawn_file_actions_destroy;
    /// `posix_spawn_file_actions_adddup2(3)`.
    fn posix_spawn_file_actions_adddup2;
    /// `posix_spawn_file_actions_addchdir_np(3)`.
    fn posix_spawn_file_actions_addchdir_np;
}

/// `posix_spawnp(3)`: one program per VM; the error is the result, as POSIX has it.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn posix_spawnp(_: usize, _: usize, _: usize, _: usize, _: usize, _: usize) -> c_int {
    ENOSYS
}

/// `posix_spawn(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn posix_spawn(_: usize, _: usize, _: usize, _: usize, _: usize, _: usize) -> c_int {
    ENOSYS
}

/// `splice(2)`: as `sendfile` (six arguments).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn splice(_: usize, _: usize, _: usize, _: usize, _: usize, _: usize) -> isize {
    errno::set(ENOSYS);
    -1
}

/// `waitid(2)`: there are no child processes to wait for (`ECHILD`).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn waitid(_: usize, _: usize, _: usize, _: usize) -> c_int {
    errno::set(libc::ECHILD);
    -1
}
