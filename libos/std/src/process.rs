//! The program as a process: exit, abort, its id, the CPUs it has.

use unik_platform::{Current, Shutdown, status};

/// Ends the VM with `status` (std has flushed its buffers).
#[unsafe(no_mangle)]
pub extern "C" fn sys_exit(status: i32) -> ! {
    Current::exit(status)
}

/// Ends the VM with [`status::PANIC`], as a panicking Rust program ends: std images are
/// built with `panic = "abort"`, so every std panic (whose message std has printed)
/// arrives here, as does `std::process::abort`.
#[unsafe(no_mangle)]
pub extern "C" fn sys_abort() -> ! {
    Current::exit(status::PANIC)
}

/// The process id: the VM runs one program.
#[unsafe(no_mangle)]
pub extern "C" fn sys_getpid() -> i32 {
    1
}

/// CPUs the program may use: threads run on one.
#[unsafe(no_mangle)]
pub extern "C" fn sys_available_parallelism() -> usize {
    1
}

/// CPUs the program may use (the older name).
#[unsafe(no_mangle)]
pub extern "C" fn sys_get_processor_count() -> usize {
    1
}
