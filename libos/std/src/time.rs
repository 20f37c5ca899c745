//! Time: the monotonic clock, and sleeping (other threads run meanwhile).

use hermit_abi::{CLOCK_MONOTONIC, CLOCK_REALTIME, timespec};
use unik_platform::{Clock, Current};

use crate::errno::{EFAULT, EINVAL, fail};

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// Reads `clock` into `*time`. `CLOCK_MONOTONIC` counts from boot. `CLOCK_REALTIME` has
/// no wall-clock source yet: it counts from the Unix epoch as if the VM booted then.
///
/// # Safety
/// `time` must be null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_clock_gettime(clock: i32, time: *mut timespec) -> i32 {
    if time.is_null() {
        return fail(EFAULT);
    }
    if clock != CLOCK_MONOTONIC && clock != CLOCK_REALTIME {
        return fail(EINVAL);
    }
    let now = Current::now_nanos();
    let value = timespec {
        tv_sec: (now / NANOS_PER_SECOND) as i64,
        tv_nsec: (now % NANOS_PER_SECOND) as i32,
    };
    // SAFETY: checked non-null; the caller guarantees it is writable.
    unsafe { time.write(value) };
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

/// Sleeps for `*duration`.
///
/// # Safety
/// `duration` must be null or readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_nanosleep(duration: *const timespec) -> i32 {
    // SAFETY: the caller's guarantee.
    match unsafe { nanos(duration) } {
        Some(nanos) => {
            unik_thread::sleep_until(Current::now_nanos().saturating_add(nanos));
            0
        }
        None => fail(EINVAL),
    }
}

/// Sleeps for `micros` microseconds.
#[unsafe(no_mangle)]
pub extern "C" fn sys_usleep(micros: u64) {
    unik_thread::sleep_until(Current::now_nanos().saturating_add(micros.saturating_mul(1000)));
}
