//! The thread component: threads with their own stacks and thread-local storage, switched
//! cooperatively on one CPU.
//!
//! Two layers, so that a program pays only for what it reaches:
//!
//! - [`park`], [`unpark`], [`current`] and [`set_idle_work`] are always cheap: until the
//!   first [`spawn`] there is one thread, and parking just halts the CPU until the
//!   deadline or an interrupt. They reach the scheduler only through a table of function
//!   pointers that [`spawn`] installs, so a program that never spawns carries no
//!   scheduler.
//! - The scheduler ([`spawn`], [`join`], [`yield_now`]): each thread has a heap stack with
//!   an unmapped guard page below it (an overflow faults at once and is reported as
//!   "stack overflow in thread N (NAME)") and a TLS block ([`tls`]); a thread runs until
//!   it parks, yields or ends. When no thread
//!   can run, the *idle work* (the network stack's polling, registered by the task
//!   component) runs, and the CPU halts until the earliest deadline or an interrupt.
//!
//! Nothing runs in interrupt handlers: interrupts only end the halt.
#![no_std]

extern crate alloc;

mod names;
mod scheduler;
pub mod tls;

pub use names::{forget_name, name_of, set_name};
pub use scheduler::GUARD_SIZE;
pub use scheduler::{SpawnError, join, spawn, yield_now};

use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use unik_platform::{Clock, Current};

/// A thread's number: the first thread is [`MAIN_THREAD`], spawned ones count up from 2
/// and are never reused.
pub type ThreadId = u32;

/// The thread the program started on.
pub const MAIN_THREAD: ThreadId = 1;

/// What the scheduler provides once installed.
struct Hooks {
    current: fn() -> ThreadId,
    park: fn(u64),
    unpark: fn(ThreadId),
    stack: fn(ThreadId) -> Option<StackExtent>,
}

/// Where a spawned thread's stack lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackExtent {
    /// The lowest address the stack may use.
    pub bottom: usize,
    /// Bytes from `bottom` to the top.
    pub size: usize,
    /// Bytes of the unmapped guard page just below `bottom` (0 where the platform could
    /// not unmap one: the stack's canary is then checked at each switch).
    pub guard: usize,
}

/// The scheduler's hooks; null until the first [`spawn`].
static HOOKS: AtomicPtr<Hooks> = AtomicPtr::new(core::ptr::null_mut());
/// An [`unpark`] of the only thread that arrived before it parked.
static MAIN_UNPARKED: AtomicBool = AtomicBool::new(false);
/// The idle work, as a `fn() -> Option<u64>` address; 0 = none.
static IDLE_WORK: AtomicUsize = AtomicUsize::new(0);

fn hooks() -> Option<&'static Hooks> {
    // SAFETY: only `scheduler::install` stores, and it stores a pointer to a static.
    unsafe { HOOKS.load(Ordering::Acquire).as_ref() }
}

/// Whether threads have been spawned (and the scheduler runs).
pub fn scheduler_running() -> bool {
    hooks().is_some()
}

/// The running thread.
pub fn current() -> ThreadId {
    hooks().map_or(MAIN_THREAD, |hooks| (hooks.current)())
}

/// Where spawned thread `id`'s stack lies; `None` for the main thread (it runs on the
/// boot stack) and for threads that do not exist.
pub fn stack_of(id: ThreadId) -> Option<StackExtent> {
    hooks().and_then(|hooks| (hooks.stack)(id))
}

/// Blocks the running thread until [`unpark`] names it, `deadline` passes (in
/// `Clock::now_nanos` time; `u64::MAX`: none), or, possibly, for no reason: callers
/// re-check their condition and park again. An `unpark` that arrived since the last
/// park makes this return at once.
pub fn park(deadline: u64) {
    match hooks() {
        Some(hooks) => (hooks.park)(deadline),
        None => {
            if !MAIN_UNPARKED.swap(false, Ordering::AcqRel) {
                Current::wait_until(deadline);
            }
        }
    }
}

/// Makes thread `id` runnable if it is parked, or its next [`park`] return at once.
pub fn unpark(id: ThreadId) {
    match hooks() {
        Some(hooks) => (hooks.unpark)(id),
        None => MAIN_UNPARKED.store(true, Ordering::Release),
    }
}

/// Registers the work to do when no thread can run (at most one: the task component's
/// event sources and timers): it may unpark threads, and returns its next deadline.
pub fn set_idle_work(work: fn() -> Option<u64>) {
    IDLE_WORK.store(work as usize, Ordering::Release);
}

fn idle_work() -> Option<u64> {
    let address = IDLE_WORK.load(Ordering::Acquire);
    if address == 0 {
        return None;
    }
    // SAFETY: only `set_idle_work` stores, and it stores a `fn() -> Option<u64>`.
    let work: fn() -> Option<u64> = unsafe { core::mem::transmute(address) };
    work()
}

/// Whether idle work is registered (something outside the threads may wake them).
fn has_idle_work() -> bool {
    IDLE_WORK.load(Ordering::Acquire) != 0
}

/// Sleeps the running thread until `deadline` (other threads run meanwhile).
pub fn sleep_until(deadline: u64) {
    while Current::now_nanos() < deadline {
        park(deadline);
    }
}
