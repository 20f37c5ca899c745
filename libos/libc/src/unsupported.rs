//! What unik does not provide yet: files and directories (no file system until the
//! storage component) and processes (a VM runs one program). Each call fails with
//! `ENOSYS`, which std reports as an `Err` ("Function not implemented").
//!
//! The arguments are read as integers: a failing call looks at none of them, and on the
//! supported calling conventions integer and pointer arguments travel alike.

use core::ffi::{c_int, c_void};

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

/// Defines each function to set `errno` to `ENOSYS` and return null.
macro_rules! null_with_enosys {
    ($($(#[$meta:meta])* fn $name:ident;)*) => {$(
        $(#[$meta])*
        #[cfg_attr(unik_platform, unsafe(no_mangle))]
        pub extern "C" fn $name(_: usize, _: usize) -> *mut c_void {
            errno::set(ENOSYS);
            core::ptr::null_mut()
        }
    )*};
}

fail_with_enosys! {
    /// `open(2)`: no file system.
    fn open -> c_int;
    /// `openat(2)`: no file system.
    fn openat -> c_int;
    /// `stat(2)`: no file system.
    fn stat -> c_int;
    /// `lstat(2)`: no file system.
    fn lstat -> c_int;
    /// `fstatat(2)`: no file system.
    fn fstatat -> c_int;
    /// `readlink(2)`: no file system.
    fn readlink -> isize;
    /// `mkdir(2)`: no file system.
    fn mkdir -> c_int;
    /// `rmdir(2)`: no file system.
    fn rmdir -> c_int;
    /// `unlink(2)`: no file system.
    fn unlink -> c_int;
    /// `rename(2)`: no file system.
    fn rename -> c_int;
    /// `chdir(2)`: no file system.
    fn chdir -> c_int;
    /// `fsync(2)`: nothing to sync.
    fn fsync -> c_int;
    /// `fdatasync(2)`: nothing to sync.
    fn fdatasync -> c_int;
    /// `ftruncate(2)`: no file system.
    fn ftruncate -> c_int;
    /// `fork(2)`: one program per VM.
    fn fork -> c_int;
    /// `execvp(3)`: one program per VM.
    fn execvp -> c_int;
    /// `waitpid(2)`: no child processes.
    fn waitpid -> c_int;
    /// `kill(2)`: no other process.
    fn kill -> c_int;
}

null_with_enosys! {
    /// `realpath(3)`: no file system.
    fn realpath;
    /// `opendir(3)`: no file system.
    fn opendir;
    /// `fdopendir(3)`: no file system.
    fn fdopendir;
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

/// `waitid(2)`: there are no child processes to wait for (`ECHILD`).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn waitid(_: usize, _: usize, _: usize, _: usize) -> c_int {
    errno::set(libc::ECHILD);
    -1
}
