//! Time: the clocks, and sleeping (other threads run meanwhile).
//!
//! The monotonic clocks count from boot. `CLOCK_REALTIME` is the wall clock: the
//! `unik.time=SECONDS` word of the command line (what a host that knows the time gives a
//! machine without a clock of its own), else the platform's real-time clock or
//! hypervisor, read once and counted on with the monotonic clock; without either it counts
//! from the Unix epoch.

use core::ffi::c_int;
use core::sync::atomic::{AtomicU64, Ordering};
use libc::{clockid_t, timespec};
use unik_platform::{Clock, Current};

use crate::errno::{EFAULT, EINVAL, fail};

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// The wall clock's time at monotonic time 0; `u64::MAX` until first read.
static WALL_CLOCK_OFFSET: AtomicU64 = AtomicU64::new(u64::MAX);

/// Unix nanoseconds now.
fn wall_clock() -> u64 {
    let mut offset = WALL_CLOCK_OFFSET.load(Ordering::Relaxed);
    if offset == u64::MAX {
        let given = unik_args::parameter("time").and_then(parse_seconds);
        let wall = given.or_else(Current::wall_clock_nanos);
        offset = wall.map_or(0, |wall| wall.saturating_sub(Current::now_nanos()));
        WALL_CLOCK_OFFSET.store(offset, Ordering::Relaxed);
    }
    offset.saturating_add(Current::now_nanos())
}

/// Unix seconds now (file modification times).
pub(crate) fn wall_clock_seconds() -> i64 {
    (wall_clock() / NANOS_PER_SECOND) as i64
}

/// `SECONDS[.FRACTION]` as nanoseconds.
fn parse_seconds(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let seconds: u64 = whole.parse().ok()?;
    let mut nanos = 0u64;
    for (index, digit) in fraction.bytes().take(9).enumerate() {
        let digit = u64::from(digit.checked_sub(b'0').filter(|d| *d <= 9)?);
        nanos += digit * 10u64.pow(8 - index as u32);
    }
    seconds.checked_mul(NANOS_PER_SECOND)?.checked_add(nanos)
}

/// Nanoseconds on `clock`, or `None` for a clock that does not exist.
fn now(clock: clockid_t) -> Option<u64> {
    match clock {
        libc::CLOCK_MONOTONIC | libc::CLOCK_MONOTONIC_RAW | libc::CLOCK_MONOTONIC_COARSE | libc::CLOCK_BOOTTIME => {
            Some(Current::now_nanos())
        }
        libc::CLOCK_REALTIME | libc::CLOCK_REALTIME_COARSE => Some(wall_clock()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_parse_with_a_fraction() {
        assert_eq!(parse_seconds("1796402237"), Some(1_796_402_237_000_000_000));
        assert_eq!(parse_seconds("1.5"), Some(1_500_000_000));
        assert_eq!(parse_seconds("2.000000001"), Some(2_000_000_001));
        assert_eq!(parse_seconds("x"), None);
        assert_eq!(parse_seconds("1.x"), None);
    }
}
