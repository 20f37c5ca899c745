//! What unik does not provide: files and directories, memory mapping, semaphores, event
//! descriptors, `poll`, duplicated descriptors and Hermit's internal task queues. Each
//! fails with `ENOSYS` (std reports "Function not implemented" as an `Err`); the few
//! without a result do nothing.

use core::ffi::c_char;
use hermit_abi::{Tid, dirent64, pollfd, sem_t, stat, timespec};

use crate::errno::{ENOSYS, fail};

/// Defines each function to record and return `-ENOSYS` (as `i32`, `isize` or `i64`).
macro_rules! not_provided {
    ($($(#[$meta:meta])* fn $name:ident($($ty:ty),*) -> $ret:ty;)*) => {$(
        $(#[$meta])*
        #[unsafe(no_mangle)]
        pub extern "C" fn $name($(_: $ty),*) -> $ret {
            fail(ENOSYS) as $ret
        }
    )*};
}

not_provided! {
    /// Files: no file system.
    fn sys_open(*const c_char, i32, i32) -> i32;
    /// Directories: no file system.
    fn sys_opendir(*const c_char) -> i32;
    /// Files: no file system.
    fn sys_unlink(*const c_char) -> i32;
    /// Directories: no file system.
    fn sys_rmdir(*const c_char) -> i32;
    /// Directories: no file system.
    fn sys_mkdir(*const i8, u32) -> i32;
    /// Files: no file system.
    fn sys_stat(*const c_char, *mut stat) -> i32;
    /// Files: no file system.
    fn sys_lstat(*const c_char, *mut stat) -> i32;
    /// Descriptors carry no file metadata.
    fn sys_fstat(i32, *mut stat) -> i32;
    /// Directories: no file system.
    fn sys_getdents64(i32, *mut dirent64, usize) -> i64;
    /// Descriptors cannot seek.
    fn sys_lseek(i32, isize, i32) -> isize;
    /// Descriptors cannot be duplicated (`try_clone`).
    fn sys_dup(i32) -> i32;
    /// Descriptor flags are not kept.
    fn sys_fcntl(i32, i32, i32) -> i32;
    /// No event descriptors.
    fn sys_eventfd(u64, i16) -> i32;
    /// No readiness polling (`TcpStream::connect_timeout`).
    fn sys_poll(*mut pollfd, usize, i32) -> i32;
    /// No memory mapping: memory comes from the heap.
    fn sys_mmap(usize, u32, &mut *mut u8) -> i32;
    /// No memory mapping.
    fn sys_munmap(*mut u8, usize) -> i32;
    /// No memory mapping.
    fn sys_mprotect(*mut u8, usize, u32) -> i32;
    /// No semaphores (std uses futexes).
    fn sys_sem_init(*mut sem_t, i32, u32) -> i32;
    /// No semaphores.
    fn sys_sem_destroy(*mut sem_t) -> i32;
    /// No semaphores.
    fn sys_sem_post(*mut sem_t) -> i32;
    /// No semaphores.
    fn sys_sem_trywait(*mut sem_t) -> i32;
    /// No semaphores.
    fn sys_sem_timedwait(*mut sem_t, *const timespec) -> i32;
    /// Hermit's internal wait queues.
    fn sys_notify(usize, i32) -> i32;
    /// Hermit's internal wait queues.
    fn sys_add_queue(usize, i64) -> i32;
    /// Hermit's internal wait queues.
    fn sys_wait(usize) -> i32;
    /// Hermit's internal wait queues.
    fn sys_init_queue(usize) -> i32;
    /// Hermit's internal wait queues.
    fn sys_destroy_queue(usize) -> i32;
}

/// Hermit's internal task blocking: not provided (std parks on futexes).
#[unsafe(no_mangle)]
pub extern "C" fn sys_block_current_task() {}

/// Hermit's internal task blocking: not provided.
#[unsafe(no_mangle)]
pub extern "C" fn sys_block_current_task_with_timeout(_timeout: u64) {}

/// Hermit's internal task blocking: not provided.
#[unsafe(no_mangle)]
pub extern "C" fn sys_wakeup_taskt(_id: Tid) {}
