//! Threads: std's `thread::spawn`, `join`, `yield_now`, on the thread component's
//! scheduler (reached only from here: a program that spawns nothing has none).

use hermit_abi::Tid;

use crate::errno::{EINVAL, fail};

/// Stack of a thread spawned without a size (std always gives one).
const DEFAULT_STACK: usize = 1 << 20;

/// Starts a thread running `function(argument)`; its id, or 0 when it cannot be made.
#[unsafe(no_mangle)]
pub extern "C" fn sys_spawn2(
    function: extern "C" fn(usize),
    argument: usize,
    _priority: u8,
    stack_size: usize,
    _core: isize,
) -> Tid {
    unik_thread::spawn(function, argument, stack_size).unwrap_or(0)
}

/// Starts a thread like [`sys_spawn2`] with the default stack, storing its id in `*id`.
///
/// # Safety
/// `id` must be null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_spawn(
    id: *mut Tid,
    function: extern "C" fn(usize),
    argument: usize,
    priority: u8,
    core: isize,
) -> i32 {
    match sys_spawn2(function, argument, priority, DEFAULT_STACK, core) {
        0 => fail(crate::errno::ENOMEM),
        tid => {
            // SAFETY: the caller's guarantee.
            if let Some(id) = unsafe { id.as_mut() } {
                *id = tid;
            }
            0
        }
    }
}

/// Waits for thread `id` to end.
#[unsafe(no_mangle)]
pub extern "C" fn sys_join(id: Tid) -> i32 {
    if id == unik_thread::current() {
        return fail(EINVAL);
    }
    unik_thread::join(id);
    0
}

/// Lets other threads run.
#[unsafe(no_mangle)]
pub extern "C" fn sys_yield() {
    unik_thread::yield_now()
}

/// Threads have no priorities here: all are normal.
#[unsafe(no_mangle)]
pub extern "C" fn sys_get_priority() -> u8 {
    hermit_abi::NORMAL_PRIO.into()
}

/// Priorities are not kept.
#[unsafe(no_mangle)]
pub extern "C" fn sys_set_priority(_id: Tid, _priority: u8) {}
