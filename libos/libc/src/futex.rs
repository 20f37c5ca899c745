//! Futexes (the `futex` system call, which std's `Mutex`, `Condvar`, `RwLock`, `Once` and
//! thread parking make through `syscall`): a table of waiting threads by address, on top
//! of the thread component's park/unpark.
//!
//! Without spawned threads nothing can wake a waiter: a wait with a timeout sleeps it
//! out, one without is a deadlock, reported instead of hanging.

use alloc::vec::Vec;
use core::ffi::c_long;
use core::sync::atomic::{AtomicU32, Ordering};
use libc::timespec;
use spinning_top::Spinlock;
use unik_platform::{Clock, Console, Current, Shutdown, status};
use unik_thread::ThreadId;

use crate::errno::{EAGAIN, EINVAL, ENOSYS, ETIMEDOUT, fail_long};

/// A waiting thread: the futex's address and the thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Waiter {
    address: usize,
    thread: ThreadId,
}

/// Who waits on which futex, in arrival order.
#[derive(Debug, Default)]
pub struct WaitQueue {
    waiters: Vec<Waiter>,
}

impl WaitQueue {
    /// An empty queue.
    pub const fn new() -> WaitQueue {
        WaitQueue { waiters: Vec::new() }
    }

    /// Records that `thread` waits on `address`.
    pub fn add(&mut self, address: usize, thread: ThreadId) {
        self.waiters.push(Waiter { address, thread });
    }

    /// Whether `thread` still waits on `address` (no wake took it off).
    pub fn contains(&self, address: usize, thread: ThreadId) -> bool {
        self.waiters.contains(&Waiter { address, thread })
    }

    /// Takes `thread` off (its wait timed out).
    pub fn remove(&mut self, address: usize, thread: ThreadId) {
        self.waiters.retain(|waiter| *waiter != Waiter { address, thread });
    }

    /// Takes off up to `count` of the earliest waiters on `address`; the threads.
    pub fn take(&mut self, address: usize, count: usize) -> Vec<ThreadId> {
        let mut taken = Vec::new();
        self.waiters.retain(|waiter| {
            if waiter.address == address && taken.len() < count {
                taken.push(waiter.thread);
                false
            } else {
                true
            }
        });
        taken
    }
}

static WAITERS: Spinlock<WaitQueue> = Spinlock::new(WaitQueue::new());

/// The `futex` system call: `FUTEX_WAIT` (relative timeout), `FUTEX_WAIT_BITSET`
/// (absolute monotonic timeout), `FUTEX_WAKE` and `FUTEX_WAKE_BITSET` (bitsets other than
/// all ones are not told apart), private or not; `ENOSYS` for the other operations.
///
/// # Safety
/// `address` must be a valid, aligned `u32`; `timeout` null or readable.
pub unsafe fn futex(address: *mut u32, operation: i32, value: u32, timeout: *const timespec) -> c_long {
    match operation & !(libc::FUTEX_PRIVATE_FLAG | libc::FUTEX_CLOCK_REALTIME) {
        // SAFETY: forwarded.
        libc::FUTEX_WAIT => unsafe { wait(address, value, timeout, false) },
        // SAFETY: forwarded.
        libc::FUTEX_WAIT_BITSET => unsafe { wait(address, value, timeout, true) },
        libc::FUTEX_WAKE | libc::FUTEX_WAKE_BITSET => wake(address, value),
        _ => fail_long(ENOSYS),
    }
}

/// Waits while `*address == expected`, until a [`wake`] or the timeout (an absolute
/// monotonic time if `absolute`, else relative). 0 when woken; `EAGAIN` if the value
/// differed; `ETIMEDOUT`.
///
/// # Safety
/// As for [`futex`].
unsafe fn wait(address: *mut u32, expected: u32, timeout: *const timespec, absolute: bool) -> c_long {
    if address.is_null() || !address.is_aligned() {
        return fail_long(EINVAL);
    }
    // SAFETY: checked; the caller guarantees it is a live u32 (std's atomics).
    let futex = unsafe { AtomicU32::from_ptr(address) };
    let deadline = if timeout.is_null() {
        u64::MAX
    } else {
        // SAFETY: the caller's guarantee.
        let Some(nanos) = (unsafe { crate::time::nanos(timeout) }) else {
            return fail_long(EINVAL);
        };
        if absolute {
            nanos
        } else {
            Current::now_nanos().saturating_add(nanos)
        }
    };
    let key = address as usize;
    let me = unik_thread::current();
    {
        let mut waiters = WAITERS.lock();
        if futex.load(Ordering::SeqCst) != expected {
            return fail_long(EAGAIN);
        }
        waiters.add(key, me);
    }
    loop {
        if deadline == u64::MAX && !unik_thread::scheduler_running() {
            Current::write(b"unik: deadlock: the only thread waits on a lock nothing can release\n");
            Current::exit(status::FAULT);
        }
        unik_thread::park(deadline);
        let mut waiters = WAITERS.lock();
        if !waiters.contains(key, me) {
            return 0;
        }
        if Current::now_nanos() >= deadline {
            waiters.remove(key, me);
            return fail_long(ETIMEDOUT);
        }
    }
}

/// Wakes up to `count` threads waiting on `address`; how many.
fn wake(address: *mut u32, count: u32) -> c_long {
    if address.is_null() {
        return fail_long(EINVAL);
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let woken = WAITERS.lock().take(address as usize, count);
    for &thread in &woken {
        unik_thread::unpark(thread);
    }
    woken.len() as c_long
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_take_the_earliest_waiters_of_one_address() {
        let mut queue = WaitQueue::new();
        queue.add(0x10, 2);
        queue.add(0x20, 3);
        queue.add(0x10, 4);
        queue.add(0x10, 5);
        assert_eq!(queue.take(0x10, 2), [2, 4]);
        assert!(!queue.contains(0x10, 2));
        assert!(queue.contains(0x10, 5) && queue.contains(0x20, 3));
        queue.remove(0x10, 5);
        assert_eq!(queue.take(0x10, usize::MAX), []);
        assert_eq!(queue.take(0x20, usize::MAX), [3]);
    }
}
