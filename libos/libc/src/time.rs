//! Time: the clocks, and sleeping (other threads run meanwhile).
//!
//! The monotonic clocks count from boot. `CLOCK_REALTIME` is the platform's wall clock
//! (the Unix epoch plus the monotonic clock when the platform has none).

use core::ffi::c_int;
use libc::{clockid_t, timespec};
use unik_platform::{Clock, Current};

use crate::errno::{EFAULT, EINVAL, fail};

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// Nanoseconds on `clock`, or `None` for a clock that does not exist.
fn now(clock: clockid_t) -> Option<u64> {
    match clock {
        libc::CLOCK_MONOTONIC | libc::CLOCK_MONOTONIC_RAW | libc::CLOCK_MONOTONIC_COARSE | libc::CLOCK_BOOTTIME => {
            Some(Current::now_nanos())
        }
        libc::CLOCK_REALTIME | libc::CLOCK_REALTIME_COARSE => Some(Current::now_nanos()),
        libc::CLOCK_PROCESS_CPUTIME_ID | libc::CLOCK_THREAD_CPUTIME_ID => Some(Current::now_nanos()),
        _ => None,
    }
}

fn timespec_of(nanos: u64) -> timespec {
    // SAFETY: plain integers (and padding on some targets): all zeroes is valid.
    let mut value: timespec = unsafe { core::mem::zeroed() };
    value.tv_sec = (nanos / NANOS_PER_SECOND) as _;
    value.tv_nsec = (nanos % NANOS_PER_SECOND) as _;
    value
}

/// `clock_gettime(2)`.
///
/// # Safety
/// `time` must be null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn clock_gettime(clock: clockid_t, time: *mut timespec) -> c_int {
    let Some(nanos) = now(clock) else {
        return fail(EINVAL);
    };
    if time.is_null() {
        return fail(EFAULT);
    }
    // SAFETY: the caller's guarantee.
    unsafe { time.write(timespec_of(nanos)) };
    0
}

/// `clock_getres(2)`: every clock counts nanoseconds.
///
/// # Safety
/// `resolution` must be null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn clock_getres(clock: clockid_t, resolution: *mut timespec) -> c_int {
    if now(clock).is_none() {
        return fail(EINVAL);
    }
    if !resolution.is_null() {
        // SAFETY: the caller's guarantee.
        unsafe { resolution.write(timespec_of(1)) };
    }
    0
}

/// Nanoseconds in `*time`; `None` for a negative or malformed one.
///
/// # Safety
/// `time` must be null or readable.
pub(crate) unsafe fn nanos(time: *const timespec) -> Option<u64> {
    // SAFETY: the caller's guarantee.
    let time = unsafe { time.as_ref() }?;
    let seconds = u64::try_from(time.tv_sec).ok()?;
    let nanos = u64::try_from(time.tv_nsec).ok().filter(|&n| n < NANOS_PER_SECOND)?;
    Some(seconds.saturating_mul(NANOS_PER_SECOND).saturating_add(nanos))
}

/// Sleeps the calling thread for `nanos` (other threads run meanwhile).
pub(crate) fn sleep_nanos(nanos: u64) {
    unik_thread::sleep_until(Current::now_nanos().saturating_add(nanos));
}

/// `clock_nanosleep(2)`: relative, or until an absolute time (`TIMER_ABSTIME`).
///
/// # Safety
/// `request` must be readable; `remaining` null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn clock_nanosleep(
    clock: clockid_t,
    flags: c_int,
    request: *const timespec,
    remaining: *mut timespec,
) -> c_int {
    let Some(now) = now(clock) else {
        return EINVAL;
    };
    // SAFETY: the caller's guarantee.
    let Some(nanos) = (unsafe { self::nanos(request) }) else {
        return EINVAL;
    };
    let duration = if flags & libc::TIMER_ABSTIME != 0 {
        nanos.saturating_sub(now)
    } else {
        nanos
    };
    sleep_nanos(duration);
    if !remaining.is_null() {
        // SAFETY: the caller's guarantee.
        unsafe { remaining.write(timespec_of(0)) };
    }
    0
}

/// `nanosleep(2)`.
///
/// # Safety
/// As for [`clock_nanosleep`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn nanosleep(request: *const timespec, remaining: *mut timespec) -> c_int {
    // SAFETY: forwarded.
    match unsafe { clock_nanosleep(libc::CLOCK_MONOTONIC, 0, request, remaining) } {
        0 => 0,
        code => fail(code),
    }
}
