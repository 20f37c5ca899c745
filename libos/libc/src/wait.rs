//! Waiting for objects in the descriptor table: a thread that must wait for a socket,
//! an eventfd or a pipe parks in the task executor until an object it watches may have
//! changed (see [`crate::descriptor::File::watch`]) or its deadline passes.

use alloc::sync::Arc;
use alloc::task::Wake;
use core::ffi::c_int;
use core::task::{Poll, Waker};
use core::time::Duration;
use unik_platform::{Clock, Current};

use crate::descriptor::{self, File, Watchers};

/// Passes a wake on to whoever waits at the moment.
#[derive(Default)]
pub(crate) struct Notify {
    pub(crate) waiters: Watchers,
}

impl Wake for Notify {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.waiters.wake_all();
    }
}

/// Runs `ready` until it says yes, waking when one of `files` may have changed, or until
/// `deadline` (`u64::MAX`: none) passes. The waiting thread parks; others run.
pub(crate) fn wait_for_any(files: &[&dyn File], ready: &mut dyn FnMut() -> bool, deadline: u64) {
    let notify = Arc::new(Notify::default());
    let waker = Waker::from(notify.clone());
    files.iter().for_each(|file| file.watch(&waker));
    wait_on(&notify, ready, deadline);
    files.iter().for_each(|file| file.unwatch(&waker));
}

/// Polls `ready` in the executor until it says yes or `deadline` passes, woken through
/// `notify`.
pub(crate) fn wait_on(notify: &Notify, ready: &mut dyn FnMut() -> bool, deadline: u64) {
    let mut registered: Option<Waker> = None;
    let wait = core::future::poll_fn(|context| {
        if registered
            .as_ref()
            .is_none_or(|known| !known.will_wake(context.waker()))
        {
            notify.waiters.add(context.waker());
            registered = Some(context.waker().clone());
        }
        if ready() { Poll::Ready(()) } else { Poll::Pending }
    });
    if deadline == u64::MAX {
        unik_task::block_on(wait);
    } else {
        let left = deadline.saturating_sub(Current::now_nanos());
        let _ = unik_task::block_on(unik_task::timeout(Duration::from_nanos(left), wait));
    }
    if let Some(waker) = registered {
        notify.waiters.remove(&waker);
    }
}

/// The deadline `timeout_ms` milliseconds from now (negative: none).
pub(crate) fn deadline_after(timeout_ms: c_int) -> u64 {
    match u64::try_from(timeout_ms) {
        Ok(ms) => Current::now_nanos().saturating_add(ms.saturating_mul(1_000_000)),
        Err(_) => u64::MAX,
    }
}

/// Makes `poll` able to wait for objects other than the console: every object that can
/// be waited for calls this when it is made.
pub(crate) fn enable_waiting() {
    descriptor::install_waiting(wait_for_any);
}
