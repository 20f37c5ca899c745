//! The task component: a cooperative executor for `async` code, with timers.
//!
//! One CPU runs everything: [`block_on`] polls the future it is given and every task
//! [`spawn`]ed since, each only when something woke it. When nothing is ready it lets the
//! *event sources* (the network stack, registered with [`add_event_source`]) do their
//! work, which may wake tasks; if that wakes nobody, it halts the CPU until the earliest
//! deadline (of a timer or a source) or a device interrupt. An idle program therefore
//! uses no CPU, and no code polls in a loop.
//!
//! Tasks are `Send` boxes in a slab; wakers are `Arc`s holding a task's slot, so waking
//! never allocates. The executor never runs code from an interrupt handler: interrupts
//! only end the CPU's halt.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::{Pin, pin};
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use spinning_top::Spinlock;
use unik_platform::{Clock, Current};
use unik_thread::{MAIN_THREAD, ThreadId};

/// A task's future.
type BoxedTask = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Wakes one task (or the future of [`block_on`], slot [`MAIN`]): queues its slot once.
struct TaskWaker {
    slot: usize,
    queued: AtomicBool,
    /// The thread running the `block_on` (for slot [`MAIN`]), unparked when woken.
    thread: ThreadId,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            if self.slot == MAIN {
                unik_thread::unpark(self.thread);
            } else {
                READY.lock().push_back(self.slot);
            }
        }
    }
}

/// The slot standing for the future [`block_on`] runs.
const MAIN: usize = usize::MAX;

/// A spawned task: its future (absent while it is being polled) and its waker.
type TaskEntry = (Option<BoxedTask>, Arc<TaskWaker>);
/// A timer: its deadline and the waker to call then (taken once called).
type TimerEntry = (u64, Option<Waker>);

/// Spawned tasks by slot.
static TASKS: Spinlock<Vec<Option<TaskEntry>>> = Spinlock::new(Vec::new());
/// Slots of woken tasks, in waking order.
static READY: Spinlock<VecDeque<usize>> = Spinlock::new(VecDeque::new());
/// Timers by slot.
static TIMERS: Spinlock<Vec<Option<TimerEntry>>> = Spinlock::new(Vec::new());

/// How many event sources [`add_event_source`] keeps.
const MAX_EVENT_SOURCES: usize = 4;

/// A source of events (such as a NIC with its protocol stack): does whatever work has
/// arrived, waking the tasks concerned, and returns when it next needs to run (in
/// `Clock::now_nanos` time), if it has a deadline of its own.
pub type EventSource = fn() -> Option<u64>;

static EVENT_SOURCES: Spinlock<[Option<EventSource>; MAX_EVENT_SOURCES]> = Spinlock::new([None; MAX_EVENT_SOURCES]);

/// Has the executor run `source` whenever it is idle (before halting and after waking),
/// and after each round of tasks. Adding the same source again does nothing; `false` when
/// the table is full.
pub fn add_event_source(source: EventSource) -> bool {
    let mut sources = EVENT_SOURCES.lock();
    if sources
        .iter()
        .flatten()
        .any(|known| core::ptr::fn_addr_eq(*known, source))
    {
        return true;
    }
    match sources.iter_mut().find(|slot| slot.is_none()) {
        Some(slot) => {
            *slot = Some(source);
            true
        }
        None => false,
    }
}

/// Runs `future` as a task of its own, next to the one [`block_on`] runs. The task runs
/// while some `block_on` runs; it is dropped when it completes.
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub fn spawn(future: impl Future<Output = ()> + Send + 'static) {
    let future: BoxedTask = Box::pin(future);
    let mut tasks = TASKS.lock();
    let slot = tasks.iter().position(Option::is_none).unwrap_or_else(|| {
        tasks.push(None);
        tasks.len() - 1
    });
    let waker = Arc::new(TaskWaker {
        slot,
        queued: AtomicBool::new(true),
        thread: MAIN_THREAD,
    });
    tasks[slot] = Some((Some(future), waker));
    drop(tasks);
    READY.lock().push_back(slot);
}

/// Polls the tasks woken so far (not those they wake in turn); whether any ran.
fn run_ready_tasks() -> bool {
    let woken = core::mem::take(&mut *READY.lock());
    let ran = !woken.is_empty();
    for slot in woken {
        let taken = TASKS.lock().get_mut(slot).and_then(|entry| {
            let (future, waker) = entry.as_mut()?;
            Some((future.take()?, waker.clone()))
        });
        let Some((mut future, waker)) = taken else {
            continue;
        };
        waker.queued.store(false, Ordering::Release);
        let done = future
            .as_mut()
            .poll(&mut Context::from_waker(&Waker::from(waker)))
            .is_ready();
        let mut tasks = TASKS.lock();
        if done {
            tasks[slot] = None;
        } else if let Some((place, _)) = tasks[slot].as_mut() {
            *place = Some(future);
        }
    }
    ran
}

/// Wakes the timers whose deadline has passed; the earliest deadline still to come.
fn fire_timers(now: u64) -> Option<u64> {
    let mut next: Option<u64> = None;
    for (deadline, waker) in TIMERS.lock().iter_mut().flatten() {
        if *deadline <= now {
            if let Some(waker) = waker.take() {
                waker.wake();
            }
        } else if waker.is_some() {
            next = Some(next.map_or(*deadline, |next| next.min(*deadline)));
        }
    }
    next
}

/// Runs every event source; the earliest deadline they ask for.
fn run_event_sources() -> Option<u64> {
    let sources = *EVENT_SOURCES.lock();
    sources.iter().flatten().filter_map(|source| source()).min()
}

/// Runs `future` to completion on this CPU, together with the spawned tasks, halting the
/// CPU whenever none of them can make progress. The blocking form of any `async`
/// operation: `block_on(socket.recv_from(&mut buffer))`.
///
/// With threads, the waiting thread parks (other threads run), and the thread
/// component's idle loop runs the event sources and timers when no thread can.
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    unik_thread::set_idle_work(idle_work);
    let main = Arc::new(TaskWaker {
        slot: MAIN,
        queued: AtomicBool::new(true),
        thread: unik_thread::current(),
    });
    let waker = Waker::from(main.clone());
    let mut context = Context::from_waker(&waker);
    loop {
        if main.queued.swap(false, Ordering::AcqRel)
            && let Poll::Ready(output) = future.as_mut().poll(&mut context)
        {
            return output;
        }
        let ran = run_ready_tasks();
        let source_deadline = run_event_sources();
        let timer_deadline = fire_timers(Current::now_nanos());
        if ran || main.queued.load(Ordering::Acquire) || !READY.lock().is_empty() {
            continue;
        }
        unik_thread::park(earliest(source_deadline, timer_deadline).unwrap_or(u64::MAX));
    }
}

fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What the thread component's idle loop runs: ready tasks, event sources, timers.
fn idle_work() -> Option<u64> {
    run_ready_tasks();
    let source_deadline = run_event_sources();
    earliest(source_deadline, fire_timers(Current::now_nanos()))
}

/// Runs the event sources once, then polls `future` once (with a waker that does
/// nothing): its output if it is ready. The non-blocking form of an `async` operation.
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    run_event_sources();
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// A future that completes at a deadline: see [`sleep`].
#[derive(Debug)]
pub struct Sleep {
    deadline: u64,
    /// The slot in the timer table once registered.
    timer: Option<usize>,
}

/// Completes after `duration`, letting other tasks run meanwhile.
pub fn sleep(duration: Duration) -> Sleep {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    Sleep {
        deadline: Current::now_nanos().saturating_add(nanos),
        timer: None,
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        if Current::now_nanos() >= self.deadline {
            return Poll::Ready(());
        }
        let entry = Some((self.deadline, Some(context.waker().clone())));
        let mut timers = TIMERS.lock();
        match self.timer {
            Some(slot) => timers[slot] = entry,
            None => {
                let slot = timers.iter().position(Option::is_none).unwrap_or_else(|| {
                    timers.push(None);
                    timers.len() - 1
                });
                timers[slot] = entry;
                drop(timers);
                self.timer = Some(slot);
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(slot) = self.timer {
            TIMERS.lock()[slot] = None;
        }
    }
}

/// The error of [`timeout`]: the time ran out first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed;

impl core::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("timed out")
    }
}

/// Runs `future`, giving up (and dropping it) after `duration`.
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
    let mut future = pin!(future);
    let mut timer = pin!(sleep(duration));
    core::future::poll_fn(move |context| {
        if let Poll::Ready(output) = future.as_mut().poll(context) {
            return Poll::Ready(Ok(output));
        }
        timer.as_mut().poll(context).map(|()| Err(Elapsed))
    })
    .await
}

/// Lets the other ready tasks run before continuing.
pub async fn yield_now() {
    let mut yielded = false;
    core::future::poll_fn(move |context| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        context.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use core::sync::atomic::AtomicUsize;
    use std::time::Instant;

    // The executor's tables are global: the tests run one at a time through this lock.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn spawned_tasks_run_while_the_main_future_waits() {
        let _serial = SERIAL.lock().unwrap();
        static DONE: AtomicUsize = AtomicUsize::new(0);
        let result = block_on(async {
            for i in 0..5 {
                spawn(async move {
                    sleep(Duration::from_millis(10 * (5 - i))).await;
                    DONE.fetch_add(1, Ordering::SeqCst);
                });
            }
            while DONE.load(Ordering::SeqCst) < 5 {
                sleep(Duration::from_millis(5)).await;
            }
            42
        });
        assert_eq!(result, 42);
        assert!(TASKS.lock().iter().all(Option::is_none), "finished tasks are dropped");
    }

    #[test]
    fn sleep_waits_at_least_its_duration_and_timeout_gives_up() {
        let _serial = SERIAL.lock().unwrap();
        let start = Instant::now();
        block_on(sleep(Duration::from_millis(30)));
        assert!(start.elapsed() >= Duration::from_millis(30));

        let slow = timeout(Duration::from_millis(10), sleep(Duration::from_secs(10)));
        assert_eq!(block_on(slow), Err(Elapsed));
        let fast = timeout(Duration::from_secs(10), async { 7 });
        assert_eq!(block_on(fast), Ok(7));
        assert!(
            TIMERS.lock().iter().all(Option::is_none),
            "dropped timers leave the table"
        );
    }

    #[test]
    fn yield_now_interleaves_tasks() {
        let _serial = SERIAL.lock().unwrap();
        static ORDER: Spinlock<Vec<u8>> = Spinlock::new(Vec::new());
        block_on(async {
            spawn(async {
                ORDER.lock().push(b'b');
                yield_now().await;
                ORDER.lock().push(b'd');
            });
            ORDER.lock().push(b'a');
            yield_now().await;
            ORDER.lock().push(b'c');
            sleep(Duration::from_millis(1)).await;
        });
        assert_eq!(&ORDER.lock()[..], b"abcd");
    }
}
