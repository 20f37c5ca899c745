//! The scheduler: thread records, the ready queue, switching, and the idle loop.
//!
//! One CPU and cooperative switching: a thread runs until it parks, yields or ends, so
//! the scheduler's lock is never contended; it is only never held across a switch.

use crate::tls::{TlsBlock, main_thread_pointer};
use crate::{HOOKS, Hooks, MAIN_THREAD, StackExtent, ThreadId, has_idle_work, idle_work};
use alloc::alloc::{alloc, dealloc};
use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use core::alloc::Layout;
use core::sync::atomic::Ordering;
use spinning_top::Spinlock;
use unik_platform::{Clock, Console, Current, Fault, Platform, Processor, Shutdown, fault, status};

/// Smallest stack a thread gets, whatever it asks for.
const MIN_STACK: usize = 16 << 10;
/// Written at the lowest address of every stack and checked at each switch (the last
/// line of defence where the platform could not unmap a guard page).
const STACK_CANARY: u64 = 0x756e_696b_5354_4b21;
/// Size of the guard page below every spawned thread's stack.
pub const GUARD_SIZE: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    Ready,
    Parked { deadline: u64 },
}

/// A thread's heap stack: a guard page, unmapped while the stack lives, then the stack.
struct Stack {
    /// The allocation; its first page is the guard.
    memory: *mut u8,
    layout: Layout,
    /// Whether the platform unmapped the guard page.
    guarded: bool,
}

// SAFETY: plain memory owned by one thread record.
unsafe impl Send for Stack {}

impl Stack {
    fn new(size: usize) -> Option<Stack> {
        let usable = size.max(MIN_STACK).next_multiple_of(GUARD_SIZE);
        let layout = Layout::from_size_align(usable.checked_add(GUARD_SIZE)?, GUARD_SIZE).ok()?;
        // SAFETY: non-zero size.
        let memory = unsafe { alloc(layout) };
        if memory.is_null() {
            return None;
        }
        let guarded = Current::set_guard_page(memory as usize, true);
        if guarded {
            fault::set_explainer(explain_stack_overflow);
        }
        let stack = Stack {
            memory,
            layout,
            guarded,
        };
        // SAFETY: the lowest 8 bytes of the stack, above the guard page.
        unsafe { (stack.bottom() as *mut u64).write(STACK_CANARY) };
        Some(stack)
    }

    /// The lowest address the stack may use.
    fn bottom(&self) -> usize {
        self.memory as usize + GUARD_SIZE
    }

    fn top(&self) -> usize {
        self.memory as usize + self.layout.size()
    }

    /// The unmapped guard page's address, if the platform could unmap it.
    fn guard(&self) -> Option<usize> {
        self.guarded.then_some(self.memory as usize)
    }

    fn intact(&self) -> bool {
        // SAFETY: written in `new`; the stack lives as long as `self`.
        unsafe { (self.bottom() as *const u64).read_volatile() == STACK_CANARY }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if self.guarded {
            Current::set_guard_page(self.memory as usize, false);
        }
        // SAFETY: allocated in `new` with this layout; the guard page is mapped again.
        unsafe { dealloc(self.memory, self.layout) }
    }
}

/// The fault explainer the first guarded stack installs: a fault in (or, where the fault
/// address is unknown, with the stack pointer at) a thread's guard page is that thread's
/// stack overflowing. Never waits: a fault with the scheduler's lock held stays unexplained.
fn explain_stack_overflow(fault: &Fault, write: &mut dyn FnMut(&[u8])) -> bool {
    let Some(scheduler) = SCHEDULER.try_lock() else {
        return false;
    };
    let zero_address_is_unknown = <Current as Platform>::ZERO_FAULT_ADDRESS_IS_UNKNOWN;
    let overflowed = scheduler.as_ref().and_then(|scheduler| {
        scheduler.threads.iter().find_map(|(&id, thread)| {
            let guard = thread.stack.as_ref()?.guard()?;
            fault::hits_guard(fault, guard as u64, zero_address_is_unknown).then_some(id)
        })
    });
    let Some(id) = overflowed else {
        return false;
    };
    write(b"stack overflow in thread ");
    unik_platform::hex::write_decimal(u64::from(id), &mut *write);
    crate::names::with_name(id, |name| {
        if !name.is_empty() {
            write(b" (");
            write(name);
            write(b")");
        }
    });
    true
}

struct Thread {
    /// The saved context while not running.
    context: usize,
    state: State,
    /// An unpark that arrived while not parked.
    unparked: bool,
    /// Whom to unpark when this thread ends.
    joiner: Option<ThreadId>,
    thread_pointer: usize,
    /// What to run first; taken when it starts.
    entry: Option<(extern "C" fn(usize), usize)>,
    /// None for the main thread (it runs on the boot stack).
    stack: Option<Stack>,
    /// None for the main thread (its block lives for good).
    _tls: Option<TlsBlock>,
}

struct Scheduler {
    /// Boxed so that a record's `context` stays put while the map changes.
    threads: BTreeMap<ThreadId, Box<Thread>>,
    ready: VecDeque<ThreadId>,
    current: ThreadId,
    next_id: ThreadId,
    /// A thread that ended, freed once another runs (it ended on its own stack).
    finished: Option<Box<Thread>>,
}

static SCHEDULER: Spinlock<Option<Scheduler>> = Spinlock::new(None);

static INSTALLED_HOOKS: Hooks = Hooks {
    current: current_thread,
    park,
    unpark,
    stack: stack_of,
};

/// Thread `id`'s heap stack: its lowest usable address, size and guard page size (0
/// where the platform could not unmap one).
fn stack_of(id: ThreadId) -> Option<StackExtent> {
    let scheduler = SCHEDULER.lock();
    let thread = scheduler.as_ref()?.threads.get(&id)?;
    let stack = thread.stack.as_ref()?;
    Some(StackExtent {
        bottom: stack.bottom(),
        size: stack.top() - stack.bottom(),
        guard: if stack.guarded { GUARD_SIZE } else { 0 },
    })
}

/// Why [`spawn`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// No memory for the stack.
    OutOfMemory,
}

/// Starts a thread running `entry(argument)` on a stack of at least `stack_size` bytes;
/// it runs when the running thread next parks or yields.
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub fn spawn(entry: extern "C" fn(usize), argument: usize, stack_size: usize) -> Result<ThreadId, SpawnError> {
    let stack = Stack::new(stack_size).ok_or(SpawnError::OutOfMemory)?;
    let tls = TlsBlock::allocate();
    // SAFETY: the stack is fresh and owned by the record made next.
    let context = unsafe { Current::new_context(stack.top(), thread_start, 0) };
    let thread = Box::new(Thread {
        context,
        state: State::Ready,
        unparked: false,
        joiner: None,
        thread_pointer: tls.thread_pointer(),
        entry: Some((entry, argument)),
        stack: Some(stack),
        _tls: Some(tls),
    });
    let mut guard = SCHEDULER.lock();
    let scheduler = guard.get_or_insert_with(|| {
        // Opaque to the optimiser: seeing the one value ever stored, it would call the
        // scheduler directly from `park` and keep it in every image.
        HOOKS.store(
            core::hint::black_box((&raw const INSTALLED_HOOKS).cast_mut()),
            Ordering::Release,
        );
        let main = Box::new(Thread {
            context: 0,
            state: State::Running,
            unparked: crate::MAIN_UNPARKED.swap(false, Ordering::AcqRel),
            joiner: None,
            thread_pointer: main_thread_pointer(),
            entry: None,
            stack: None,
            _tls: None,
        });
        Scheduler {
            threads: BTreeMap::from([(MAIN_THREAD, main)]),
            ready: VecDeque::new(),
            current: MAIN_THREAD,
            next_id: MAIN_THREAD + 1,
            finished: None,
        }
    });
    let id = scheduler.next_id;
    scheduler.next_id += 1;
    scheduler.threads.insert(id, thread);
    scheduler.ready.push_back(id);
    Ok(id)
}

/// Waits until thread `id` has ended (at once if it has, or never existed).
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub fn join(id: ThreadId) {
    loop {
        {
            let mut guard = SCHEDULER.lock();
            let Some(scheduler) = guard.as_mut() else { return };
            let me = scheduler.current;
            match scheduler.threads.get_mut(&id) {
                Some(thread) if id != me => thread.joiner = Some(me),
                _ => return,
            }
        }
        park(u64::MAX);
    }
}

/// Lets the other runnable threads run before continuing.
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub fn yield_now() {
    {
        let mut guard = SCHEDULER.lock();
        let Some(scheduler) = guard.as_mut() else { return };
        let me = scheduler.current;
        scheduler.record(me).state = State::Ready;
        scheduler.ready.push_back(me);
    }
    schedule();
}

impl Scheduler {
    fn record(&mut self, id: ThreadId) -> &mut Thread {
        self.threads
            .get_mut(&id)
            .expect("the scheduler's own thread ids are valid")
    }

    /// Makes thread `id` ready if it is parked; otherwise its next park returns at once.
    fn wake(&mut self, id: ThreadId) {
        let Some(thread) = self.threads.get_mut(&id) else {
            return;
        };
        match thread.state {
            State::Parked { .. } => {
                thread.state = State::Ready;
                self.ready.push_back(id);
            }
            State::Running | State::Ready => thread.unparked = true,
        }
    }

    /// Readies the parked threads whose deadline has passed; the earliest still to come.
    fn wake_expired(&mut self, now: u64) -> u64 {
        let mut earliest = u64::MAX;
        for (id, thread) in &mut self.threads {
            if let State::Parked { deadline } = thread.state {
                if deadline <= now {
                    thread.state = State::Ready;
                    self.ready.push_back(*id);
                } else {
                    earliest = earliest.min(deadline);
                }
            }
        }
        earliest
    }
}

fn current_thread() -> ThreadId {
    SCHEDULER
        .lock()
        .as_ref()
        .map_or(MAIN_THREAD, |scheduler| scheduler.current)
}

fn park(deadline: u64) {
    {
        let mut guard = SCHEDULER.lock();
        let scheduler = guard.as_mut().expect("installed with the scheduler");
        let me = scheduler.current;
        let thread = scheduler.record(me);
        if core::mem::take(&mut thread.unparked) || Current::now_nanos() >= deadline {
            return;
        }
        thread.state = State::Parked { deadline };
    }
    schedule();
}

fn unpark(id: ThreadId) {
    let mut guard = SCHEDULER.lock();
    guard.as_mut().expect("installed with the scheduler").wake(id);
}

/// Runs the next ready thread (the running one has parked, yielded or ended); returns
/// when the running thread is resumed. With no thread ready it does the idle work and
/// halts until a deadline or an interrupt.
fn schedule() {
    loop {
        let next = {
            let mut guard = SCHEDULER.lock();
            let scheduler = guard.as_mut().expect("installed with the scheduler");
            let earliest = scheduler.wake_expired(Current::now_nanos());
            match scheduler.ready.pop_front() {
                Some(next) => Ok(next),
                None => Err(earliest),
            }
        };
        let earliest = match next {
            Ok(next) => return switch_to(next),
            Err(earliest) => earliest,
        };
        let work_deadline = idle_work();
        let mut guard = SCHEDULER.lock();
        let scheduler = guard.as_mut().expect("installed with the scheduler");
        let earliest = earliest.min(scheduler.wake_expired(Current::now_nanos()));
        if !scheduler.ready.is_empty() {
            continue;
        }
        drop(guard);
        let deadline = work_deadline.map_or(earliest, |work| work.min(earliest));
        if deadline == u64::MAX && !has_idle_work() {
            deadlock();
        }
        Current::wait_until(deadline);
    }
}

/// Every thread waits for another, with no deadline and nothing outside that could
/// wake one: report it rather than halt forever.
fn deadlock() -> ! {
    Current::write(b"unik: deadlock: every thread is blocked and nothing can wake one\n");
    Current::exit(status::FAULT)
}

/// Makes `next` the running thread (it is the current one, when it was woken before the
/// current one stopped running).
fn switch_to(next: ThreadId) {
    let (save, resume, thread_pointer) = {
        let mut guard = SCHEDULER.lock();
        let scheduler = guard.as_mut().expect("installed with the scheduler");
        let me = scheduler.current;
        scheduler.record(next).state = State::Running;
        if next == me {
            return;
        }
        let save = match scheduler.threads.get_mut(&me) {
            Some(thread) => {
                check_stack(me, thread);
                &raw mut thread.context
            }
            // The running thread has ended: its record waits in `finished`.
            None => {
                let finished = scheduler
                    .finished
                    .as_mut()
                    .expect("an ended thread is kept until the switch");
                &raw mut finished.context
            }
        };
        scheduler.current = next;
        let thread = scheduler.record(next);
        (save, thread.context, thread.thread_pointer)
    };
    Current::set_thread_pointer(thread_pointer);
    // SAFETY: `resume` was saved by a switch or made by `new_context`, and its stack is
    // owned by a live record; `save` points into a boxed record that outlives the switch.
    unsafe { Current::switch_context(save, resume) };
    after_switch();
}

/// Runs on the resumed thread after every switch: frees the thread that ended.
fn after_switch() {
    let finished = SCHEDULER
        .lock()
        .as_mut()
        .and_then(|scheduler| scheduler.finished.take());
    drop(finished);
}

fn check_stack(id: ThreadId, thread: &Thread) {
    if let Some(stack) = &thread.stack
        && !stack.intact()
    {
        Current::write(b"unik: stack overflow in thread ");
        unik_platform::hex::write_decimal(u64::from(id), Current::write);
        Current::write(b" (found at a switch: its stack has no guard page)\n");
        Current::exit(status::FAULT);
    }
}

/// Where every spawned thread starts: runs its entry, then ends.
extern "C" fn thread_start(_: usize) -> ! {
    after_switch();
    let entry = {
        let mut guard = SCHEDULER.lock();
        let scheduler = guard.as_mut().expect("installed with the scheduler");
        let me = scheduler.current;
        scheduler.record(me).entry.take()
    };
    if let Some((entry, argument)) = entry {
        entry(argument);
    }
    {
        let mut guard = SCHEDULER.lock();
        let scheduler = guard.as_mut().expect("installed with the scheduler");
        let me = scheduler.current;
        let thread = scheduler.threads.remove(&me).expect("the running thread has a record");
        if let Some(joiner) = thread.joiner {
            scheduler.wake(joiner);
        }
        scheduler.finished = Some(thread);
    }
    schedule();
    unreachable!("an ended thread is never resumed")
}
