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

/// `time(2)`: Unix seconds now, also stored at `out` unless it is null.
///
/// # Safety
/// `out` must be null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn time(out: *mut i64) -> i64 {
    let now = wall_clock_seconds();
    if !out.is_null() {
        // SAFETY: the caller's guarantee.
        unsafe { out.write(now) };
    }
    now
}

/// `gettimeofday(2)`: the wall clock in seconds and microseconds; the time zone, if asked
/// for, is UTC.
///
/// # Safety
/// `now` and `zone` must each be null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn gettimeofday(now: *mut libc::timeval, zone: *mut [c_int; 2]) -> c_int {
    let nanos = wall_clock();
    if !now.is_null() {
        // SAFETY: the caller's guarantee.
        unsafe {
            now.write(libc::timeval {
                tv_sec: (nanos / NANOS_PER_SECOND) as _,
                tv_usec: (nanos % NANOS_PER_SECOND / 1000) as _,
            })
        };
    }
    if !zone.is_null() {
        // SAFETY: the caller's guarantee: `struct timezone` is `tz_minuteswest` and
        // `tz_dsttime`, two ints.
        unsafe { zone.write([0, 0]) };
    }
    0
}

/// The calendar date and time of Unix time `seconds` in UTC: year, month (1..=12), day
/// (1..=31), hour, minute, second, weekday (0 = Sunday), day of the year (0..=365).
/// Days to a civil date as in Howard Hinnant's `civil_from_days` (proleptic Gregorian).
fn calendar(seconds: i64) -> (i64, u32, u32, u32, u32, u32, u32, u32) {
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400) as u32);
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year_from_march = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year_from_march + 2) / 153;
    let day = (day_of_year_from_march - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const DAYS_BEFORE_MONTH: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let day_of_year = DAYS_BEFORE_MONTH[month as usize - 1] + day - 1 + u32::from(leap && month > 2);
    let weekday = (days + 4).rem_euclid(7) as u32;
    let (hour, minute, second) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
    (year, month, day, hour, minute, second, weekday, day_of_year)
}

/// The name `tm_zone` points to.
static UTC: &core::ffi::CStr = c"UTC";

/// `gmtime_r(3)`: Unix time `*seconds` as a calendar time in UTC, written to `out`; null
/// (`EOVERFLOW`) if the year does not fit.
///
/// # Safety
/// `seconds` must be readable and `out` writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn gmtime_r(seconds: *const i64, out: *mut libc::tm) -> *mut libc::tm {
    if seconds.is_null() || out.is_null() {
        crate::errno::set(EFAULT);
        return core::ptr::null_mut();
    }
    // SAFETY: the caller's guarantee.
    let (year, month, day, hour, minute, second, weekday, day_of_year) = calendar(unsafe { seconds.read() });
    let Ok(year) = c_int::try_from(year - 1900) else {
        crate::errno::set(libc::EOVERFLOW);
        return core::ptr::null_mut();
    };
    // SAFETY: the caller's guarantee; every field is written.
    unsafe {
        out.write(libc::tm {
            tm_sec: second as c_int,
            tm_min: minute as c_int,
            tm_hour: hour as c_int,
            tm_mday: day as c_int,
            tm_mon: month as c_int - 1,
            tm_year: year,
            tm_wday: weekday as c_int,
            tm_yday: day_of_year as c_int,
            tm_isdst: 0,
            tm_gmtoff: 0,
            tm_zone: UTC.as_ptr(),
        })
    };
    out
}

/// `localtime_r(3)`: the machine's time zone is UTC, so as [`gmtime_r`].
///
/// # Safety
/// As for [`gmtime_r`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn localtime_r(seconds: *const i64, out: *mut libc::tm) -> *mut libc::tm {
    // SAFETY: forwarded.
    unsafe { gmtime_r(seconds, out) }
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

    #[test]
    fn calendar_dates_match_known_ones() {
        assert_eq!(calendar(0), (1970, 1, 1, 0, 0, 0, 4, 0));
        // 2000-02-29 12:34:56, a Tuesday, day 59 of a leap year.
        assert_eq!(calendar(951_827_696), (2000, 2, 29, 12, 34, 56, 2, 59));
        // 2026-12-31 23:59:59, a Thursday, day 364.
        assert_eq!(calendar(1_798_761_599), (2026, 12, 31, 23, 59, 59, 4, 364));
        // 1969-12-31 23:59:59, a Wednesday.
        assert_eq!(calendar(-1), (1969, 12, 31, 23, 59, 59, 3, 364));
    }
}
