//! Signals: registrations are recorded and answered back (std installs its stack-overflow
//! handler and ignores `SIGPIPE`), but nothing ever delivers a signal: a VM has no other
//! process to send one, and faults are reported by the platform.

use alloc::vec::Vec;
use core::ffi::c_int;
use libc::{sigaction as SigAction, sighandler_t, sigset_t, stack_t};
use spinning_top::Spinlock;

use crate::errno::{EFAULT, EINVAL, fail};

/// Signals 1..=64.
const SIGNALS: usize = 65;

struct Registrations {
    /// The recorded actions by signal (few are ever set).
    actions: Vec<(usize, SigAction)>,
    alternate_stack: Option<stack_t>,
}

// SAFETY: the recorded values are plain data, only read back to the program.
unsafe impl Send for Registrations {}

static REGISTRATIONS: Spinlock<Registrations> = Spinlock::new(Registrations {
    actions: Vec::new(),
    alternate_stack: None,
});

fn index(signal: c_int) -> Option<usize> {
    usize::try_from(signal).ok().filter(|&s| (1..SIGNALS).contains(&s))
}

fn default_action() -> SigAction {
    // SAFETY: plain data; all zeroes is `SIG_DFL` with an empty mask.
    unsafe { core::mem::zeroed() }
}

/// `sigaction(2)`: records the action; answers the recorded one.
///
/// # Safety
/// `action` must be null or readable; `old` null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn sigaction(signal: c_int, action: *const SigAction, old: *mut SigAction) -> c_int {
    let Some(index) = index(signal) else {
        return fail(EINVAL);
    };
    let mut registrations = REGISTRATIONS.lock();
    let recorded = registrations.actions.iter().position(|(signal, _)| *signal == index);
    if !old.is_null() {
        let current = recorded.map_or_else(default_action, |at| registrations.actions[at].1);
        // SAFETY: the caller's guarantee.
        unsafe { old.write(current) };
    }
    // SAFETY: the caller's guarantee.
    if let Some(action) = unsafe { action.as_ref() } {
        match recorded {
            Some(at) => registrations.actions[at].1 = *action,
            None => registrations.actions.push((index, *action)),
        }
    }
    0
}

/// `signal(3)`: records `handler`; the previous one.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn signal(signal: c_int, handler: sighandler_t) -> sighandler_t {
    let mut action = default_action();
    action.sa_sigaction = handler;
    let mut old = default_action();
    // SAFETY: both point to live values.
    if unsafe { sigaction(signal, &action, &mut old) } != 0 {
        return libc::SIG_ERR;
    }
    old.sa_sigaction
}

/// `sigaltstack(2)`: records the stack.
///
/// # Safety
/// `stack` must be null or readable; `old` null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn sigaltstack(stack: *const stack_t, old: *mut stack_t) -> c_int {
    let mut registrations = REGISTRATIONS.lock();
    if !old.is_null() {
        let value = registrations.alternate_stack.unwrap_or(stack_t {
            ss_sp: core::ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        });
        // SAFETY: the caller's guarantee.
        unsafe { old.write(value) };
    }
    // SAFETY: the caller's guarantee.
    if let Some(stack) = unsafe { stack.as_ref() } {
        registrations.alternate_stack = Some(*stack);
    }
    0
}

/// The bits of `set`.
///
/// # Safety
/// `set` must be null or valid.
unsafe fn bits<'a>(set: *mut sigset_t) -> Option<&'a mut [u8]> {
    // SAFETY: the caller's guarantee; a `sigset_t` is plain bytes.
    (!set.is_null()).then(|| unsafe { core::slice::from_raw_parts_mut(set.cast::<u8>(), size_of::<sigset_t>()) })
}

/// `sigemptyset(3)`.
///
/// # Safety
/// `set` must be writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn sigemptyset(set: *mut sigset_t) -> c_int {
    // SAFETY: forwarded.
    match unsafe { bits(set) } {
        Some(bits) => {
            bits.fill(0);
            0
        }
        None => fail(EFAULT),
    }
}

/// `sigfillset(3)`.
///
/// # Safety
/// `set` must be writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn sigfillset(set: *mut sigset_t) -> c_int {
    // SAFETY: forwarded.
    match unsafe { bits(set) } {
        Some(bits) => {
            bits.fill(0xff);
            0
        }
        None => fail(EFAULT),
    }
}

/// Sets or clears `signal` in `set`.
///
/// # Safety
/// `set` must be writable.
unsafe fn change(set: *mut sigset_t, signal: c_int, on: bool) -> c_int {
    // SAFETY: forwarded.
    match (unsafe { bits(set) }, index(signal)) {
        (Some(bits), Some(index)) => {
            let (byte, bit) = ((index - 1) / 8, (index - 1) % 8);
            if on {
                bits[byte] |= 1 << bit;
            } else {
                bits[byte] &= !(1 << bit);
            }
            0
        }
        _ => fail(EINVAL),
    }
}

/// `sigaddset(3)`.
///
/// # Safety
/// `set` must be writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn sigaddset(set: *mut sigset_t, signal: c_int) -> c_int {
    // SAFETY: forwarded.
    unsafe { change(set, signal, true) }
}

/// `sigdelset(3)`.
///
/// # Safety
/// `set` must be writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn sigdelset(set: *mut sigset_t, signal: c_int) -> c_int {
    // SAFETY: forwarded.
    unsafe { change(set, signal, false) }
}

/// `sigismember(3)`: 1 if `signal` is in `set`, 0 if not, -1 (`EINVAL`) for no signal.
///
/// # Safety
/// `set` must be readable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn sigismember(set: *const sigset_t, signal: c_int) -> c_int {
    // SAFETY: forwarded; only read.
    match (unsafe { bits(set.cast_mut()) }, index(signal)) {
        (Some(bits), Some(index)) => c_int::from(bits[(index - 1) / 8] & (1 << ((index - 1) % 8)) != 0),
        _ => fail(EINVAL),
    }
}

/// The signal mask, one for the whole program (signals 1..=64 as bits 0..=63): nothing is
/// ever delivered, so a mask only has to read back as it was set.
static MASK: Spinlock<u64> = Spinlock::new(0);

/// `pthread_sigmask(3)`: applies `how` (`SIG_BLOCK`, `SIG_UNBLOCK`, `SIG_SETMASK`) with
/// `set` to the mask and answers the previous one; an error number for another `how`.
///
/// # Safety
/// `set` must be null or readable; `old` null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pthread_sigmask(how: c_int, set: *const sigset_t, old: *mut sigset_t) -> c_int {
    let mut mask = MASK.lock();
    // SAFETY: the caller's guarantee; only read.
    let change = unsafe { bits(set.cast_mut()) }.map(|bits| {
        let mut word = [0; 8];
        word.copy_from_slice(&bits[..8]);
        u64::from_le_bytes(word)
    });
    let updated = match (how, change) {
        (_, None) => *mask,
        (libc::SIG_BLOCK, Some(change)) => *mask | change,
        (libc::SIG_UNBLOCK, Some(change)) => *mask & !change,
        (libc::SIG_SETMASK, Some(change)) => change,
        _ => return EINVAL,
    };
    // SAFETY: the caller's guarantee.
    if let Some(bits) = unsafe { bits(old) } {
        bits.fill(0);
        bits[..8].copy_from_slice(&mask.to_le_bytes());
    }
    *mask = updated;
    0
}

/// `sigprocmask(2)`.
///
/// # Safety
/// As for [`pthread_sigmask`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn sigprocmask(how: c_int, set: *const sigset_t, old: *mut sigset_t) -> c_int {
    // SAFETY: forwarded.
    match unsafe { pthread_sigmask(how, set, old) } {
        0 => 0,
        error => fail(error),
    }
}

/// `raise(3)`: `SIGABRT` ends the program as `abort` does; other signals are ignored
/// (nothing would deliver them).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn raise(signal: c_int) -> c_int {
    if signal == libc::SIGABRT {
        crate::process::abort();
    }
    0
}

/// `__libc_current_sigrtmin`: the first real-time signal, as musl numbers them.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn __libc_current_sigrtmin() -> c_int {
    35
}

/// `__libc_current_sigrtmax`: the last real-time signal.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn __libc_current_sigrtmax() -> c_int {
    64
}
