//! Threads: `pthread_*` on the thread component's scheduler (reached only from
//! `pthread_create`: a program that spawns nothing has none), thread-specific data
//! (`pthread_key_*`) and thread-local destructors (`__cxa_thread_atexit_impl`).
//!
//! A `pthread_t` is the thread component's thread number. Attributes keep three words in
//! the opaque `pthread_attr_t`: stack size, stack address and guard size.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_void};
use core::sync::atomic::{AtomicU32, Ordering};
use libc::{pthread_attr_t, pthread_key_t, pthread_t};
use spinning_top::Spinlock;
use unik_thread::ThreadId;

use crate::errno::{EAGAIN, EFAULT, EINVAL, ENOSYS, ERANGE};
use libc::ESRCH;

/// Stack of a thread created without a size (std always gives one: 2 MiB unless
/// `RUST_MIN_STACK` or the builder says).
const DEFAULT_STACK: usize = 1 << 20;

/// What a new thread runs.
struct Start {
    routine: extern "C" fn(*mut c_void) -> *mut c_void,
    argument: *mut c_void,
}

/// Results of ended threads not yet joined (detached ones are dropped).
static RESULTS: Spinlock<Vec<(ThreadId, usize)>> = Spinlock::new(Vec::new());

/// Takes thread `id`'s result, if it has ended and left one.
fn take_result(id: ThreadId) -> Option<usize> {
    let mut results = RESULTS.lock();
    let at = results.iter().position(|(thread, _)| *thread == id)?;
    Some(results.swap_remove(at).1)
}
static DETACHED: Spinlock<Vec<ThreadId>> = Spinlock::new(Vec::new());

extern "C" fn run(start: usize) {
    // SAFETY: `pthread_create` passes a leaked `Box<Start>`, taken back once here.
    let start = unsafe { Box::from_raw(start as *mut Start) };
    let result = (start.routine)(start.argument);
    let me = unik_thread::current();
    run_thread_destructors(me);
    forget_name(me);
    let detached = {
        let mut detached = DETACHED.lock();
        let position = detached.iter().position(|&id| id == me);
        position.map(|at| detached.swap_remove(at)).is_some()
    };
    if !detached {
        RESULTS.lock().push((me, result as usize));
    }
}

/// The `pthread_t` of thread `id` (an integer on some C libraries, a pointer on musl).
fn to_pthread(id: ThreadId) -> pthread_t {
    id as usize as pthread_t
}

/// The thread a `pthread_t` names.
fn thread_id(thread: pthread_t) -> ThreadId {
    thread as usize as ThreadId
}

/// The words this library keeps in a `pthread_attr_t`.
fn attr_words(attr: *const pthread_attr_t) -> Option<*mut usize> {
    const _: () = assert!(size_of::<pthread_attr_t>() >= 3 * size_of::<usize>());
    (!attr.is_null()).then_some(attr.cast::<usize>().cast_mut())
}

/// `pthread_create(3)`.
///
/// # Safety
/// `thread` must be writable; `attr` null or initialised.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_create(
    thread: *mut pthread_t,
    attr: *const pthread_attr_t,
    routine: extern "C" fn(*mut c_void) -> *mut c_void,
    argument: *mut c_void,
) -> c_int {
    // SAFETY: the caller's guarantee: an initialised attribute object.
    let stack = attr_words(attr).map_or(0, |words| unsafe { words.read() });
    let stack = if stack == 0 { DEFAULT_STACK } else { stack };
    let start = Box::into_raw(Box::new(Start { routine, argument }));
    match unik_thread::spawn(run, start as usize, stack) {
        Ok(id) => {
            // SAFETY: the caller's guarantee.
            unsafe { thread.write(to_pthread(id)) };
            0
        }
        Err(_) => {
            // SAFETY: the thread never started: the box is still ours.
            drop(unsafe { Box::from_raw(start) });
            EAGAIN
        }
    }
}

/// `pthread_join(3)`.
///
/// # Safety
/// `result` must be null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_join(thread: pthread_t, result: *mut *mut c_void) -> c_int {
    let id = thread_id(thread);
    if id == unik_thread::current() {
        return libc::EDEADLK;
    }
    unik_thread::join(id);
    let value = take_result(id).unwrap_or(0);
    if !result.is_null() {
        // SAFETY: the caller's guarantee.
        unsafe { result.write(value as *mut c_void) };
    }
    0
}

/// `pthread_detach(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_detach(thread: pthread_t) -> c_int {
    let id = thread_id(thread);
    if take_result(id).is_none() {
        DETACHED.lock().push(id);
    }
    0
}

/// `pthread_self(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_self() -> pthread_t {
    to_pthread(unik_thread::current())
}

/// `pthread_equal(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_equal(a: pthread_t, b: pthread_t) -> c_int {
    c_int::from(a == b)
}

/// `gettid(2)`: the thread's number.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn gettid() -> c_int {
    unik_thread::current() as c_int
}

/// `sched_yield(2)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn sched_yield() -> c_int {
    unik_thread::yield_now();
    0
}

/// `pthread_attr_init(3)`.
///
/// # Safety
/// `attr` must be writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_attr_init(attr: *mut pthread_attr_t) -> c_int {
    // SAFETY: the caller's guarantee; all zeroes is the default (the stack size chosen
    // later), but for the guard: one page, as on Linux, which the thread component gives.
    unsafe {
        attr.write_bytes(0, 1);
        if let Some(words) = attr_words(attr) {
            words.add(2).write(unik_thread::GUARD_SIZE);
        }
    }
    0
}

/// `pthread_attr_destroy(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_attr_destroy(_attr: *mut pthread_attr_t) -> c_int {
    0
}

/// `pthread_attr_setstacksize(3)`.
///
/// # Safety
/// `attr` must be initialised.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_attr_setstacksize(attr: *mut pthread_attr_t, size: usize) -> c_int {
    match attr_words(attr) {
        Some(words) if size >= libc::PTHREAD_STACK_MIN => {
            // SAFETY: the caller's guarantee.
            unsafe { words.write(size) };
            0
        }
        _ => EINVAL,
    }
}

/// `pthread_attr_getstacksize(3)`.
///
/// # Safety
/// `attr` must be initialised; `size` writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_attr_getstacksize(attr: *const pthread_attr_t, size: *mut usize) -> c_int {
    match attr_words(attr) {
        // SAFETY: the caller's guarantee.
        Some(words) => unsafe {
            let value = words.read();
            size.write(if value == 0 { DEFAULT_STACK } else { value });
            0
        },
        None => EINVAL,
    }
}

/// `pthread_attr_getstack(3)`.
///
/// # Safety
/// `attr` must be initialised; the outputs writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_attr_getstack(
    attr: *const pthread_attr_t,
    address: *mut *mut c_void,
    size: *mut usize,
) -> c_int {
    match attr_words(attr) {
        // SAFETY: the caller's guarantee.
        Some(words) => unsafe {
            size.write(words.read());
            address.write(words.add(1).read() as *mut c_void);
            0
        },
        None => EINVAL,
    }
}

/// `pthread_attr_getguardsize(3)`.
///
/// # Safety
/// `attr` must be initialised; `size` writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_attr_getguardsize(attr: *const pthread_attr_t, size: *mut usize) -> c_int {
    match attr_words(attr) {
        // SAFETY: the caller's guarantee.
        Some(words) => unsafe {
            size.write(words.add(2).read());
            0
        },
        None => EINVAL,
    }
}

/// Size of the unmapped guard page below the main thread's stack.
const MAIN_GUARD: usize = 4096;

/// The main thread's stack: the image's own (`__stack_guard` is its unmapped guard page,
/// `__stack_top` its end, in the linker script).
#[cfg(unik_platform)]
fn main_stack() -> Option<(usize, usize)> {
    unsafe extern "C" {
        static __stack_guard: u8;
        static __stack_top: u8;
    }
    let bottom = (&raw const __stack_guard) as usize + MAIN_GUARD;
    let top = (&raw const __stack_top) as usize;
    Some((bottom, top - bottom))
}

#[cfg(not(unik_platform))]
fn main_stack() -> Option<(usize, usize)> {
    None
}

/// `pthread_getattr_np(3)`: the thread's stack (its lowest address and size) and guard:
/// the image's stack with its guard page for the main thread, the heap stack the thread
/// component gave a spawned one with the guard page below it.
///
/// # Safety
/// `attr` must be writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_getattr_np(thread: pthread_t, attr: *mut pthread_attr_t) -> c_int {
    let id = thread_id(thread);
    let (stack, guard) = if id == unik_thread::MAIN_THREAD {
        (main_stack(), MAIN_GUARD)
    } else {
        let extent = unik_thread::stack_of(id);
        (
            extent.map(|extent| (extent.bottom, extent.size)),
            extent.map_or(0, |extent| extent.guard),
        )
    };
    let (Some((bottom, size)), Some(words)) = (stack, attr_words(attr)) else {
        return if stack.is_none() { ENOSYS } else { EINVAL };
    };
    // SAFETY: the caller's guarantee: a writable attribute object of three words at least.
    unsafe {
        attr.write_bytes(0, 1);
        words.write(size);
        words.add(1).write(bottom);
        words.add(2).write(guard);
    }
    0
}

/// `pthread_setname_np(3)`: names `thread`; `ERANGE` for a name longer than 15 bytes.
///
/// # Safety
/// `name` must be a C string.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_setname_np(thread: pthread_t, name: *const c_char) -> c_int {
    if name.is_null() {
        return EFAULT;
    }
    // SAFETY: the caller's guarantee.
    let name = unsafe { core::ffi::CStr::from_ptr(name) }.to_bytes();
    match unik_thread::set_name(thread_id(thread), name) {
        true => 0,
        false => ERANGE,
    }
}

/// `pthread_getname_np(3)`: the name given (empty if none); `ERANGE` if it and its zero
/// do not fit in `length` bytes.
///
/// # Safety
/// `name` must be writable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_getname_np(thread: pthread_t, name: *mut c_char, length: usize) -> c_int {
    let id = thread_id(thread);
    if id == 0 {
        return ESRCH;
    }
    let stored = unik_thread::name_of(id);
    let end = stored.iter().position(|&byte| byte == 0).unwrap_or(stored.len() - 1);
    if length <= end {
        return ERANGE;
    }
    // SAFETY: the caller's guarantee; `end + 1 <= length` bytes are written.
    unsafe { core::ptr::copy_nonoverlapping(stored.as_ptr().cast(), name, end + 1) };
    0
}

/// Forgets the name of thread `id`, which has ended.
fn forget_name(id: ThreadId) {
    unik_thread::forget_name(id);
}

/// Thread-specific data: each key's destructor, and the values by (thread, key).
struct Keys {
    destructors: Vec<Option<Option<unsafe extern "C" fn(*mut c_void)>>>,
    values: Vec<((ThreadId, pthread_key_t), usize)>,
}

impl Keys {
    fn remove(&mut self, slot: (ThreadId, pthread_key_t)) {
        self.values.retain(|(s, _)| *s != slot);
    }
}

static KEYS: Spinlock<Keys> = Spinlock::new(Keys {
    destructors: Vec::new(),
    values: Vec::new(),
});

/// `pthread_key_create(3)`.
///
/// # Safety
/// `key` must be writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_key_create(
    key: *mut pthread_key_t,
    destructor: Option<unsafe extern "C" fn(*mut c_void)>,
) -> c_int {
    let mut keys = KEYS.lock();
    let index = match keys.destructors.iter().position(Option::is_none) {
        Some(free) => {
            keys.destructors[free] = Some(destructor);
            free
        }
        None => {
            keys.destructors.push(Some(destructor));
            keys.destructors.len() - 1
        }
    };
    // SAFETY: the caller's guarantee.
    unsafe { key.write(index as pthread_key_t) };
    0
}

/// `pthread_key_delete(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_key_delete(key: pthread_key_t) -> c_int {
    let mut keys = KEYS.lock();
    match keys.destructors.get_mut(key as usize) {
        Some(slot @ Some(_)) => {
            *slot = None;
            keys.values.retain(|((_, k), _)| *k != key);
            0
        }
        _ => EINVAL,
    }
}

/// `pthread_setspecific(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_setspecific(key: pthread_key_t, value: *const c_void) -> c_int {
    let mut keys = KEYS.lock();
    if !matches!(keys.destructors.get(key as usize), Some(Some(_))) {
        return EINVAL;
    }
    let slot = (unik_thread::current(), key);
    keys.remove(slot);
    if !value.is_null() {
        keys.values.push((slot, value as usize));
    }
    0
}

/// `pthread_getspecific(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_getspecific(key: pthread_key_t) -> *mut c_void {
    let keys = KEYS.lock();
    let slot = (unik_thread::current(), key);
    let value = keys
        .values
        .iter()
        .find(|(s, _)| *s == slot)
        .map_or(0, |&(_, value)| value);
    value as *mut c_void
}

/// Thread-local destructors by thread, run in reverse order of registration.
type Destructor = (unsafe extern "C" fn(*mut c_void), usize);
static THREAD_DESTRUCTORS: Spinlock<Vec<(ThreadId, Destructor)>> = Spinlock::new(Vec::new());

/// `__cxa_thread_atexit_impl`: runs `destructor(object)` when the calling thread ends
/// (std registers the destructors of its thread-locals here).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn __cxa_thread_atexit_impl(
    destructor: unsafe extern "C" fn(*mut c_void),
    object: *mut c_void,
    _dso: *mut c_void,
) -> c_int {
    THREAD_DESTRUCTORS
        .lock()
        .push((unik_thread::current(), (destructor, object as usize)));
    0
}

/// Runs thread `id`'s thread-local destructors (newest first, including any a destructor
/// registers) and its thread-specific data destructors.
pub(crate) fn run_thread_destructors(id: ThreadId) {
    loop {
        let next = {
            let mut destructors = THREAD_DESTRUCTORS.lock();
            let newest = destructors.iter().rposition(|(thread, _)| *thread == id);
            newest.map(|at| destructors.remove(at).1)
        };
        let Some((destructor, object)) = next else { break };
        // SAFETY: registered by `__cxa_thread_atexit_impl` for this object.
        unsafe { destructor(object as *mut c_void) };
    }
    let owned: Vec<(pthread_key_t, usize)> = {
        let mut keys = KEYS.lock();
        let owned: Vec<_> = keys
            .values
            .iter()
            .filter(|((t, _), _)| *t == id)
            .map(|&((_, k), v)| (k, v))
            .collect();
        keys.values.retain(|((t, _), _)| *t != id);
        owned
    };
    for (key, value) in owned {
        let destructor = KEYS.lock().destructors.get(key as usize).copied().flatten().flatten();
        if let Some(destructor) = destructor {
            // SAFETY: the key's destructor, for the value this thread set.
            unsafe { destructor(value as *mut c_void) };
        }
    }
}

/// `sched_getaffinity(2)`: the program runs on one CPU.
///
/// # Safety
/// `mask` must be writable for `size` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn sched_getaffinity(_pid: libc::pid_t, size: usize, mask: *mut libc::cpu_set_t) -> c_int {
    if size == 0 || mask.is_null() {
        return crate::errno::fail(EINVAL);
    }
    // SAFETY: the caller's guarantee.
    unsafe {
        mask.cast::<u8>().write_bytes(0, size);
        mask.cast::<u8>().write(1);
    }
    0
}

/// The words this library keeps at the start of a `pthread_mutex_t`, all zero for a
/// free normal mutex (the static initialiser): the lock (1: held), the kind (the type,
/// `PTHREAD_MUTEX_NORMAL`, `_RECURSIVE` or `_ERRORCHECK`, in [`TYPE_BITS`], and the
/// [`ROBUST`], [`INCONSISTENT`] and [`UNRECOVERABLE`] flags), the holder's thread number
/// plus one (0: none), and how many more times a recursive holder locked it. Threads
/// switch only when they block, so a waiter yields until the holder has run and released
/// it.
struct MutexWords {
    lock: AtomicU32,
    kind: AtomicU32,
    holder: AtomicU32,
    depth: AtomicU32,
}

fn mutex_words(mutex: *mut libc::pthread_mutex_t) -> Option<&'static MutexWords> {
    const _: () = assert!(size_of::<libc::pthread_mutex_t>() >= size_of::<MutexWords>());
    // SAFETY: a `pthread_mutex_t` is larger than and aligned for the words; the caller of
    // the `pthread_mutex_*` function guarantees it is live while used.
    (!mutex.is_null()).then(|| unsafe { &*mutex.cast::<MutexWords>() })
}

/// The type's bits in a mutex's kind word and an attribute object's word.
const TYPE_BITS: u32 = 0b11;
/// A robust mutex (`PTHREAD_MUTEX_ROBUST`): a holder whose thread ends passes it to the
/// next locker with `EOWNERDEAD`.
const ROBUST: u32 = 1 << 2;
/// Process-shared (`PTHREAD_PROCESS_SHARED`): the same as private, there being one
/// process; kept so that the attribute says what was set.
const PROCESS_SHARED: u32 = 1 << 3;
/// A robust mutex taken over from an ended holder, not yet made consistent.
const INCONSISTENT: u32 = 1 << 4;
/// A robust mutex unlocked while inconsistent: every lock fails (`ENOTRECOVERABLE`).
const UNRECOVERABLE: u32 = 1 << 5;

/// Whether the thread of holder word `holder` has ended (the main thread ends only with
/// the program).
fn holder_ended(holder: u32) -> bool {
    let id = holder.wrapping_sub(1) as ThreadId;
    holder != 0 && id != unik_thread::MAIN_THREAD && unik_thread::stack_of(id).is_none()
}

/// The calling thread as a mutex's holder word.
fn holder_word() -> u32 {
    unik_thread::current() as u32 + 1
}

/// The type a `pthread_mutexattr_t` carries, in its first word (zeroed by
/// `pthread_mutexattr_init`: a normal mutex).
fn attr_kind(attributes: *const libc::pthread_mutexattr_t) -> Option<&'static AtomicU32> {
    const _: () = assert!(size_of::<libc::pthread_mutexattr_t>() >= size_of::<u32>());
    // SAFETY: as for `mutex_words`: the caller's attribute object, live while used.
    (!attributes.is_null()).then(|| unsafe { AtomicU32::from_ptr(attributes.cast::<u32>().cast_mut()) })
}

/// Changes the `bits` of the attribute word at `attributes` to `value`; `EINVAL` for a
/// null object.
fn set_attribute(attributes: *mut libc::pthread_mutexattr_t, bits: u32, value: u32) -> c_int {
    match attr_kind(attributes) {
        Some(word) => {
            let old = word.load(Ordering::Relaxed);
            word.store(old & !bits | value, Ordering::Relaxed);
            0
        }
        _ => EINVAL,
    }
}

/// Clears `flag` in the attribute word at `attributes` for the C constant `off`, sets it
/// for `on`; `EINVAL` for any other `choice`.
fn set_flag(attributes: *mut libc::pthread_mutexattr_t, flag: u32, choice: c_int, [off, on]: [c_int; 2]) -> c_int {
    let value = match choice {
        _ if choice == off => 0,
        _ if choice == on => flag,
        _ => return EINVAL,
    };
    set_attribute(attributes, flag, value)
}

/// `pthread_mutexattr_setpshared(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_mutexattr_setpshared(attributes: *mut libc::pthread_mutexattr_t, shared: c_int) -> c_int {
    let choices = [libc::PTHREAD_PROCESS_PRIVATE, libc::PTHREAD_PROCESS_SHARED];
    set_flag(attributes, PROCESS_SHARED, shared, choices)
}

/// `pthread_mutexattr_setrobust(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_mutexattr_setrobust(attributes: *mut libc::pthread_mutexattr_t, robust: c_int) -> c_int {
    set_flag(
        attributes,
        ROBUST,
        robust,
        [libc::PTHREAD_MUTEX_STALLED, libc::PTHREAD_MUTEX_ROBUST],
    )
}

/// `pthread_mutexattr_init(3)`: a normal mutex.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_mutexattr_init(attributes: *mut libc::pthread_mutexattr_t) -> c_int {
    match attr_kind(attributes) {
        Some(kind) => {
            kind.store(libc::PTHREAD_MUTEX_NORMAL as u32, Ordering::Relaxed);
            0
        }
        None => EINVAL,
    }
}

/// `pthread_mutexattr_destroy(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_mutexattr_destroy(_attributes: *mut libc::pthread_mutexattr_t) -> c_int {
    0
}

/// `pthread_mutexattr_settype(3)`: normal (the default), recursive or error-checking.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_mutexattr_settype(attributes: *mut libc::pthread_mutexattr_t, kind: c_int) -> c_int {
    let known = [
        libc::PTHREAD_MUTEX_NORMAL,
        libc::PTHREAD_MUTEX_RECURSIVE,
        libc::PTHREAD_MUTEX_ERRORCHECK,
    ];
    if !known.contains(&kind) {
        return EINVAL;
    }
    set_attribute(attributes, TYPE_BITS, kind as u32)
}

/// `pthread_mutexattr_gettype(3)`.
///
/// # Safety
/// `kind` must be writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_mutexattr_gettype(
    attributes: *const libc::pthread_mutexattr_t,
    kind: *mut c_int,
) -> c_int {
    match attr_kind(attributes) {
        Some(word) if !kind.is_null() => {
            // SAFETY: the caller's guarantee.
            unsafe { kind.write((word.load(Ordering::Relaxed) & TYPE_BITS) as c_int) };
            0
        }
        _ => EINVAL,
    }
}

/// `pthread_mutex_init(3)`, of the type `attributes` give (normal without them).
///
/// # Safety
/// `mutex` must be writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_mutex_init(
    mutex: *mut libc::pthread_mutex_t,
    attributes: *const libc::pthread_mutexattr_t,
) -> c_int {
    if mutex.is_null() {
        return EINVAL;
    }
    // SAFETY: the caller's guarantee.
    unsafe { mutex.write_bytes(0, 1) };
    if let (Some(words), Some(kind)) = (mutex_words(mutex), attr_kind(attributes)) {
        words.kind.store(kind.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    0
}

/// `pthread_mutex_destroy(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_mutex_destroy(_mutex: *mut libc::pthread_mutex_t) -> c_int {
    0
}

/// What a lock or try-lock of a mutex the caller already holds does: a recursive one
/// counts it (`EAGAIN` when the count is full), an error-checking one refuses with
/// `refusal`; `None` when the caller does not hold it or it is a normal mutex.
fn relock(words: &MutexWords, refusal: c_int) -> Option<c_int> {
    if words.holder.load(Ordering::Relaxed) != holder_word() {
        return None;
    }
    match (words.kind.load(Ordering::Relaxed) & TYPE_BITS) as c_int {
        libc::PTHREAD_MUTEX_RECURSIVE => Some(match words.depth.load(Ordering::Relaxed) {
            u32::MAX => libc::EAGAIN,
            depth => {
                words.depth.store(depth + 1, Ordering::Relaxed);
                0
            }
        }),
        libc::PTHREAD_MUTEX_ERRORCHECK => Some(refusal),
        _ => None,
    }
}

/// Records the caller as the holder of the mutex it just took.
fn hold(words: &MutexWords) -> c_int {
    words.holder.store(holder_word(), Ordering::Relaxed);
    words.depth.store(0, Ordering::Relaxed);
    0
}

/// A lock of a robust mutex that is unrecoverable (`ENOTRECOVERABLE`), or held by a
/// thread that ended, which the caller then takes over (`EOWNERDEAD`, the mutex
/// inconsistent until `pthread_mutex_consistent`); `None` for any other mutex.
fn robust_outcome(words: &MutexWords) -> Option<c_int> {
    let kind = words.kind.load(Ordering::Relaxed);
    if kind & ROBUST == 0 {
        return None;
    }
    if kind & UNRECOVERABLE != 0 {
        return Some(libc::ENOTRECOVERABLE);
    }
    if words.lock.load(Ordering::Relaxed) == 0 || !holder_ended(words.holder.load(Ordering::Relaxed)) {
        return None;
    }
    hold(words);
    words.kind.store(kind | INCONSISTENT, Ordering::Relaxed);
    Some(libc::EOWNERDEAD)
}

/// `pthread_mutex_lock(3)`: a normal mutex the caller holds deadlocks, as POSIX has it.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_mutex_lock(mutex: *mut libc::pthread_mutex_t) -> c_int {
    let Some(words) = mutex_words(mutex) else {
        return EINVAL;
    };
    if let Some(result) = relock(words, libc::EDEADLK) {
        return result;
    }
    loop {
        if let Some(result) = robust_outcome(words) {
            return result;
        }
        if words.lock.swap(1, Ordering::Acquire) == 0 {
            return hold(words);
        }
        unik_thread::yield_now();
    }
}

/// `pthread_mutex_consistent(3)`: a robust mutex taken over with `EOWNERDEAD` is sound
/// again; `EINVAL` for any other, or when the caller does not hold it.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_mutex_consistent(mutex: *mut libc::pthread_mutex_t) -> c_int {
    let Some(words) = mutex_words(mutex) else {
        return EINVAL;
    };
    let kind = words.kind.load(Ordering::Relaxed);
    if kind & INCONSISTENT == 0 || words.holder.load(Ordering::Relaxed) != holder_word() {
        return EINVAL;
    }
    words.kind.store(kind & !INCONSISTENT, Ordering::Relaxed);
    0
}

/// `pthread_mutex_trylock(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_mutex_trylock(mutex: *mut libc::pthread_mutex_t) -> c_int {
    let Some(words) = mutex_words(mutex) else {
        return EINVAL;
    };
    if let Some(result) = relock(words, libc::EBUSY) {
        return result;
    }
    if let Some(result) = robust_outcome(words) {
        return result;
    }
    match words.lock.swap(1, Ordering::Acquire) {
        0 => hold(words),
        _ => libc::EBUSY,
    }
}

/// `pthread_mutex_unlock(3)`: a recursive mutex is let go at its last unlock; a
/// recursive or error-checking one the caller does not hold is `EPERM`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pthread_mutex_unlock(mutex: *mut libc::pthread_mutex_t) -> c_int {
    let Some(words) = mutex_words(mutex) else {
        return EINVAL;
    };
    let kind = words.kind.load(Ordering::Relaxed);
    if kind & TYPE_BITS != libc::PTHREAD_MUTEX_NORMAL as u32 || kind & ROBUST != 0 {
        if words.holder.load(Ordering::Relaxed) != holder_word() {
            return libc::EPERM;
        }
        let depth = words.depth.load(Ordering::Relaxed);
        if depth > 0 {
            words.depth.store(depth - 1, Ordering::Relaxed);
            return 0;
        }
    }
    if kind & INCONSISTENT != 0 {
        words
            .kind
            .store(kind & !INCONSISTENT | UNRECOVERABLE, Ordering::Relaxed);
    }
    words.holder.store(0, Ordering::Relaxed);
    words.lock.store(0, Ordering::Release);
    0
}
