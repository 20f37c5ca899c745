//! The time component: a monotonic [`Instant`] and [`sleep`], which halts the CPU until a
//! timer fires instead of spinning.
//!
//! The platform calibrates its clock on first use, so an image that never asks for the
//! time pays nothing at boot.
#![no_std]
#![forbid(unsafe_code)]

use core::ops::{Add, AddAssign, Sub, SubAssign};
pub use core::time::Duration;
use unik_platform::{Clock, Current};

/// A point in monotonic time, with nanosecond resolution, like `std::time::Instant`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    nanos: u64,
}

fn to_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl Instant {
    /// The current time.
    #[inline(never)] // A component boundary: see unik-catalog's analysis.
    pub fn now() -> Instant {
        Instant {
            nanos: Current::now_nanos(),
        }
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.nanos.saturating_sub(earlier.nanos))
    }

    /// Time from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.nanos.checked_sub(earlier.nanos).map(Duration::from_nanos)
    }

    /// Time passed since `self`.
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// `self + duration`, or `None` on overflow.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        let nanos = u64::try_from(duration.as_nanos()).ok()?;
        self.nanos.checked_add(nanos).map(|nanos| Instant { nanos })
    }

    /// `self - duration`, or `None` if that is before the clock's origin.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        let nanos = u64::try_from(duration.as_nanos()).ok()?;
        self.nanos.checked_sub(nanos).map(|nanos| Instant { nanos })
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Panics on overflow, like std.
    fn add(self, duration: Duration) -> Instant {
        self.checked_add(duration)
            .expect("overflow when adding duration to instant")
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, duration: Duration) {
        *self = *self + duration;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    /// Panics on underflow, like std.
    fn sub(self, duration: Duration) -> Instant {
        self.checked_sub(duration)
            .expect("overflow when subtracting duration from instant")
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, duration: Duration) {
        *self = *self - duration;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturates at zero, like std.
    fn sub(self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }
}

/// Blocks for at least `duration`, halting the CPU while waiting.
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub fn sleep(duration: Duration) {
    let deadline = Current::now_nanos().saturating_add(to_nanos(duration));
    while Current::now_nanos() < deadline {
        Current::wait_until(deadline);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_matches_std_semantics() {
        let a = Instant { nanos: 1_000 };
        let b = a + Duration::from_nanos(500);
        assert_eq!(b - a, Duration::from_nanos(500));
        assert_eq!(a - b, Duration::ZERO);
        assert_eq!(a.checked_duration_since(b), None);
        assert_eq!(b - Duration::from_nanos(1_500), Instant { nanos: 0 });
        assert_eq!(a.checked_sub(Duration::from_nanos(1_001)), None);
        assert_eq!(Instant { nanos: u64::MAX }.checked_add(Duration::from_nanos(1)), None);
    }

    #[test]
    fn sleep_lasts_at_least_the_duration() {
        let start = Instant::now();
        sleep(Duration::from_millis(20));
        assert!(start.elapsed() >= Duration::from_millis(20));
    }
}
